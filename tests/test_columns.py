"""The column declarations and the outputs derived from them: a column added in one place but not
the other (declared but not computed, computed but not declared) fails here."""

from __future__ import annotations

import csv
import json
from dataclasses import fields
from pathlib import Path

from rich.console import Console

from bace_opt.io.read import load_instance
from bace_opt.policies import make_policy
from bace_opt.report.columns import (
    COMPARE_COLUMNS,
    JOB,
    JOB_COLUMNS,
    SUMMARY,
    SUMMARY_METRICS,
    SWEEP_METRICS,
    TERMINAL_VIEW,
)
from bace_opt.report.files import job_row, write_run
from bace_opt.report.metrics import RunSummary, summarize
from bace_opt.report.terminal import MISSING, summary_table
from bace_opt.sim import SimulationOptions, simulate
from bace_opt.sim.records import JobRecord, RunTotals
from tests.conftest import INSTANCES


def tiny_run(folder: Path) -> dict[str, object]:
    instance = load_instance(INSTANCES / "tiny3.yaml")
    result = simulate(instance, make_policy("bace"), SimulationOptions(timing=False))
    return write_run(instance, result, folder)


def test_declared_summary_metrics_are_what_summarize_computes() -> None:
    totals = RunTotals(0.0, 1, 0.0, 0.0, 0, None, None)
    summary = summarize("p", [JobRecord("a", 0.0, 1.0, 2.0)], totals)
    assert list(summary.as_dict()) == list(SUMMARY_METRICS)
    assert [f.name for f in fields(RunSummary)] == list(SUMMARY_METRICS)


def test_jobs_csv_header_is_the_declared_job_columns(tmp_path: Path) -> None:
    tiny_run(tmp_path)
    with (tmp_path / "jobs.csv").open() as handle:
        header = next(csv.reader(handle))
    assert tuple(header) == JOB_COLUMNS
    record = JobRecord("a", 0.0)
    assert all(hasattr(record, key) for key in JOB_COLUMNS)
    assert len(job_row(record)) == len(JOB)


def test_summary_json_is_the_metrics_the_instance_and_the_policy_counters(tmp_path: Path) -> None:
    summary = tiny_run(tmp_path)
    written = json.loads((tmp_path / "summary.json").read_text())
    assert written == summary
    extra = set(written) - set(SUMMARY_METRICS)
    assert "instance" in extra and written["instance"] == "tiny3"


def test_as_dict_keeps_types_and_undefined_values() -> None:
    """No finished job: the means are None, the sums Python's int 0 (as summary.json has them)."""
    totals = RunTotals(0.0, 4, 0.0, 0.0, 3, None, None)
    values = summarize("p", [JobRecord("a", 5.0, status="never ran")], totals).as_dict()
    assert values["avg_jct_s"] is None and values["gpu_utilization"] is None
    assert values["total_cost_usd"] == 0 and type(values["total_cost_usd"]) is int
    assert values["jobs_never_ran"] == 1 and values["makespan_s"] == 0.0


def test_every_output_draws_only_declared_summary_metrics() -> None:
    declared = set(SUMMARY_METRICS)
    assert set(COMPARE_COLUMNS) <= declared
    assert {key for key, _ in TERMINAL_VIEW} <= declared
    hour_keys = {c.sweep_key for c in SUMMARY if c.swept}
    assert set(SWEEP_METRICS) == hour_keys


def test_the_terminal_table_formats_as_declared() -> None:
    summary = {"policy": "bace", "avg_jct_s": 5400.0, "total_cost_usd": 1234.5, "epochs": 3}
    console = Console(width=200, record=True)
    console.print(summary_table([summary]))
    text = console.export_text()
    header = [shown.label for _, shown in TERMINAL_VIEW]
    assert all(label in text for label in header)
    row = next(line for line in text.splitlines() if "bace" in line)
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert cells[header.index("avg JCT h")] == "1.50"
    assert cells[header.index("cost $")] == "1,234.50"
    assert cells[header.index("epochs")] == "3"
    assert cells[header.index("policy s")] == MISSING
