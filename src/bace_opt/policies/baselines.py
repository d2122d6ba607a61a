"""The baselines BACE-Pipe is measured against (DESIGN §3), each a plain greedy policy.

- ``delay-first`` (latency-first geo-distributed training schedulers): strict FIFO; the fastest
  placement — fewest crossings, then the shortest predicted iteration (widest residual links,
  fastest GPUs); in one region the fastest GPUs, then the most free GPUs (Atlas-style filling of
  the largest regions). Bandwidth ignored.
- ``cost-first`` (SkyPilot-like rigid allocation): strict FIFO; the whole job in the region with
  the least epoch cost (DESIGN §3), else wait. Never crosses regions.
- ``cost-first-spill``: strict FIFO; fill regions from the cheapest (price now × PUE × power).
  Bandwidth ignored.
- ``sjf`` (SJF/Tiresias-style ordering): shortest run time first with backfilling; placed as
  ``delay-first``. Bandwidth ignored.
- ``fifo-firstfit``: FIFO with backfilling; fill regions in instance order. Bandwidth ignored.
- ``random`` (a floor any policy should beat): seeded random order with backfilling; fill a
  random order of regions. Bandwidth ignored.

*Strict* FIFO stops at the first job that does not fit (head-of-line blocking, as FIFO schedulers
do); *backfilling* tries every waiting job. A job that no placement of the policy could ever hold
(e.g. larger than every region, for ``cost-first``) is passed over instead of blocking forever.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bace_opt import pipeline
from bace_opt.evaluate import epoch_cost, estimate, link_use
from bace_opt.placement import Block, Placement, Plan
from bace_opt.policies.base import Ledger, connected, fill_in_order, usable_regions
from bace_opt.world import Instance, Job, Snapshot

_TOTAL_GPUS = operator.attrgetter("total_gpus")
BW_FLOOR_GBPS = 1e-6
"""Residual bandwidth counted for a fully reserved link when predicting (not zero: finite keys)."""


def nominal_run_time(instance: Instance, job: Job) -> float:
    """D₀ in one region of the fastest GPU type that holds the job: the SJF length."""
    fastest = max(usable_regions(instance, job), key=lambda r: r.gpu_type.peak_tflops)
    return instance.run_time(job, fastest.gpu_type)


def predicted_iteration_time(
    instance: Instance, job: Job, placement: Placement, residual: dict[tuple[str, str], float]
) -> float:
    """T_iter if each crossing got the least residual bandwidth on the links it loads."""
    est = estimate(instance, job, placement)
    uses = link_use(instance, placement)
    bw = min((residual[d] / n for d, n in uses.items()), default=float("inf"))
    tau = pipeline.micro_batch_step(
        est.stage_time,
        instance.activation(job),
        [max(bw, BW_FLOOR_GBPS)] * len(placement.crossings),
    )
    return pipeline.iteration_time(job.micro_batches, job.stages, tau, est.crossing_latency_s)


def _split(job: Job, path: Sequence[str], free: dict[str, int]) -> Placement | None:
    """Stages along ``path``, each region as many as it holds while leaving one per later region."""
    blocks, left = [], job.stages
    for i, name in enumerate(path):
        later = len(path) - i - 1
        take = min(free[name] // job.gpus_per_stage, left - later)
        if take < 1:
            return None
        blocks.append(Block(name, take))
        left -= take
    return Placement(job.name, tuple(blocks)) if left == 0 else None


def fastest_placement(instance: Instance, job: Job, ledger: Ledger) -> Placement | None:
    """delay-first's placement: fewest crossings; among those the shortest predicted iteration."""
    regions = [
        r for r in usable_regions(instance, job) if ledger.free[r.name] >= job.gpus_per_stage
    ]
    whole = [r for r in regions if ledger.free[r.name] // job.gpus_per_stage >= job.stages]
    if whole:
        best = min(whole, key=lambda r: (-r.gpu_type.peak_tflops, -ledger.free[r.name], r.name))
        return Placement(job.name, (Block(best.name, job.stages),))
    names = [r.name for r in regions]
    for k in range(2, instance.max_regions + 1):
        candidates = []
        for path in itertools.permutations(names, k):
            if any(not connected(instance, a, b) for a, b in itertools.pairwise(path)):
                continue
            placement = _split(job, path, ledger.free)
            if placement is not None:
                t_iter = predicted_iteration_time(instance, job, placement, ledger.residual)
                candidates.append((t_iter, path, placement))
        if candidates:
            return min(candidates, key=lambda c: (c[0], c[1]))[2]
    return None


def _can_ever_fit_one_region(instance: Instance, job: Job) -> bool:
    return any(r.gpus // job.gpus_per_stage >= job.stages for r in usable_regions(instance, job))


@dataclass
class _Greedy:
    """Order the waiting jobs, place each in turn; strict FIFO stops at the first misfit."""

    name: str
    bandwidth_aware: bool
    strict: bool
    shape_decides_fit: bool = True
    """Whether a placement exists depends only on the job's shape (S, g, model) and the free
    resources — true of every deterministic filling here. Then one failure per shape and epoch
    is enough: later jobs of that shape are skipped until something is placed."""

    def order(self, snapshot: Snapshot) -> Iterable[Job]:
        return snapshot.waiting

    def place(self, snapshot: Snapshot, job: Job, ledger: Ledger) -> Placement | None:
        raise NotImplementedError

    def never_fits(self, instance: Instance, job: Job) -> bool:
        return False

    def decide(self, snapshot: Snapshot) -> Plan:
        if not snapshot.waiting:
            return Plan()
        ledger = Ledger.of(snapshot)
        free = ledger.free_total
        smallest = min(map(_TOTAL_GPUS, snapshot.waiting))
        chosen: list[Placement] = []
        failed: set[tuple[int, int, float]] = set()
        for job in self.order(snapshot) if free >= smallest else ():
            if free < smallest:
                break  # nothing left can fit: ends the backfill scan of a long queue early
            if self.never_fits(snapshot.instance, job):
                continue
            shape = (job.stages, job.gpus_per_stage, job.model.params)
            placement = None
            if job.total_gpus <= free and shape not in failed:
                placement = self.place(snapshot, job, ledger)
            if placement is None:
                if self.strict:
                    break
                if self.shape_decides_fit:
                    failed.add(shape)
                continue
            ledger.take(job, placement)
            failed.clear()
            free -= job.total_gpus
            chosen.append(placement)
        return Plan(tuple(chosen))


@dataclass
class DelayFirst(_Greedy):
    name: str = "delay-first"
    bandwidth_aware: bool = False
    strict: bool = True

    def place(self, snapshot: Snapshot, job: Job, ledger: Ledger) -> Placement | None:
        return fastest_placement(snapshot.instance, job, ledger)


@dataclass
class CostFirst(_Greedy):
    name: str = "cost-first"
    bandwidth_aware: bool = True
    strict: bool = True

    def never_fits(self, instance: Instance, job: Job) -> bool:
        return not _can_ever_fit_one_region(instance, job)

    def place(self, snapshot: Snapshot, job: Job, ledger: Ledger) -> Placement | None:
        options = [
            Placement(job.name, (Block(r.name, job.stages),))
            for r in usable_regions(snapshot.instance, job)
            if ledger.free[r.name] // job.gpus_per_stage >= job.stages
        ]
        if not options:
            return None
        return min(
            options,
            key=lambda p: (epoch_cost(snapshot.instance, job, p, snapshot.time_s), p.regions),
        )


@dataclass
class CostFirstSpill(_Greedy):
    name: str = "cost-first-spill"
    bandwidth_aware: bool = False
    strict: bool = True

    def place(self, snapshot: Snapshot, job: Job, ledger: Ledger) -> Placement | None:
        def rate(name: str) -> tuple[float, str]:
            region = snapshot.instance.region[name]
            return (snapshot.price_now(name) * region.pue * region.gpu_type.power_kw, name)

        order = sorted((r.name for r in usable_regions(snapshot.instance, job)), key=rate)
        return fill_in_order(snapshot.instance, job, order, ledger.free)


@dataclass
class ShortestJobFirst(_Greedy):
    name: str = "sjf"
    bandwidth_aware: bool = False
    strict: bool = False
    _length: dict[str, tuple[float, float, str]] = field(default_factory=dict, repr=False)

    def order(self, snapshot: Snapshot) -> Iterable[Job]:
        instance, length = snapshot.instance, self._length
        for job in snapshot.waiting:
            if job.name not in length:
                length[job.name] = (nominal_run_time(instance, job), job.arrival_s, job.name)
        return sorted(snapshot.waiting, key=lambda j: length[j.name])

    def place(self, snapshot: Snapshot, job: Job, ledger: Ledger) -> Placement | None:
        return fastest_placement(snapshot.instance, job, ledger)


@dataclass
class FifoFirstFit(_Greedy):
    name: str = "fifo-firstfit"
    bandwidth_aware: bool = False
    strict: bool = False

    def place(self, snapshot: Snapshot, job: Job, ledger: Ledger) -> Placement | None:
        order = [r.name for r in usable_regions(snapshot.instance, job)]
        return fill_in_order(snapshot.instance, job, order, ledger.free)


@dataclass
class RandomPolicy(_Greedy):
    name: str = "random"
    bandwidth_aware: bool = False
    strict: bool = False
    shape_decides_fit: bool = False
    seed: int = 0
    rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def order(self, snapshot: Snapshot) -> Iterable[Job]:
        waiting = snapshot.waiting
        return [waiting[i] for i in self.rng.permutation(len(waiting))]

    def place(self, snapshot: Snapshot, job: Job, ledger: Ledger) -> Placement | None:
        regions = [r.name for r in usable_regions(snapshot.instance, job)]
        order = [regions[i] for i in self.rng.permutation(len(regions))]
        return fill_in_order(snapshot.instance, job, order, ledger.free)
