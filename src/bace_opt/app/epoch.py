"""``bace-opt epoch``: one snapshot solved by the greedy BACE-Pipe policy, the exact MILP, or both,
reported in the fields of DESIGN §5 (and checked by the independent checker).

The greedy here is BACE-Pipe with the paper-literal allocator (``bace-cheapest-path``: the cheapest
feasible path wins, no split budget). It pursues the epoch's own objective — admit what fits now,
at least cost — which is what the MILP optimizes exactly; the default policy's split budget
deliberately lets a job wait, a choice that pays off over a run but that one epoch cannot see.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bace_opt.checker import check_plan
from bace_opt.core.placement import Placement
from bace_opt.core.world import Snapshot
from bace_opt.milp import SolveOptions, solve_epoch
from bace_opt.policies.bace import BacePipe, Prioritizer, PriorityWeights

SOLVERS = ("milp", "greedy", "both")


def _report(
    snapshot: Snapshot,
    plan: dict[str, Placement],
    weights: dict[str, float],
    status: str,
    objective: float | None,
    bound: float | None,
    seconds: float,
    **extra: Any,
) -> dict[str, Any]:
    order = [j.name for j in snapshot.waiting if j.name in plan]
    check = check_plan(snapshot, [plan[n] for n in order], weights)
    return {
        "status": status,
        "objective": objective,
        "bound": bound,
        "time_s": seconds,
        "admitted": order,
        "placements": {n: plan[n].describe() for n in order},
        "cost_usd": check.cost_usd,
        "weight_sum": check.weight,
        "weights": weights,
        "check": list(check.problems) or "feasible",
        **extra,
    }


def solve_snapshot(
    snapshot: Snapshot, solver: str, options: SolveOptions, write_lp: Path | None = None
) -> dict[str, Any]:
    """The epoch's decision by ``solver`` (``milp``, ``greedy`` or ``both``), as DESIGN §5 names
    the fields. When the MILP fails or finds nothing, its entry carries the greedy plan, the
    status saying why, and ``fallback: greedy``."""
    policy = BacePipe.cheapest_path()
    weights = Prioritizer().weights_of(snapshot)
    tic = time.perf_counter()
    greedy = {p.job: p for p in policy.decide(snapshot)}
    greedy_s = time.perf_counter() - tic
    greedy_cost = check_plan(snapshot, greedy.values(), weights).cost_usd
    out: dict[str, Any] = {"time_s": snapshot.time_s, "waiting": len(snapshot.waiting)}
    if solver in ("greedy", "both"):
        out["greedy"] = _report(snapshot, greedy, weights, "heuristic", greedy_cost, None, greedy_s)
    if solver in ("milp", "both"):
        result, build_s = solve_epoch(snapshot, weights, options, start=greedy, write_lp=write_lp)
        if result.usable:
            out["milp"] = _report(
                snapshot,
                result.plan,
                weights,
                str(result.status),
                result.objective,
                result.bound,
                result.time_s,
                build_s=build_s,
                weight_bound=result.weight_bound,
                objective_scale=result.objective_scale,
                message=result.message,
            )
        else:
            out["milp"] = _report(
                snapshot,
                greedy,
                weights,
                str(result.status),
                None,
                None,
                result.time_s,
                build_s=build_s,
                fallback="greedy",
                message=result.message,
            )
    return out


def compare_epoch(
    snapshot: Snapshot, options: SolveOptions, weights: PriorityWeights | None = None
) -> dict[str, Any]:
    """Greedy BACE-Pipe against the exact MILP on one epoch, as one flat row of the gap study.

    Both plans are re-measured by the independent checker; ``cost_gap`` is the MILP's relative
    distance from its own dual bound on the cost (0 when proven optimal, None without a bound).
    When the MILP has no usable answer, its columns hold the greedy fallback and ``fallback`` is
    true.
    Timings are wall-clock: ``greedy_s``, ``build_s`` (Pyomo model) and ``solve_s`` (both stages).
    """
    policy = BacePipe.cheapest_path(weights)
    priority = Prioritizer(weights or PriorityWeights()).weights_of(snapshot)
    tic = time.perf_counter()
    greedy_plan = policy.decide(snapshot)
    greedy_s = time.perf_counter() - tic
    greedy = check_plan(snapshot, greedy_plan.placements, priority)
    result, build_s = solve_epoch(
        snapshot, priority, options, start={p.job: p for p in greedy_plan}
    )
    fallback = not result.usable  # what a caller gets then: the greedy plan
    exact = greedy if fallback else check_plan(snapshot, result.plan.values(), priority)
    gap = None
    if result.objective is not None and result.bound is not None and result.objective > 0:
        gap = (result.objective - result.bound) / result.objective
    return {
        "waiting": len(snapshot.waiting),
        "milp_status": str(result.status),
        "build_s": build_s,
        "solve_s": result.time_s,
        "greedy_s": greedy_s,
        "greedy_weight": greedy.weight,
        "milp_weight": exact.weight,
        "weight_bound": result.weight_bound,
        "greedy_cost": greedy.cost_usd,
        "milp_cost": exact.cost_usd,
        "cost_bound": None if result.bound is None else result.bound / result.objective_scale,
        "cost_gap": gap,
        "greedy_admitted": len(greedy_plan),
        "milp_admitted": len(greedy_plan) if fallback else len(result.plan),
        "fallback": fallback,
        "milp_feasible": exact.feasible,
        "milp_message": result.message,
    }
