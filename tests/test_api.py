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
