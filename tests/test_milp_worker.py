"""The solver process is kept between solves (``milp.worker``): the next epoch goes to the same
child, a child that ran out of time is ended and replaced, and no child outlives its parent."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from bace_opt.io.read import load_snapshot
from bace_opt.milp import SolveOptions, Status, solve_epoch
from bace_opt.milp.worker import KEPT
from bace_opt.policies.bace import Prioritizer
from tests.conftest import ROOT
from tests.test_milp_limits import SNAPSHOTS, _solver_children, _tiny, _wait_gone


def _kept_pid() -> int | None:
    idle = KEPT._idle.get(os.getpid())
    return None if idle is None else idle.process.pid


def test_the_next_solve_goes_to_the_same_solver_process() -> None:
    snapshot = _tiny()
    weights = Prioritizer().weights_of(snapshot)
    first = solve_epoch(snapshot, weights, SolveOptions(time_limit_s=20))
    pid = _kept_pid()
    second = solve_epoch(snapshot, weights, SolveOptions(time_limit_s=20, threads=2))
    assert first.status == second.status == Status.OPTIMAL
    assert (first.plan, first.objective_usd) == (second.plan, second.objective_usd)
    assert pid is not None and _kept_pid() == pid, "one child for both epochs"
    assert _solver_children() == [pid], "no second child was started"


def test_a_solve_out_of_time_ends_its_process_and_the_next_starts_one() -> None:
    snapshot = _tiny()
    weights = Prioritizer().weights_of(snapshot)
    solve_epoch(snapshot, weights, SolveOptions(time_limit_s=20))
    before = _kept_pid()
    big = load_snapshot(SNAPSHOTS / "200x16x10-seed0.yaml", ROOT)
    stopped = solve_epoch(big, Prioritizer().weights_of(big), SolveOptions(time_limit_s=1.0))
    assert stopped.status == Status.TIME_LIMIT, stopped.message
    assert before is not None and not _wait_gone([before], 2.0), "the child was ended"
    assert _kept_pid() is None
    again = solve_epoch(snapshot, weights, SolveOptions(time_limit_s=20))
    assert again.status == Status.OPTIMAL and _kept_pid() not in (None, before)


SCRIPT = """
import os, sys
from tests.test_milp_limits import _tiny
from bace_opt.milp import SolveOptions, solve_epoch
from bace_opt.milp.worker import KEPT
from bace_opt.policies.bace import Prioritizer
snapshot = _tiny()
solve_epoch(snapshot, Prioritizer().weights_of(snapshot), SolveOptions(time_limit_s=20))
print(KEPT._idle[os.getpid()].process.pid, flush=True)
if sys.argv[1] == "kill":
    os.kill(os.getpid(), 9)
"""


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_the_kept_process_ends_with_its_parent(how: str) -> None:
    """A normal exit ends it (``atexit``); so does SIGKILL of the parent (the child watches its
    parent's sentinel)."""
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, how], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    pid = int(run.stdout.split()[0])
    until = time.monotonic() + 5.0
    while time.monotonic() < until:
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
                if stat.read().split(") ")[-1].startswith("Z"):
                    return
        except FileNotFoundError:
            return
        time.sleep(0.05)
    pytest.fail(f"solver process {pid} outlived its parent ({how})")
