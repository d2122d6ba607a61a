"""Two solves give the lexicographic optimum: first the most priority weight admitted, then the
least epoch cost with that weight kept (a floor on Σ w x, a hair below stage 1's optimum).

The solving itself is ``solver``'s; this module owns the procedure (time split, floor, warm
starts) and turns every outcome — including a solver failure or exception — into a
``SolveResult``, so no exception from solving leaves it (but ``KeyboardInterrupt`` does).

Time is an absolute ``deadline`` on ``time.monotonic()`` (the caller's clock, which may have
started before the model was built); stage 1 gets ``STAGE1_SHARE`` of what is left once the model
is handed over, stage 2 the rest. When the cost stage ends without a usable answer (nothing found
in its share, or HiGHS stopping "unknown" before its limit, as seen at 200 jobs × 16 × 10), stage
1's admission is the answer with its cost unminimized — a ``time_limit`` incumbent (unproven), the
reason in its message, never the greedy plan while a better admission is known.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pyomo.environ as pyo

from bace_opt.core.placement import Placement
from bace_opt.milp.build import set_cost_families
from bace_opt.milp.capacity import reaches
from bace_opt.milp.cost_stage import (
    COUNT_BOUND,
    LP_BOUND,
    LP_SHARE,
    counted_bound,
    fix_admission,
    relaxed_bound,
    release,
)
from bace_opt.milp.data import EpochData, trivial_bounds
from bace_opt.milp.direct import DirectHighsBackend, built_only
from bace_opt.milp.extract import extract_plan
from bace_opt.milp.matrix import EpochMatrix
from bace_opt.milp.result import DIRECT_BACKEND, CostBound, SolveOptions, SolveResult, Status
from bace_opt.milp.solver import Backend, HighsBackend, SolveFailure, StageOutcome, open_backend
from bace_opt.milp.warmstart import apply_plan

log = logging.getLogger(__name__)

STAGE1_SHARE = 0.6
"""Share of the time left after the hand-over that stage 1 may use; stage 2 gets the rest (and
whatever stage 1 left)."""
FLOOR_SLACK = 1e-7
"""Relative slack of the stage-2 floor on Σ w x, so stage 1's optimum stays feasible in stage 2
under the solver's tolerances."""
CLOSED_GAP = 1e-9
"""Relative distance of objective and bound below which a stage counts as proven."""
SKIP_STAGE2_S = 0.05
"""With no more time than this left after stage 1, stage 2 is not started: the admitted plan's
cost is reported as a time-limit incumbent."""


@dataclass(frozen=True)
class StageOne:
    """Stage 1's answer, told to ``on_stage1`` before stage 2 starts: the admission to fall back
    on when stage 2 does not finish (its cost is then the caller's to compute)."""

    status: Status
    termination: str
    plan: dict[str, Placement]
    weight: float
    weight_bound: float | None


@dataclass(frozen=True)
class Incumbent:
    """An improving stage-2 solution, told to ``on_incumbent`` while HiGHS still runs: what the
    parent answers with if it must kill the solve (after checking the plan itself)."""

    plan: dict[str, Placement] | None
    """None: no new solution, only a newer ``bound``."""
    objective: float
    """HiGHS's cost objective for it (model units; NaN without a plan)."""
    bound: float
    """HiGHS's dual bound on the cost then (model units)."""


STREAM_EVERY_S = 0.25
"""At most one ``Incumbent`` per this many seconds (HiGHS may find many in a burst; the newest
one matters, the rest would only cost extraction and pipe time)."""


def _streamer(
    m: pyo.ConcreteModel, data: EpochData, tell: Callable[[Incumbent], None]
) -> Callable[[float, float], None]:
    """The backend's ``on_incumbent`` for stage 2: the model's variables hold the solution."""
    last = [-math.inf]

    def heard(objective: float, bound: float) -> None:
        now = time.monotonic()
        if now - last[0] < STREAM_EVERY_S:
            return
        last[0] = now
        log.debug("stage 2 incumbent %.6g (bound %.6g) streamed", objective, bound)
        tell(Incumbent(extract_plan(m, data), float(objective), float(bound)))

    return heard


BOUND_EVERY_S = 1.0
"""At most one bound-only ``Incumbent`` per this many seconds (HiGHS checks interrupts often)."""


def _bounder(tell: Callable[[Incumbent], None]) -> Callable[[float], None]:
    """The backend's ``on_bound`` for stage 2: the dual bound alone, when it is finite and new."""
    last = [-math.inf, -math.inf]  # when, and the value told

    def heard(bound: float) -> None:
        now = time.monotonic()
        if now - last[0] < BOUND_EVERY_S or not math.isfinite(bound) or bound <= last[1]:
            return
        last[0], last[1] = now, bound
        tell(Incumbent(None, math.nan, float(bound)))

    return heard


@dataclass
class _Progress:
    """What the procedure knew when it stopped: kept in the result even when a later stage fails."""

    weight: float | None = None
    weight_bound: float | None = None
    termination: str = ""


@dataclass(frozen=True)
class _Found:
    status: Status
    plan: dict[str, Placement]
    objective: float
    bound: float | None
    message: str = ""


def _two_stages(
    m: pyo.ConcreteModel,
    data: EpochData,
    options: SolveOptions,
    start: dict[str, Placement] | None,
    write_lp: Path | None,
    progress: _Progress,
    deadline: float | None,
    on_stage1: Callable[[StageOne], None] | None,
    on_incumbent: Callable[[Incumbent], None] | None = None,
    matrix: EpochMatrix | None = None,
    known: CostBound | None = None,
) -> _Found:
    backend: Backend = (
        DirectHighsBackend(options, data, matrix)
        if options.solver == DIRECT_BACKEND
        else open_backend(options)
    )
    started = start is not None and options.warm_start and apply_plan(m, data, start)
    if start is not None and options.warm_start and not started:
        log.info("greedy plan does not fit the model's index sets; no MIP start")
    set_cost_families(m, active=False)  # they cut no admission (build): stage 1 goes without
    backend.attach(m)  # hand the model over now, so the limits below are the solver's
    if deadline is None:
        deadline = time.monotonic() + options.time_limit_s
    # The capacity bound (a knapsack, ``capacity``) is valid for every plan; a start that meets
    # it is proven optimal for stage 1 with no solve, and stage 2 gets all the time.
    weight_floor, cost_floor = trivial_bounds(data)
    first = _proven_start(m, weight_floor) if started else None
    if first is None:
        solved = backend.solve(m, STAGE1_SHARE * (deadline - time.monotonic()))
        first = _capped(solved, weight_floor)
    progress.weight, progress.weight_bound = first.objective, first.bound
    progress.termination = first.termination
    admitted = extract_plan(m, data)
    if on_stage1 is not None:
        on_stage1(
            StageOne(
                first.status, first.termination, admitted, first.objective, progress.weight_bound
            )
        )
    floor = sum(j.weight for j in data.jobs if j.name in admitted)
    if m.admission_floor is not None:
        m.floor.set_value(floor - FLOOR_SLACK * max(1.0, abs(floor)))
        m.admission_floor.activate()
        fix_admission(m, data, float(pyo.value(m.floor)))
    m.admission.deactivate()
    m.cost.activate()
    set_cost_families(m, active=True)
    if write_lp is not None:
        m.write(str(write_lp), io_options={"symbolic_solver_labels": True})
    apply_plan(m, data, admitted)
    # The start's stage-count bound holds for this admission (not for every plan stage 2 may
    # visit below it): it may end the stage before the search, and bounds its answer after.
    weight = sum(j.weight for j in data.jobs if j.name in admitted)
    scale = float(pyo.value(m.COST_SCALE))
    counted = counted_bound(known, weight, scale) if built_only(m) else None
    with_count = cost_floor if counted is None else max(cost_floor, counted)
    remaining = deadline - time.monotonic()
    if remaining <= SKIP_STAGE2_S:
        if matrix is not None:  # the LP bound the shortcut found for this admission, if any
            kept = relaxed_bound(m, data, backend, options, 0.0, matrix)
            with_count = with_count if kept is None else max(with_count, kept)
        return _Found(Status.TIME_LIMIT, admitted, pyo.value(m.cost), with_count)
    relaxed = relaxed_bound(m, data, backend, options, LP_SHARE * remaining, matrix)
    if relaxed is not None:
        cost_floor = max(cost_floor, relaxed)
        if on_incumbent is not None:
            on_incumbent(Incumbent(None, math.nan, cost_floor))
        remaining = deadline - time.monotonic()
    known_now = relaxed is not None or counted is not None  # else only the trivial floor
    bound = max(cost_floor, with_count)
    if known_now and _closed(StageOutcome(first.status, "", pyo.value(m.cost), bound)):
        log.debug("the start's cost meets the cost stage's bound: stage 2 needs no solve")
        by_count = counted is not None and (relaxed is None or counted > relaxed)
        progress.termination = COUNT_BOUND if by_count else LP_BOUND
        return _Found(first.status, admitted, pyo.value(m.cost), bound)
    if on_incumbent is not None and isinstance(backend, (HighsBackend, DirectHighsBackend)):
        backend.on_incumbent = _streamer(m, data, on_incumbent)
        backend.on_bound = _bounder(on_incumbent)
    try:
        second = backend.solve(m, remaining)
    except SolveFailure as failure:
        if failure.status == Status.INFEASIBLE:
            raise  # stage 1's admission is feasible in stage 2: this would be a model's fault
        if first.termination == CAPACITY_BOUND and not failure.termination:
            raise  # the solver never ran (missing, or refused the model): an error, as it was
        progress.termination = failure.termination or progress.termination
        apply_plan(m, data, admitted)  # the failed stage may have loaded values: stage 1's again
        said = f"the cost stage ended without a usable answer ({failure}); stage 1's plan kept"
        return _Found(Status.TIME_LIMIT, admitted, pyo.value(m.cost), cost_floor, said)
    progress.termination = second.termination
    status = Status.TIME_LIMIT if second.status == Status.TIME_LIMIT else first.status
    if (
        status == Status.OPTIMAL
        and options.mip_gap > 0
        and not (_closed(first) and _closed(second))
    ):
        status = Status.WITHIN_GAP  # HiGHS says "optimal" at the gap asked for; that is no proof
    plan = extract_plan(m, data)
    # The plan's own cost: its cost variables at what the plan forces (after postsolve HiGHS's
    # may sit a tolerance above them, and the gap to the bound would not close).
    apply_plan(m, data, plan)
    objective = min(second.objective, pyo.value(m.cost))
    return _Found(status, plan, objective, max(_finite(second.bound, cost_floor), cost_floor))


CAPACITY_BOUND = "capacity_bound"
"""Stage 1's termination word when the MIP start met the capacity bound and no solve ran."""


def _proven_start(m: pyo.ConcreteModel, capacity: float) -> StageOutcome | None:
    """Stage 1's answer without a solve: the loaded start's Σ w x, when it meets ``capacity``."""
    weight = float(pyo.value(m.admission))
    if not reaches(weight, capacity):
        return None
    log.debug("the MIP start admits %.9g, the capacity bound: stage 1 needs no solve", weight)
    return StageOutcome(Status.OPTIMAL, CAPACITY_BOUND, weight, capacity)


def _capped(stage: StageOutcome, capacity: float) -> StageOutcome:
    """The solver's stage-1 answer with its bound no weaker than ``capacity``: a stage stopped at
    its time limit with its weight at the capacity bound is proven all the same."""
    bound = min(_finite(stage.bound, capacity), capacity)
    status = stage.status
    if status == Status.TIME_LIMIT and reaches(stage.objective, bound):
        status = Status.OPTIMAL
    return replace(stage, status=status, bound=bound)


def _finite(bound: float | None, trivial: float) -> float:
    """The solver's dual bound, or ``trivial`` (``data.trivial_bounds``) when it has none."""
    return trivial if bound is None or not math.isfinite(bound) else bound


def _closed(stage: StageOutcome) -> bool:
    """The stage's dual bound meets its objective (to the solver's tolerance)."""
    if stage.bound is None:
        return False
    return abs(stage.objective - stage.bound) <= CLOSED_GAP * max(1.0, abs(stage.objective))


def solve_lexicographic(
    m: pyo.ConcreteModel,
    data: EpochData,
    options: SolveOptions,
    start: dict[str, Placement] | None = None,
    write_lp: Path | None = None,
    deadline: float | None = None,
    on_stage1: Callable[[StageOne], None] | None = None,
    on_incumbent: Callable[[Incumbent], None] | None = None,
    matrix: EpochMatrix | None = None,
    known: CostBound | None = None,
) -> SolveResult:
    """Stage 1: max Σ w x (warm-started with ``start``); stage 2: min cost with Σ w x kept.

    ``write_lp`` gets the cost stage's model (with the floor) before it is solved. ``deadline``
    (``time.monotonic()``) ends both stages; without it, ``options.time_limit_s`` counts from the
    hand-over of the model. ``on_stage1`` hears stage 1's answer as soon as there is one,
    ``on_incumbent`` stage 2's improving solutions and its newer dual bounds (HiGHS backends
    only), throttled. ``matrix`` is ``epoch_matrix(data)`` if the caller built it already;
    ``known`` a bound on the cost stage the caller proved (``cost_stage.counted_bound``)."""
    tic = time.perf_counter()
    scale = float(pyo.value(m.COST_SCALE))
    progress = _Progress()

    def failed(status: Status, termination: str, message: str) -> SolveResult:
        """No plan, but what stage 1 knew is kept."""
        return SolveResult(
            status=status,
            termination=termination,
            weight=progress.weight,
            weight_bound=progress.weight_bound,
            objective_scale=scale,
            solve_s=time.perf_counter() - tic,
            message=message,
        )

    try:
        found = _two_stages(
            *(m, data, options, start, write_lp, progress, deadline),
            *(on_stage1, on_incumbent, matrix, known),
        )
    except SolveFailure as failure:
        return failed(failure.status, failure.termination or progress.termination, str(failure))
    except Exception as exc:
        log.debug("solver failed", exc_info=True)
        return failed(Status.ERROR, progress.termination, f"{type(exc).__name__}: {exc}")
    finally:
        release(m)
    return SolveResult(
        status=found.status,
        termination=progress.termination,
        plan=found.plan,
        objective_usd=found.objective / scale,
        model_objective=found.objective,
        bound=found.bound,
        weight=progress.weight,
        weight_bound=progress.weight_bound,
        objective_scale=scale,
        solve_s=time.perf_counter() - tic,
        message=found.message,
    )
