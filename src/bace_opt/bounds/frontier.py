"""The cost–JCT frontier: for an average JCT J, the least cost the relaxation allows with
Σ_j (C_j − a_j) / N ≤ J — no schedule with average JCT ≤ J costs less.

Three rules keep every reported point valid:

- a point may be *solved* at J' ≥ J and reported at J (a schedule with average ≤ J also has
  average ≤ J'); the tightest point is solved at the JCT LP's own optimum (a hair above the
  reported, safe JCT bound), where the budget row is surely feasible;
- solved at J, each C_j − a_j is capped at N · J − Σ_{k≠j} D_min,k, which every schedule with
  average ≤ J obeys, and every column of a slot that starts at or after that cap is fixed at 0 (such
  a schedule does no work of job j there): that keeps the safe bound's box small, and the LP small
  and tight where budgets are tight;
- the frontier never falls below the total cost bound, and a point at J may be raised to the
  point at any J' > J (monotone from the right).
"""

from __future__ import annotations

from dataclasses import dataclass

from bace_opt.bounds.data import RelaxationData
from bace_opt.bounds.solve import LpSolver, LpStatus, Session

ABOVE_OPTIMUM = 1e-7
"""Relative step above the JCT LP's optimum where the tightest frontier point is solved."""


@dataclass(frozen=True)
class FrontierPoint:
    avg_jct_s: float
    """J: the claim is about schedules with average JCT ≤ J."""
    cost_lower_usd: float | None
    """No such schedule costs less; None when no bound was proven (time limit, error)."""
    status: LpStatus
    solved_at_s: float | None = None
    """The budget the LP was solved with (≥ ``avg_jct_s``); None when not solved (the total
    cost bound holds there)."""


def grid(lower: float, upper: float, points: int) -> list[float]:
    """``points`` values from ``lower`` to ``upper``, dense near ``lower`` (where policies are):
    lower + (upper − lower) · {0, 2^−(points−2), …, 1/4, 1/2, 1}."""
    if upper <= lower:
        return [lower]
    fractions = [0.0] + [2.0**-k for k in range(points - 2, -1, -1)]
    return [lower + (upper - lower) * f for f in fractions]


def completion_caps(data: RelaxationData, budget_s: float) -> list[float]:
    """Per job, the latest C_j a schedule with average JCT ≤ ``budget_s`` can have."""
    least = [jp.min_run_s for jp in data.jobs]
    total = sum(least)
    return [
        jp.job.arrival_s + data.n_jobs * budget_s - (total - least[j])
        for j, jp in enumerate(data.jobs)
    ]


def closed_columns(data: RelaxationData, caps: list[float]) -> list[bool]:
    """Per column (j, c, s): whether slot s starts at or after ``caps[j]``. A schedule whose job j
    completes by ``caps[j]`` does all of j's work before then, and work in slot s happens at or
    after the slot's start, so such a column is 0 in the point that schedule maps to."""
    starts = data.grid.starts
    return [starts[s] >= caps[j] for j, _, s in data.columns]


def apply_caps(solver: LpSolver, data: RelaxationData, budget_s: float) -> None:
    """Cap every C_j at what an average JCT ≤ ``budget_s`` allows, and close the columns past it."""
    caps = completion_caps(data, budget_s)
    solver.cap_completions(caps, closed_columns(data, caps))


@dataclass(frozen=True)
class Anchors:
    """What the frontier hangs from: the safe JCT bound, the JCT LP's optimum, the total cost
    bound and the JCT at which the relaxation reaches it."""

    jct_lower_s: float
    jct_optimum_s: float
    cost_lower_usd: float
    cost_reached_at_s: float


def solve_points(
    run: Session, data: RelaxationData, anchors: Anchors, budgets: list[float]
) -> list[FrontierPoint]:
    """The frontier at each of ``budgets`` (deduplicated), solved from the loosest down, each warm
    from the basis of the one before (the first from the cost LP's: a budget of infinity)."""
    points: list[FrontierPoint] = []
    for budget in sorted(set(budgets), reverse=True):
        if budget < anchors.jct_lower_s:
            points.append(FrontierPoint(budget, None, LpStatus.INFEASIBLE))
            continue
        if budget >= anchors.cost_reached_at_s:
            points.append(FrontierPoint(budget, anchors.cost_lower_usd, LpStatus.OPTIMAL))
            continue
        solve_at = max(budget, anchors.jct_optimum_s * (1 + ABOVE_OPTIMUM))
        run.solver.set_budget(solve_at)
        apply_caps(run.solver, data, solve_at)
        answer = run.solve("cost", "frontier")
        if answer is None:
            points.append(FrontierPoint(budget, None, LpStatus.TIME_LIMIT, solve_at))
            continue
        cost = None if answer.bound is None else max(answer.bound, anchors.cost_lower_usd)
        points.append(FrontierPoint(budget, cost, answer.status, solve_at))
    run.solver.set_budget(None)
    apply_caps(run.solver, data, data.jct_cap_s)
    return _monotone(sorted(points, key=lambda p: p.avg_jct_s))


def _monotone(points: list[FrontierPoint]) -> list[FrontierPoint]:
    """Raise each point to the best proven point at a larger budget."""
    out: list[FrontierPoint] = []
    best: float | None = None
    for p in reversed(points):
        cost = p.cost_lower_usd
        if cost is not None and best is not None:
            cost = max(cost, best)
        elif cost is None and best is not None and p.status != LpStatus.INFEASIBLE:
            cost = best
        if cost is not None:
            best = cost
        out.append(FrontierPoint(p.avg_jct_s, cost, p.status, p.solved_at_s))
    return out[::-1]
