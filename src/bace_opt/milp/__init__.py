"""The exact epoch MILP: data (no Pyomo) → build (one ``add_*`` per family) → solve (the only
solver contact) → extract. ``solve_epoch`` runs the four and returns our own result type."""

from __future__ import annotations

import time
from pathlib import Path

from bace_opt.core.placement import Placement
from bace_opt.core.world import Snapshot
from bace_opt.milp.build import build_model
from bace_opt.milp.data import epoch_data
from bace_opt.milp.solve import SolveOptions, SolveResult, Status, solve_lexicographic

__all__ = ["SolveOptions", "SolveResult", "Status", "solve_epoch"]


def solve_epoch(
    snapshot: Snapshot,
    weights: dict[str, float],
    options: SolveOptions | None = None,
    start: dict[str, Placement] | None = None,
    write_lp: Path | None = None,
) -> tuple[SolveResult, float]:
    """The lexicographically best decision for ``snapshot``; also returns the build time (s)."""
    options = options or SolveOptions()
    tic = time.perf_counter()
    data = epoch_data(snapshot, weights)
    if not any(j.blocks for j in data.jobs):
        return SolveResult(
            Status.OPTIMAL, {}, 0.0, 0.0, 0.0, 0.0, 0.0, "no waiting job fits the free resources"
        ), time.perf_counter() - tic
    model = build_model(data)
    build_s = time.perf_counter() - tic
    return solve_lexicographic(model, data, options, start, write_lp), build_s
