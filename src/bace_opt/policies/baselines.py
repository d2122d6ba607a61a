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

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bace_opt.core.placement import Block, Placement
from bace_opt.core.world import Instance, Job
from bace_opt.formulas.energy import gpu_rate_now
from bace_opt.formulas.job import usable_regions
from bace_opt.formulas.placement import epoch_cost
from bace_opt.policies.greedy import Epoch, GreedyPolicy, Wait
from bace_opt.policies.lineup import ArrivalTable, Keep, KeyedOrder, Line, Order, WaitingLog
from bace_opt.policies.placing import fastest_placement, fill_in_order, nominal_run_time
from bace_opt.resources.ledger import Ledger


def _can_ever_fit_one_region(instance: Instance, job: Job) -> bool:
    return any(r.gpus // job.gpus_per_stage >= job.stages for r in usable_regions(instance, job))


@dataclass
class DelayFirst(GreedyPolicy):
    name: str = "delay-first"
    bandwidth_aware: bool = False
    strict: bool = True

    def place(self, epoch: Epoch, job: Job, ledger: Ledger) -> Placement | Wait:
        return fastest_placement(epoch.instance, job, ledger) or Wait.NO_FIT


@dataclass
class CostFirst(GreedyPolicy):
    name: str = "cost-first"
    bandwidth_aware: bool = True
    strict: bool = True

    def never_fits(self, instance: Instance, job: Job) -> bool:
        return not _can_ever_fit_one_region(instance, job)

    def place(self, epoch: Epoch, job: Job, ledger: Ledger) -> Placement | Wait:
        options = [
            Placement(job.name, (Block(r.name, job.stages),))
            for r in usable_regions(epoch.instance, job)
            if ledger.free[r.name] // job.gpus_per_stage >= job.stages
        ]
        if not options:
            return Wait.NO_FIT
        return min(
            options,
            key=lambda p: (epoch_cost(epoch.instance, job, p, epoch.time_s), p.regions),
        )


@dataclass
class CostFirstSpill(GreedyPolicy):
    name: str = "cost-first-spill"
    bandwidth_aware: bool = False
    strict: bool = True

    def place(self, epoch: Epoch, job: Job, ledger: Ledger) -> Placement | Wait:
        def rate(name: str) -> tuple[float, str]:
            return (gpu_rate_now(epoch.instance.region[name], epoch.time_s), name)

        order = sorted((r.name for r in usable_regions(epoch.instance, job)), key=rate)
        return fill_in_order(epoch.instance, job, order, ledger.free) or Wait.NO_FIT


def sjf_key(instance: Instance, job: Job) -> tuple[float, float, str]:
    """SJF's order: shortest nominal run time first, then arrival, then name."""
    return (nominal_run_time(instance, job), job.arrival_s, job.name)


@dataclass
class ShortestJobFirst(GreedyPolicy):
    name: str = "sjf"
    bandwidth_aware: bool = False
    strict: bool = False
    _by_length: KeyedOrder = field(
        default_factory=lambda: KeyedOrder(sjf_key), repr=False, compare=False
    )

    def order(self) -> Order:
        return self._by_length

    def place(self, epoch: Epoch, job: Job, ledger: Ledger) -> Placement | Wait:
        return fastest_placement(epoch.instance, job, ledger) or Wait.NO_FIT


@dataclass
class FifoFirstFit(GreedyPolicy):
    name: str = "fifo-firstfit"
    bandwidth_aware: bool = False
    strict: bool = False

    def place(self, epoch: Epoch, job: Job, ledger: Ledger) -> Placement | Wait:
        order = [r.name for r in usable_regions(epoch.instance, job)]
        return fill_in_order(epoch.instance, job, order, ledger.free) or Wait.NO_FIT


@dataclass
class RandomPolicy(GreedyPolicy):
    name: str = "random"
    bandwidth_aware: bool = False
    strict: bool = False
    shape_decides_fit: bool = False
    seed: int = 0
    rng: np.random.Generator = field(init=False)

    _table: ArrivalTable = field(
        default_factory=ArrivalTable, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def order(self) -> Order:
        return self

    def lineup(self, epoch: Epoch, queue: WaitingLog, keep: Keep) -> Sequence[Line]:
        """A fresh permutation of the waiting jobs (in arrival order) every epoch."""
        self._table.sync(queue, keep, lambda job: ())
        waiting = self._table.live()
        return self._table.lines(waiting[self.rng.permutation(len(waiting))])

    def place(self, epoch: Epoch, job: Job, ledger: Ledger) -> Placement | Wait:
        regions = [r.name for r in usable_regions(epoch.instance, job)]
        order = [regions[i] for i in self.rng.permutation(len(regions))]
        return fill_in_order(epoch.instance, job, order, ledger.free) or Wait.NO_FIT
