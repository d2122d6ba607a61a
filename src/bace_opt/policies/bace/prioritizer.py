"""BACE-Pipe's dynamic job prioritizer.

A waiting job's priority weight is

    w_j = (1 + a · wait_j) / ((1 + c_j)^l · (1 + b · u · β_j))

- ``c_j``: the job's compute time in hours — its run time D₀ on the fastest GPU type that holds it,
  no crossings. Shorter jobs first (SJF's cure for head-of-line blocking); ``l`` is the length
  weight.
- ``β_j``: its bandwidth demand, ``need_gbps`` on that GPU type over the mean link capacity.
- ``u``: the network's utilization right now, the reserved share of all link capacity. While the
  links are busy, a bandwidth-hungry job yields to lighter ones; on an idle network, ``u = 0`` and
  bandwidth does not matter. ``b`` is the bandwidth weight.
- ``wait_j``: hours since arrival. ``a`` (per hour) ages waiting jobs so none starves: with
  ``a = 0.25``, four hours of waiting double a job's weight.

Weights are positive, so "admit the jobs with the largest sum of weights" (the exact epoch MILP's
first objective) and "take jobs in decreasing weight" (the greedy policy) speak of the same number.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bace_opt.core.world import Instance, Job, Snapshot
from bace_opt.formulas import job as jobf


class Ordering(Protocol):
    """Which waiting job BACE-Pipe tries first."""

    def order(self, snapshot: Snapshot) -> Sequence[Job]: ...


@dataclass(frozen=True)
class ArrivalOrder:
    """First come, first served: the ablation ``bace-no-priority``."""

    def order(self, snapshot: Snapshot) -> Sequence[Job]:
        return snapshot.waiting


@dataclass(frozen=True)
class PriorityWeights:
    """The prioritizer's knobs (all ≥ 0; all 0 gives FIFO by arrival through the tie-break)."""

    aging_per_hour: float = 0.25
    length: float = 1.0
    bandwidth: float = 1.0


@dataclass(frozen=True)
class JobTraits:
    """What the prioritizer needs of a job that does not change while it waits."""

    compute_h: float
    bandwidth_ratio: float


@dataclass
class Prioritizer:
    """Scores waiting jobs; remembers each job's static traits across epochs."""

    weights: PriorityWeights = field(default_factory=PriorityWeights)
    _traits: dict[str, JobTraits] = field(default_factory=dict, repr=False)

    def traits(self, instance: Instance, job: Job) -> JobTraits:
        known = self._traits.get(job.name)
        if known is None:
            fastest = jobf.fastest_usable(instance, job).gpu_type
            capacity = instance.network.capacity
            mean_link = statistics.fmean(capacity.values()) if capacity else 1.0
            known = JobTraits(
                compute_h=jobf.ideal_run_time_s(instance, job, fastest) / 3600.0,
                bandwidth_ratio=jobf.need_gbps(instance, job, fastest.peak_tflops) / mean_link,
            )
            self._traits[job.name] = known
        return known

    def weights_of(self, snapshot: Snapshot) -> dict[str, float]:
        """w_j of every waiting job (formula in the module docstring)."""
        w = self.weights
        utilization = snapshot.link_utilization()
        out = {}
        for job in snapshot.waiting:
            t = self.traits(snapshot.instance, job)
            wait_h = max(snapshot.time_s - job.arrival_s, 0.0) / 3600.0
            length = (1.0 + t.compute_h) ** w.length
            hunger = 1.0 + w.bandwidth * utilization * t.bandwidth_ratio
            out[job.name] = (1.0 + w.aging_per_hour * wait_h) / (length * hunger)
        return out

    def order(self, snapshot: Snapshot) -> Sequence[Job]:
        """Waiting jobs by decreasing weight; ties by arrival, then name."""
        weight = self.weights_of(snapshot)
        return sorted(snapshot.waiting, key=lambda j: (-weight[j.name], j.arrival_s, j.name))
