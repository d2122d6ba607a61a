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

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from bace_opt.core.placement import Block, Placement
from bace_opt.core.world import Instance, Job, Snapshot
from bace_opt.formulas.energy import gpu_rate_now
from bace_opt.formulas.job import usable_regions
from bace_opt.formulas.placement import epoch_cost
from bace_opt.policies.greedy import GreedyPolicy, Wait
from bace_opt.policies.placing import fastest_placement, fill_in_order, nominal_run_time
from bace_opt.resources.ledger import Ledger


def _can_ever_fit_one_region(instance: Instance, job: Job) -> bool:
    return any(r.gpus // job.gpus_per_stage >= job.stages for r in usable_regions(instance, job))


@dataclass
class DelayFirst(GreedyPolicy):
    name: str = "delay-first"
    bandwidth_aware: bool = False
    strict: bool = True

    def place(self, snapshot: Snapshot, job: Job, ledger: Ledger) -> Placement | Wait:
        return fastest_placement(snapshot.instance, job, ledger) or Wait.NO_FIT


@dataclass
class CostFirst(GreedyPolicy):
    name: str = "cost-first"
    bandwidth_aware: bool = True
    strict: bool = True

    def never_fits(self, instance: Instance, job: Job) -> bool:
        return not _can_ever_fit_one_region(instance, job)

    def place(self, snapshot: Snapshot, job: Job, ledger: Ledger) -> Placement | Wait:
        options = [
            Placement(job.name, (Block(r.name, job.stages),))
            for r in usable_regions(snapshot.instance, job)
            if ledger.free[r.name] // job.gpus_per_stage >= job.stages
        ]
        if not options:
            return Wait.NO_FIT
        return min(
            options,
            key=lambda p: (epoch_cost(snapshot.instance, job, p, snapshot.time_s), p.regions),
        )


@dataclass
class CostFirstSpill(GreedyPolicy):
    name: str = "cost-first-spill"
    bandwidth_aware: bool = False
    strict: bool = True

    def place(self, snapshot: Snapshot, job: Job, ledger: Ledger) -> Placement | Wait:
        def rate(name: str) -> tuple[float, str]:
            return (gpu_rate_now(snapshot.instance.region[name], snapshot.time_s), name)

        order = sorted((r.name for r in usable_regions(snapshot.instance, job)), key=rate)
        return fill_in_order(snapshot.instance, job, order, ledger.free) or Wait.NO_FIT


@dataclass
class ShortestJobFirst(GreedyPolicy):
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

    def place(self, snapshot: Snapshot, job: Job, ledger: Ledger) -> Placement | Wait:
        return fastest_placement(snapshot.instance, job, ledger) or Wait.NO_FIT


@dataclass
class FifoFirstFit(GreedyPolicy):
    name: str = "fifo-firstfit"
    bandwidth_aware: bool = False
    strict: bool = False

    def place(self, snapshot: Snapshot, job: Job, ledger: Ledger) -> Placement | Wait:
        order = [r.name for r in usable_regions(snapshot.instance, job)]
        return fill_in_order(snapshot.instance, job, order, ledger.free) or Wait.NO_FIT


@dataclass
class RandomPolicy(GreedyPolicy):
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

    def place(self, snapshot: Snapshot, job: Job, ledger: Ledger) -> Placement | Wait:
        regions = [r.name for r in usable_regions(snapshot.instance, job)]
        order = [regions[i] for i in self.rng.permutation(len(regions))]
        return fill_in_order(snapshot.instance, job, order, ledger.free) or Wait.NO_FIT
