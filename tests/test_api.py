"""The Python surface: the README's snippet runs as written, and its numbers are the CLI's."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import bace_opt as bo
from bace_opt.cli import app
from bace_opt.errors import InputError

ROOT = Path(__file__).parent.parent


def test_the_readme_snippet_runs(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Python", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.S)
    assert snippet is not None
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(snippet.group(1), "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    printed = capsys.readouterr().out
    assert "optimal" in printed and "bace" in printed


def test_simulate_equals_the_cli_run(runner: CliRunner, tmp_path: Path) -> None:
    instance = ROOT / "instances" / "hetero4.yaml"
    run = bo.simulate(bo.load(instance), "sjf", timing=False)
    args = ["run", str(instance), "--policy", "sjf", "--out", str(tmp_path), "--no-timing"]
    assert runner.invoke(app, args).exit_code == 0
    assert run.summary == json.loads((tmp_path / "summary.json").read_text())
    assert (
        run.jobs.to_csv(index=False, na_rep="", float_format=None).splitlines()[0]
        == ((tmp_path / "jobs.csv").read_text().splitlines()[0])
    )
    assert len(run.jobs) == len(bo.load(instance).jobs)


def test_compare_is_one_row_per_policy() -> None:
    table = bo.compare(bo.load(ROOT / "instances" / "tiny3.yaml"), ["bace", "fifo-firstfit"])
    assert list(table.policy) == ["bace", "fifo-firstfit"]
    assert (table.avg_jct_s > 0).all()


def test_bad_calls_are_input_errors() -> None:
    world = bo.load(ROOT / "instances" / "tiny3.yaml")
    with pytest.raises(InputError, match="needs a snapshot"):
        bo.solve_epoch(world)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown policy"):
        bo.compare(world, ["bace", "nope"])


def test_bound_equals_the_cli_and_compare_takes_its_gaps(runner: CliRunner, tmp_path: Path) -> None:
    instance = ROOT / "instances" / "tiny3.yaml"
    world = bo.load(instance)
    result = bo.bound(world, slot_s=600, policies=["bace", "sjf"], hindsight=False)
    out = tmp_path / "b.json"
    args = ["bound", str(instance), "--out", str(out), "--slot-s", "600", "--no-hindsight"]
    assert runner.invoke(app, [*args, "--policies", "bace,sjf"]).exit_code == 0
    cli = json.loads(out.read_text())
    mine = result.to_json()
    for key in ("avg_jct_lower_s", "total_cost_lower_usd"):
        assert mine[key] == pytest.approx(cli[key], rel=1e-9)
    assert len(mine["frontier"]) == len(cli["frontier"])
    for a, b in zip(mine["frontier"], cli["frontier"], strict=True):
        assert (a["avg_jct_s"], a["cost_lower_usd"]) == pytest.approx(
            (b["avg_jct_s"], b["cost_lower_usd"]), rel=1e-9
        )
    assert mine["policies"].keys() == cli["policies"].keys() == {"bace", "sjf"}
    table = bo.compare(world, ["bace", "sjf"], bound=out).set_index("policy")
    for name in ("bace", "sjf"):
        assert table.loc[name, "jct_gap"] == pytest.approx(cli["policies"][name]["jct_gap"])
        assert table.loc[name, "cost_gap"] == pytest.approx(cli["policies"][name]["cost_gap"])
        assert table.loc[name, "jct_gap"] >= 1 - 1e-9
    with pytest.raises(InputError, match="bound"):
        bo.compare(bo.load(ROOT / "instances" / "hetero4.yaml"), ["bace"], bound=out)
