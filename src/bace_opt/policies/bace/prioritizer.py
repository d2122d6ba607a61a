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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from bace_opt.core.world import Instance, Job, Snapshot
from bace_opt.formulas import job as jobf
from bace_opt.policies.lineup import (
    ArrivalTable,
    Epoch,
    FloatArray,
    IntArray,
    Keep,
    KeyedOrder,
    Line,
    WaitingLog,
)


class Ordering(Protocol):
    """Which waiting job BACE-Pipe tries first: an ``Order`` of the greedy loop."""

    def lineup(self, epoch: Epoch, queue: WaitingLog, keep: Keep) -> Sequence[Line]: ...


@dataclass
class ArrivalOrder:
    """First come, first served: the ablation ``bace-no-priority``."""

    _fifo: KeyedOrder = field(default_factory=KeyedOrder, repr=False, compare=False)

    def lineup(self, epoch: Epoch, queue: WaitingLog, keep: Keep) -> Sequence[Line]:
        return self._fifo.lineup(epoch, queue, keep)


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
    """Scores waiting jobs; remembers each job's static traits across epochs. Weights are
    computed for all waiting jobs at once (numpy, the same IEEE operations in the same order as
    the formula written for one job, so the same numbers), from a table of each job's arrival,
    ``(1 + c_j)^l`` and ``β_j`` kept from the simulator's queue log."""

    weights: PriorityWeights = field(default_factory=PriorityWeights)
    _traits: dict[str, JobTraits] = field(default_factory=dict, repr=False)
    _table: ArrivalTable = field(
        default_factory=lambda: ArrivalTable(width=3), repr=False, compare=False
    )

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

    def _row(self, instance: Instance, job: Job) -> tuple[float, float, float]:
        """A job's static numbers: arrival, ``(1 + c_j)^l``, ``β_j``."""
        t = self.traits(instance, job)
        return (job.arrival_s, (1.0 + t.compute_h) ** self.weights.length, t.bandwidth_ratio)

    def _weights(self, time_s: float, utilization: float, rows: FloatArray) -> FloatArray:
        """w_j of the jobs of ``rows`` (formula in the module docstring)."""
        w = self.weights
        wait_h = np.maximum(time_s - rows[:, 0], 0.0) / 3600.0
        hunger = 1.0 + w.bandwidth * utilization * rows[:, 2]
        weight: FloatArray = (1.0 + w.aging_per_hour * wait_h) / (rows[:, 1] * hunger)
        return weight

    def _snapshot_weights(self, snapshot: Snapshot) -> FloatArray:
        rows = np.array([self._row(snapshot.instance, j) for j in snapshot.waiting], float)
        return self._weights(snapshot.time_s, snapshot.link_utilization(), rows.reshape(-1, 3))

    def weights_of(self, snapshot: Snapshot) -> dict[str, float]:
        """w_j of every waiting job (formula in the module docstring)."""
        weight = self._snapshot_weights(snapshot).tolist()
        return {job.name: w for job, w in zip(snapshot.waiting, weight, strict=True)}

    def order(self, snapshot: Snapshot) -> Sequence[Job]:
        """Waiting jobs by decreasing weight; ties by arrival, then name."""
        jobs = snapshot.waiting
        arrival = np.array([j.arrival_s for j in jobs], float)
        ranked = _ranked(self._snapshot_weights(snapshot), arrival, lambda i: jobs[i].name)
        return [jobs[i] for i in ranked.tolist()]

    def lineup(self, epoch: Epoch, queue: WaitingLog, keep: Keep) -> Sequence[Line]:
        """The lines of ``order`` (one vectorized pass over the waiting jobs per epoch)."""
        table = self._table
        table.sync(queue, keep, lambda job: self._row(epoch.instance, job))
        rows = table.live()
        data = table.data[rows]
        weight = self._weights(epoch.time_s, epoch.link_utilization(), data)
        jobs = table.jobs
        ranked = _ranked(weight, data[:, 0], lambda i: _name(jobs[int(rows[i])]))
        return table.lines(rows[ranked])


def _name(job: Job | None) -> str:
    assert job is not None
    return job.name


def _ranked(weight: FloatArray, arrival: FloatArray, name: Callable[[int], str]) -> IntArray:
    """Indices by decreasing weight, then arrival, then name (``name(i)`` of index i): numpy's
    sort on the numbers, names only within the rare runs of equal weight and arrival."""
    order: IntArray = np.lexsort((arrival, -weight))
    w, a = weight[order], arrival[order]
    ties = np.flatnonzero((w[1:] == w[:-1]) & (a[1:] == a[:-1]))
    start = 0
    while start < len(ties):
        end = start
        while end + 1 < len(ties) and ties[end + 1] == ties[end] + 1:
            end += 1
        lo, hi = int(ties[start]), int(ties[end]) + 2
        order[lo:hi] = sorted(order[lo:hi].tolist(), key=name)
        start = end + 1
    return order
