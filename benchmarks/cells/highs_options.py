"""Cells of ``highs-options``: the epoch MILP under other HiGHS settings, measured, not guessed.

Why: the issue asks which of HiGHS's knobs (presolve, symmetry detection, heuristic effort,
threads) help the big epochs. Each cell solves one snapshot file as ``milp-scale`` does (greedy
start, ``solve_from_start``) with one named setting laid over ``solver.HIGHS_SETTINGS``, which
both HiGHS backends read when they open a model. The solve runs in this process
(``isolated=False``): the solver's child process is forked from a server that imported
``bace_opt`` before any setting could be changed, so it would not see one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bace_opt.app.epoch import DEFAULT_GREEDY
from bace_opt.checker import check_plan
from bace_opt.io.read import load_snapshot
from bace_opt.milp import SolveOptions, Status, solver
from bace_opt.policies import make_policy
from bace_opt.policies.bace import Prioritizer
from bace_opt.policies.mip_start import solve_from_start

SETTINGS: dict[str, tuple[dict[str, Any], int]] = {
    "default": ({}, 2),
    "presolve-off": ({"presolve": "off"}, 2),
    "heuristics-0.3": ({"mip_heuristic_effort": 0.3}, 2),
    "no-symmetry": ({"mip_detect_symmetry": False}, 2),
    "threads-1": ({}, 1),
}
"""Name → (HiGHS options over the shipped ones, threads). HiGHS's defaults: presolve "choose",
``mip_heuristic_effort`` 0.05, ``mip_detect_symmetry`` true."""


def with_setting(path: str, setting: str, time_limit_s: float, backend: str) -> dict[str, Any]:
    """The snapshot file ``path`` solved under ``SETTINGS[setting]``; one row."""
    overrides, threads = SETTINGS[setting]
    solver.HIGHS_SETTINGS.update(overrides)
    snapshot = load_snapshot(path)
    weights = Prioritizer().weights_of(snapshot)
    greedy_plan = {p.job: p for p in make_policy(DEFAULT_GREEDY).decide(snapshot)}
    options = SolveOptions(
        solver=backend, time_limit_s=time_limit_s, threads=threads, isolated=False
    )
    tic = time.perf_counter()
    result = solve_from_start(snapshot, weights, greedy_plan, options)
    wall_s = time.perf_counter() - tic
    exact = check_plan(snapshot, result.plan.values(), weights) if result.usable else None
    return {
        "snapshot": Path(path).stem,
        "setting": setting,
        "backend": backend,
        "time_limit_s": time_limit_s,
        "status": str(result.status),
        "termination": result.termination,
        "proven": result.status == Status.OPTIMAL,
        "wall_s": wall_s,
        "weight": None if exact is None else exact.weight,
        "weight_bound": result.weight_bound,
        "cost_usd": None if exact is None else exact.cost_usd,
        "cost_bound_usd": result.cost_bound_usd,
        "cost_gap": result.gap,
    }
