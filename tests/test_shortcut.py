"""The shortcut (``milp.shortcut``): an epoch whose start meets the capacity bound and the cost
LP bound is answered from the arrays, with no Pyomo model — the same answer the model path gives,
never a start the model's rows reject, and only where a HiGHS backend would have answered."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import given

import bace_opt.milp as milp
from bace_opt.checker import check_plan
from bace_opt.core.placement import Placement
from bace_opt.core.world import Snapshot
from bace_opt.io.read import load_snapshot
from bace_opt.milp import SolveOptions, Status, relaxation, solve_epoch
from bace_opt.milp.cost_stage import LP_BOUND
from bace_opt.milp.data import epoch_data
from bace_opt.milp.matrix import epoch_matrix
from bace_opt.milp.shortcut import Tried, _within_rows, proven_start, shortcut
from bace_opt.milp.warmstart import plan_values
from bace_opt.policies.bace import BacePipe, Prioritizer
from bace_opt.policies.mip_start import mip_start
from tests.conftest import ROOT
from tests.test_milp import SETTINGS, TooLarge, exhaustive, partly_busy
from tests.worlds import build, world_docs

SNAPSHOTS = ROOT / "benchmarks" / "snapshots"
IN_PROCESS = SolveOptions(time_limit_s=30.0, isolated=False)


def _epoch(name: str) -> tuple[Snapshot, dict[str, float], dict[str, Placement]]:
    snapshot = load_snapshot(SNAPSHOTS / f"{name}.yaml", ROOT)
    weights = Prioritizer().weights_of(snapshot)
    greedy = {p.job: p for p in BacePipe.cheapest_path().decide(snapshot)}
    return snapshot, weights, mip_start(snapshot, weights, greedy)


@pytest.mark.parametrize("name", ["geo6-1", "geo10-200-half-seed1"])
def test_the_shortcut_answers_as_the_model_path(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """On epochs the model path proves with ``lp_bound``, the shortcut gives the same plan,
    status, termination and bounds (the sums may differ in their last bits: another order)."""
    snapshot, weights, start = _epoch(name)
    deadline = time.monotonic() + 30.0
    fast = shortcut(epoch_data(snapshot, weights), start, IN_PROCESS, None, deadline).answer
    assert fast is not None, "the start is proven from the arrays"
    monkeypatch.setattr(milp, "shortcut", lambda *_: Tried())
    slow = solve_epoch(snapshot, weights, IN_PROCESS, start)
    assert (slow.status, slow.termination) == (fast.status, fast.termination)
    assert fast.status == Status.OPTIMAL and fast.termination == LP_BOUND
    assert fast.plan == slow.plan
    for field in ("model_objective", "bound", "weight", "weight_bound", "objective_usd"):
        assert getattr(fast, field) == pytest.approx(getattr(slow, field), rel=1e-12), field
    assert fast.gap == pytest.approx(0.0, abs=1e-9)
    check = check_plan(snapshot, fast.plan.values(), weights)
    assert check.feasible and fast.model_objective == pytest.approx(
        check.cost_usd * fast.objective_scale, rel=1e-9
    )


def test_a_start_over_a_regions_capacity_is_not_proven() -> None:
    """The start's values are checked against every row: with one GPU fewer free in a region
    the start fills, it fits the model's index sets but not its capacity row."""
    snapshot, weights, start = _epoch("geo6-1")
    used: dict[str, int] = {}
    for placement in start.values():
        job = next(j for j in snapshot.waiting if j.name == placement.job)
        for block in placement.blocks:
            used[block.region] = used.get(block.region, 0) + block.stages * job.gpus_per_stage
    region = max(used, key=lambda r: (used[r], r))
    tight = replace(
        snapshot, free_gpus=MappingProxyType({**snapshot.free_gpus, region: used[region] - 1})
    )
    data = epoch_data(tight, weights)
    matrix = epoch_matrix(data)
    values = plan_values(data, start, matrix.scale)
    assert values is not None, "the index sets still hold the start"
    column = {key: k for k, key in enumerate(matrix.columns)}
    v = np.zeros(len(matrix.columns))
    for key, value in values.items():
        v[column[key]] = value
    assert not _within_rows(matrix, v)
    tried = proven_start(data, matrix, start, IN_PROCESS, time.monotonic() + 30.0)
    assert tried == Tried(matrix=matrix), "not proven, and no stage 1 either"


@pytest.mark.parametrize(
    "options, write_lp",
    [
        (replace(IN_PROCESS, solver="scip"), None),
        (replace(IN_PROCESS, warm_start=False), None),
        (IN_PROCESS, Path("cost.lp")),
    ],
    ids=["scip", "no-warm-start", "lp-file"],
)
def test_the_shortcut_stays_off_where_the_model_is_needed(
    options: SolveOptions, write_lp: Path | None
) -> None:
    """Another backend must answer itself (a missing one is an error at the hand-over); an LP
    file needs the model; without the warm start there is nothing to prove."""
    snapshot, weights, start = _epoch("geo6-1")
    data = epoch_data(snapshot, weights)
    assert shortcut(data, start, options, write_lp, time.monotonic() + 30.0) == Tried()
    assert shortcut(data, None, IN_PROCESS, None, time.monotonic() + 30.0) == Tried()


@SETTINGS
@given(doc=world_docs(max_jobs=3, sizes=(8, 16), min_regions_per_job=2))
def test_what_the_shortcut_proves_is_exhaustive_searchs_optimum(doc: dict) -> None:
    """On small random epochs, with ``mip_start``'s start (it proves about half of them):
    whenever the shortcut answers, its weight and cost are exhaustive search's."""
    snapshot = partly_busy(build(doc), len(str(doc)))
    weights = Prioritizer().weights_of(snapshot)
    greedy = {p.job: p for p in BacePipe.cheapest_path().decide(snapshot)}
    start = mip_start(snapshot, weights, greedy)
    data = epoch_data(snapshot, weights)
    if not any(j.blocks for j in data.jobs):
        return
    proven = shortcut(data, start, IN_PROCESS, None, time.monotonic() + 30.0).answer
    if proven is None:
        return
    try:
        weight, cost = exhaustive(snapshot, weights)
    except TooLarge:
        return
    check = check_plan(snapshot, proven.plan.values(), weights)
    assert check.feasible and check.weight == pytest.approx(weight, rel=1e-9, abs=1e-12)
    unit = 1.0 / proven.objective_scale
    assert check.cost_usd == pytest.approx(cost, rel=1e-6, abs=1e-5 * unit)


def test_the_lp_bound_is_solved_once_for_the_same_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model path asks for the LP the shortcut solved (same arrays, floor and bounds): the
    optimum kept is returned, with no second solve — and a call with no time left still gets it."""
    snapshot, weights, start = _epoch("geo6-1")
    matrix = epoch_matrix(epoch_data(snapshot, weights))
    bounds = {name: (0.0, 1.0) for name in start}
    solves: list[float | None] = []
    solve = relaxation._solve

    def counted(*args: object) -> float | None:
        solves.append(solve(*args))  # type: ignore[arg-type]
        return solves[-1]

    monkeypatch.setattr(relaxation, "_solve", counted)
    first = relaxation.cost_lp_bound(matrix, 0.1, bounds, 10.0)
    assert first is not None and len(solves) == 1
    assert relaxation.cost_lp_bound(matrix, 0.1, bounds, 0.0) == first and len(solves) == 1
    relaxation.cost_lp_bound(matrix, 0.2, bounds, 10.0)
    assert len(solves) == 2, "another floor is another LP"


def test_a_big_epoch_stopped_early_keeps_the_lp_bound() -> None:
    """200x16x10-seed0 from ``mip_start``'s start (it admits K*), 6 s: the shortcut proves stage
    1 and solves the cost LP before the model is built, and tells the parent both; whether the
    solve is stopped during the build or reaches stage 2, the answer's gap is under 1 %."""
    snapshot = load_snapshot(SNAPSHOTS / "200x16x10-seed0.yaml", ROOT)
    weights = Prioritizer().weights_of(snapshot)
    greedy = {p.job: p for p in BacePipe.cheapest_path().decide(snapshot)}
    start = mip_start(snapshot, weights, greedy, 2.0)
    limit = 6.0
    tic = time.monotonic()
    result = solve_epoch(snapshot, weights, SolveOptions(time_limit_s=limit, threads=2), start)
    assert time.monotonic() - tic < limit + 2.0
    assert result.status == Status.TIME_LIMIT and result.usable, result.message
    assert result.weight == pytest.approx(result.weight_bound, rel=1e-9), "stage 1 proven"
    assert result.gap is not None and result.gap < 0.01, (result.gap, result.message)
    check = check_plan(snapshot, result.plan.values(), weights)
    assert check.feasible and check.cost_usd == pytest.approx(result.objective_usd, rel=1e-9)
