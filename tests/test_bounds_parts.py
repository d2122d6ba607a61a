"""The pieces of the whole-run relaxation, each against a hand-computed or brute-forced answer."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bace_opt.bounds.data import relaxation_data
from bace_opt.bounds.frontier import FrontierPoint, _monotone, closed_columns, completion_caps
from bace_opt.bounds.slots import price_ladder
from bace_opt.bounds.solve import LpStatus, lagrangian_bound
from bace_opt.core.prices import ConstantPrice, HourlyUtcPrice, SeriesPrice
from bace_opt.formulas.placement import estimate
from bace_opt.io.read import load_instance
from bace_opt.resources.configurations import count_vertices, job_paths
from bace_opt.resources.feasibility import structure_problems
from tests.worlds import all_placements

TINY3 = Path(__file__).resolve().parents[1] / "instances" / "tiny3.yaml"


@pytest.mark.parametrize(("upper", "total"), [((4, 4), 4), ((3, 1, 4), 5), ((2, 2, 2), 3)])
def test_count_vertices_span_every_count_vector(upper: tuple[int, ...], total: int) -> None:
    """Every integer count vector is a convex combination of the vertices (checked by an LP
    feasibility test with scipy), and every vertex is a count vector."""
    from scipy.optimize import linprog

    vertices = count_vertices(upper, total)
    assert vertices
    for v in vertices:
        assert sum(v) == total and all(1 <= n <= u for n, u in zip(v, upper, strict=True))
    points = [n for n in itertools.product(*(range(1, u + 1) for u in upper)) if sum(n) == total]
    a_eq = np.vstack([np.array(vertices, dtype=float).T, np.ones(len(vertices))])
    for n in points:
        res = linprog(np.zeros(len(vertices)), A_eq=a_eq, b_eq=[*n, 1.0], bounds=(0, None))
        assert res.status == 0, n


@pytest.mark.parametrize(
    "price",
    [
        ConstantPrice(0.1),
        HourlyUtcPrice(tuple(0.01 * (h + 1) for h in range(24)), offset_s=1800.0),
        SeriesPrice(np.array([0.0, 3600.0, 5400.0]), np.array([0.2, -0.05, 0.1])),
    ],
)
@pytest.mark.parametrize(("t0", "t1"), [(0.0, 3600.0), (1000.0, 100000.0), (-500.0, 7000.0)])
def test_price_ladder_adds_up_to_the_integral(price: object, t0: float, t1: float) -> None:
    ladder = price_ladder(price, t0, t1)  # type: ignore[arg-type]
    assert sum(s for _, s in ladder) == pytest.approx(t1 - t0)
    assert [p for p, _ in ladder] == sorted(p for p, _ in ladder)
    integral = price.integral(t0, t1)  # type: ignore[attr-defined]
    assert sum(p * s for p, s in ladder) == pytest.approx(integral, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", ["tiny3", "three-regions", "relay-mixed"])
def test_every_placement_is_dominated_by_its_configurations(name: str) -> None:
    """The pruning keeps what it must: for every placement that fits an idle world, some convex
    combination of the job's configurations runs no longer, holds no more GPU-seconds in any
    region and moves no more Gbit over any link direction (an LP feasibility check)."""
    from scipy.optimize import linprog

    from bace_opt.resources.demand import Demand
    from tests.test_bounds import world

    instance = load_instance(TINY3) if name == "tiny3" else world(name)
    regions = [r.name for r in instance.regions]
    directions = list(instance.network.directions)
    for job in instance.jobs:
        configs = job_paths(instance, job, {}).configs
        rows = []
        for c in configs:
            held = dict(zip(c.regions, c.gpu_s, strict=True))
            bits = dict(c.gbit)
            rows.append(
                [
                    c.run_s,
                    *(held.get(r, 0.0) for r in regions),
                    *(bits.get(d, 0.0) for d in directions),
                ]
            )
        a_ub = np.array(rows).T
        for p in all_placements(instance, job):
            gpus = p.gpus_by_region(job.gpus_per_stage)
            if any(gpus[r] > instance.region[r].gpus for r in gpus):
                continue
            if structure_problems(instance, job, p):
                continue
            est = estimate(instance, job, p)
            demand = Demand.of(instance, job, p, est)
            per_use = est.need_gbps * est.compute_time_s
            b_ub = [
                est.run_time_s,
                *(gpus.get(r, 0) * est.run_time_s for r in regions),
                *(demand.uses.get(d, 0) * per_use for d in directions),
            ]
            slack = np.array(b_ub) * 1e-9 + 1e-9
            res = linprog(
                np.zeros(len(configs)),
                A_ub=a_ub,
                b_ub=np.array(b_ub) + slack,
                A_eq=np.ones((1, len(configs))),
                b_eq=[1.0],
                bounds=(0, None),
            )
            assert res.status == 0, (name, p.describe())


def test_lagrangian_bound_is_valid_for_any_duals() -> None:
    """min x0 + 2 x1, x0 + x1 ≥ 1, 0 ≤ x ≤ 1: optimum 1; any y gives at most 1."""
    lp = SimpleNamespace(
        row_lower_=[1.0],
        row_upper_=[math.inf],
        a_matrix_=SimpleNamespace(
            start_=[0, 1, 2], index_=[0, 0], value_=[1.0, 1.0], format_="MatrixFormat.kColwise"
        ),
        num_col_=2,
        col_cost_=[1.0, 2.0],
        col_lower_=[0.0, 0.0],
        col_upper_=[1.0, 1.0],
        offset_=0.0,
    )
    best = lagrangian_bound(lp, [1.0])
    assert best is not None and best == pytest.approx(1.0, abs=1e-8) and best <= 1.0
    for y in np.linspace(-3, 3, 25):
        b = lagrangian_bound(lp, [y])
        assert b is None or b <= 1.0 + 1e-12


def test_frontier_only_rises_to_the_right() -> None:
    points = [
        FrontierPoint(1.0, None, LpStatus.INFEASIBLE),
        FrontierPoint(2.0, 5.0, LpStatus.OPTIMAL),
        FrontierPoint(3.0, None, LpStatus.TIME_LIMIT),
        FrontierPoint(4.0, 6.0, LpStatus.OPTIMAL),
        FrontierPoint(5.0, 4.0, LpStatus.OPTIMAL),
    ]
    costs = [p.cost_lower_usd for p in _monotone(points)]
    assert costs == [None, 6.0, 6.0, 6.0, 4.0]


def test_caps_close_only_columns_past_them() -> None:
    instance = load_instance(TINY3)
    data = relaxation_data(instance, 600.0)
    budget = sum(jp.min_run_s for jp in data.jobs) / data.n_jobs + 600.0
    caps = completion_caps(data, budget)
    closed = closed_columns(data, caps)
    assert any(closed) and not all(closed)
    for (j, _, s), shut in zip(data.columns, closed, strict=True):
        assert shut == (data.grid.starts[s] >= caps[j])
        assert caps[j] > data.jobs[j].job.arrival_s + data.jobs[j].min_run_s


@pytest.mark.parametrize("slot_s", [300.0, 3600.0, 5000.0])
def test_the_grid_tiles_time_from_the_first_arrival_on(slot_s: float) -> None:
    from bace_opt.bounds.slots import build_grid

    instance = load_instance(TINY3)
    last = max(j.arrival_s for j in instance.jobs)
    grid = build_grid(instance, slot_s, fine_end_s=last + 200 * slot_s)
    assert grid.starts[0] <= min(j.arrival_s for j in instance.jobs)
    assert grid.ends[-1] == math.inf and grid.overflow == grid.count - 1
    assert all(e == s for e, s in zip(grid.ends, grid.starts[1:], strict=False))
    lengths = [grid.length(s) for s in range(grid.main)]
    assert all(length >= slot_s * (1 - 1e-12) for length in lengths)
    assert lengths == sorted(lengths)  # growing only after the last arrival
    assert grid.main < 200  # the growth keeps the slots few
    assert grid.starts[grid.main] >= last + 200 * slot_s
    for s in range(grid.main):  # boundaries on the slot_s lattice
        k = (grid.starts[s] - grid.starts[0]) / slot_s
        assert k == pytest.approx(round(k))
