"""Free GPUs and residual bandwidth, as placements are taken and released.

One ledger serves every part that accounts resources: the simulator (a run's whole life: take on
start, release on finish), every greedy policy (one ``decide``: take as placements are chosen) and
the MILP policy (replaying the solver's plan). What a placement holds is computed once, as a
``Demand``, and the same numbers are released as were taken.

Residual bandwidth may go below zero when a bandwidth-unaware policy oversubscribes a link (the
simulator then shares it max-min fairly); what anyone reads is ``residual``, clamped at zero.
A ledger made from a snapshot reads the snapshot's residuals (never negative) until its first
placement with crossings, and only then copies them: most epochs place nothing across regions, and
the copy of every link direction was a tenth of a BACE-Pipe run on 20 regions (measured).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from bace_opt.core.network import Direction
from bace_opt.core.placement import Placement
from bace_opt.core.world import Instance, Job
from bace_opt.formulas.placement import PathEstimate
from bace_opt.resources.demand import Demand
from bace_opt.resources.feasibility import resource_problems, structure_problems


class EpochResources(Protocol):
    """What is free at an epoch: a ``Snapshot``, or the simulator's live view of one."""

    @property
    def instance(self) -> Instance: ...

    @property
    def free_gpus(self) -> Mapping[str, int]: ...

    @property
    def residual_gbps(self) -> Mapping[Direction, float]: ...


@dataclass
class Ledger:
    """Free GPUs per region and residual Gbit/s per link direction."""

    instance: Instance
    free: dict[str, int]
    _base: Mapping[Direction, float]
    """Residuals as the ledger started (none negative), until ``_residual`` is made."""
    _residual: dict[Direction, float] | None = None
    links_version: int = 0
    """Counts changes of the link reservations, so a reader may cache what it derives from them."""
    version: int = 0
    """Counts every change (GPUs or links), for the same purpose."""
    _view: Mapping[Direction, float] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, snapshot: EpochResources) -> Ledger:
        """The resources of an epoch, as its snapshot shows them."""
        return cls(snapshot.instance, dict(snapshot.free_gpus), snapshot.residual_gbps)

    @classmethod
    def idle(cls, instance: Instance) -> Ledger:
        """Every GPU free, every link direction at full capacity."""
        free = {r.name: r.gpus for r in instance.regions}
        return cls(instance, free, instance.network.capacity)

    def copy(self) -> Ledger:
        """An independent ledger with the same free GPUs and reservations (negative residuals of
        oversubscribed directions kept as they are), e.g. to play the releases ahead."""
        residual = dict(self._residual) if self._residual is not None else dict(self._base)
        return Ledger(self.instance, dict(self.free), residual, _residual=residual)

    def within(self, other: Ledger) -> Ledger:
        """A ledger of what both hold: per region the fewer free GPUs, per direction the lower
        residual (what a job may take without touching what ``other`` keeps for later)."""
        free = {r: min(n, other.free[r]) for r, n in self.free.items()}
        mine, theirs = self.residual, other.residual
        return Ledger(self.instance, free, {d: min(v, theirs[d]) for d, v in mine.items()})

    @property
    def free_total(self) -> int:
        return sum(self.free.values())

    @property
    def residual(self) -> Mapping[Direction, float]:
        """Residual Gbit/s per link direction, never below zero (a read-only view)."""
        if self._residual is None:
            return self._base
        if self._view is None:
            self._view = MappingProxyType({d: max(v, 0.0) for d, v in self._residual.items()})
        return self._view

    def demand(self, job: Job, placement: Placement) -> Demand:
        return Demand.of(self.instance, job, placement)

    def problems(
        self, job: Job, placement: Placement, check_bandwidth: bool, est: PathEstimate | None = None
    ) -> tuple[list[str], Demand | None]:
        """Every reason ``placement`` cannot start now — its shape first, then what it takes that
        is not free (bandwidth only when ``check_bandwidth``) — and, when its shape is sound,
        its demand (made with ``est`` when the caller has it)."""
        problems = structure_problems(self.instance, job, placement)
        if problems:
            return problems, None
        demand = Demand.of(self.instance, job, placement, est)
        return self.shortfall(demand, check_bandwidth), demand

    def shortfall(self, demand: Demand, check_bandwidth: bool) -> list[str]:
        """What ``demand`` takes that is not free now (bandwidth only when ``check_bandwidth``)."""
        return resource_problems(demand, self.free, self.residual if check_bandwidth else None)

    def take(self, demand: Demand) -> None:
        self.version += 1
        for region, gpus in demand.gpus.items():
            self.free[region] -= gpus
        if demand.uses:
            residual = self._own_residual()
            for direction, times in demand.uses.items():
                residual[direction] -= times * demand.need_gbps
            self._links_changed()

    def release(self, demand: Demand) -> None:
        self.version += 1
        for region, gpus in demand.gpus.items():
            self.free[region] += gpus
        if demand.uses:
            residual = self._own_residual()
            for direction, times in demand.uses.items():
                residual[direction] += times * demand.need_gbps
            self._links_changed()

    def _own_residual(self) -> dict[Direction, float]:
        if self._residual is None:
            self._residual = dict(self._base)
        return self._residual

    def _links_changed(self) -> None:
        self._view = None
        self.links_version += 1
