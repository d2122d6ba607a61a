"""An epoch proven optimal from its arrays alone, before any Pyomo model is built.

Why: over a whole geo6 run with exact epochs, 190 of 194 epochs end with both stages proven
without a MILP search — the MIP start admits the capacity bound's weight (``capacity``) and its
cost meets the cost stage's LP bound (``relaxation``). Yet each paid for the Pyomo model and its
hand-over to HiGHS, most of the epoch's time (docs/benchmarks.md, session 15). Both bounds need
only ``matrix.epoch_matrix``: this module checks them there and answers as ``lexicographic``
would (the same plan, status and bounds, termination ``lp_bound``), or says it cannot.

The proof is the same theorem as on the model path: the capacity bound is ≥ every plan's Σ w x,
so a start reaching it is stage 1's optimum; the LP bound, with the admissions the knapsack fixes
under that floor, is ≤ every stage-2 plan's cost, so a start meeting it is stage 2's optimum.
The start's values (``warmstart.plan_values``) are checked against every row of the matrix
first, so a plan the model would not accept is never proven.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bace_opt.core.placement import Placement
from bace_opt.milp.capacity import reaches
from bace_opt.milp.cost_stage import COUNT_BOUND, LP_BOUND, LP_SHARE, counted_bound
from bace_opt.milp.data import EpochData, admission_fixing, trivial_bounds
from bace_opt.milp.lexicographic import CAPACITY_BOUND, CLOSED_GAP, FLOOR_SLACK, StageOne
from bace_opt.milp.matrix import EpochMatrix, epoch_matrix
from bace_opt.milp.relaxation import cost_lp_bound
from bace_opt.milp.result import CostBound, SolveOptions, SolveResult, Status
from bace_opt.milp.warmstart import oriented, plan_values

log = logging.getLogger(__name__)

SHORTCUT_BACKENDS = ("appsi_highs", "highs_direct")
"""Backends whose answer the shortcut may give: HiGHS solves the LP either way. Another backend
(SCIP, Gurobi) goes the model path, so a missing one is still an error at the hand-over."""

ROW_TOLERANCE = 1e-7
"""How far (relative to the row's bound, at least 1) the start may sit outside a row: HiGHS's
feasibility tolerance in the MILP (``solver.HIGHS_SETTINGS``)."""


@dataclass(frozen=True)
class Tried:
    """What the shortcut found. ``answer``: the epoch proven, nothing else to do. Else what the
    model path can use: ``matrix`` (the arrays), ``stage_one`` (stage 1 proven by the capacity
    bound: the start's admission, to tell the parent at once) and ``lp_bound`` (the cost
    stage's LP bound for that admission, model units), each None when not reached."""

    answer: SolveResult | None = None
    matrix: EpochMatrix | None = None
    stage_one: StageOne | None = None
    lp_bound: float | None = None


def shortcut(
    data: EpochData,
    start: dict[str, Placement] | None,
    options: SolveOptions,
    write_lp: Path | None,
    deadline: float,
    cost_bound: CostBound | None = None,
) -> Tried:
    """The epoch proven from the arrays (``proven_start``; ``build_s`` the arrays' time), or
    what the try found on the way; nothing where the shortcut does not apply (no start, another
    backend, an LP file asked for: that needs the model)."""
    if write_lp is not None or start is None or not options.warm_start:
        return Tried()
    if options.solver not in SHORTCUT_BACKENDS:
        return Tried()
    tic = time.perf_counter()
    matrix = epoch_matrix(data)
    build_s = time.perf_counter() - tic
    tried = proven_start(data, matrix, start, options, deadline, cost_bound)
    if tried.answer is None:
        return tried
    log.debug("the start meets the capacity and cost LP bounds: proven with no model built")
    return Tried(answer=replace(tried.answer, build_s=build_s))


def proven_start(
    data: EpochData,
    matrix: EpochMatrix,
    start: dict[str, Placement],
    options: SolveOptions,
    deadline: float,
    cost_bound: CostBound | None = None,
) -> Tried:
    """The start as the epoch's proven optimum, when the bounds prove it (the LP's, or
    ``cost_bound`` where its floor allows); else as far as the proof got (nothing when the start
    does not fit the matrix or falls short of the capacity bound)."""
    tic = time.perf_counter()
    values = plan_values(data, start, matrix.scale)
    if values is None:
        return Tried(matrix=matrix)
    column = {key: k for k, key in enumerate(matrix.columns)}
    if any(key not in column for key in values):
        return Tried(matrix=matrix)
    v = np.zeros(len(matrix.columns))
    for key, value in values.items():
        v[column[key]] = value
    if not _within_rows(matrix, v):
        return Tried(matrix=matrix)
    weight = float(matrix.admission @ v)
    capacity, cost_floor = trivial_bounds(data)
    if not reaches(weight, capacity):
        return Tried(matrix=matrix)
    jobs = {j.name: j for j in data.jobs}
    admitted = sorted(j.name for j in data.jobs if j.blocks and j.name in start)
    plan = {name: oriented(data, jobs[name], start[name]) for name in admitted}
    one = StageOne(Status.OPTIMAL, CAPACITY_BOUND, plan, weight, capacity)
    floor = sum(j.weight for j in data.jobs if j.name in plan)
    floor -= FLOOR_SLACK * max(1.0, abs(floor))
    fixed = admission_fixing(data, floor)
    bounds = {j.name: (0.0, 1.0) for j in data.jobs if j.blocks}
    bounds |= {name: (1.0, 1.0) for name in fixed.admit if name in bounds}
    bounds |= {name: (0.0, 0.0) for name in fixed.leave if name in bounds}
    limit = LP_SHARE * (deadline - time.monotonic())
    relaxed = cost_lp_bound(matrix, floor, bounds, limit, options.threads)
    counted = counted_bound(cost_bound, weight, matrix.scale)
    if relaxed is None and counted is None:
        return Tried(matrix=matrix, stage_one=one)
    cost = float(matrix.cost @ v)
    lp_bound = None if relaxed is None else max(cost_floor, relaxed)
    bound = max(cost_floor, *(b for b in (relaxed, counted) if b is not None))
    if abs(cost - bound) > CLOSED_GAP * max(1.0, abs(cost)):
        return Tried(matrix=matrix, stage_one=one, lp_bound=lp_bound)
    by_count = counted is not None and (relaxed is None or counted > relaxed)
    answer = SolveResult(
        status=Status.OPTIMAL,
        termination=COUNT_BOUND if by_count else LP_BOUND,
        plan=plan,
        objective_usd=cost / matrix.scale,
        model_objective=cost,
        bound=bound,
        weight=weight,
        weight_bound=capacity,
        objective_scale=matrix.scale,
        solve_s=time.perf_counter() - tic,
    )
    return Tried(answer=answer, matrix=matrix, stage_one=one, lp_bound=lp_bound)


def _within_rows(matrix: EpochMatrix, v: np.ndarray) -> bool:
    """Every row and column bound of the matrix holds at ``v`` (to ``ROW_TOLERANCE``)."""
    rows = len(matrix.row_lower)
    row_of = np.repeat(np.arange(rows), np.diff(matrix.a_start))
    products = np.bincount(row_of, weights=matrix.a_value * v[matrix.a_index], minlength=rows)
    lower, upper = matrix.row_lower, matrix.row_upper
    scale = np.maximum(1.0, np.abs(np.where(np.isfinite(upper), upper, lower)))
    slack = ROW_TOLERANCE * np.where(np.isfinite(scale), scale, 1.0)
    rows_hold = (products >= lower - slack) & (products <= upper + slack)
    columns_hold = (v >= matrix.col_lower - ROW_TOLERANCE) & (v <= matrix.col_upper + ROW_TOLERANCE)
    return bool(np.all(rows_hold) and np.all(columns_hold))
