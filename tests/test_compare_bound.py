"""`bace-opt compare --bound F.json` end to end (DESIGN §5b): each policy's gaps to the bound file
beside its results, recomputed here by hand from the two files; a bound of another world, or a
file that is no bound, is refused with exit status 2 before any run."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bace_opt.cli import app
from bace_opt.report.columns import BOUND_GAP_COLUMNS, COMPARE_COLUMNS
from tests.conftest import INSTANCES

TINY3 = INSTANCES / "tiny3.yaml"
IN_BOUND = ("bace", "delay-first")
"""Policies the bound file was made with (their JCTs are frontier points)."""
POLICIES = (*IN_BOUND, "cost-first", "random")
"""What is compared: two more; cost-first's JCT (2011 s) falls between two of the frontier's
points, where only the one at the larger JCT may be used."""
REL = 1e-9


@pytest.fixture(scope="module")
def bound_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bound") / "b.json"
    args = ["bound", str(TINY3), "--out", str(out), "--slot-s", "600", "--no-hindsight"]
    result = CliRunner().invoke(
        app, [*args, "--time-limit", "60", "--policies", ",".join(IN_BOUND)]
    )
    assert result.exit_code == 0, result.stderr
    return out


def compare(runner: CliRunner, out: Path, *extra: str) -> Any:
    args = ["compare", str(TINY3), "--policies", ",".join(POLICIES), "--out", str(out)]
    return runner.invoke(app, [*args, "--no-plots", "--no-timing", *extra])


def frontier_at(doc: dict[str, Any], jct: float) -> float:
    """The frontier's rule, by hand: a point (J, c) bounds schedules with average JCT ≤ J, so at
    ``jct`` the points with J ≥ ``jct`` apply, and the total cost bound always does."""
    costs = [p["cost_lower_usd"] for p in doc["frontier"] if p["avg_jct_s"] >= jct]
    return max([doc["total_cost_lower_usd"], *costs])


def test_gaps_are_the_ratios_of_the_two_files(
    runner: CliRunner, tmp_path: Path, bound_file: Path
) -> None:
    result = compare(runner, tmp_path, "--bound", str(bound_file))
    assert result.exit_code == 0, result.stderr
    assert "gaps: ÷ JCT bound" in result.stdout and "lower bound" in result.stdout
    bound = json.loads(bound_file.read_text())
    with (tmp_path / "summary.csv").open() as handle:
        rows = {r["policy"]: r for r in csv.DictReader(handle)}
    assert list(next(iter(rows.values()))) == [*COMPARE_COLUMNS, *BOUND_GAP_COLUMNS]
    assert set(rows) == set(POLICIES)
    for name in POLICIES:
        summary = json.loads((tmp_path / name / "summary.json").read_text())
        assert summary["jobs_never_ran"] == 0, name
        block = summary["bound"]
        jct, cost = summary["avg_jct_s"], summary["total_cost_usd"]
        frontier = frontier_at(bound, jct)
        expected = {
            "jct_lower_s": bound["avg_jct_lower_s"],
            "frontier_cost_lower_usd": frontier,
            "jct_gap": jct / bound["avg_jct_lower_s"],
            "cost_gap": cost / frontier,
            "cost_gap_total": cost / bound["total_cost_lower_usd"],
        }
        for key, value in expected.items():
            assert block[key] == pytest.approx(value, rel=1e-12), (name, key)
            assert float(rows[name][key]) == pytest.approx(value, rel=1e-12), (name, key)
        for key in ("jct_gap", "cost_gap", "cost_gap_total"):
            assert block[key] >= 1 - REL, (name, key)  # no run beats a valid bound
        assert f"{block['jct_gap']:.4f}" in result.stdout, name  # the table's gap columns
        assert f"{block['cost_gap']:.4f}" in result.stdout, name
        assert block["comparable"] is True and block["status"] == bound["status"]
        assert block["path"] == str(bound_file)
        assert len(block["sha256"]) == 64
        if name in IN_BOUND:  # the same rule as bound --policies: the same numbers
            given = bound["policies"][name]
            for key in ("frontier_cost_lower_usd", "jct_gap", "cost_gap", "cost_gap_total"):
                assert block[key] == given[key], (name, key)
    points = {p["avg_jct_s"] for p in bound["frontier"]}
    off = [n for n in POLICIES if float(rows[n]["avg_jct_s"]) not in points]
    assert off, "no policy between the frontier's points: the rule there is untested"
    assert not list(tmp_path.glob(".*"))  # staged: no leftovers


def test_a_bound_of_another_instance_is_refused(
    runner: CliRunner, tmp_path: Path, bound_file: Path
) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(TINY3.read_text().replace("price: 0.05", "price: 0.06"))
    out = tmp_path / "out"
    args = ["compare", str(other), "--policies", "bace", "--out", str(out), "--no-plots"]
    result = runner.invoke(app, [*args, "--bound", str(bound_file)])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("--bound: b.json: a bound of another instance")
    recorded = json.loads(bound_file.read_text())["provenance"]["instance"]["sha256"]
    assert recorded in lines[0] and hashlib.sha256(other.read_bytes()).hexdigest() in lines[0]
    assert not (out / "summary.csv").exists()  # refused before any run


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "--bound: b.json: JSON syntax error"),
        ('{"policy": "bace"}', "--bound: b.json: not a bound file (no avg_jct_lower_s)"),
        ("[1, 2]", "--bound: b.json: expected a mapping"),
        (None, "--bound: "),  # no such file
    ],
)
def test_a_broken_bound_file_is_one_line(
    runner: CliRunner, tmp_path: Path, content: str | None, message: str
) -> None:
    broken = tmp_path / "b.json"
    if content is not None:
        broken.write_text(content)
    result = compare(runner, tmp_path / "out", "--bound", str(broken))
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert "Traceback" not in result.stderr
    if content is None:
        assert "file not found" in lines[0]


def test_bad_fields_are_named(runner: CliRunner, tmp_path: Path, bound_file: Path) -> None:
    doc = json.loads(bound_file.read_text())
    doc["avg_jct_lower_s"] = "fast"
    doc["frontier"][1] = {"avg_jct_s": 1.0}
    broken = tmp_path / "b.json"
    broken.write_text(json.dumps(doc))
    result = compare(runner, tmp_path / "out", "--bound", str(broken))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(": ")[2] for line in lines] == ["avg_jct_lower_s", "frontier[1]"]


def test_without_bound_there_are_no_gap_columns(runner: CliRunner, tmp_path: Path) -> None:
    result = compare(runner, tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "gap" not in result.stdout
    with (tmp_path / "summary.csv").open() as handle:
        header = next(csv.reader(handle))
    assert header == list(COMPARE_COLUMNS)
    assert "bound" not in json.loads((tmp_path / "bace" / "summary.json").read_text())
