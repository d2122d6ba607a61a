"""Policy ``milp``: every epoch solved exactly (within a per-epoch time limit, the wall clock of the
whole solve, model build included), warm-started by the greedy BACE-Pipe plan or, where it admits
more weight, the weight-per-GPU greedy (``mip_start``), with the greedy BACE-Pipe plan as the
fallback whenever the solver fails, finds nothing, or returns a plan the exact check rejects.
Fallbacks are counted for ``summary.json``. Ctrl-C during a solve is not a fallback: the
``KeyboardInterrupt`` leaves ``decide`` (``solve_epoch`` has ended its solver process)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bace_opt.core.placement import Placement, Plan
from bace_opt.core.world import Snapshot
from bace_opt.milp import SolveOptions, Status
from bace_opt.policies.bace import BacePipe, Prioritizer
from bace_opt.policies.mip_start import solve_from_start
from bace_opt.resources.ledger import Ledger

log = logging.getLogger(__name__)


@dataclass
class MilpPolicy:
    """Exact epochs with the greedy plan as MIP start and safety net."""

    options: SolveOptions
    greedy: BacePipe
    """``bace-cheapest-path``: the same per-epoch objective, so its plan is a fair MIP start."""
    prioritizer: Prioritizer
    """Gives the weights of the first objective (the greedy orders by the same weights)."""
    name: str = "milp"
    bandwidth_aware: bool = True
    stats: dict[str, int] = field(
        default_factory=lambda: {
            "milp_solves": 0,
            "milp_optimal": 0,
            "milp_time_limit": 0,
            "milp_fallbacks": 0,
        }
    )

    def decide(self, snapshot: Snapshot) -> Plan:
        greedy = self.greedy.decide(snapshot)
        free = Ledger.of(snapshot).free_total
        if not any(job.total_gpus <= free for job in snapshot.waiting):
            return greedy  # nothing can start: no model to build
        weights = self.prioritizer.weights_of(snapshot)
        result = solve_from_start(snapshot, weights, {p.job: p for p in greedy}, self.options)
        self.stats["milp_solves"] += 1
        if result.usable and self._fits(snapshot, result.plan):
            self.stats[
                "milp_optimal" if result.status == Status.OPTIMAL else "milp_time_limit"
            ] += 1
            jobs = [j.name for j in snapshot.waiting]
            return Plan(tuple(result.plan[name] for name in jobs if name in result.plan))
        self.stats["milp_fallbacks"] += 1
        log.warning(
            "epoch at t=%s: MILP %s (%s); using the greedy plan",
            snapshot.time_s,
            result.status,
            result.message or "plan failed the exact check",
        )
        return greedy

    def _fits(self, snapshot: Snapshot, plan: dict[str, Placement]) -> bool:
        """The solver's plan, replayed on the epoch's resources with the exact check (the solver
        works within tolerances)."""
        ledger = Ledger.of(snapshot)
        jobs = {j.name: j for j in snapshot.waiting}
        for name, placement in plan.items():
            problems, demand = ledger.problems(jobs[name], placement, check_bandwidth=True)
            if problems or demand is None:
                return False
            ledger.take(demand)
        return True
