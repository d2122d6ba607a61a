"""The solver process: a child of the ``forkserver`` that builds and solves epochs, one request at a
time, and stays for the next one (``isolate`` is its parent's side).

Starting a child per epoch cost about as much as a small epoch's solve (a whole geo6 run with
exact epochs spent half its time there: the fork, the child's first HiGHS run starting its
threads, the first use of appsi's caches). So the parent keeps one idle child per process and
hands it the next epoch; it ends that child only when a solve runs out of time, fails by dying,
or is interrupted — the cases where what the child is doing cannot be trusted or waited for —
and starts a fresh one next time. The child

- ignores SIGINT and leads its own process group, so a terminal's Ctrl-C reaches only the parent
  and one ``killpg`` ends the child with anything it started;
- per request sends its build time, stage 1's answer as soon as it has one, stage 2's improving
  solutions, then the final ``SolveResult``, and its ``bace_opt`` log records, over one pipe;
- exits when its parent does (or closes the pipe), and during a solve dies by SIGALRM
  ``ORPHAN_S`` after that solve's deadline whatever happens.
"""

from __future__ import annotations

import atexit
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

from bace_opt.core.placement import Placement
from bace_opt.milp.build import build_model
from bace_opt.milp.data import EpochData
from bace_opt.milp.lexicographic import Incumbent, solve_lexicographic
from bace_opt.milp.result import CostBound, SolveOptions
from bace_opt.milp.shortcut import shortcut

ORPHAN_S = 30.0
"""A child still solving this long after its deadline has lost its parent: SIGALRM ends it."""
JOIN_S = 2.0
"""How long the parent waits for a killed child to be reaped."""
CHILD_NAME = "bace-opt-milp"
"""The solver process's name (``preload`` knows it by this)."""


@dataclass(frozen=True)
class Request:
    """One epoch to solve, and when its answer is due (``time.monotonic()``, one clock for both
    processes on the same machine)."""

    data: EpochData
    options: SolveOptions
    start: dict[str, Placement] | None
    write_lp: Path | None
    deadline: float
    cost_bound: CostBound | None = None


@functools.cache
def context() -> ForkServerContext:
    """The forkserver, told to import ``preload`` before it forks anything (set on first use:
    importing the package starts nothing)."""
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(["bace_opt.milp.preload"])
    return forkserver


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


def _serve(conn: Connection) -> None:
    """The child's life: set itself apart from the terminal and the parent's group, then solve
    each request until the parent closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):  # without a group of its own, the parent kills it alone
        os.setpgid(0, 0)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    _exit_with_parent()
    package = logging.getLogger("bace_opt")  # all of it to the parent, whose loggers choose
    package.handlers, package.propagate = [_ToParent(conn)], False
    if package.level != logging.DEBUG:  # ``preload`` set it once for all children
        package.setLevel(logging.DEBUG)
    while True:
        try:
            request: Request = conn.recv()
        except (EOFError, OSError):
            return
        orphan_in = request.deadline + ORPHAN_S - time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, min(max(orphan_in, 0.1), 1e8))
        try:
            _solve(conn, request)
        except OSError:  # the parent no longer listens
            return
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)


def _solve(conn: Connection, request: Request) -> None:
    try:
        tic = time.perf_counter()
        tried = shortcut(
            request.data,
            request.start,
            request.options,
            request.write_lp,
            request.deadline,
            request.cost_bound,
        )
        if tried.answer is not None:
            conn.send(("done", tried.answer))
            return
        if tried.stage_one is not None:  # what the parent answers with if time runs out now
            conn.send(("stage1", tried.stage_one))
        if tried.lp_bound is not None:
            conn.send(("incumbent", Incumbent(None, math.nan, tried.lp_bound)))
        model = build_model(request.data)
        build_s = time.perf_counter() - tic
        conn.send(("built", build_s))
        result = solve_lexicographic(
            model,
            request.data,
            request.options,
            request.start,
            request.write_lp,
            request.deadline,
            lambda one: conn.send(("stage1", one)),
            lambda found: conn.send(("incumbent", found)),
            tried.matrix,
            request.cost_bound,
        )
        conn.send(("done", replace(result, build_s=build_s)))
    except OSError:
        raise
    except Exception as exc:  # reported, not lost: the parent turns it into a status
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))


# ---- the parent's handle ------------------------------------------------------------------------


class SolverProcess:
    """The parent's end of one solver process."""

    def __init__(self) -> None:
        self.conn, theirs = context().Pipe(duplex=True)
        self.process: ForkServerProcess = context().Process(
            target=_serve, args=(theirs,), name=CHILD_NAME, daemon=True
        )
        try:
            self.process.start()
        finally:
            theirs.close()

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self, wait_for_it: bool) -> None:
        """Kill the child's process group (the child and anything it started); wait until it is
        reaped if asked."""
        self.conn.close()
        if self.process.pid is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            self.process.kill()  # no group of its own (yet): the child alone
        if wait_for_it:
            self.process.join(JOIN_S)


class _Kept:
    """At most one idle solver process per parent process (a fork of the parent starts its own:
    the pid is part of the key), lent to one solve at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[int, SolverProcess] = {}

    def take(self) -> SolverProcess:
        """The idle process if there is one still alive, else a new one (which may raise)."""
        with self._lock:
            kept = self._idle.pop(os.getpid(), None)
        if kept is not None and kept.alive:
            return kept
        if kept is not None:
            kept.stop(wait_for_it=False)
        return SolverProcess()

    def give_back(self, worker: SolverProcess) -> None:
        """Keep ``worker`` for the next solve, or end it if one is kept already."""
        with self._lock:
            other = self._idle.setdefault(os.getpid(), worker)
        if other is not worker:
            worker.stop(wait_for_it=False)

    def end(self) -> None:
        with self._lock:
            idle = self._idle.pop(os.getpid(), None)
        if idle is not None:
            idle.stop(wait_for_it=True)


KEPT = _Kept()
atexit.register(KEPT.end)
