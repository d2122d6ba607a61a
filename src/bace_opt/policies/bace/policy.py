"""BACE-Pipe (greedy): prioritizer → pathfinder → cost-min allocator, with backfilling.

Each epoch, waiting jobs are taken in priority order; for each, the pathfinder lists the region
sequences where it fits now (GPUs and, per crossing, ``need_gbps`` both ways) and the allocator
picks a placement among them. A job that fits nowhere waits; later jobs may still start. The
parts are swappable, which is how the ablations are made (``policies.registry``): arrival order
instead of priorities, a pathfinder that ignores bandwidth, the first feasible path instead of
the cheapest, the paper-literal "cheapest path wins" instead of crossings as a last resort.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bace_opt.core.placement import Placement
from bace_opt.core.world import Job
from bace_opt.policies.bace.allocator import Allocator, CheapestPath, WholeElseSplit
from bace_opt.policies.bace.pathfinder import Pathfinder
from bace_opt.policies.bace.prioritizer import Ordering, Prioritizer, PriorityWeights
from bace_opt.policies.greedy import Epoch, GreedyPolicy, Wait
from bace_opt.policies.lineup import Order
from bace_opt.resources.ledger import Ledger


@dataclass
class BacePipe(GreedyPolicy):
    """The BACE-Pipe policy, made of its three parts."""

    name: str = "bace"
    bandwidth_aware: bool = field(init=False)
    """The pathfinder's: every crossing gets its ``need_gbps`` unless bandwidth is ignored."""
    ordering: Ordering = field(default_factory=Prioritizer)
    """Orders the waiting jobs: the prioritizer, or ``ArrivalOrder`` (the ablation)."""
    pathfinder: Pathfinder = field(default_factory=Pathfinder)
    allocator: Allocator = field(default_factory=WholeElseSplit)

    def __post_init__(self) -> None:
        self.bandwidth_aware = self.pathfinder.bandwidth

    @classmethod
    def cheapest_path(cls, weights: PriorityWeights | None = None) -> BacePipe:
        """The paper-literal policy ``bace-cheapest-path`` (``CheapestPath``)."""
        ordering = Prioritizer(weights or PriorityWeights())
        return cls("bace-cheapest-path", ordering=ordering, allocator=CheapestPath())

    def order(self) -> Order:
        return self.ordering

    def could_place(self, epoch: Epoch, job: Job, ledger: Ledger) -> bool:
        """Whether the pathfinder finds any path where the job fits the ledger."""
        return bool(self.pathfinder.candidates(epoch.instance, job, ledger))

    def place(self, epoch: Epoch, job: Job, ledger: Ledger) -> Placement | Wait:
        """The allocator's choice among the paths where the job fits now. A split refused for
        its cost (``Wait.HELD``) does not mark the job's shape as not fitting: the budget depends
        on micro-batches and run length, not on the shape."""
        found = self.pathfinder.candidates(epoch.instance, job, ledger)
        if not found:
            return Wait.NO_FIT
        return self.allocator.choose(epoch, job, found, self.pathfinder)
