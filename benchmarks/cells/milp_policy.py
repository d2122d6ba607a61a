"""Cells of ``milp-policy``: the ``milp`` policy over a whole run, per backend and with or without
the solver's child process — where the time of a run with exact epochs goes.

The policy is built as the registry builds ``milp`` (greedy ``bace-cheapest-path`` start, the
BACE-Pipe prioritizer), with ``SolveOptions(solver=backend, isolated=isolated)``. ``isolated``
False solves in this process: faster, but the time limit is then HiGHS's own (no wall-clock kill)
and Ctrl-C waits for HiGHS; the CLI always isolates. The sum of end times tells equal schedules.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bace_opt.io.read import load_instance
from bace_opt.milp import SolveOptions
from bace_opt.policies.bace import BacePipe, Prioritizer
from bace_opt.policies.milp_policy import MilpPolicy
from bace_opt.sim import simulate
from cells import peak_rss_mib
from worlds import ROOT


def whole_run(instance: str, backend: str, isolated: bool, time_limit_s: float) -> dict[str, Any]:
    """One simulation of ``instance`` (a path under the repository) with the ``milp`` policy."""
    world = load_instance(ROOT / instance)
    policy = MilpPolicy(
        options=SolveOptions(solver=backend, time_limit_s=time_limit_s, isolated=isolated),
        greedy=BacePipe.cheapest_path(),
        prioritizer=Prioritizer(),
    )
    tic = time.perf_counter()
    run = simulate(world, policy)
    wall_s = time.perf_counter() - tic
    solves = policy.stats["milp_solves"]
    return {
        "instance": Path(instance).stem,
        "backend": backend,
        "isolated": isolated,
        "wall_s": wall_s,
        "per_solve_ms": 1000 * wall_s / max(solves, 1),
        "solves": solves,
        "optimal": policy.stats["milp_optimal"],
        "fallbacks": policy.stats["milp_fallbacks"],
        "end_sum_s": sum(r.end_s or 0.0 for r in run.records),
        "peak_rss_mib": peak_rss_mib(),
    }
