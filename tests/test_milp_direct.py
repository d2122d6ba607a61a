"""Backend ``highs_direct``: the arrays handed to HiGHS are the model appsi hands over (same rows,
columns in the same order, same bounds and objectives), and solving them gives exhaustive search's
optimum and the appsi backend's objectives; a model with an ``extra`` family goes through appsi."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pyomo.environ as pyo
import pytest
from hypothesis import assume, given
from pyomo.contrib.appsi.solvers import Highs

from bace_opt.checker import check_plan
from bace_opt.io.read import load_instance, load_snapshot
from bace_opt.milp import SolveOptions, Status, solve_epoch
from bace_opt.milp.backends import backend_problem
from bace_opt.milp.build import COST_FAMILIES, build_model, set_cost_families
from bace_opt.milp.data import EpochData, epoch_data, mirror_symmetric
from bace_opt.milp.direct import DirectHighsBackend
from bace_opt.milp.lexicographic import solve_lexicographic
from bace_opt.milp.matrix import epoch_matrix
from bace_opt.milp.warmstart import apply_plan
from bace_opt.policies.bace import BacePipe, Prioritizer
from tests.conftest import INSTANCES, ROOT
from tests.test_milp import SETTINGS, partly_busy
from tests.worlds import build, world_docs

DIRECT = SolveOptions(solver="highs_direct", time_limit_s=30.0)
APPSI = SolveOptions(solver="appsi_highs", time_limit_s=30.0)
SNAPSHOTS = ROOT / "benchmarks" / "snapshots"

Row = tuple[tuple[tuple[int, float], ...], float, float]


def _rows(start: np.ndarray, index: np.ndarray, value: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    rows: list[Row] = []
    for i in range(len(lo)):
        terms = tuple(
            sorted(zip(index[start[i] : start[i + 1]], value[start[i] : start[i + 1]], strict=True))
        )
        rows.append((tuple((int(c), float(v)) for c, v in terms), float(lo[i]), float(hi[i])))
    return rows


def _same(a: float, b: float) -> bool:
    return a == b or abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))


def assert_matrix_is_appsis(data: EpochData) -> None:
    """Row by row and column by column: the matrix equals what appsi's ``set_instance`` built."""
    m = build_model(data)
    matrix = epoch_matrix(data)
    opt = Highs()
    opt.set_instance(m)
    lp = opt._solver_model.getLp()
    column = {id(getattr(m, name)[index]): i for i, (name, index) in enumerate(matrix.columns)}
    order = {c: column[v] for v, c in opt._pyomo_var_to_solver_var_map.items()}
    assert [order[c] for c in range(lp.num_col_)] == list(range(len(matrix.columns)))
    assert np.array_equal(lp.col_lower_, matrix.col_lower)
    assert np.array_equal(lp.col_upper_, matrix.col_upper)
    assert [int(t) for t in lp.integrality_] == list(matrix.integrality)
    assert np.allclose(lp.col_cost_, matrix.admission, rtol=1e-12, atol=0)
    a = lp.a_matrix_
    theirs = _rows(
        np.asarray(a.start_),
        np.asarray(a.index_),
        np.asarray(a.value_),
        lp.row_lower_,
        lp.row_upper_,
    )
    ours = _rows(matrix.a_start, matrix.a_index, matrix.a_value, matrix.row_lower, matrix.row_upper)
    assert len(theirs) == len(ours) == sum(matrix.families.values())
    for i, (t, o) in enumerate(zip(theirs, ours, strict=True)):
        assert [c for c, _ in t[0]] == [c for c, _ in o[0]], f"row {i}"
        assert all(_same(x, y) for (_, x), (_, y) in zip(t[0], o[0], strict=True)), f"row {i}"
        assert _same(t[1], o[1]) and _same(t[2], o[2]), f"row {i} bounds"
    m.admission.deactivate()
    m.cost.activate()
    opt.update()
    cost = opt._solver_model.getLp().col_cost_
    assert np.allclose(cost, matrix.cost, rtol=1e-12, atol=1e-15)


@SETTINGS
@given(
    doc=world_docs(max_jobs=5, sizes=(8, 16, 32), min_regions_per_job=2)
    | world_docs(max_jobs=5, sizes=(8, 16, 32), min_regions_per_job=2, min_price=-0.4)
)
def test_matrix_is_the_model_appsi_builds(doc: dict) -> None:
    snapshot = partly_busy(build(doc), len(str(doc)))
    data = epoch_data(snapshot, Prioritizer().weights_of(snapshot))
    assume(any(j.blocks for j in data.jobs))
    assert_matrix_is_appsis(data)


@pytest.mark.parametrize("name", ["10x4x6-seed0", "30x8x6-seed1", "geo6-1"])
def test_matrix_is_appsis_on_snapshots(name: str) -> None:
    snapshot = load_snapshot(SNAPSHOTS / f"{name}.yaml")
    assert_matrix_is_appsis(epoch_data(snapshot, Prioritizer().weights_of(snapshot)))


@pytest.mark.parametrize("name", ["10x4x6-seed0", "10x4x6-seed1", "30x8x6-seed0", "geo6-2"])
def test_direct_and_appsi_agree_on_snapshots(name: str) -> None:
    snapshot = load_snapshot(SNAPSHOTS / f"{name}.yaml")
    weights = Prioritizer().weights_of(snapshot)
    start = {p.job: p for p in BacePipe.cheapest_path().decide(snapshot)}
    ours, theirs = (solve_epoch(snapshot, weights, o, start=start) for o in (DIRECT, APPSI))
    assert ours.status == theirs.status == Status.OPTIMAL
    assert ours.weight == pytest.approx(theirs.weight, rel=1e-9)
    assert ours.model_objective == pytest.approx(theirs.model_objective, rel=1e-6)
    assert ours.bound is not None and ours.gap == pytest.approx(0.0, abs=1e-6)


def test_a_model_with_an_extra_family_goes_through_appsi() -> None:
    snapshot = partly_busy(load_instance(INSTANCES / "tiny3.yaml"), 0)
    data = epoch_data(snapshot, Prioritizer().weights_of(snapshot))

    def impossible(m: pyo.ConcreteModel, _: object) -> None:
        m.impossible = pyo.Constraint(expr=sum(m.x[j] for j in m.JOBS) >= 99)

    backend = DirectHighsBackend(DIRECT, data)
    backend.attach(build_model(data, extra=impossible))
    assert backend._appsi is not None
    result = solve_lexicographic(build_model(data, extra=impossible), data, DIRECT)
    assert result.status == Status.INFEASIBLE and result.plan == {}
    assert solve_lexicographic(build_model(data), data, DIRECT).status == Status.OPTIMAL


def test_the_time_limit_gives_an_honest_incumbent() -> None:
    """At a limit far too short to prove 100 × 16 × 10, the answer is the incumbent (never below
    the greedy start's weight) with a finite bound, not an error."""
    snapshot = load_snapshot(SNAPSHOTS / "100x16x10-seed0.yaml")
    weights = Prioritizer().weights_of(snapshot)
    greedy = {p.job: p for p in BacePipe.cheapest_path().decide(snapshot)}
    floor = check_plan(snapshot, greedy.values(), weights).weight
    options = SolveOptions(solver="highs_direct", time_limit_s=4.0, threads=1)
    result = solve_epoch(snapshot, weights, options, start=greedy)
    assert result.status == Status.TIME_LIMIT and result.usable, result.message
    check = check_plan(snapshot, result.plan.values(), weights)
    assert check.feasible and check.weight >= floor - 1e-9


def test_highs_direct_is_an_available_backend() -> None:
    assert backend_problem("highs_direct") is None
    assert "highs_direct" in (backend_problem("nosuchsolver") or "")


def test_the_admission_stage_leaves_out_only_the_cost_families() -> None:
    """The cost families come last, so stage 1 is the matrix's first rows; they hold every
    latency row, and a latency row of a single-type job has three terms (rho, P, z), not the
    job's whole stage rate."""
    snapshot = load_snapshot(SNAPSHOTS / "30x8x6-seed0.yaml")
    data = epoch_data(snapshot, Prioritizer().weights_of(snapshot))
    matrix = epoch_matrix(data)
    families = list(matrix.families)
    tail = [f for f in families if f in COST_FAMILIES]
    assert tail and families[-len(tail) :] == tail
    assert matrix.admission_rows == matrix.shape[0] - sum(matrix.families[f] for f in tail)
    lengths = np.diff(matrix.a_start)[matrix.admission_rows :]
    latency = matrix.families["latency_cost"]
    first = matrix.families.get("stage_cost", 0)
    rated = [j for j in data.jobs if len(j.types) == 1 and j.blocks > 1 and j.pairs]
    assert rated and len(rated) == matrix.families["stage_rate"]
    assert (lengths[first : first + latency] <= 3).sum() >= sum(
        (j.blocks - 1) * len(j.pairs) for j in rated
    )


def test_pair_groups_gather_the_pairs_by_either_end() -> None:
    """By hand: pairs a→b, a→c, b→a over regions (a, b, c)."""
    snapshot = load_snapshot(SNAPSHOTS / "30x8x6-seed0.yaml")
    job = epoch_data(snapshot, Prioritizer().weights_of(snapshot)).jobs[0]
    job = dataclasses.replace(
        job,
        regions=("a", "b", "c"),
        pair_latency_s={("a", "b"): 1.0, ("a", "c"): 2.0, ("b", "a"): 3.0},
    )
    assert job.pair_groups(0) == [("a", ["b", "c"]), ("b", ["a"])]
    assert job.pair_groups(1) == [("a", ["b"]), ("b", ["a"]), ("c", ["a"])]


def test_transition_rows_are_aggregated_and_imply_the_per_pair_ones() -> None:
    """One transition row per slot and region on each side (not one per pair), and the per-pair
    rows z ≤ y they replace are implied even by the LP relaxation: over random objectives on z
    and y, adding them back moves no relaxed optimum — while dropping the aggregated rows does
    (so the probe can tell)."""
    snapshot = load_snapshot(SNAPSHOTS / "30x8x6-seed0.yaml")
    data = epoch_data(snapshot, Prioritizer().weights_of(snapshot))
    matrix = epoch_matrix(data)
    jobs = [j for j in data.jobs if j.blocks > 1]
    for family, end in (("transition_from", 0), ("transition_to", 1)):
        groups = sum((j.blocks - 1) * len(j.pair_groups(end)) for j in jobs)
        assert matrix.families[family] == groups
    assert matrix.families["transition_from"] < sum((j.blocks - 1) * len(j.pairs) for j in jobs)

    def relaxed(seed: int, rows: str) -> float:
        """Max of a random objective over z and y on the admission stage's LP relaxation, with
        the aggregated rows, with the per-pair ones added too, or with neither."""
        m = build_model(data)
        set_cost_families(m, active=False)
        pyo.TransformationFactory("core.relax_integer_vars").apply_to(m)
        rng = np.random.default_rng(seed)
        m.admission.deactivate()
        m.probe = pyo.Objective(
            expr=sum(float(rng.uniform(-1, 1)) * m.z[i] for i in m.TRANSITION)
            + sum(float(rng.uniform(-1, 1)) * m.y[i] for i in m.BLOCK_REGION),
            sense=pyo.maximize,
        )
        if rows == "neither":
            m.transition_from.deactivate()
            m.transition_to.deactivate()
        if rows == "both":
            m.per_pair = pyo.ConstraintList()
            for j, k, a, b in m.TRANSITION:
                m.per_pair.add(m.z[j, k, a, b] <= m.y[j, k, a])
                m.per_pair.add(m.z[j, k, a, b] <= m.y[j, k + 1, b])
        solved = Highs().solve(m)
        assert solved.termination_condition.name == "optimal"
        return float(solved.best_feasible_objective)

    for seed in range(3):
        aggregated = relaxed(seed, "aggregated")
        assert aggregated == pytest.approx(relaxed(seed, "both"), rel=1e-9)
        assert relaxed(seed, "neither") > aggregated + 1e-6


def _violations(m: pyo.ConcreteModel) -> list[str]:
    """Active constraints the variables' values break (beyond 1e-9 relative)."""
    broken = []
    for con in m.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(con.body)
        lower = None if con.lower is None else pyo.value(con.lower)
        upper = None if con.upper is None else pyo.value(con.upper)
        if lower is not None and body < lower - 1e-9 * max(1.0, abs(lower)):
            broken.append(con.name)
        if upper is not None and body > upper + 1e-9 * max(1.0, abs(upper)):
            broken.append(con.name)
    return broken


def test_a_start_in_the_other_orientation_is_loaded_as_its_mirror_image() -> None:
    """The model keeps pipelines whose first region comes before their last (mirror_order); a
    greedy plan with the other orientation is still a feasible start, loaded reversed, and the
    MILP's own plans come out in the kept orientation."""
    snapshot = load_snapshot(SNAPSHOTS / "30x8x6-seed0.yaml")
    weights = Prioritizer().weights_of(snapshot)
    data = epoch_data(snapshot, weights)
    index = {r: i for i, r in enumerate(data.regions)}
    greedy = {p.job: p for p in BacePipe.cheapest_path().decide(snapshot)}
    flipped = {
        name: dataclasses.replace(p, blocks=tuple(reversed(p.blocks))) for name, p in greedy.items()
    }
    both = [p for p in [*greedy.values(), *flipped.values()] if len(p.blocks) > 1]
    assert any(index[p.blocks[0].region] > index[p.blocks[-1].region] for p in both)
    m = build_model(data)
    assert len(m.mirror_order) > 0
    for plan in (greedy, flipped):
        assert apply_plan(m, data, plan)
        assert _violations(m) == []
        assert pyo.value(m.admission) == pytest.approx(sum(weights[n] for n in plan), rel=1e-12)
    result = solve_epoch(snapshot, weights, DIRECT, start=flipped)
    assert result.status == Status.OPTIMAL
    for p in result.plan.values():
        assert len(p.blocks) == 1 or index[p.blocks[0].region] < index[p.blocks[-1].region]


def test_every_shipped_snapshot_is_mirror_symmetric() -> None:
    """Routes and latencies of the shipped worlds are the same both ways, so mirror_order is
    stated for every job that may cross (data.mirror_symmetric); a world where it is not would
    silently lose the symmetry cut, not the optimum."""
    for path in sorted(SNAPSHOTS.glob("*.yaml"))[:6]:
        snapshot = load_snapshot(path)
        data = epoch_data(snapshot, Prioritizer().weights_of(snapshot))
        assert all(mirror_symmetric(j, data) for j in data.jobs), path.name


def test_no_highs_banner_reaches_the_terminal() -> None:
    """HiGHS prints its banner once per process, at the first ``Highs`` born, to the file
    descriptor; ``quiet_highs`` captures only that birth, and no later one prints (in this
    process, in a forked child, or after Pyomo's appsi backend made its own)."""
    script = (
        "import os\n"
        "from bace_opt.milp.solver import quiet_highs\n"
        "quiet_highs(); quiet_highs().run()\n"
        "from pyomo.contrib.appsi.solvers import Highs\n"
        "import pyomo.environ as pyo\n"
        "m = pyo.ConcreteModel(); m.x = pyo.Var(bounds=(0, 1)); m.o = pyo.Objective(expr=m.x)\n"
        "s = Highs(); s.config.load_solution = False; s.solve(m)\n"
        "if os.fork() == 0:\n"
        "    quiet_highs().run(); os._exit(0)\n"
        "os.wait(); print('done')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert run.stdout == "done\n", run.stdout
    assert "HiGHS" not in run.stderr
