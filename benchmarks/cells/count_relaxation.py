"""Cells of ``count-relaxation``: the cost stage's stage-count relaxation R solved to the end,
to measure what limits a proof at 100–200 jobs.

Why: ``milp-scale`` leaves 100x16x10 and 200x16x10 0.04–0.3 % from a proof after 60 s, and
HiGHS's tree on the full model moves neither side (docs/benchmarks.md, session 16). R keeps the
packing the LP loses and is ten times smaller than the full model; if even R cannot be solved
within the minute, no search over the full model will prove these epochs there. Each cell
computes the MIP start as a 60 s epoch does (``start_and_bound``, 24 s), then solves R at gap 0
with ``threads`` threads within ``limit_s``, in one of two variants:

- ``R``: the relaxation as the start uses it (latency priced at the job's least rate), cold;
- ``R+``: the exact latency term (``count_bound(exact_latency=True)``), from the MIP start.

R's solution is placed as the start places it (``placed_plan``) and checked. ``proven``: R
stopped optimal and its placed plan, admitting the capacity bound's weight, costs no more than
R's bound (relative 1e-9) — the epoch's optimum, by R's theorem (docs/model.md).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bace_opt.app.epoch import DEFAULT_GREEDY
from bace_opt.checker import check_plan
from bace_opt.io.read import load_snapshot
from bace_opt.milp.capacity import reach_floor, reaches
from bace_opt.milp.count_bound import count_bound
from bace_opt.milp.data import admission_fixing, capacity_bound, cost_scale, epoch_data
from bace_opt.policies import make_policy
from bace_opt.policies.bace import Prioritizer
from bace_opt.policies.mip_start import START_SHARE, placed_plan, start_and_bound

EPOCH_LIMIT_S = 60.0
"""The epoch limit whose start the cell computes (``milp-scale``'s)."""

VARIANTS = ("R", "R+")


def relaxation(path: str, variant: str, limit_s: float, threads: int) -> dict[str, Any]:
    """R (``variant``) on the snapshot file ``path``, at gap 0 within ``limit_s``; one row."""
    if variant not in VARIANTS:
        raise ValueError(f"variant: {variant!r} is not one of {', '.join(VARIANTS)}")
    snapshot = load_snapshot(path)
    weights = Prioritizer().weights_of(snapshot)
    greedy = {p.job: p for p in make_policy(DEFAULT_GREEDY).decide(snapshot)}
    start, _ = start_and_bound(snapshot, weights, greedy, START_SHARE * EPOCH_LIMIT_S)
    started = check_plan(snapshot, start.values(), weights)
    data = epoch_data(snapshot, dict(weights))
    capacity = capacity_bound(data).weight
    floor = reach_floor(capacity)
    scale = cost_scale(data)
    fixed = admission_fixing(data, floor)
    exact = variant == "R+"
    tic = time.perf_counter()
    found = count_bound(
        data, scale, floor, fixed, limit_s, threads, 0.0, start if exact else None, exact
    )
    solve_s = time.perf_counter() - tic
    row: dict[str, Any] = {
        "snapshot": Path(path).stem,
        "variant": variant,
        "limit_s": limit_s,
        "threads": threads,
        "start_cost_usd": started.cost_usd,
        "solve_s": solve_s,
        "optimal": found is not None and found.optimal,
        "bound_usd": None if found is None else found.bound / scale,
        "placed_cost_usd": None,
        "splits": None,
        "proven": False,
    }
    if found is None or not found.stages:
        return row
    whole = {name: next(iter(c)) for name, c in found.stages.items() if len(c) == 1}
    split = {name: c for name, c in found.stages.items() if len(c) > 1}
    placed = check_plan(snapshot, placed_plan(snapshot, whole, split), weights)
    bound = found.bound / scale
    row["placed_cost_usd"] = placed.cost_usd if placed.feasible else None
    row["splits"] = len(split)
    row["proven"] = bool(
        found.optimal
        and placed.feasible
        and reaches(placed.weight, capacity)
        and placed.cost_usd <= bound * (1 + 1e-9)
    )
    return row
