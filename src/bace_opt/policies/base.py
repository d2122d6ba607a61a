"""The policy protocol: what the simulator asks of every scheduling policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bace_opt.core.placement import Plan
from bace_opt.core.world import Snapshot


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

    @property
    def stats(self) -> Mapping[str, int]:
        """Counters the policy keeps for ``summary.json`` (e.g. the MILP's solves and fallbacks);
        empty for most."""
        ...

    def decide(self, snapshot: Snapshot) -> Plan:
        """The placements to start now, applied in order."""
        ...
