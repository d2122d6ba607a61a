"""Backend ``scip`` (SCIP through pyscipopt and Pyomo's ``scip_persistent``): HiGHS's objectives
on small worlds (exhaustive search's optimum is ``test_milp``'s, for every backend), honest
statuses at a time limit or a gap, SCIP's own version in provenance, and a clear message where
pyscipopt is missing."""

from __future__ import annotations

import json
from pathlib import Path

import pyscipopt
import pytest
from hypothesis import given, settings
from typer.testing import CliRunner

from bace_opt.app.epoch import solve_snapshot
from bace_opt.checker import check_plan
from bace_opt.cli import app
from bace_opt.io.documents import snapshot_document
from bace_opt.io.read import load_instance, load_snapshot
from bace_opt.io.write import write_yaml_atomic
from bace_opt.milp import SolveOptions, Status, backends, solve_epoch
from bace_opt.milp.scip import ScipBackend, scip_status
from bace_opt.milp.solver import open_backend
from bace_opt.milp.stage import SolveFailure
from bace_opt.policies.bace import BacePipe, Prioritizer
from bace_opt.policies.milp_policy import MilpPolicy
from bace_opt.sim import simulate
from tests.conftest import INSTANCES, ROOT
from tests.test_milp import SETTINGS, partly_busy
from tests.worlds import build, world_docs

SCIP = SolveOptions(solver="scip", time_limit_s=30.0, isolated=False)
HIGHS = SolveOptions(solver="appsi_highs", time_limit_s=30.0, isolated=False)
SNAPSHOTS = ROOT / "benchmarks" / "snapshots"


@settings(SETTINGS, max_examples=8)
@given(doc=world_docs(max_jobs=6, sizes=(8, 16, 32)))
def test_scip_and_highs_agree(doc: dict) -> None:
    """Beyond what exhaustive search reaches: HiGHS's weight and, re-measured by the checker, its
    cost, both proven; SCIP's dual bound meets its objective. Each solver's objective is the
    model's value at a solution within its tolerances, which may sit a few 1e-6 (model units)
    below the plan's exact cost: the plans' costs are compared, as in ``test_milp``."""
    snapshot = partly_busy(build(doc), 7)
    weights = Prioritizer().weights_of(snapshot)
    start = {p.job: p for p in BacePipe.cheapest_path().decide(snapshot)}
    scip, highs = (solve_epoch(snapshot, weights, o, start=start) for o in (SCIP, HIGHS))
    assert scip.status == highs.status == Status.OPTIMAL, scip.message
    ours, theirs = (check_plan(snapshot, r.plan.values(), weights) for r in (scip, highs))
    assert ours.feasible, ours.problems
    assert ours.weight == pytest.approx(theirs.weight, rel=1e-9, abs=1e-12)
    unit = 1.0 / scip.objective_scale
    assert ours.cost_usd == pytest.approx(theirs.cost_usd, rel=1e-6, abs=1e-5 * unit)
    assert scip.model_objective == pytest.approx(
        ours.cost_usd * scip.objective_scale, rel=1e-6, abs=1e-5
    )
    assert scip.bound == pytest.approx(scip.model_objective, rel=1e-6, abs=1e-6)


def test_a_time_limit_is_an_incumbent_never_optimal() -> None:
    """30 × 8 × 6 in 1.5 s: SCIP stops at its limit holding at least the greedy start (given
    whole, so it is the incumbent at once), and calls nothing optimal it has not proven."""
    snapshot = load_snapshot(SNAPSHOTS / "30x8x6-seed0.yaml")
    weights = Prioritizer().weights_of(snapshot)
    greedy = {p.job: p for p in BacePipe.cheapest_path().decide(snapshot)}
    floor = check_plan(snapshot, greedy.values(), weights).weight
    options = SolveOptions(solver="scip", time_limit_s=1.5, isolated=False)
    result = solve_epoch(snapshot, weights, options, start=greedy)
    assert result.status in (Status.TIME_LIMIT, Status.OPTIMAL) and result.usable, result.message
    if result.status == Status.OPTIMAL:
        assert result.gap == pytest.approx(0.0, abs=1e-9)
    check = check_plan(snapshot, result.plan.values(), weights)
    assert check.feasible and check.weight >= floor - 1e-9
    assert result.solve_s < 1.5 + 1.0, "SCIP keeps its own limit"


def test_a_gap_above_zero_is_never_called_optimal_unless_closed() -> None:
    snapshot = partly_busy(load_instance(INSTANCES / "hetero4.yaml"), 0)
    weights = Prioritizer().weights_of(snapshot)
    options = SolveOptions(solver="scip", time_limit_s=30.0, mip_gap=0.5, isolated=False)
    result = solve_epoch(snapshot, weights, options)
    assert result.status in (Status.OPTIMAL, Status.WITHIN_GAP) and result.usable
    if result.status == Status.OPTIMAL:
        assert result.gap == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("termination", "found", "status", "message"),
    [
        ("optimal", True, Status.OPTIMAL, None),
        ("gaplimit", True, Status.OPTIMAL, None),
        ("timelimit", True, Status.TIME_LIMIT, None),
        ("timelimit", False, Status.TIME_LIMIT, "time limit reached before any solution"),
        ("infeasible", False, Status.INFEASIBLE, "the solver reports infeasible"),
        ("inforunbd", False, Status.INFEASIBLE, "the solver reports inforunbd"),
        ("unbounded", False, Status.ERROR, "solver ended with unbounded"),
        ("memlimit", True, Status.ERROR, "solver ended with memlimit"),
        ("nodelimit", True, Status.ERROR, "solver ended with nodelimit"),
    ],
)
def test_scip_termination_maps_to_our_status(
    termination: str, found: bool, status: Status, message: str | None
) -> None:
    if message is None:
        assert scip_status(termination, found) == status
        return
    with pytest.raises(SolveFailure, match=message) as failure:
        scip_status(termination, found)
    assert failure.value.status == status and failure.value.termination == termination


def test_ctrl_c_caught_by_scip_is_raised_again() -> None:
    with pytest.raises(KeyboardInterrupt):
        scip_status("userinterrupt", True)


def test_bace_opt_epoch_with_backend_scip(tmp_path: Path) -> None:
    """End to end in a solver process: optimal, never worse than greedy, SCIP's version (not
    pyscipopt's) in provenance, and ``--threads`` accepted (SCIP uses one)."""
    snapshot = partly_busy(load_instance(INSTANCES / "hetero4.yaml"), 1)
    snap, out = tmp_path / "snap.yaml", tmp_path / "epoch.json"
    write_yaml_atomic(snap, snapshot_document(snapshot, tmp_path))
    args = ["epoch", str(snap), "--solver", "both", "--backend", "scip", "--threads", "2"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    report = json.loads(out.read_text())
    milp = report["milp"]
    assert milp["status"] == "optimal" and "fallback" not in milp and milp["check"] == "feasible"
    assert milp["weight_sum"] >= report["greedy"]["weight_sum"] - 1e-9
    assert milp["bound"] == pytest.approx(milp["objective"], rel=1e-6)
    solver = report["provenance"]["solver"]
    scip = pyscipopt.Model()
    version = f"{scip.getMajorVersion()}.{scip.getMinorVersion()}.{scip.getTechVersion()}"
    assert solver["backend"] == "scip" and solver["version"] == version


def test_milp_policy_runs_on_scip() -> None:
    policy = MilpPolicy(
        options=SolveOptions(solver="scip", time_limit_s=10.0),
        greedy=BacePipe.cheapest_path(),
        prioritizer=Prioritizer(),
    )
    run = simulate(load_instance(INSTANCES / "hetero4.yaml"), policy)
    assert sum(r.finished for r in run.records) == 3
    assert policy.stats["milp_solves"] >= 1 and policy.stats["milp_fallbacks"] == 0


@pytest.mark.parametrize("name", ["scip", "scip_persistent", "scip_direct"])
def test_pyomos_scip_names_get_this_backend(name: str) -> None:
    """Through ``SolverFactory`` they would run without our settings (and could hang)."""
    assert isinstance(open_backend(SolveOptions(solver=name)), ScipBackend)
    assert backends.backend_version(name) == backends.backend_version("scip")


def test_scip_is_listed_and_missing_pyscipopt_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    assert backends.backend_problem("scip") is None
    assert "scip" in (backends.backend_problem("nosuchsolver") or "")
    monkeypatch.setattr(backends, "scip_available", lambda: False)
    problem = backends.backend_problem("scip") or ""
    assert problem.startswith("scip is not available here (pip install pyscipopt)")
    assert "available: appsi_highs" in problem


def test_unavailable_scip_below_the_cli_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyomo.contrib.solver.common.base import Availability
    from pyomo.contrib.solver.solvers.scip.scip_persistent import ScipPersistent

    monkeypatch.setattr(ScipPersistent, "available", lambda self: Availability.NotFound)
    snapshot = partly_busy(load_instance(INSTANCES / "tiny3.yaml"), 0)
    report = solve_snapshot(snapshot, "milp", SCIP)
    assert report.milp is not None and report.milp.fallback
    assert report.milp.status == "error" and "install pyscipopt" in (report.milp.message or "")
