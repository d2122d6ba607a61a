"""The policy protocol and the bookkeeping every greedy policy shares within one epoch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from bace_opt import pipeline
from bace_opt.evaluate import estimate, link_use
from bace_opt.feasibility import resource_problems
from bace_opt.network import Direction
from bace_opt.placement import Block, Placement, Plan
from bace_opt.world import Instance, Job, Region, Snapshot


class Policy(Protocol):
    """Decides, at each epoch, which waiting jobs start and where.

    ``bandwidth_aware`` policies promise that every crossing gets its ``need_gbps`` (the simulator
    checks it); the others may oversubscribe links, which then stall.
    """

    @property
    def name(self) -> str:
        """The registry name, used in outputs and error messages."""
        ...

    @property
    def bandwidth_aware(self) -> bool:
        """Whether every crossing it places gets its ``need_gbps``."""
        ...

    def decide(self, snapshot: Snapshot) -> Plan:
        """The placements to start now, applied in order."""
        ...


@dataclass
class Ledger:
    """Free GPUs and residual bandwidth during one ``decide``, as placements are taken."""

    instance: Instance
    free: dict[str, int]
    residual: dict[Direction, float]

    @classmethod
    def of(cls, snapshot: Snapshot) -> Ledger:
        return cls(snapshot.instance, dict(snapshot.free_gpus), dict(snapshot.residual_gbps))

    @property
    def free_total(self) -> int:
        return sum(self.free.values())

    def fits(self, job: Job, placement: Placement, check_bandwidth: bool) -> bool:
        residual = self.residual if check_bandwidth else None
        return not resource_problems(self.instance, job, placement, self.free, residual)

    def take(self, job: Job, placement: Placement) -> None:
        for region, gpus in placement.gpus_by_region(job.gpus_per_stage).items():
            self.free[region] -= gpus
        if placement.crossings:
            need = estimate(self.instance, job, placement).need_gbps
            for direction, times in link_use(self.instance, placement).items():
                self.residual[direction] = max(self.residual[direction] - times * need, 0.0)


def usable_regions(instance: Instance, job: Job) -> list[Region]:
    """Regions whose GPU type holds one of the job's stages in memory (instance order)."""
    return [
        r
        for r in instance.regions
        if pipeline.fits_memory(
            job.model.params, job.stages, job.gpus_per_stage, r.gpu_type.memory_gb
        )
    ]


def connected(instance: Instance, a: str, b: str) -> bool:
    """A crossing a→b needs a route both ways."""
    net = instance.network
    return net.route(a, b) is not None and net.route(b, a) is not None


def fill_in_order(
    instance: Instance, job: Job, order: Iterable[str], free: dict[str, int]
) -> Placement | None:
    """Walk regions in ``order``; each takes as many stages as its free GPUs hold, until the job
    is placed. A region is skipped when it holds no whole stage, has no route to the previous
    block's region, or would leave more stages than the largest remaining regions can hold within
    ``max_regions``. None when no such filling places the job."""
    names = list(order)
    slots = [free[name] // job.gpus_per_stage for name in names]
    blocks: list[Block] = []
    left = job.stages
    for i, name in enumerate(names):
        if slots[i] <= 0 or (blocks and not connected(instance, blocks[-1].region, name)):
            continue
        take = min(slots[i], left)
        spare = instance.max_regions - len(blocks) - 1
        later = sorted(slots[i + 1 :], reverse=True)[:spare] if spare > 0 else []
        if left - take > sum(later):
            continue
        blocks.append(Block(name, take))
        left -= take
        if left == 0:
            return Placement(job.name, tuple(blocks))
    return None
