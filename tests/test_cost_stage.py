"""Readying the cost stage (``milp.cost_stage``): the knapsack's fixings equal exhaustive search
over subsets, the least-cost whole-region assignment equals brute force, the cost LP's bound is
never above the exhaustive optimum, and a start meeting that bound is proven without a MILP."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bace_opt.app.api import load
from bace_opt.checker import check_plan
from bace_opt.io.read import load_instance
from bace_opt.milp import SolveOptions, Status
from bace_opt.milp.assignment import Option, Splitting, least_cost_assignment
from bace_opt.milp.build import build_model
from bace_opt.milp.capacity import Item, fixed_admission
from bace_opt.milp.cost_stage import LP_BOUND, fix_admission, relaxed_bound, release
from bace_opt.milp.data import epoch_data
from bace_opt.milp.lexicographic import solve_lexicographic
from bace_opt.policies import make_policy
from bace_opt.policies.bace import Prioritizer
from bace_opt.policies.mip_start import mip_start
from tests.conftest import INSTANCES, ROOT
from tests.test_milp import exhaustive, partly_busy

ITEMS = st.lists(
    st.tuples(st.floats(0.0, 3.0), st.integers(1, 12)).map(lambda t: (round(t[0], 3), t[1])),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(pairs=ITEMS, capacity=st.integers(0, 40), share=st.sampled_from([1.0, 0.9, 0.6, 0.0]))
def test_fixings_equal_exhaustive_search_over_subsets(
    pairs: list[tuple[float, int]], capacity: int, share: float
) -> None:
    """Admitted: in every subset within the GPUs reaching the floor; left out: in none."""
    items = [Item(f"j{i}", w, g) for i, (w, g) in enumerate(pairs)]
    subsets = [
        {i.name for i in subset}
        for r in range(len(items) + 1)
        for subset in itertools.combinations(items, r)
        if sum(i.gpus for i in subset) <= capacity
    ]
    weight = {i.name: i.weight for i in items}
    best = max(sum(weight[n] for n in s) for s in subsets)
    floor = share * best
    reaching = [s for s in subsets if sum(weight[n] for n in s) >= floor - 1e-9 * max(1, floor)]
    fixed = fixed_admission(items, capacity, floor)
    assert fixed.admit == set.intersection(*reaching)
    assert fixed.leave == set(weight) - set.union(*reaching)


def test_hand_computed_fixings() -> None:
    """8 GPUs: big (8, w 1.0) against two halves (4 + 4, w 0.6 each). With the floor at 1.2 only
    the halves reach it (big is left out); at 1.0 big alone reaches it too, so nothing is fixed."""
    items = [Item("big", 1.0, 8), Item("a", 0.6, 4), Item("b", 0.6, 4)]
    at_best = fixed_admission(items, 8, 1.2)
    assert at_best.admit == {"a", "b"} and at_best.leave == {"big"}
    below = fixed_admission(items, 8, 1.0)
    assert below.admit == set() and below.leave == set()


@settings(max_examples=100, deadline=None)
@given(
    costs=st.lists(
        st.lists(st.one_of(st.none(), st.floats(-1.0, 10.0)), min_size=3, max_size=3),
        min_size=1,
        max_size=4,
    ),
    gpus=st.lists(st.integers(1, 8), min_size=4, max_size=4),
    free=st.lists(st.integers(0, 16), min_size=3, max_size=3),
)
def test_least_cost_assignment_equals_brute_force(
    costs: list[list[float | None]], gpus: list[int], free: list[int]
) -> None:
    """Jobs × 3 regions, ``None`` where a job may not go; None when no assignment fits."""
    options = [
        Option(j, r, c) for j, row in enumerate(costs) for r, c in enumerate(row) if c is not None
    ]
    sizes = gpus[: len(costs)]
    best = math.inf
    for regions in itertools.product(range(3), repeat=len(costs)):
        if any(costs[j][r] is None for j, r in enumerate(regions)):
            continue
        used = [sum(sizes[j] for j, r in enumerate(regions) if r == k) for k in range(3)]
        if all(u <= f for u, f in zip(used, free, strict=True)):
            best = min(best, sum(costs[j][r] or 0.0 for j, r in enumerate(regions)))
    found = least_cost_assignment(options, sizes, free)
    if math.isinf(best):
        assert found is None
        return
    assert found is not None and not found.split
    assert sorted(found.whole) == list(range(len(costs)))
    assert sum(costs[j][r] or 0.0 for j, r in found.whole.items()) == pytest.approx(best, abs=1e-6)
    for k in range(3):
        assert sum(sizes[j] for j, r in found.whole.items() if r == k) <= free[k]


def test_a_job_splits_only_where_the_gpus_leave_no_whole_room() -> None:
    """Two 4-stage jobs of 1 GPU per stage, regions of 6 and 2 free GPUs: both cannot go whole,
    so one splits 4 = 2 + 2 (at most 2 regions); with 8 free in the first both go whole there."""
    options = [
        Option(j, r, c, whole=w) for j in (0, 1) for r, c, w in ((0, 1.0, True), (1, 2.0, j == 0))
    ]
    shapes = Splitting([(4, 2), (4, 2)], {j: {(0, 1): {}} for j in (0, 1)}, {})
    split = least_cost_assignment(options, [4, 4], [6, 2], shapes)
    assert split is not None and len(split.whole) == 1 and len(split.split) == 1
    (job, stages), (kept, region) = next(iter(split.split.items())), next(iter(split.whole.items()))
    assert job != kept and region == 0 and stages == {0: 2, 1: 2}
    roomy = least_cost_assignment(options, [4, 4], [8, 2], shapes)
    assert roomy is not None and roomy.whole == {0: 0, 1: 0} and not roomy.split
    assert least_cost_assignment(options, [4, 4], [6, 2]) is None, "whole only: no room"


def test_a_split_spans_only_pairs_the_links_carry_within_their_residual() -> None:
    """2-stage jobs of 4 GPUs per stage, regions of 4 free GPUs, cheapest first: a lone job
    splits over regions 0 and 1, unless that pair cannot carry it — then over 0 and 2; no pair
    carried, no split. Two jobs whose crossings each load link L with 1 Gbit/s of a 1.5 residual
    cannot both span the pair behind L."""
    options = [Option(0, r, c, whole=False) for r, c in ((0, 1.0), (1, 2.0), (2, 5.0))]
    free, load = [4, 4, 4], {"L": 1.0}
    every = {(0, 1): load, (0, 2): load, (1, 2): load}

    def splitting(carried: dict, jobs: int = 1) -> Splitting:
        return Splitting([(2, 2)] * jobs, {j: carried for j in range(jobs)}, {"L": 1.5})

    cheap = least_cost_assignment(options, [8], free, splitting(every))
    assert cheap is not None and cheap.split == {0: {0: 1, 1: 1}}
    apart = least_cost_assignment(options, [8], free, splitting({(0, 2): load, (1, 2): load}))
    assert apart is not None and apart.split == {0: {0: 1, 2: 1}}
    assert least_cost_assignment(options, [8], free, splitting({})) is None
    two = [Option(j, r, c, whole=False) for j in (0, 1) for r, c in ((0, 1.0), (1, 2.0))]
    assert least_cost_assignment(two, [8, 8], [8, 8], splitting({(0, 1): load}, 2)) is None
    roomy = splitting({(0, 1): load}, 2)
    roomy = Splitting(roomy.shapes, roomy.crossings, {"L": 2.0})
    both = least_cost_assignment(two, [8, 8], [8, 8], roomy)
    assert both is not None and both.split == {0: {0: 1, 1: 1}, 1: {0: 1, 1: 1}}


@pytest.mark.parametrize("name", ["tiny3.yaml", "hetero4.yaml"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fixings_and_lp_bound_keep_the_exhaustive_optimum(name: str, seed: int) -> None:
    """With the floor at the exhaustive optimum's weight, the fixed model's LP bound is at most
    its cost; ``release`` frees every x again."""
    snapshot = partly_busy(load_instance(INSTANCES / name), seed)
    weights = Prioritizer().weights_of(snapshot)
    weight, cost = exhaustive(snapshot, weights)
    data = epoch_data(snapshot, weights)
    m = build_model(data)
    m.floor.set_value(weight - 1e-7 * max(1.0, weight))
    fix_admission(m, data, float(m.floor.value))
    bound = relaxed_bound(m, data, None, SolveOptions(), 30.0)
    assert bound is not None
    assert bound <= cost * float(m.COST_SCALE.value) * (1 + 1e-9) + 1e-9
    release(m)
    assert all((v.lb, v.ub) == (0, 1) for v in m.x.values())


@pytest.mark.parametrize("solver", ["appsi_highs", "highs_direct"])
def test_a_start_at_the_lp_bound_is_proven_without_a_milp(solver: str) -> None:
    """geo10-200-half-seed0 (200 jobs, ten real regions, half busy): the capacity bound proves
    the start's admission and the cost LP its cost, so neither stage runs HiGHS's MILP — and
    the answer is called optimal only because the bound meets the cost the checker measures."""
    snapshot = load(ROOT / "benchmarks" / "snapshots" / "geo10-200-half-seed0.yaml")
    weights = Prioritizer().weights_of(snapshot)
    greedy = {p.job: p for p in make_policy("bace-cheapest-path").decide(snapshot)}
    start = mip_start(snapshot, weights, greedy)
    data = epoch_data(snapshot, weights)
    options = SolveOptions(solver=solver, time_limit_s=60.0, isolated=False)
    result = solve_lexicographic(build_model(data), data, options, start)
    assert result.status == Status.OPTIMAL and result.termination == LP_BOUND
    assert result.plan is not None and result.bound is not None
    checked = check_plan(snapshot, result.plan.values(), weights)
    assert checked.feasible and result.weight == pytest.approx(checked.weight, rel=1e-12)
    assert result.bound / result.objective_scale == pytest.approx(checked.cost_usd, rel=1e-9)
