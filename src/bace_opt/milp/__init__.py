"""The exact epoch MILP: data (no Pyomo) → build (one ``add_*`` per family) → solve (two stages,
``lexicographic``; the only solver contact is ``solver``) → extract. ``solve_epoch`` runs them —
in a child process it stops at the time limit or on Ctrl-C (``isolate``) — and returns our own
result type (``result``)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from bace_opt.core.placement import Placement
from bace_opt.core.world import Snapshot
from bace_opt.milp.build import build_model
from bace_opt.milp.capacity import reaches
from bace_opt.milp.cost_stage import COUNT_BOUND, counted_bound
from bace_opt.milp.data import EpochData, epoch_data
from bace_opt.milp.isolate import isolation_available, solve_isolated
from bace_opt.milp.lexicographic import CLOSED_GAP, solve_lexicographic
from bace_opt.milp.result import CostBound, SolveOptions, SolveResult, Status
from bace_opt.milp.shortcut import shortcut

__all__ = ["SolveOptions", "SolveResult", "Status", "solve_epoch"]


def solve_epoch(
    snapshot: Snapshot,
    weights: dict[str, float],
    options: SolveOptions | None = None,
    start: dict[str, Placement] | None = None,
    write_lp: Path | None = None,
    started: float | None = None,
    cost_bound: CostBound | None = None,
) -> SolveResult:
    """The lexicographically best decision for ``snapshot``; ``build_s`` is the time to build it.

    ``start`` (e.g. the greedy plan) is the MIP start, and the incumbent should the time limit
    come before stage 1 answers; ``write_lp`` gets the cost stage's model. The time limit counts
    from ``started`` (``time.monotonic()``; default: this call), so a caller that first spent time
    on the start keeps the limit's promise; ``cost_bound`` is a bound on the cost stage the
    caller proved (``policies.mip_start``), used where it holds; ``KeyboardInterrupt`` leaves it
    as it came (with no solver process left)."""
    options = options or SolveOptions()
    started = time.monotonic() if started is None else started
    tic = time.perf_counter()
    data = epoch_data(snapshot, weights)
    if not any(j.blocks for j in data.jobs):
        return SolveResult(
            status=Status.OPTIMAL,
            objective_usd=0.0,
            model_objective=0.0,
            bound=0.0,
            weight=0.0,
            weight_bound=0.0,
            build_s=time.perf_counter() - tic,
            message="no waiting job fits the free resources",
        )
    if options.isolated and isolation_available():
        isolated = solve_isolated(
            snapshot, weights, data, options, start, write_lp, started, cost_bound
        )
        return counted(isolated, data, cost_bound)
    deadline = started + options.time_limit_s
    tried = shortcut(data, start, options, write_lp, deadline, cost_bound)
    if tried.answer is not None:
        return tried.answer
    model = build_model(data)
    build_s = time.perf_counter() - tic
    result = solve_lexicographic(
        model, data, options, start, write_lp, deadline, matrix=tried.matrix, known=cost_bound
    )
    return counted(replace(result, build_s=build_s), data, cost_bound)


def counted(result: SolveResult, data: EpochData, known: CostBound | None) -> SolveResult:
    """The answer's cost bound raised to ``known``'s where that holds for the answer's plan
    (it admits at least ``known.floor``); proven optimal (termination ``count_bound``) when
    that closes the gap and the plan's weight meets the weight bound."""
    objective, bound = result.model_objective, result.bound
    if known is None or not result.usable or objective is None or bound is None:
        return result
    weight = sum(j.weight for j in data.jobs if j.name in result.plan)
    raised = counted_bound(known, weight, result.objective_scale)
    if raised is None or raised <= bound or result.status == Status.OPTIMAL:
        return result
    closed = abs(objective - raised) <= CLOSED_GAP * max(1.0, abs(objective))
    weight_bound = result.weight_bound
    if not closed or weight_bound is None or not reaches(weight, weight_bound):
        return replace(result, bound=raised)
    return replace(result, status=Status.OPTIMAL, termination=COUNT_BOUND, bound=raised, message="")
