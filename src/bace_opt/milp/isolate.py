"""The epoch MILP in a child process that the caller can always stop: the time limit is the user's
wall clock, and Ctrl-C ends a solve at once.

In-process, neither holds: building a large model and handing it to HiGHS (appsi's
``set_instance``) take seconds before any solver limit applies, HiGHS checks its limit (and our
watchdog) only where it calls back, and a Ctrl-C that reaches Python inside a callback becomes
HiGHS's status "error". So ``solve_epoch`` builds the model and runs both stages in a solver
process (``worker``: forked by a ``forkserver`` that has imported Pyomo and HiGHS once, so no
process whose HiGHS threads run is ever forked, and kept between solves).

The parent waits until the deadline plus ``KILL_GRACE_S``, then kills the child and reports an
honest ``TIME_LIMIT`` from what it heard: stage 2's newest incumbent, else stage 1's admission,
else the caller's MIP start, each re-measured by the checker — or no plan, and the caller falls
back. On ``KeyboardInterrupt`` it kills the child and lets the interrupt go on. A child that
answered (or reported a failure of its own) is kept for the next solve.
"""

from __future__ import annotations

import functools
import logging
import math
import multiprocessing
import time
from dataclasses import dataclass, replace
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from bace_opt.checker import check_plan
from bace_opt.core.placement import Placement
from bace_opt.core.world import Snapshot
from bace_opt.milp.data import EpochData, cost_scale, trivial_bounds
from bace_opt.milp.lexicographic import Incumbent, StageOne
from bace_opt.milp.result import CostBound, SolveOptions, SolveResult, Status
from bace_opt.milp.worker import CHILD_NAME, KEPT, Request, SolverProcess

__all__ = ["CHILD_NAME", "isolation_available", "solve_isolated"]

log = logging.getLogger(__name__)

KILL_GRACE_S = 1.0
"""How long past the deadline the parent waits for the child's own answer before killing it
(HiGHS's limit and our watchdog usually stop it within this)."""
LONGEST_WAIT_S = 3600.0
"""The longest single wait of the parent (any limit is fine; a poll timeout has a maximum)."""


def isolation_available() -> bool:
    """A solver process can be started here: a ``forkserver`` exists (POSIX) and this process
    may have children (a daemonic one, e.g. a multiprocessing pool's worker, may not)."""
    forkserver = "forkserver" in multiprocessing.get_all_start_methods()
    if forkserver and not multiprocessing.current_process().daemon:
        return True
    _in_process_once()
    return False


@functools.cache
def _in_process_once() -> None:
    log.warning(
        "no solver process can be started here (a daemonic process, or no forkserver); "
        "solving in this process, where time limits and Ctrl-C are HiGHS's to keep"
    )


@dataclass
class _Heard:
    """What the parent heard from the child before it answered, died, or ran out of time."""

    build_s: float | None = None
    stage1: StageOne | None = None
    incumbent: Incumbent | None = None
    """Stage 2's newest improving solution (streamed; unchecked until ``_incumbent``)."""
    stage2_bound: float = -math.inf
    """Stage 2's best dual bound heard (model units)."""
    result: SolveResult | None = None
    failure: str | None = None
    timed_out: bool = False

    def take(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "log":
            _, name, level, text = message
            logger = logging.getLogger(name)
            if logger.isEnabledFor(level):
                record = logging.makeLogRecord({"name": name, "levelno": level, "msg": text})
                record.levelname = logging.getLevelName(level)
                logger.handle(record)
        elif kind == "built":
            self.build_s = message[1]
        elif kind == "stage1":
            self.stage1 = message[1]
        elif kind == "incumbent":
            found: Incumbent = message[1]
            self.stage2_bound = max(self.stage2_bound, found.bound)
            if found.plan is not None:
                self.incumbent = found
        elif kind == "done":
            self.result = message[1]
        elif kind == "failed":
            self.failure = message[1]


def _listen(worker: SolverProcess, until: float, heard: _Heard) -> None:
    """Take the child's messages until its answer, its end, or ``until`` (``time.monotonic()``)."""
    reader, child = worker.conn, worker.process
    while heard.result is None and heard.failure is None:
        left = until - time.monotonic()
        if left <= 0:
            heard.timed_out = True
            return
        ready = wait([reader, child.sentinel], timeout=min(left, LONGEST_WAIT_S))
        if not ready:
            continue
        if reader not in ready:
            return  # the child ended, and everything it sent has been read
        try:
            heard.take(reader.recv())
        except (EOFError, OSError):
            return


def solve_isolated(
    snapshot: Snapshot,
    weights: dict[str, float],
    data: EpochData,
    options: SolveOptions,
    start: dict[str, Placement] | None,
    write_lp: Path | None,
    started: float,
    cost_bound: CostBound | None = None,
) -> SolveResult:
    """Build and solve ``data`` in a solver process; answer by ``started`` (``time.monotonic()``)
    + the time limit + ``KILL_GRACE_S`` whatever the child does."""
    called = time.monotonic()
    deadline = started + options.time_limit_s
    heard = _Heard()
    worker: SolverProcess | None = None
    try:
        try:
            worker = KEPT.take()
            worker.conn.send(Request(data, options, start, write_lp, deadline, cost_bound))
        except Exception as exc:  # e.g. no forkserver could be started: a status, not a crash
            heard.failure = f"it could not be started ({type(exc).__name__}: {exc})"
        else:
            _listen(worker, deadline + KILL_GRACE_S, heard)
    finally:
        if worker is not None:
            if heard.result is not None or (heard.failure is not None and worker.alive):
                KEPT.give_back(worker)  # it answered: it is ready for the next epoch
            else:
                worker.stop(wait_for_it=True)
    if heard.result is not None:
        return heard.result
    build_s = heard.build_s or 0.0
    stopped = SolveResult(
        status=Status.TIME_LIMIT,
        objective_scale=cost_scale(data),
        build_s=build_s,
        solve_s=time.monotonic() - called - build_s,
    )
    if not heard.timed_out:
        code = None if worker is None else worker.process.exitcode
        why = heard.failure or f"it ended with exit code {code} and no answer"
        return replace(stopped, status=Status.ERROR, message=f"the solver process failed: {why}")
    return _incumbent(stopped, snapshot, weights, options, start, heard, trivial_bounds(data))


def _incumbent(
    stopped: SolveResult,
    snapshot: Snapshot,
    weights: dict[str, float],
    options: SolveOptions,
    start: dict[str, Placement] | None,
    heard: _Heard,
    trivial: tuple[float, float] | None = None,
) -> SolveResult:
    """The honest answer of a solve ``stopped`` at its time limit: the best plan known then, its
    cost and weight re-measured by the checker, never called optimal; bounds the solver did not
    get to are ``trivial`` ones (``data.trivial_bounds``), when given."""
    where = (
        "while building the model"
        if heard.build_s is None
        else "in stage 1 (the hand-over to the solver included)"
        if heard.stage1 is None
        else "in stage 2"
    )
    said = f"stopped at the {options.time_limit_s:g} s time limit {where}"
    one = heard.stage1
    if one is not None:
        plan, termination = one.plan, one.termination
        said += "; the plan is stage 1's admission, its cost not minimized"
    elif start is not None and options.warm_start:
        plan, termination = start, ""
        said += "; the plan is the MIP start"
    else:
        return replace(stopped, message=f"{said}, before any solution was found")
    check = check_plan(snapshot, plan.values(), weights)
    if not check.feasible:
        return replace(stopped, message=f"{said}, which fails the exact check: {check.problems[0]}")
    weight_floor, cost_floor = (None, None) if trivial is None else trivial
    cost, bound = check.cost_usd, cost_floor
    if one is not None:  # stage 2 ran: its newest checked incumbent and its dual bound count
        streamed = _streamed(snapshot, weights, heard.incumbent, cost)
        if streamed is not None and heard.incumbent is not None and heard.incumbent.plan:
            plan, cost = heard.incumbent.plan, streamed
            said = said.replace(
                "stage 1's admission, its cost not minimized",
                "stage 2's newest incumbent, not proven optimal",
            )
        newest = -math.inf if heard.incumbent is None else heard.incumbent.bound
        scaled = max(heard.stage2_bound, newest)
        if math.isfinite(scaled) and scaled <= cost * stopped.objective_scale * (1 + 1e-9):
            bound = scaled if bound is None else max(scaled, bound)
    return replace(
        stopped,
        termination=termination,
        plan=dict(plan),
        objective_usd=cost,
        model_objective=cost * stopped.objective_scale,
        weight=check.weight if one is None else one.weight,
        weight_bound=weight_floor if one is None else one.weight_bound,
        bound=bound,
        message=said,
    )


def _streamed(
    snapshot: Snapshot, weights: dict[str, float], found: Incumbent | None, than: float
) -> float | None:
    """The checked cost of stage 2's streamed incumbent when it passes the exact check and costs
    less than ``than`` (stage 1's plan): the child's word is not trusted, the checker measures."""
    if found is None or found.plan is None:
        return None
    check = check_plan(snapshot, found.plan.values(), weights)
    if not check.feasible:
        log.warning("the streamed incumbent fails the exact check: %s", check.problems[0])
        return None
    return check.cost_usd if check.cost_usd < than else None
