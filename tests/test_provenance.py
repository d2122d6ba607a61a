"""How outputs were made (``provenance`` in summary.json, the epoch JSON and sweep records;
``--version``), the pinned versions ``make`` installs, ``epoch --greedy`` and ``bace-opt
example`` (the shipped instances without the repository)."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from importlib import metadata
from pathlib import Path

import yaml
from typer.testing import CliRunner

import bace_opt
from bace_opt.cli import app
from bace_opt.sweeps import load_sweep, run_sweep
from tests.conftest import INSTANCES, ROOT

SNAPSHOT = ROOT / "benchmarks" / "snapshots" / "10x4x6-seed0.yaml"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_version_prints_the_package_python_and_solver(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["bace_opt"] == bace_opt.__version__
    assert lines["highspy"] == metadata.version("highspy")
    assert lines["pyomo"] == metadata.version("pyomo")
    assert re.fullmatch(r"3\.\d+\.\d+", lines["python"])


def test_summary_json_says_how_the_run_was_made(runner: CliRunner, tmp_path: Path) -> None:
    instance = INSTANCES / "tiny3.yaml"
    args = ["run", str(instance), "--policy", "random", "--seed", "7", "--epoch-s", "600"]
    result = runner.invoke(app, [*args, "--weights", "aging=2", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    made = json.loads((tmp_path / "summary.json").read_text())["provenance"]
    assert made["versions"]["bace_opt"] == bace_opt.__version__
    source = made["instance"]
    assert (source["name"], source["path"]) == ("tiny3", str(instance))
    assert source["sha256"] == sha256(instance)
    assert source["data"] == {}, "tiny3 has constant prices"
    assert re.fullmatch(r"[0-9a-f]{64}", source["jobs_sha256"])
    policy = made["policy"]
    assert (policy["name"], policy["seed"], policy["epoch_s"]) == ("random", 7, 600.0)
    assert policy["weights"]["aging_per_hour"] == 2.0
    assert policy["uses"] == ["seed"]
    assert made["solver"] is None, "no MILP in a random run"


def test_the_milp_policy_records_its_solver_and_time_limit(
    runner: CliRunner, tmp_path: Path
) -> None:
    args = ["run", str(INSTANCES / "tiny3.yaml"), "--policy", "milp", "--milp-time-limit", "3"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    made = json.loads((tmp_path / "summary.json").read_text())["provenance"]
    assert made["solver"] == {"backend": "appsi_highs", "version": metadata.version("highspy")}
    assert made["policy"]["milp_time_limit_s"] == 3.0
    assert made["policy"]["epoch_s"] is None, "tiny3 sets no tick; epochs are events only"


def test_the_epoch_json_names_snapshot_greedy_and_solver(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "epoch.json"
    args = ["epoch", str(SNAPSHOT), "--time-limit", "20", "--threads", "1", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    made = json.loads(out.read_text())["provenance"]
    assert made["snapshot"]["sha256"] == sha256(SNAPSHOT)
    assert made["greedy"]["name"] == "bace-cheapest-path"
    solver = made["solver"]
    assert (solver["backend"], solver["version"]) == ("appsi_highs", metadata.version("highspy"))
    assert (solver["time_limit_s"], solver["gap"], solver["threads"]) == (20.0, 0.0, 1)


def test_epoch_greedy_picks_the_heuristic_compared_with_the_milp(
    runner: CliRunner, tmp_path: Path
) -> None:
    docs = {}
    for name in ("bace-cheapest-path", "fifo-firstfit"):
        out = tmp_path / f"{name}.json"
        args = ["epoch", str(SNAPSHOT), "--solver", "both", "--greedy", name, "--out", str(out)]
        result = runner.invoke(app, [*args, "--time-limit", "20", "--threads", "1"])
        assert result.exit_code == 0, result.stderr
        docs[name] = json.loads(out.read_text())
        assert docs[name]["provenance"]["greedy"]["name"] == name
    paper, firstfit = docs["bace-cheapest-path"], docs["fifo-firstfit"]
    assert paper["greedy"]["placements"] != firstfit["greedy"]["placements"]
    # the exact optimum does not depend on which heuristic warm-started it
    assert paper["milp"]["status"] == firstfit["milp"]["status"] == "optimal"
    assert paper["milp"]["weight_sum"] == firstfit["milp"]["weight_sum"]
    assert abs(paper["milp"]["cost_usd"] - firstfit["milp"]["cost_usd"]) < 1e-6


def test_epoch_greedy_refuses_the_milp_and_unknown_names(runner: CliRunner) -> None:
    for name, phrase in (("milp", "exact solver itself"), ("bace-cheapest", "unknown")):
        result = runner.invoke(app, ["epoch", str(SNAPSHOT), "--greedy", name])
        assert result.exit_code == 2
        assert result.stderr.startswith("--greedy: ")
        assert phrase in result.stderr
        assert "Traceback" not in result.stderr


def test_sweep_records_carry_provenance(tmp_path: Path) -> None:
    instance = INSTANCES / "tiny3.yaml"
    doc = {"name": "p", "instances": [str(instance)], "policies": ["sjf"], "grid": {"seeds": [0]}}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(doc))
    outcome = run_sweep(load_sweep(path), tmp_path / "out", workers=1)
    assert outcome.ran == 1
    sweep = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert sweep["provenance"]["inputs"] == {str(instance.resolve()): sha256(instance)}
    assert re.fullmatch(r"[0-9a-f]{64}", sweep["provenance"]["code_sha256"])
    (cell,) = (tmp_path / "out" / "cells").glob("*.json")
    made = json.loads(cell.read_text())["provenance"]
    assert made["instance"]["sha256"] == sha256(instance)
    assert made["policy"]["name"] == "sjf"
    assert made["versions"]["bace_opt"] == bace_opt.__version__


def test_constraints_pin_every_dependency_exactly() -> None:
    """``make`` installs with constraints.txt: every runtime and dev dependency is pinned."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    names = {re.split(r"[<>=\[ ]", spec, maxsplit=1)[0].lower() for spec in wanted}
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    pins = dict(line.lower().split("==") for line in lines if line and not line.startswith("#"))
    assert names <= pins.keys(), f"not pinned: {sorted(names - pins.keys())}"
    assert "-c $(CONSTRAINTS)" in (ROOT / "Makefile").read_text()


def test_example_copies_the_shipped_instances_that_then_run(
    runner: CliRunner, tmp_path: Path
) -> None:
    folder = tmp_path / "examples"
    result = runner.invoke(app, ["example", "--out", str(folder)])
    assert result.exit_code == 0, result.stderr
    assert "geo6.yaml" in result.stdout
    copied = sorted(p.name for p in folder.glob("*.yaml"))
    assert copied == sorted(p.name for p in INSTANCES.glob("*.yaml"))
    # geo6 names its price series: they came along, so it validates outside the repository
    result = runner.invoke(app, ["validate", str(folder / "geo6.yaml")])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(
        app, ["run", str(folder / "tiny3.yaml"), "--policy", "bace", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.stderr


def test_the_wheel_ships_the_examples_and_one_version() -> None:
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]
    assert build["build"]["targets"]["wheel"]["force-include"]["instances"] == "bace_opt/examples"
    assert build["version"]["path"] == "src/bace_opt/version.py"


def test_price_series_and_jobs_are_fingerprinted(runner: CliRunner, tmp_path: Path) -> None:
    """An instance's price CSVs are hashed too (editing one in place shows), and so is its job
    stream (the same for the same jobs, however they were made)."""
    folder = tmp_path / "world"
    runner.invoke(app, ["example", "--out", str(folder)])
    args = ["run", str(folder / "geo6.yaml"), "--policy", "cost-first", "--no-timing"]
    first = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.stderr
    made = json.loads((tmp_path / "a" / "summary.json").read_text())["provenance"]["instance"]
    assert len(made["data"]) == 6, "one price series per geo6 region"
    series = Path(next(iter(made["data"])))
    assert made["data"][str(series)] == sha256(series)
    with series.open("a") as extra:
        extra.write("2030-01-01T00:00:00Z,0.1\n")
    second = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert second.exit_code == 0, second.stderr
    again = json.loads((tmp_path / "b" / "summary.json").read_text())["provenance"]["instance"]
    assert again["sha256"] == made["sha256"], "the YAML did not change"
    assert again["data"][str(series)] != made["data"][str(series)]
    assert again["jobs_sha256"] == made["jobs_sha256"]
