"""A simulation sweep with ``bounds:``: one bound per world (not per policy), skipped on rerun,
the gaps ``compare --bound`` gives, the report's gap tables and frontier figure, and refusals of
bad ``bounds:`` values."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from bace_opt.bounds.result import frontier_cost_at
from bace_opt.cli import app
from bace_opt.report.columns import BOUND_GAP_COLUMNS
from bace_opt.sweeps import bounds as sweep_bounds
from bace_opt.sweeps import load_sweep, report, run_sweep
from bace_opt.sweeps.bounds import unique, world_cells
from bace_opt.sweeps.runner import SweepOutcome
from tests.conftest import INSTANCES

TINY3 = str(INSTANCES / "tiny3.yaml")
BOUNDS = {"slot_s": 600}


def write_sweep(folder: Path, **doc: object) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump({"name": "b", **doc}))
    return path


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SweepOutcome, SweepOutcome]:
    """tiny3, bace and sjf at two bandwidths, one seed, with bounds: run on two local processes
    (bound tasks travel to workers), then run again."""
    folder = tmp_path_factory.mktemp("sweep")
    path = write_sweep(
        folder,
        instances=[TINY3],
        policies=["bace", "sjf"],
        grid={"bandwidth_scale": [0.5, 1.0], "seeds": [0]},
        bounds=BOUNDS,
    )
    first = run_sweep(load_sweep(path), folder / "out", workers=2)
    again = run_sweep(load_sweep(path), folder / "out")
    return folder / "out", first, again


def test_one_bound_per_world_computed_once_and_skipped_on_rerun(
    swept: tuple[Path, SweepOutcome, SweepOutcome],
) -> None:
    out, first, again = swept
    assert (first.cells, first.ran, first.failed) == (4 + 2, 6, 0)
    assert (again.skipped, again.ran) == (6, 0)
    bounds = pd.read_csv(out / "bounds.csv")
    assert sorted(bounds.bandwidth_scale) == [0.5, 1.0] and bounds.key.nunique() == 2
    assert set(bounds.status) == {"optimal"}
    for key in bounds.key:
        record = json.loads((out / "cells" / f"{key}.json").read_text())
        assert record["bound"]["frontier"] == json.loads(bounds.frontier[bounds.key == key].iloc[0])
        assert record["bound"]["slot_s"] == 600
    assert len(pd.read_parquet(out / "results.parquet")) == 4, "bound cells are not results"


def test_weights_and_limits_share_a_world_and_idle_seeds_share_a_bound(tmp_path: Path) -> None:
    path = write_sweep(
        tmp_path,
        instances=[TINY3, str(INSTANCES / "poisson-spec.yaml")],
        policies=["bace", "milp", "sjf"],
        grid={
            "seeds": [0, 1],
            "weights": [{}, {"aging_per_hour": 1.0}],
            "milp_time_limit_s": [1, 2],
        },
        bounds={},
    )
    worlds = world_cells(load_sweep(path))
    assert len(worlds) == 2 * 2, "instance × seed, whatever the policies, weights and limits"
    # tiny3's jobs are explicit: its seeds are one world; poisson-spec draws per seed.
    assert len(unique(worlds)) == 1 + 2
    assert world_cells(load_sweep(write_sweep(tmp_path, instances=[TINY3], policies=["sjf"]))) == []


def test_gaps_are_compare_bounds_rule_and_no_policy_beats_the_bound(
    swept: tuple[Path, SweepOutcome, SweepOutcome],
) -> None:
    out, _, _ = swept
    table = pd.read_parquet(out / "results.parquet")
    bounds = pd.read_csv(out / "bounds.csv").set_index("bandwidth_scale")
    assert set(BOUND_GAP_COLUMNS) <= set(table.columns)
    for _, row in table.iterrows():
        bound = bounds.loc[row.bandwidth_scale]
        points = [(p["avg_jct_s"], p["cost_lower_usd"]) for p in json.loads(bound.frontier)]
        at = frontier_cost_at(points, row.avg_jct_s, bound.total_cost_lower_usd)
        assert at is not None
        assert row.jct_lower_s == bound.avg_jct_lower_s
        assert row.frontier_cost_lower_usd == pytest.approx(at, rel=1e-12)
        assert row.jct_gap == pytest.approx(row.avg_jct_s / bound.avg_jct_lower_s, rel=1e-12)
        assert row.cost_gap == pytest.approx(row.total_cost_usd / at, rel=1e-12)
        total = row.total_cost_usd / bound.total_cost_lower_usd
        assert row.cost_gap_total == pytest.approx(total, rel=1e-12)
        assert row.avg_jct_s >= bound.avg_jct_lower_s * (1 - 1e-9), row.policy
        assert row.total_cost_usd >= at * (1 - 1e-6), row.policy
    csv = pd.read_csv(out / "results.csv")
    assert csv.jct_gap.tolist() == pytest.approx(table.jct_gap.tolist(), rel=1e-12)


def test_gaps_equal_compare_bound_on_the_same_world(
    swept: tuple[Path, SweepOutcome, SweepOutcome], tmp_path: Path, runner: CliRunner
) -> None:
    out, _, _ = swept
    bounds = pd.read_csv(out / "bounds.csv")
    key = bounds.key[bounds.bandwidth_scale == 1.0].iloc[0]  # bandwidth ×1: tiny3 as written
    bound_file = tmp_path / "tiny3.bound.json"
    record = json.loads((out / "cells" / f"{key}.json").read_text())
    bound_file.write_text(json.dumps(record["bound"]))
    args = ["compare", TINY3, "--policies", "bace,sjf", "--no-timing", "--out", str(tmp_path)]
    result = runner.invoke(app, [*args, "--bound", str(bound_file)])
    assert result.exit_code == 0, result.stderr
    theirs = pd.read_csv(tmp_path / "summary.csv").set_index("policy")
    table = pd.read_parquet(out / "results.parquet")
    ours = table[table.bandwidth_scale == 1.0].set_index("policy")
    for column in BOUND_GAP_COLUMNS:
        assert ours[column].to_dict() == pytest.approx(theirs[column].to_dict(), rel=1e-9)


def test_report_writes_the_gap_tables_and_the_frontier_figure(
    swept: tuple[Path, SweepOutcome, SweepOutcome],
) -> None:
    out, _, _ = swept
    page = report(out).read_text()
    folder = out / "report"
    gaps = pd.read_csv(folder / "gaps.csv")
    table = pd.read_parquet(out / "results.parquet")
    assert len(gaps) == 2 * 2 and (gaps.seeds_with_gap == 1).all()
    for _, row in gaps.iterrows():
        cell = table[(table.policy == row.policy) & (table.bandwidth_scale == row.bandwidth_scale)]
        assert row.jct_gap_median == pytest.approx(cell.jct_gap.iloc[0])
        assert row.cost_gap_median == pytest.approx(cell.cost_gap.iloc[0])
    assert (folder / "tiny3-frontier.png").stat().st_size > 5_000
    assert "JCT gap (average JCT ÷ JCT bound): median over seeds" in page
    assert "tiny3: policies&#x27; average JCT and cost against the bounds" in page
    assert page.count("data:image/png;base64,") == 4  # reductions, vs bandwidth, CDF, frontier


def test_a_sweep_without_bounds_has_no_bound_outputs(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, instances=[TINY3], policies=["sjf"])
    outcome = run_sweep(load_sweep(path), tmp_path / "out")
    assert (outcome.cells, outcome.ran) == (1, 1)
    assert not (tmp_path / "out" / "bounds.csv").exists()
    assert not set(BOUND_GAP_COLUMNS) & set(outcome.table.columns)
    report(tmp_path / "out")
    assert not (tmp_path / "out" / "report" / "gaps.csv").exists()
    assert not list((tmp_path / "out" / "report").glob("*frontier*"))


def test_bad_bounds_values_exit_2_naming_each_field(tmp_path: Path, runner: CliRunner) -> None:
    bad = {"slot_s": 0, "time_limit_s": -5, "hindsight": "yes", "window": 3}
    path = write_sweep(tmp_path, instances=[TINY3], policies=["sjf"], bounds=bad)
    result = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    for field in ("slot_s", "time_limit_s", "hindsight", "window"):
        assert any(line.startswith(f"bounds.{field}:") for line in lines), (field, lines)
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists(), "nothing runs before the file is right"
    path = write_sweep(tmp_path, instances=[TINY3], policies=["sjf"], bounds=[600])
    result = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and result.stderr.startswith("bounds:"), result.stderr


def test_a_failing_bound_leaves_its_gaps_empty_and_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_sweep(tmp_path, instances=[TINY3], policies=["sjf"], bounds=BOUNDS)

    def broken(*_: object) -> None:
        raise RuntimeError("no LP today")

    monkeypatch.setattr(sweep_bounds, "bound_instance", broken)
    first = run_sweep(load_sweep(path), tmp_path / "out")
    assert (first.ran, first.failed) == (2, 1)
    assert "no LP today" in caplog.text
    bounds = pd.read_csv(tmp_path / "out" / "bounds.csv")
    assert bounds.status.tolist() == ["error"] and "no LP today" in bounds.error.iloc[0]
    assert first.table.status.tolist() == ["ok"] and first.table.jct_gap.isna().all()
    report(tmp_path / "out")  # a world without a bound: no frontier to draw, no crash
    monkeypatch.undo()
    again = run_sweep(load_sweep(path), tmp_path / "out")
    assert (again.ran, again.failed) == (1, 0)
    assert again.table.jct_gap.notna().all()
