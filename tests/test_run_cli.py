"""`bace-opt run` and `bace-opt compare` end to end: files, columns, determinism, snapshots."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bace_opt.cli import app
from bace_opt.io.read import load_snapshot
from bace_opt.report.columns import JOB_COLUMNS
from tests.conftest import INSTANCES

SUMMARY_KEYS = {
    "policy",
    "jobs",
    "avg_jct_s",
    "p50_jct_s",
    "p95_jct_s",
    "p99_jct_s",
    "makespan_s",
    "total_energy_kwh",
    "total_cost_usd",
    "gpu_utilization",
    "link_utilization",
    "epochs",
    "policy_time_s",
    "avg_wait_s",
    "total_stall_s",
}


def invoke(runner: CliRunner, *args: str) -> None:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.stdout, result.stderr)


def test_run_writes_jobs_and_summary(runner: CliRunner, tmp_path: Path) -> None:
    invoke(
        runner,
        "run",
        str(INSTANCES / "geo6.yaml"),
        "--policy",
        "fifo-firstfit",
        "--out",
        str(tmp_path),
    )
    with (tmp_path / "jobs.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == JOB_COLUMNS
    assert len(rows) == 200
    for row in rows:
        assert row["status"] == "finished"
        assert float(row["jct_s"]) == pytest.approx(float(row["end_s"]) - float(row["arrival_s"]))
        blocks = row["placement"].split(">")
        assert int(row["crossings"]) == len(blocks) - 1
        assert all(":" in b for b in blocks)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary.keys() >= SUMMARY_KEYS
    assert summary["jobs"] == 200 and summary["policy"] == "fifo-firstfit"
    assert summary["total_cost_usd"] == pytest.approx(sum(float(r["cost_usd"]) for r in rows))


@pytest.mark.parametrize("policy", ["random", "delay-first"])
def test_same_seed_gives_byte_identical_files(
    runner: CliRunner, tmp_path: Path, policy: str
) -> None:
    for name in ("a", "b"):
        invoke(
            runner,
            "run",
            str(INSTANCES / "geo6.yaml"),
            "--policy",
            policy,
            "--seed",
            "7",
            "--no-timing",
            "--out",
            str(tmp_path / name),
        )
    for file in ("jobs.csv", "summary.json", "timeline.csv"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_random_depends_on_seed(runner: CliRunner, tmp_path: Path) -> None:
    for seed in ("1", "2"):
        invoke(
            runner,
            "run",
            str(INSTANCES / "geo6.yaml"),
            "--policy",
            "random",
            "--seed",
            seed,
            "--out",
            str(tmp_path / seed),
        )
    assert (tmp_path / "1" / "jobs.csv").read_bytes() != (tmp_path / "2" / "jobs.csv").read_bytes()


def test_compare_table_csv_and_plots(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "compare",
            str(INSTANCES / "tiny3.yaml"),
            "--policies",
            "delay-first,cost-first,sjf",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "delay-first" in result.stdout and "cost-first" in result.stdout
    with (tmp_path / "summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["policy"] for r in rows] == ["delay-first", "cost-first", "sjf"]
    for name in ("jct_cdf.png", "cost_energy.png", "gpus_in_use.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for policy in ("delay-first", "cost-first", "sjf"):
        assert (tmp_path / policy / "jobs.csv").exists()


def test_dumped_snapshots_load_back(runner: CliRunner, tmp_path: Path) -> None:
    dumps = tmp_path / "snaps"
    invoke(
        runner,
        "run",
        str(INSTANCES / "geo6.yaml"),
        "--policy",
        "cost-first",
        "--out",
        str(tmp_path / "out"),
        "--dump-snapshots",
        str(dumps),
    )
    files = sorted(dumps.glob("epoch-*.yaml"))
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert len(files) == summary["epochs"]
    busy = max(files, key=lambda f: f.stat().st_size)
    snapshot = load_snapshot(busy)
    assert snapshot.waiting, "the largest dump should have waiting jobs"
    assert sum(snapshot.free_gpus.values()) <= 672
    result = runner.invoke(app, ["validate", str(files[0])])
    assert result.exit_code == 0 and result.stdout.startswith("ok: snapshot geo6")


def test_unknown_policy_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["run", str(INSTANCES / "tiny3.yaml"), "--policy", "magic", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("--policy: unknown policy 'magic' (known: ")
    assert not any(tmp_path.iterdir())
