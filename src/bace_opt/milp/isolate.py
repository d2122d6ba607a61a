"""The epoch MILP in a child process that the caller can always stop: the time limit is the user's
wall clock, and Ctrl-C ends a solve at once.

In-process, neither holds: building a large model and handing it to HiGHS (appsi's
``set_instance``) take seconds before any solver limit applies, HiGHS checks its limit (and our
watchdog) only where it calls back, and a Ctrl-C that reaches Python inside a callback becomes
HiGHS's status "error". So ``solve_epoch`` builds the model and runs both stages in a child forked
by a ``forkserver`` that has imported Pyomo and HiGHS once (so no process whose HiGHS threads run
is ever forked, and no solve pays for the imports). The child

- ignores SIGINT and leads its own process group, so a terminal's Ctrl-C reaches only the parent
  and one ``killpg`` ends the child with anything it started;
- sends its build time, stage 1's answer as soon as it has one, then the final ``SolveResult``,
  and its ``bace_opt`` log records, over one pipe;
- exits when its parent does (or stops holding it), and dies by SIGALRM ``ORPHAN_S`` after the
  deadline whatever happens.

The parent waits until the deadline plus ``KILL_GRACE_S``, then kills the child and reports an
honest ``TIME_LIMIT`` from what it heard: stage 1's admission, else the caller's MIP start, each
re-measured by the checker — or no plan, and the caller falls back. On ``KeyboardInterrupt`` it
kills the child and lets the interrupt go on.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, ForkServerProcess
from pathlib import Path
from typing import Any

from bace_opt.checker import check_plan
from bace_opt.core.placement import Placement
from bace_opt.core.world import Snapshot
from bace_opt.milp.build import build_model
from bace_opt.milp.data import EpochData, cost_scale, trivial_bounds
from bace_opt.milp.lexicographic import Incumbent, StageOne, solve_lexicographic
from bace_opt.milp.result import SolveOptions, SolveResult, Status

log = logging.getLogger(__name__)

KILL_GRACE_S = 1.0
"""How long past the deadline the parent waits for the child's own answer before killing it
(HiGHS's limit and our watchdog usually stop it within this)."""
ORPHAN_S = 30.0
"""A child still alive this long after its deadline has lost its parent: SIGALRM ends it."""
JOIN_S = 2.0
"""How long the parent waits for a killed child to be reaped."""
LONGEST_WAIT_S = 3600.0
"""The longest single wait of the parent (any limit is fine; a poll timeout has a maximum)."""
CHILD_NAME = "bace-opt-milp"
"""The solver process's name (``preload`` knows it by this)."""


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


@functools.cache
def _context() -> ForkServerContext:
    """The forkserver, told to import ``preload`` before it forks anything (set on first use:
    importing the package starts nothing)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["bace_opt.milp.preload"])
    return context


# ---- the child ----------------------------------------------------------------------------------


class _ToParent(logging.Handler):
    """Sends each record's name, level and message to the parent, which logs it as its own."""

    def __init__(self, conn: Connection) -> None:
        super().__init__()
        self.conn = conn

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(("log", record.name, record.levelno, text))


def _exit_with_parent() -> None:
    """End this process as soon as the parent's sentinel closes (the parent died, or dropped the
    child in the middle of starting it)."""
    parent = multiprocessing.parent_process()
    sentinel = None if parent is None else parent.sentinel
    if sentinel is None:  # pragma: no cover - a forkserver child always has one
        return

    def watch() -> None:
        wait([sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _child(
    conn: Connection,
    data: EpochData,
    options: SolveOptions,
    start: dict[str, Placement] | None,
    write_lp: Path | None,
    deadline: float,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):  # without a group of its own, the parent kills it alone
        os.setpgid(0, 0)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    orphan_in = deadline + ORPHAN_S - time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, min(max(orphan_in, 0.1), 1e8))
    _exit_with_parent()
    package = logging.getLogger("bace_opt")  # all of it to the parent, whose loggers choose
    package.handlers, package.propagate = [_ToParent(conn)], False
    if package.level != logging.DEBUG:  # ``preload`` set it once for all children
        package.setLevel(logging.DEBUG)
    try:
        tic = time.perf_counter()
        model = build_model(data)
        build_s = time.perf_counter() - tic
        conn.send(("built", build_s))
        result = solve_lexicographic(
            model,
            data,
            options,
            start,
            write_lp,
            deadline,
            lambda one: conn.send(("stage1", one)),
            lambda found: conn.send(("incumbent", found)),
        )
        conn.send(("done", replace(result, build_s=build_s)))
    except OSError:  # the parent no longer listens
        pass
    except Exception as exc:  # reported, not lost: the parent turns it into a status
        with contextlib.suppress(OSError):
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))


# ---- the parent ---------------------------------------------------------------------------------


@dataclass
class _Heard:
    """What the parent heard from the child before it answered, died, or ran out of time."""

    build_s: float | None = None
    stage1: StageOne | None = None
    incumbent: Incumbent | None = None
    """Stage 2's newest improving solution (streamed; unchecked until ``_incumbent``)."""
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
            self.incumbent = message[1]
        elif kind == "done":
            self.result = message[1]
        elif kind == "failed":
            self.failure = message[1]


def _listen(reader: Connection, child: ForkServerProcess, until: float, heard: _Heard) -> None:
    """Take the child's messages until its answer, its end, or ``until`` (``time.monotonic()``)."""
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


def _stop(child: ForkServerProcess, wait_for_it: bool) -> None:
    """Kill the child's process group (the child and anything it started); wait until it is
    reaped if asked (not after an answer: the child was ending anyway, and SIGKILL is final)."""
    if child.pid is None:
        return
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        child.kill()  # no group of its own (yet): the child alone
    if wait_for_it:
        child.join(JOIN_S)


def solve_isolated(
    snapshot: Snapshot,
    weights: dict[str, float],
    data: EpochData,
    options: SolveOptions,
    start: dict[str, Placement] | None,
    write_lp: Path | None,
    started: float,
) -> SolveResult:
    """Build and solve ``data`` in a child process; answer by ``started`` (``time.monotonic()``)
    + the time limit + ``KILL_GRACE_S`` whatever the child does."""
    deadline = started + options.time_limit_s
    context = _context()
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(
        target=_child,
        args=(writer, data, options, start, write_lp, deadline),
        name=CHILD_NAME,
        daemon=True,
    )
    heard = _Heard()
    try:
        try:
            child.start()
        except Exception as exc:  # e.g. no forkserver could be started: a status, not a crash
            heard.failure = f"it could not be started ({type(exc).__name__}: {exc})"
        else:
            writer.close()
            _listen(reader, child, deadline + KILL_GRACE_S, heard)
    finally:
        writer.close()
        _stop(child, wait_for_it=heard.result is None)
        reader.close()
    if heard.result is not None:
        return heard.result
    build_s = heard.build_s or 0.0
    stopped = SolveResult(
        status=Status.TIME_LIMIT,
        objective_scale=cost_scale(data),
        build_s=build_s,
        solve_s=time.monotonic() - started - build_s,
    )
    if not heard.timed_out:
        why = heard.failure or f"it ended with exit code {child.exitcode} and no answer"
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
    streamed = None if one is None else _streamed(snapshot, weights, heard.incumbent, cost)
    if streamed is not None:  # stage 2's newest incumbent, checked, is the better answer
        plan, cost = heard.incumbent.plan, streamed  # type: ignore[union-attr]
        said = said.replace("stage 1's admission, its cost not", "stage 2's incumbent, not proven")
        scaled = heard.incumbent.bound  # type: ignore[union-attr]
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
    if found is None:
        return None
    check = check_plan(snapshot, found.plan.values(), weights)
    if not check.feasible:
        log.warning("the streamed incumbent fails the exact check: %s", check.problems[0])
        return None
    return check.cost_usd if check.cost_usd < than else None
