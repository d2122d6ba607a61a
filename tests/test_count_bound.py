"""The stage-count relaxation (``milp.count_bound``): a bound no plan undercuts (against exhaustive
search), none where a price is negative, and used on an answer only where it holds."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from hypothesis import given

from bace_opt.checker import check_plan
from bace_opt.core.placement import Block, Placement
from bace_opt.formulas.placement import epoch_cost
from bace_opt.io.read import load_snapshot
from bace_opt.milp import SolveOptions, SolveResult, Status, counted
from bace_opt.milp.capacity import reach_floor
from bace_opt.milp.cost_stage import COUNT_BOUND
from bace_opt.milp.count_bound import _Relaxation, count_bound
from bace_opt.milp.data import admission_fixing, cost_scale, epoch_data
from bace_opt.milp.result import CostBound
from bace_opt.policies.bace import BacePipe, Prioritizer
from bace_opt.policies.mip_start import counted_plan, solve_from_start
from bace_opt.resources.feasibility import placement_problems
from tests.conftest import ROOT
from tests.test_milp import SETTINGS, TooLarge, exhaustive, partly_busy
from tests.worlds import all_placements, build, world_docs

SNAPSHOTS = ROOT / "benchmarks" / "snapshots"


@SETTINGS
@given(doc=world_docs(max_jobs=3, sizes=(8, 16), min_regions_per_job=2))
def test_no_plan_costs_less_than_the_count_bound(doc: dict) -> None:
    """On small random epochs (splits, links and several GPU types among them), the bound for
    the lexicographic optimum's weight is at most exhaustive search's least cost at it."""
    snapshot = partly_busy(build(doc), len(str(doc)))
    weights = Prioritizer().weights_of(snapshot)
    data = epoch_data(snapshot, weights)
    try:
        weight, cost = exhaustive(snapshot, weights)
    except TooLarge:
        return
    if weight <= 0:
        return
    floor = reach_floor(weight)
    scale = cost_scale(data)
    fixed = admission_fixing(data, floor)
    found = count_bound(data, scale, floor, fixed, 10.0, threads=1)
    assert found is not None and found.optimal, "prices are positive: R has an optimum"
    assert found.bound / scale <= cost * (1 + 1e-7) + 1e-9
    assert sum(sum(c.values()) for c in found.stages.values()) > 0
    exact = count_bound(data, scale, floor, fixed, 10.0, threads=1, exact_latency=True)
    assert exact is not None and exact.optimal
    assert exact.bound / scale <= cost * (1 + 1e-7) + 1e-9, "the exact latency is still a bound"
    assert exact.bound >= found.bound * (1 - 1e-7) - 1e-9, "and never below R's"


@SETTINGS
@given(doc=world_docs(max_jobs=3, sizes=(8, 16), min_regions_per_job=2))
def test_a_placement_is_a_point_of_r_at_its_exact_cost(doc: dict) -> None:
    """The theorem's construction, checked: every feasible placement of every job is a point
    of R (every row holds) whose objective is its epoch cost with the exact latency term, and
    at most that cost with the least-rate term alone."""
    snapshot = partly_busy(build(doc), len(str(doc)))
    data = epoch_data(snapshot, Prioritizer().weights_of(snapshot))
    jobs = [j for j in data.jobs if j.blocks > 0]
    if any(v < 0 for j in jobs for v in j.rate.values()):
        return
    scale = cost_scale(data)
    for exact in (True, False):
        model = _Relaxation(data, scale, 0.0, jobs, frozenset(), exact)
        matrix, lower, upper = _rows(model)
        for job in snapshot.waiting:
            for placement in all_placements(snapshot.instance, job):
                free, residual = dict(snapshot.free_gpus), dict(snapshot.residual_gbps)
                if placement_problems(snapshot.instance, job, placement, free, residual):
                    continue
                point = model.point({job.name: placement})
                assert point is not None, placement
                activity = matrix @ point
                assert np.all(activity >= lower - 1e-7) and np.all(activity <= upper + 1e-7)
                cost = epoch_cost(snapshot.instance, job, placement, snapshot.time_s) * scale
                objective = float(np.dot(model.cost, point))
                if exact:
                    assert math.isclose(objective, cost, rel_tol=1e-9, abs_tol=1e-12)
                else:
                    assert objective <= cost * (1 + 1e-9) + 1e-12


def _rows(model: _Relaxation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    matrix = np.zeros((len(model.rows), len(model.cost)))
    for i, (terms, _, _) in enumerate(model.rows):
        for c, v in terms:
            matrix[i, c] += v
    lower = np.array([low for _, low, _ in model.rows])
    upper = np.array([high for _, _, high in model.rows])
    return matrix, lower, upper


def test_a_negative_rate_gives_no_bound() -> None:
    """The theorem needs every rate ≥ 0: with one negative, no bound is claimed."""
    snapshot = load_snapshot(SNAPSHOTS / "geo6-1.yaml", ROOT)
    data = epoch_data(snapshot, Prioritizer().weights_of(snapshot))
    job = data.jobs[0]
    negative = replace(job, rate={key: -abs(v) for key, v in job.rate.items()})
    data = replace(data, jobs=(negative, *data.jobs[1:]))
    floor = 0.0
    assert count_bound(data, 1.0, floor, admission_fixing(data, floor), 10.0) is None


def test_the_start_bound_holds_and_is_used(tmp_path: object) -> None:
    """On a dumped geo6 epoch: the counted plan's bound is at most the proven optimum's cost,
    its floor is the capacity bound's reach, and the proven answer is unchanged by it."""
    snapshot = load_snapshot(SNAPSHOTS / "geo6-2.yaml", ROOT)
    weights = Prioritizer().weights_of(snapshot)
    plan, bound = counted_plan(snapshot, weights)
    assert bound is not None and plan
    greedy = {p.job: p for p in BacePipe.cheapest_path().decide(snapshot)}
    options = SolveOptions(time_limit_s=30.0, isolated=False)
    result = solve_from_start(snapshot, weights, greedy, options)
    assert result.status == Status.OPTIMAL and result.objective_usd is not None
    assert bound.cost_usd <= result.objective_usd * (1 + 1e-9)
    check = check_plan(snapshot, result.plan.values(), weights)
    assert check.weight >= bound.floor and check.feasible


def _answer(snapshot_name: str, status: Status, cost: float, bound: float) -> tuple:
    snapshot = load_snapshot(SNAPSHOTS / snapshot_name, ROOT)
    weights = Prioritizer().weights_of(snapshot)
    data = epoch_data(snapshot, weights)
    job = next(j for j in data.jobs if j.blocks)
    plan = {job.name: Placement(job.name, (Block(job.regions[0], job.stages),))}
    result = SolveResult(
        status=status,
        termination="maxTimeLimit",
        plan=plan,
        objective_usd=cost,
        model_objective=cost,
        bound=bound,
        weight=job.weight,
        weight_bound=job.weight,
        message="stopped at the 10 s time limit",
    )
    return data, job.weight, result


def test_an_answer_gets_the_bound_only_where_it_holds() -> None:
    """Raised where the plan admits the bound's floor, proven when that closes the gap; left
    alone for a plan below the floor, or a bound below the answer's own."""
    data, weight, result = _answer("geo6-1.yaml", Status.TIME_LIMIT, 100.0, 90.0)
    proven = counted(result, data, CostBound(weight, 100.0))
    assert (proven.status, proven.termination, proven.bound) == (Status.OPTIMAL, COUNT_BOUND, 100.0)
    raised = counted(result, data, CostBound(weight, 95.0))
    assert (raised.status, raised.bound, raised.gap) == (Status.TIME_LIMIT, 95.0, 0.05)
    assert counted(result, data, CostBound(weight * (1 + 1e-6), 100.0)) == result
    assert counted(result, data, CostBound(weight, 80.0)) == result
    assert counted(result, data, None) == result
    unusable = replace(result, plan={}, model_objective=None, objective_usd=None)
    assert counted(unusable, data, CostBound(0.0, 100.0)) == unusable
    assert math.isclose(proven.gap or 0.0, 0.0, abs_tol=1e-12)
