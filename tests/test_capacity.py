"""The capacity bound (``milp.capacity``): the knapsack equals exhaustive search over subsets, its
LP fallback is never below it, it bounds the exhaustive lexicographic optimum of tiny epochs, and
a MIP start that meets it proves stage 1 without a solve."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bace_opt.io.read import load_instance
from bace_opt.milp import SolveOptions, Status, solve_epoch
from bace_opt.milp import capacity as cap
from bace_opt.milp.build import build_model
from bace_opt.milp.capacity import Item, knapsack_bound, placeable
from bace_opt.milp.data import capacity_bound, epoch_data, snapshot_capacity_bound
from bace_opt.milp.lexicographic import CAPACITY_BOUND, StageOne, solve_lexicographic
from bace_opt.policies import make_policy
from bace_opt.policies.bace import Prioritizer
from bace_opt.policies.mip_start import mip_start
from tests.conftest import INSTANCES
from tests.test_milp import TooLarge, exhaustive, partly_busy
from tests.worlds import build, world_docs

ITEMS = st.lists(
    st.tuples(st.floats(0.0, 3.0), st.integers(1, 12)).map(lambda t: (round(t[0], 3), t[1])),
    max_size=9,
)


def _items(pairs: list[tuple[float, int]]) -> list[Item]:
    return [Item(f"j{i}", w, g) for i, (w, g) in enumerate(pairs)]


@settings(max_examples=200, deadline=None)
@given(pairs=ITEMS, capacity=st.integers(0, 40))
def test_knapsack_equals_exhaustive_search_and_its_set_attains_it(
    pairs: list[tuple[float, int]], capacity: int
) -> None:
    items = _items(pairs)
    best = max(
        sum(i.weight for i in subset)
        for r in range(len(items) + 1)
        for subset in itertools.combinations(items, r)
        if sum(i.gpus for i in subset) <= capacity
    )
    bound = knapsack_bound(items, capacity)
    assert bound.exact and bound.weight == pytest.approx(best, abs=1e-12)
    chosen = [i for i in items if i.name in bound.chosen]
    assert len(chosen) == len(bound.chosen), "each job once"
    assert sum(i.gpus for i in chosen) <= capacity
    assert sum(i.weight for i in chosen) == pytest.approx(bound.weight, abs=1e-12)


def test_hand_computed_knapsack() -> None:
    """8 GPUs: big (8, w 1.0) against two halves (4 + 4, w 0.6 each) — the halves, 1.2; a job
    wider than the GPUs counts for nothing; at 12 GPUs big and a half (1.6) win."""
    items = [Item("big", 1.0, 8), Item("a", 0.6, 4), Item("b", 0.6, 4), Item("wide", 9.0, 16)]
    bound = knapsack_bound(items, 8)
    assert bound == cap.CapacityBound(1.2, ("a", "b"), True)
    assert knapsack_bound(items, 11).weight == 1.2 and knapsack_bound(items, 12).weight == 1.6


@settings(max_examples=100, deadline=None)
@given(pairs=ITEMS, capacity=st.integers(0, 40))
def test_lp_fallback_is_never_below_the_knapsack(
    pairs: list[tuple[float, int]], capacity: int
) -> None:
    items = _items(pairs)
    exact = knapsack_bound(items, capacity)
    cells, cap.DP_CELLS = cap.DP_CELLS, 0
    try:
        fractional = knapsack_bound(items, capacity)
    finally:
        cap.DP_CELLS = cells
    assert fractional.weight >= exact.weight - 1e-12
    assert fractional.exact == (fractional == exact), "the LP says it is no knapsack optimum"


def test_a_job_its_roomiest_regions_cannot_hold_is_not_placeable() -> None:
    """4 stages, at most 2 regions: 3 + 2 hold 4, 1 + 1 (+ 3 beyond the second) do not."""
    assert placeable(4, 2, {"a": 3, "b": 2, "c": 1})
    assert not placeable(4, 2, {"a": 1, "b": 1}) and not placeable(1, 0, {})


@pytest.mark.parametrize("name", ["tiny3.yaml", "hetero4.yaml"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_capacity_bound_is_above_the_exhaustive_optimum_on_shipped_worlds(
    name: str, seed: int
) -> None:
    snapshot = partly_busy(load_instance(INSTANCES / name), seed)
    weights = Prioritizer().weights_of(snapshot)
    weight, _ = exhaustive(snapshot, weights)
    bound = capacity_bound(epoch_data(snapshot, weights))
    assert bound.weight >= weight - 1e-12
    assert snapshot_capacity_bound(snapshot, weights) == bound, "one definition, two doors"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(doc=world_docs(max_jobs=4, sizes=(8, 16)))
def test_capacity_bound_is_above_the_exhaustive_optimum_on_random_worlds(doc: dict) -> None:
    snapshot = partly_busy(build(doc), len(str(doc)))
    weights = Prioritizer().weights_of(snapshot)
    try:
        weight, _ = exhaustive(snapshot, weights)
    except TooLarge:
        assume(False)
    bound = capacity_bound(epoch_data(snapshot, weights))
    assert bound.weight >= weight - 1e-12
    assert snapshot_capacity_bound(snapshot, weights) == bound


@pytest.mark.parametrize("solver", ["appsi_highs", "highs_direct"])
def test_a_start_at_the_bound_proves_stage_one_without_a_solve(solver: str) -> None:
    """tiny3, seed 1: the MIP start admits the capacity bound's weight; stage 1 is then proven
    by the bound (its termination says so) and the two stages end where exhaustive search does."""
    snapshot = partly_busy(load_instance(INSTANCES / "tiny3.yaml"), 1)
    weights = Prioritizer().weights_of(snapshot)
    greedy = {p.job: p for p in make_policy("bace-cheapest-path").decide(snapshot)}
    start = mip_start(snapshot, weights, greedy)
    data = epoch_data(snapshot, weights)
    bound = capacity_bound(data)
    assert sum(weights[n] for n in start) == pytest.approx(bound.weight, rel=1e-12)
    heard: list[StageOne] = []
    options = SolveOptions(solver=solver, time_limit_s=30.0, isolated=False)
    result = solve_lexicographic(build_model(data), data, options, start, on_stage1=heard.append)
    assert [s.termination for s in heard] == [CAPACITY_BOUND]
    assert heard[0].status == Status.OPTIMAL and heard[0].weight_bound == bound.weight
    weight, cost = exhaustive(snapshot, weights)
    assert result.status == Status.OPTIMAL and result.weight == pytest.approx(weight)
    assert result.objective_usd == pytest.approx(cost, rel=1e-6)
    isolated = solve_epoch(snapshot, weights, SolveOptions(solver=solver), start)
    assert (isolated.weight, isolated.weight_bound) == (result.weight, result.weight_bound)
