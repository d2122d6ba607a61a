"""Stage 2's improving solutions reach the parent (``isolate``): a solve killed at its deadline
answers with the newest one the checker accepts, its bound and gap, and never calls it optimal."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from bace_opt.checker import check_plan
from bace_opt.core.placement import Block, Placement
from bace_opt.io.read import load_snapshot
from bace_opt.milp import SolveOptions, Status, lexicographic
from bace_opt.milp.build import build_model
from bace_opt.milp.data import epoch_data, trivial_bounds
from bace_opt.milp.isolate import _Heard, _incumbent
from bace_opt.milp.lexicographic import Incumbent, StageOne, solve_lexicographic
from bace_opt.milp.result import DIRECT_BACKEND, SolveResult
from bace_opt.policies.bace import Prioritizer
from tests.conftest import ROOT

SNAPSHOT = ROOT / "benchmarks" / "snapshots" / "30x8x6-seed0.yaml"


@pytest.fixture(scope="module", params=["appsi_highs", DIRECT_BACKEND])
def streamed(request: pytest.FixtureRequest) -> tuple[object, ...]:
    """A real in-process solve with stage 1 and stage 2's streamed incumbents recorded."""
    snapshot = load_snapshot(SNAPSHOT)
    weights = Prioritizer().weights_of(snapshot)
    data = epoch_data(snapshot, weights)
    options = SolveOptions(time_limit_s=20.0, isolated=False, solver=request.param)
    ones: list[StageOne] = []
    found: list[Incumbent] = []
    with pytest.MonkeyPatch.context() as patch:
        # Every improvement streamed: with the admission fixed the cost stage may find all of
        # them within one throttle interval, and the kill path would then have none to test.
        patch.setattr(lexicographic, "STREAM_EVERY_S", 0.0)
        result = solve_lexicographic(
            build_model(data), data, options, None, None, None, ones.append, found.append
        )
    return snapshot, weights, data, options, ones[0], found, result


def test_stage_two_streams_checked_incumbents(streamed: tuple[object, ...]) -> None:
    snapshot, weights, _, _, one, found, result = streamed
    assert isinstance(result, SolveResult) and isinstance(found, list)
    solutions = [f for f in found if f.plan is not None]  # type: ignore[attr-defined]
    assert solutions, "stage 2 found no improving solution to stream"
    for incumbent in solutions:
        check = check_plan(snapshot, incumbent.plan.values(), weights)  # type: ignore[arg-type]
        assert check.feasible, check.problems
        assert incumbent.objective == pytest.approx(check.cost_usd * result.objective_scale)
        assert check.weight >= one.weight * (1 - 1e-6)  # type: ignore[attr-defined]
        assert incumbent.bound <= incumbent.objective + 1e-6  # -inf before HiGHS has a bound


def test_a_kill_in_stage_two_answers_with_the_streamed_incumbent(
    streamed: tuple[object, ...],
) -> None:
    snapshot, weights, data, options, one, found, result = streamed
    assert isinstance(found, list) and isinstance(result, SolveResult) and found
    incumbent = [f for f in found if f.plan is not None][-1]
    stopped = SolveResult(
        status=Status.TIME_LIMIT, objective_scale=result.objective_scale, build_s=0.1
    )
    heard = _Heard(build_s=0.1, stage1=one, incumbent=incumbent, timed_out=True)  # type: ignore[arg-type]
    answer = _incumbent(stopped, snapshot, weights, options, None, heard, trivial_bounds(data))  # type: ignore[arg-type]
    check = check_plan(snapshot, incumbent.plan.values(), weights)  # type: ignore[arg-type]
    stage1 = check_plan(snapshot, one.plan.values(), weights)  # type: ignore[attr-defined, arg-type]
    if check.cost_usd >= stage1.cost_usd:
        pytest.skip("stage 2 found nothing cheaper than stage 1's admission")
    assert answer.status == Status.TIME_LIMIT and answer.usable, "never called optimal"
    assert answer.plan == incumbent.plan and "stage 2's newest incumbent" in answer.message
    assert answer.objective_usd == pytest.approx(check.cost_usd)
    assert answer.bound is not None and math.isfinite(answer.bound)
    assert answer.gap is not None and 0.0 <= answer.gap <= 1.0
    assert answer.bound == pytest.approx(max(incumbent.bound, 0.0)), "HiGHS's, or the trivial"


def test_a_streamed_plan_that_fails_the_check_is_not_used(streamed: tuple[object, ...]) -> None:
    snapshot, weights, data, options, one, found, result = streamed
    assert isinstance(found, list) and isinstance(result, SolveResult) and found
    last = [f for f in found if f.plan is not None][-1]
    name, placement = next(iter(last.plan.items()))
    stages = sum(b.stages for b in placement.blocks)
    wrong = {name: Placement(name, (Block(placement.blocks[0].region, stages + 1),))}
    bad = replace(last, plan=wrong, objective=0.0, bound=0.0)
    stopped = SolveResult(status=Status.TIME_LIMIT, objective_scale=result.objective_scale)
    heard = _Heard(build_s=0.1, stage1=one, incumbent=bad, timed_out=True)  # type: ignore[arg-type]
    answer = _incumbent(stopped, snapshot, weights, options, None, heard, trivial_bounds(data))  # type: ignore[arg-type]
    assert answer.plan == one.plan and "stage 1's admission" in answer.message  # type: ignore[attr-defined]
    assert answer.bound == 0.0 and answer.gap == 1.0, "only the trivial bound"


def test_a_kill_with_only_a_streamed_bound_reports_that_bound(
    streamed: tuple[object, ...],
) -> None:
    """Before stage 2 improves on stage 1's plan, HiGHS already has a dual bound: a kill then
    answers with stage 1's admission and that bound (a real gap, not the trivial 100 %)."""
    snapshot, weights, data, options, one, _, result = streamed
    assert isinstance(result, SolveResult)
    stage1 = check_plan(snapshot, one.plan.values(), weights)  # type: ignore[attr-defined, arg-type]
    scaled = 0.5 * stage1.cost_usd * result.objective_scale
    stopped = SolveResult(status=Status.TIME_LIMIT, objective_scale=result.objective_scale)
    heard = _Heard(build_s=0.1, stage1=one, timed_out=True)  # type: ignore[arg-type]
    heard.take(("incumbent", Incumbent(None, math.nan, scaled)))
    answer = _incumbent(stopped, snapshot, weights, options, None, heard, trivial_bounds(data))  # type: ignore[arg-type]
    assert answer.status == Status.TIME_LIMIT and answer.plan == one.plan  # type: ignore[attr-defined]
    assert answer.bound == pytest.approx(scaled) and answer.gap == pytest.approx(0.5)
    too_high = _Heard(build_s=0.1, stage1=one, timed_out=True)  # type: ignore[arg-type]
    too_high.take(
        ("incumbent", Incumbent(None, math.nan, 2 * stage1.cost_usd * result.objective_scale))
    )
    answer = _incumbent(stopped, snapshot, weights, options, None, too_high, trivial_bounds(data))  # type: ignore[arg-type]
    assert answer.bound == trivial_bounds(data)[1], "a bound above the plan's cost is not believed"


def test_stage_two_streams_rising_finite_bounds(streamed: tuple[object, ...]) -> None:
    *_, found, _ = streamed
    bounds = [f.bound for f in found if f.plan is None]  # type: ignore[attr-defined]
    assert all(math.isfinite(b) for b in bounds)
    assert bounds == sorted(bounds), "only a newer, higher bound is told"
