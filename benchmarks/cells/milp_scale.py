"""Cells of ``milp-scale``: the epoch MILP on one snapshot file at the sizes that matter, through
the path ``bace-opt epoch`` takes.

``scale`` loads the file, takes the priority weights, the greedy plan (``bace-cheapest-path``,
the CLI's default greedy), then the MIP start and the solve as ``app.epoch.solve_snapshot`` does
(``policies.mip_start.solve_from_start``: the start's time inside the limit), and times that
call (``wall_s``: the start, data, build, the solver's child process, both stages; ``start_s``:
the start's share of it).
Weight and cost of both plans are the independent checker's, so the MILP's incumbent and the greedy
plan are measured with one yardstick; ``weight_bound`` and ``cost_bound_usd`` are the solver's dual
bounds. Without a usable MILP answer (``fallback``) the MILP columns stay empty.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bace_opt.app.epoch import DEFAULT_GREEDY
from bace_opt.checker import check_plan
from bace_opt.io.read import load_snapshot
from bace_opt.milp import SolveOptions, Status
from bace_opt.milp.backends import backend_problem
from bace_opt.policies import make_policy
from bace_opt.policies.bace import Prioritizer
from bace_opt.policies.mip_start import solve_from_start
from cells import peak_rss_mib


def scale(
    path: str, time_limit_s: float, mip_gap: float, threads: int, backend: str, isolated: bool
) -> dict[str, Any]:
    """Greedy and the exact MILP on the snapshot file ``path``; one row."""
    problem = backend_problem(backend)
    if problem:
        raise ValueError(f"backend: {problem}")
    snapshot = load_snapshot(path)
    weights = Prioritizer().weights_of(snapshot)
    tic = time.perf_counter()
    greedy_plan = {p.job: p for p in make_policy(DEFAULT_GREEDY).decide(snapshot)}
    greedy_s = time.perf_counter() - tic
    greedy = check_plan(snapshot, greedy_plan.values(), weights)
    options = SolveOptions(
        solver=backend,
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
        threads=threads,
        isolated=isolated,
    )
    tic = time.perf_counter()
    result = solve_from_start(snapshot, weights, greedy_plan, options)
    wall_s = time.perf_counter() - tic
    exact = check_plan(snapshot, result.plan.values(), weights) if result.usable else None
    instance = snapshot.instance
    return {
        "snapshot": Path(path).stem,
        "waiting": len(snapshot.waiting),
        "regions": len(instance.regions),
        "free_gpus": sum(snapshot.free_gpus.values()),
        "gpus": sum(r.gpus for r in instance.regions),
        "running": len(snapshot.running),
        "backend": backend,
        "time_limit_s": time_limit_s,
        "status": str(result.status),
        "termination": result.termination,
        "proven": result.status == Status.OPTIMAL,
        "fallback": not result.usable,
        "wall_s": wall_s,
        "build_s": result.build_s,
        "solve_s": result.solve_s,
        "greedy_s": greedy_s,
        "start_s": result.start_s,
        "weight": None if exact is None else exact.weight,
        "weight_bound": result.weight_bound,
        "cost_usd": None if exact is None else exact.cost_usd,
        "cost_bound_usd": result.cost_bound_usd,
        "cost_gap": result.gap,
        "greedy_weight": greedy.weight,
        "greedy_cost_usd": greedy.cost_usd,
        "admitted": None if exact is None else len(result.plan),
        "greedy_admitted": len(greedy_plan),
        "milp_feasible": None if exact is None else exact.feasible,
        "message": result.message,
        "peak_rss_mib": peak_rss_mib(),
    }
