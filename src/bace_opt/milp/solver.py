"""The module that picks a solver (``open_backend``) and talks to it: one stage (the model's
active objective) solved, its termination condition checked before a solution is loaded, and the
answer as ``StageOutcome`` (``stage``).

HiGHS through Pyomo's ``appsi_highs`` by default; SCIP for ``scip`` (module ``scip``); any other
Pyomo solver through ``SolverFactory``. Trouble leaves as ``SolveFailure`` carrying our status.
Nothing happens at import (the first HiGHS backend sets up the log filter and the scheduler).
"""

from __future__ import annotations

import functools
import io
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pyomo.environ as pyo

from bace_opt.milp.result import SolveOptions, Status
from bace_opt.milp.scip import SCIP_BACKENDS, ScipBackend
from bace_opt.milp.stage import OBJECTIVE_CHECK as OBJECTIVE_CHECK
from bace_opt.milp.stage import Backend as Backend
from bace_opt.milp.stage import SolveFailure as SolveFailure
from bace_opt.milp.stage import StageOutcome as StageOutcome
from bace_opt.milp.stage import active_value, disagree

log = logging.getLogger(__name__)

Improving = Callable[[Any, float, float], None]
"""Hears an improving MIP solution: HiGHS's column values, its objective and dual bound."""

WATCHDOG_GRACE_S = 0.5
"""How far past a stage's time limit HiGHS may run before our own watchdog interrupts it. HiGHS
keeps its limit itself almost always, but was seen to overrun it (MIP presolve on large models,
DESIGN §3); the watchdog asks HiGHS to stop from its interrupt callbacks, so no thread is needed."""
PRELOAD = ("highspy", "pyomo.contrib.appsi.solvers")
"""Modules a fresh solver process should have imported before it is forked (``isolate``)."""

# How each backend's termination conditions read in our terms; a name not listed is an error.
# TIME_LIMIT holds only with an incumbent (``_appsi_status``; ``factory`` has its own table).
APPSI_STATUS: dict[str, Status] = {
    "optimal": Status.OPTIMAL,
    "maxTimeLimit": Status.TIME_LIMIT,
    "interrupted": Status.TIME_LIMIT,
    "maxIterations": Status.TIME_LIMIT,
    "infeasible": Status.INFEASIBLE,
    "infeasibleOrUnbounded": Status.INFEASIBLE,
}


def open_backend(options: SolveOptions) -> Backend:
    """HiGHS through appsi for ``appsi_highs``/``highs``; SCIP through pyscipopt (``scip``) for
    ``scip`` and Pyomo's names ``scip_persistent``, ``scip_direct``; else ``SolverFactory``."""
    if options.solver in ("appsi_highs", "highs"):
        return HighsBackend(options)
    if options.solver in SCIP_BACKENDS:
        return ScipBackend(options)
    from bace_opt.milp.factory import FactoryBackend

    return FactoryBackend(options.solver)


_active_value = active_value  # the names ``direct`` knows them by
_disagree = disagree


class _KnownStatusFilter(logging.Filter):
    """Drop appsi's warning about HiGHS's "interrupted" status: ``HighsBackend`` handles it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "kInterrupt" not in record.getMessage()


def _quiet_known_status() -> None:
    """Install ``_KnownStatusFilter`` on appsi's HiGHS logger, once (idempotent)."""
    logger = logging.getLogger("pyomo.contrib.appsi.solvers.highs")
    if not any(isinstance(f, _KnownStatusFilter) for f in logger.filters):
        logger.addFilter(_KnownStatusFilter())


class _Scheduler:
    """HiGHS's one thread scheduler per process, sized by the first solve's ``threads`` (another
    number later fails: "already initialized"); ``match`` restarts it when the number changes."""

    def __init__(self) -> None:
        self.started = False
        self.threads: int | None = None

    def match(self, threads: int | None) -> None:
        if self.started and self.threads != threads:
            import highspy

            highspy.Highs.resetGlobalScheduler(True)
        self.started, self.threads = True, threads


@functools.cache
def _scheduler() -> _Scheduler:
    """The process's one ``_Scheduler``, created by the first HiGHS backend."""
    return _Scheduler()


def quiet_highs() -> Any:
    """A new ``highspy.Highs``, output off. HiGHS prints its banner once per process, at the
    first birth (1.16; forked children inherit it): only that one is captured (1.7 ms each)."""
    import highspy

    _born_quietly()
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    return highs


@functools.cache
def _born_quietly() -> None:  # the banner, to a captured descriptor
    import highspy
    from pyomo.common.tee import capture_output

    with capture_output(io.StringIO(), capture_fd=True):
        highspy.Highs()  # type: ignore[no-untyped-call]


HIGHS_SETTINGS: dict[str, Any] = {"mip_abs_gap": 0.0, "mip_feasibility_tolerance": 1e-7}
"""What both HiGHS backends set besides threads and the relative gap. An absolute gap of 0: the
lexicographic stages must not stop a hair short. An integrality and feasibility tolerance of
1e-7 instead of HiGHS's 1e-6: a binary z at 1 − 1e-6 relaxes a latency-cost row by 1e-6 of its
big-M, which let HiGHS call a cost "optimal" 3.3e-5 below what its plan costs (10x4x6-seed0,
session 11: the dual bound then sits below the plan's true cost and the gap is not closed).
Measured at 60x16x6 not slower (docs/benchmarks.md)."""


def _highs(warm_start: bool, mip_gap: float, highs_options: dict[str, Any]) -> Any:
    from pyomo.contrib.appsi.solvers import Highs

    opt = Highs()
    opt.config.load_solution = False
    opt.config.warmstart = warm_start
    opt.config.mip_gap = mip_gap
    opt.highs_options.update(highs_options)
    return opt


class HighsBackend:
    """Persistent HiGHS (appsi) with a watchdog, the incumbent read back after an interrupt, and a
    cold re-solve when HiGHS's objective disagrees with its own solution after a MIP start."""

    def __init__(self, options: SolveOptions) -> None:
        _quiet_known_status()
        _scheduler().match(options.threads)
        settings: dict[str, Any] = dict(HIGHS_SETTINGS)
        if options.threads:
            settings["threads"] = options.threads
        self._opt = _highs(options.warm_start, options.mip_gap, settings)
        if not self._opt.available():
            raise SolveFailure(
                Status.ERROR, "solver appsi_highs is not available (install highspy)"
            )
        self.on_bound: Callable[[float], None] | None = None
        """Told HiGHS's MIP dual bound as the solve goes (model units)."""
        self.on_incumbent: Callable[[float, float], None] | None = None
        """Told (objective, dual bound) of each improving MIP solution, its values loaded into
        the model's variables first (``lexicographic`` streams stage 2's to the parent)."""

    def attach(self, m: pyo.ConcreteModel) -> None:
        self._opt.set_instance(m)

    def solve(self, m: pyo.ConcreteModel, limit: float) -> StageOutcome:
        return _stage_appsi(self._opt, m, limit, self._improving, self.on_bound)

    def _improving(self, values: Any, objective: float, bound: float) -> None:
        if self.on_incumbent is None:
            return
        opt = self._opt  # appsi's column of each variable, by id
        for var_id, col in opt._pyomo_var_to_solver_var_map.items():
            opt._vars[var_id][0].set_value(values[col], skip_validation=True)
        self.on_incumbent(objective, bound)


@contextmanager
def _sigint_noted() -> Iterator[list[bool]]:
    """While HiGHS runs in this process, Ctrl-C only notes itself in the yielded list, and
    ``KeyboardInterrupt`` is raised once HiGHS has returned: raised inside HiGHS's callback, HiGHS
    would turn it into status "error" and the interrupt would be lost. Only in the main thread and
    over Python's default handler (a solver process ignores SIGINT: its parent handles it)."""
    notes: list[bool] = []
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield notes
        return
    previous = signal.signal(signal.SIGINT, lambda *_: notes.append(True))
    try:
        yield notes
    finally:
        signal.signal(signal.SIGINT, previous)
        if notes:
            raise KeyboardInterrupt


@contextmanager
def _watchdog(
    opt: Any,
    limit: float,
    on_improving: Improving | None = None,
    on_bound: Callable[[float], None] | None = None,
) -> Iterator[list[float]]:
    """Interrupt the HiGHS behind ``opt`` (appsi's, or a ``highspy.Highs`` itself) once
    ``limit`` + grace seconds have passed, or at once on Ctrl-C (``_sigint_noted``).

    Subscribes one check to HiGHS's simplex, IPM and MIP interrupt callbacks (highspy's event
    API); the yielded list gets the seconds into the solve at which it fired, if it did. Until it
    fires, the check clears the interrupt flag: HiGHS keeps it set across runs of one ``Highs``,
    so a stage-1 stop used to interrupt stage 2 at its first check. ``on_improving`` hears each
    improving MIP solution (column values, objective, dual bound) as HiGHS finds it, ``on_bound``
    the MIP's dual bound at each of HiGHS's interrupt checks (it has one before any solution)."""
    highs = getattr(opt, "_solver_model", opt)
    fired: list[float] = []
    if highs is None or not hasattr(highs, "cbMipInterrupt"):
        yield fired
        return
    started = time.perf_counter()
    deadline = started + limit + WATCHDOG_GRACE_S

    with _sigint_noted() as sigint:

        def check(event: Any) -> None:
            now = time.perf_counter()
            if sigint:
                event.interrupt()
            elif now > deadline:
                if not fired:
                    fired.append(now - started)
                event.interrupt()
            else:  # HiGHS keeps an interrupt set across runs (HiGHS issue 1761): clear it
                event.interrupt(False)

        def improving(event: Any) -> None:
            if on_improving is not None:
                out = event.data_out
                on_improving(out.mip_solution, out.objective_function_value, out.mip_dual_bound)

        def bounding(event: Any) -> None:
            if on_bound is not None:
                on_bound(event.data_out.mip_dual_bound)

        events = (highs.cbSimplexInterrupt, highs.cbIpmInterrupt, highs.cbMipInterrupt)
        for event in events:
            event.subscribe(check)
        highs.cbMipImprovingSolution.subscribe(improving)
        highs.cbMipInterrupt.subscribe(bounding)
        try:
            yield fired
        finally:
            for event in events:
                event.unsubscribe(check)
            highs.cbMipImprovingSolution.unsubscribe(improving)
            highs.cbMipInterrupt.unsubscribe(bounding)


def _interrupted(opt: Any, m: pyo.ConcreteModel, termination: str) -> StageOutcome:
    """A stage stopped at its limit that appsi reports as "unknown" (HiGHS's "interrupted" when the
    watchdog fired). appsi will not hand over the incumbent then, so read it from HiGHS: its
    solution if valid (objective re-checked), and the MIP dual bound."""
    highs = opt._solver_model
    if not highs.getSolution().value_valid:
        raise SolveFailure(
            Status.TIME_LIMIT,
            "stopped at the time limit before any solution was found",
            termination,
        )
    opt.load_vars()
    info = highs.getInfo()
    actual = _active_value(m)
    if _disagree(actual, info.objective_function_value):
        raise SolveFailure(
            Status.ERROR, "the interrupted solve's incumbent does not evaluate right", termination
        )
    return StageOutcome(Status.TIME_LIMIT, termination, actual, info.mip_dual_bound)


def _appsi_status(termination: str, found: bool) -> Status:
    """Our status for appsi's termination condition; raises unless a solution is there to load."""
    status = APPSI_STATUS.get(termination, Status.ERROR)
    if status == Status.OPTIMAL or (status == Status.TIME_LIMIT and found):
        return status
    if status == Status.INFEASIBLE:
        raise SolveFailure(status, f"the solver reports {termination}", termination)
    if termination == "maxTimeLimit":
        message = "time limit reached before any solution was found"
        raise SolveFailure(Status.TIME_LIMIT, message, termination)
    raise SolveFailure(Status.ERROR, f"solver ended with {termination}", termination)


def _stage_appsi(
    opt: Any,
    m: pyo.ConcreteModel,
    limit: float,
    on_improving: Improving | None = None,
    on_bound: Callable[[float], None] | None = None,
) -> StageOutcome:
    limit = max(limit, 0.01)
    started = time.perf_counter()
    deadline = started + limit
    opt.config.time_limit = limit
    with _watchdog(opt, limit, on_improving, on_bound) as fired:
        results = opt.solve(m)
    elapsed = time.perf_counter() - started
    termination = results.termination_condition.name
    if fired and termination != "optimal":
        log.warning(
            "HiGHS ran past its %.2f s limit; the watchdog stopped it at %.2f s", limit, fired[0]
        )
        return _interrupted(opt, m, termination)
    if termination == "unknown" and elapsed >= limit:
        # Seen under load at the limit: HiGHS stopped with a status appsi does not map; it is a
        # time limit, and HiGHS may hold an incumbent appsi will not hand over.
        log.warning("HiGHS ended at its %.2f s limit with status unknown", limit)
        return _interrupted(opt, m, termination)
    status = _appsi_status(termination, results.best_feasible_objective is not None)
    results.solution_loader.load_vars()
    reported = results.best_feasible_objective
    actual = _active_value(m)
    if _disagree(actual, reported):
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
            # A fresh HiGHS for this stage only: the old one keeps the start it was given.
            cold = _highs(False, opt.config.mip_gap, opt.highs_options)
            cold.set_instance(m)
            return _stage_appsi(cold, m, deadline - time.perf_counter())
        raise SolveFailure(
            Status.ERROR,
            f"solver reported objective {reported:g}, but its solution evaluates to {actual:g}",
            termination,
        )
    return StageOutcome(status, termination, actual, results.best_objective_bound)
