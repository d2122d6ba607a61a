"""The only module that talks to a solver. Two solves give the lexicographic optimum: first the
most priority weight admitted, then the least epoch cost with that weight kept.

HiGHS through Pyomo's ``appsi_highs`` by default (persistent, and its MIP start works); any other
Pyomo solver by name through ``SolverFactory``. The termination condition is checked before a
solution is loaded, and no solver exception leaves this module: trouble becomes a status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyomo.environ as pyo

from bace_opt.core.placement import Placement
from bace_opt.milp.data import EpochData
from bace_opt.milp.extract import extract_plan
from bace_opt.milp.warmstart import apply_plan

log = logging.getLogger(__name__)


class _KnownStatusFilter(logging.Filter):
    """Drop appsi's warning about HiGHS's "interrupted" status: ``_stage_appsi`` handles it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "kInterrupt" not in record.getMessage()


logging.getLogger("pyomo.contrib.appsi.solvers.highs").addFilter(_KnownStatusFilter())
STAGE1_SHARE = 0.6
"""Share of the time limit stage 1 may use; stage 2 gets the rest (and whatever stage 1 left)."""
FLOOR_SLACK = 1e-7
"""Relative slack of the stage-2 floor on Σ w x, so stage 1's optimum stays feasible in stage 2
under the solver's tolerances."""
OBJECTIVE_CHECK = 1e-6
"""Relative disagreement between the solver's objective and the model's objective evaluated at
the solver's solution above which the answer is not trusted."""
WATCHDOG_GRACE_S = 0.5
"""How far past a stage's time limit HiGHS may run before our own watchdog interrupts it. HiGHS
keeps its limit itself almost always, but was seen to overrun it (MIP presolve on large models,
DESIGN §3); the watchdog asks HiGHS to stop from its interrupt callbacks, so no thread is needed."""


class Status(StrEnum):
    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"
    INFEASIBLE = "infeasible"
    ERROR = "error"


@dataclass(frozen=True)
class SolveOptions:
    solver: str = "appsi_highs"
    time_limit_s: float = 10.0
    mip_gap: float = 0.0
    """Relative gap at which a solve counts as done; 0 (with absolute gap 0) proves the exact
    optimum — HiGHS's own defaults (1e-4 relative, 1e-6 absolute) would let stage 1 stop on an
    admission whose weight is a hair below the best, which is not the lexicographic optimum."""
    threads: int | None = None
    warm_start: bool = True


@dataclass(frozen=True)
class SolveResult:
    """What the two solves found. ``plan`` is empty when nothing was found (see ``message``)."""

    status: Status
    plan: dict[str, Placement]
    objective: float | None
    """Stage 2's objective, the epoch cost × ``objective_scale``: the written model's objective."""
    bound: float | None
    """Stage 2's best bound on the cost."""
    weight: float | None
    weight_bound: float | None
    """Stage 1's best bound on Σ w x."""
    time_s: float
    message: str = ""
    objective_scale: float = 1.0
    """objective = epoch cost in $ × this power of ten (see ``build.cost_scale``)."""

    @property
    def usable(self) -> bool:
        """A plan the caller may apply: proven optimal, or the incumbent at the time limit. A
        time limit reached before any solution (objective None) is not usable: fall back."""
        return self.status in (Status.OPTIMAL, Status.TIME_LIMIT) and self.objective is not None


class _Failure(Exception):
    """A solve ended without a usable answer; carries the status."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status


_scheduler_threads: list[int | None] = []
"""The ``threads`` value HiGHS's process-wide thread scheduler was started with, once known."""


def _match_scheduler(threads: int | None) -> None:
    """HiGHS starts one thread scheduler per process, sized by the first solve's ``threads``; a
    later solve asking for another number fails at once ("the scheduler has already been
    initialized", model status not set). Restart the scheduler when the number changes."""
    if _scheduler_threads and _scheduler_threads[0] != threads:
        import highspy

        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads[:] = [threads]


def _appsi(options: SolveOptions) -> Any:
    from pyomo.contrib.appsi.solvers import Highs

    _match_scheduler(options.threads)

    opt = Highs()
    if not opt.available():
        raise _Failure(Status.ERROR, "solver appsi_highs is not available (install highspy)")
    opt.config.load_solution = False
    opt.config.warmstart = options.warm_start
    opt.config.mip_gap = options.mip_gap
    opt.highs_options["mip_abs_gap"] = 0.0
    if options.threads:
        opt.highs_options["threads"] = options.threads
    return opt


@contextmanager
def _watchdog(opt: Any, limit: float) -> Iterator[list[float]]:
    """Interrupt the persistent HiGHS behind ``opt`` once ``limit`` + grace seconds have passed.

    Subscribes one check to HiGHS's simplex, IPM and MIP interrupt callbacks (highspy's event
    API); the yielded list gets the seconds into the solve at which it fired, if it did."""
    highs = getattr(opt, "_solver_model", None)
    fired: list[float] = []
    if highs is None or not hasattr(highs, "cbMipInterrupt"):
        yield fired
        return
    started = time.perf_counter()
    deadline = started + limit + WATCHDOG_GRACE_S

    def check(event: Any) -> None:
        now = time.perf_counter()
        if now > deadline:
            if not fired:
                fired.append(now - started)
            event.interrupt()

    events = (highs.cbSimplexInterrupt, highs.cbIpmInterrupt, highs.cbMipInterrupt)
    for event in events:
        event.subscribe(check)
    try:
        yield fired
    finally:
        for event in events:
            event.unsubscribe(check)


def _interrupted(opt: Any, m: pyo.ConcreteModel) -> tuple[Status, float | None, float | None]:
    """A stage stopped at its limit that appsi reports as "unknown" (HiGHS's "interrupted" when the
    watchdog fired). appsi will not hand over the incumbent then, so read it from HiGHS: its
    solution if valid (objective re-checked), and the MIP dual bound."""
    highs = opt._solver_model
    if not highs.getSolution().value_valid:
        raise _Failure(Status.TIME_LIMIT, "stopped at the time limit before any solution was found")
    opt.load_vars()
    info = highs.getInfo()
    active = next(m.component_data_objects(pyo.Objective, active=True))
    actual = pyo.value(active)
    if abs(actual - info.objective_function_value) > OBJECTIVE_CHECK * max(1.0, abs(actual)):
        raise _Failure(Status.ERROR, "the interrupted solve's incumbent does not evaluate right")
    return Status.TIME_LIMIT, actual, info.mip_dual_bound


def _stage_appsi(
    opt: Any, m: pyo.ConcreteModel, limit: float
) -> tuple[Status, float | None, float | None]:
    from pyomo.contrib.appsi.base import TerminationCondition as TC

    limit = max(limit, 0.01)
    started = time.perf_counter()
    deadline = started + limit
    opt.config.time_limit = limit
    with _watchdog(opt, limit) as fired:
        results = opt.solve(m)
    elapsed = time.perf_counter() - started
    tc = results.termination_condition
    found = results.best_feasible_objective is not None
    if fired and tc != TC.optimal:
        log.warning(
            "HiGHS ran past its %.2f s limit; the watchdog stopped it at %.2f s", limit, fired[0]
        )
        return _interrupted(opt, m)
    if tc == TC.unknown and elapsed >= limit:
        # Seen under load at the limit: HiGHS stopped with a status appsi does not map; it is a
        # time limit, and HiGHS may hold an incumbent appsi will not hand over.
        log.warning("HiGHS ended at its %.2f s limit with status unknown", limit)
        return _interrupted(opt, m)
    if tc == TC.optimal:
        status = Status.OPTIMAL
    elif tc in (TC.maxTimeLimit, TC.interrupted, TC.maxIterations) and found:
        status = Status.TIME_LIMIT
    elif tc in (TC.infeasible, TC.infeasibleOrUnbounded):
        raise _Failure(Status.INFEASIBLE, f"the solver reports {tc.name}")
    elif tc == TC.maxTimeLimit:
        raise _Failure(Status.TIME_LIMIT, "time limit reached before any solution was found")
    else:
        raise _Failure(Status.ERROR, f"solver ended with {tc.name}")
    results.solution_loader.load_vars()
    reported = results.best_feasible_objective
    active = next(m.component_data_objects(pyo.Objective, active=True))
    actual = pyo.value(active)
    if abs(actual - reported) > OBJECTIVE_CHECK * max(1.0, abs(actual)):
        if opt.config.warmstart:
            # Seen with HiGHS 1.16: "MIP start solution is feasible in the reduced space:
            # objective value is 0" — presolve loses the objective offset of a MIP start and
            # stops at a wrong "optimum". Solve the stage again without the start.
            log.warning(
                "HiGHS reported objective %g, its solution evaluates to %g; "
                "solving again without the MIP start",
                reported,
                actual,
            )
            from pyomo.contrib.appsi.solvers import Highs

            cold = Highs()  # a fresh HiGHS: the old one keeps the start it was given
            cold.config.load_solution = False
            cold.config.warmstart = False
            cold.config.mip_gap = opt.config.mip_gap
            cold.highs_options.update(opt.highs_options)
            cold.set_instance(m)
            return _stage_appsi(cold, m, deadline - time.perf_counter())
        raise _Failure(
            Status.ERROR,
            f"solver reported objective {reported:g}, but its solution evaluates to {actual:g}",
        )
    return status, actual, results.best_objective_bound


def _stage_factory(
    name: str, m: pyo.ConcreteModel, options: SolveOptions, limit: float
) -> tuple[Status, float | None, float | None]:
    from pyomo.opt import SolverStatus, TerminationCondition

    opt = pyo.SolverFactory(name)
    if opt is None or not opt.available(exception_flag=False):
        raise _Failure(Status.ERROR, f"solver {name} is not available")
    if "time_limit" in getattr(opt, "config", {}):
        opt.config.time_limit = limit
    results = opt.solve(m, load_solutions=False)
    tc = results.solver.termination_condition
    if tc == TerminationCondition.optimal:
        status = Status.OPTIMAL
    elif tc == TerminationCondition.maxTimeLimit and len(results.solution) > 0:
        status = Status.TIME_LIMIT
    elif tc in (TerminationCondition.infeasible, TerminationCondition.infeasibleOrUnbounded):
        raise _Failure(Status.INFEASIBLE, f"the solver reports {tc}")
    else:
        raise _Failure(Status.ERROR, f"solver ended with {tc} ({results.solver.status})")
    if results.solver.status not in (SolverStatus.ok, SolverStatus.warning):
        raise _Failure(Status.ERROR, f"solver status {results.solver.status}")
    m.solutions.load_from(results)
    objective = pyo.value(next(m.component_data_objects(pyo.Objective, active=True)))
    return status, objective, None


def solve_lexicographic(
    m: pyo.ConcreteModel,
    data: EpochData,
    options: SolveOptions,
    start: dict[str, Placement] | None = None,
    write_lp: Path | None = None,
) -> SolveResult:
    """Stage 1: max Σ w x (warm-started with ``start``); stage 2: min cost with Σ w x kept."""
    tic = time.perf_counter()
    deadline = tic + options.time_limit_s
    weight = weight_bound = objective = bound = None
    status = Status.OPTIMAL
    try:
        appsi = options.solver in ("appsi_highs", "highs")
        opt = _appsi(options) if appsi else None

        def stage(limit: float) -> tuple[Status, float | None, float | None]:
            if opt is not None:
                return _stage_appsi(opt, m, limit)
            return _stage_factory(options.solver, m, options, limit)

        if start is not None and options.warm_start and not apply_plan(m, data, start):
            log.info("greedy plan does not fit the model's index sets; no MIP start")
        if opt is not None:
            opt.set_instance(m)  # hand the model to HiGHS now, so the limits below are HiGHS's
        deadline = time.perf_counter() + options.time_limit_s
        first = min(STAGE1_SHARE * options.time_limit_s, deadline - time.perf_counter())
        status, weight, weight_bound = stage(first)
        admitted = extract_plan(m, data)
        floor = sum(j.weight for j in data.jobs if j.name in admitted)
        if m.admission_floor is not None:
            m.floor.set_value(floor - FLOOR_SLACK * max(1.0, abs(floor)))
            m.admission_floor.activate()
        m.admission.deactivate()
        m.cost.activate()
        if write_lp is not None:
            m.write(str(write_lp), io_options={"symbolic_solver_labels": True})
        apply_plan(m, data, admitted)
        remaining = deadline - time.perf_counter()
        if remaining <= 0.05:
            plan, objective = admitted, pyo.value(m.cost)
            status = Status.TIME_LIMIT
        else:
            second, objective, bound = stage(remaining)
            plan = extract_plan(m, data)
            if second == Status.TIME_LIMIT:
                status = Status.TIME_LIMIT
    except _Failure as failure:
        return SolveResult(
            failure.status,
            {},
            None,
            None,
            weight,
            weight_bound,
            time.perf_counter() - tic,
            str(failure),
        )
    except Exception as exc:
        log.debug("solver failed", exc_info=True)
        return SolveResult(
            Status.ERROR,
            {},
            None,
            None,
            weight,
            weight_bound,
            time.perf_counter() - tic,
            f"{type(exc).__name__}: {exc}",
        )
    return SolveResult(
        status,
        plan,
        objective,
        bound,
        weight,
        weight_bound,
        time.perf_counter() - tic,
        objective_scale=float(pyo.value(m.COST_SCALE)),
    )
