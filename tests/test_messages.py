"""Problem lines that say what to do (issue 13, point 5): a snapshot handed to ``run`` or an
instance to ``epoch`` says which command fits, a misspelt key or policy name gets the name that
was probably meant, and a missing file says where it was looked for. Through the CLI, as a user
meets them: exit status 2, the helpful phrase, no traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bace_opt.cli import app
from bace_opt.io.files import DATA_ROOT_ENV
from bace_opt.io.suggest import closest, did_you_mean
from tests.conftest import INSTANCES, ROOT
from tests.test_validate import base_doc, write

SNAPSHOT = ROOT / "benchmarks" / "snapshots" / "10x4x6-seed0.yaml"
TINY3 = INSTANCES / "tiny3.yaml"


@pytest.fixture(autouse=True)
def _no_data_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--data-root`` sets the environment variable in-process; none before or after a test."""
    monkeypatch.setenv(DATA_ROOT_ENV, "")
    monkeypatch.delenv(DATA_ROOT_ENV)


def refused(runner: CliRunner, *args: str) -> list[str]:
    """Run the CLI; it must exit 2 without a traceback; its stderr lines."""
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output + result.stderr
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), result.exception
    return result.stderr.strip().splitlines()


def snapshot_doc() -> dict[str, Any]:
    doc = base_doc()
    doc.update(time_s=60.0, free_gpus={"r1": 8}, residual_gbps={"r1>r2": 2.5})
    return doc


# a) a snapshot where an instance is expected -------------------------------------------------


@pytest.mark.parametrize("command", ["run", "compare"])
def test_snapshot_given_to_run_says_use_epoch(
    runner: CliRunner, tmp_path: Path, command: str
) -> None:
    option = "--policy" if command == "run" else "--policies"
    errors = refused(runner, command, str(SNAPSHOT), option, "bace", "--out", str(tmp_path / "o"))
    assert errors == [
        "time_s, free_gpus, residual_gbps: this file is an epoch snapshot, not an instance; "
        f"solve it with 'bace-opt epoch {SNAPSHOT}'"
    ]
    assert not (tmp_path / "o").exists()


def test_snapshot_given_as_instance_keeps_its_other_problems(
    runner: CliRunner, tmp_path: Path
) -> None:
    doc = snapshot_doc()
    doc["regions"][0]["gpus"] = 0
    path = write(tmp_path, doc, "snap.yaml")
    errors = refused(runner, "run", str(path), "--policy", "bace", "--out", str(tmp_path / "o"))
    assert errors[0].startswith("time_s, free_gpus, residual_gbps: this file is an epoch snapshot")
    assert errors[0].endswith(f"solve it with 'bace-opt epoch {path}'")
    assert errors[1].startswith("regions[0].gpus: Input should be greater than")
    assert len(errors) == 2


# b) an instance where a snapshot is expected -------------------------------------------------


def test_instance_given_to_epoch_says_how_to_make_snapshots(runner: CliRunner) -> None:
    errors = refused(runner, "epoch", str(TINY3), "--solver", "greedy")
    assert errors == [
        "time_s: missing, so this file is an instance, not an epoch snapshot; "
        f"'bace-opt run {TINY3} --policy bace --out DIR --dump-snapshots DIR2' writes one "
        "snapshot per epoch into DIR2, or add 'time_s: SECONDS' (and optionally free_gpus, "
        "residual_gbps) to a copy of it"
    ]


def test_the_advice_for_epoch_works(runner: CliRunner, tmp_path: Path) -> None:
    """What the line of (b) says to run makes a file ``epoch`` accepts."""
    dumps = tmp_path / "snaps"
    args = ["run", str(TINY3), "--policy", "bace", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, [*args, "--dump-snapshots", str(dumps), "--no-timing"])
    assert result.exit_code == 0, result.stderr
    first = sorted(dumps.glob("epoch-*.yaml"))[0]
    result = runner.invoke(app, ["epoch", str(first), "--solver", "greedy"])
    assert result.exit_code == 0, result.stderr


def test_a_snapshot_without_time_s_is_still_a_snapshot(runner: CliRunner, tmp_path: Path) -> None:
    doc = snapshot_doc()
    del doc["time_s"]
    errors = refused(runner, "epoch", str(write(tmp_path, doc)), "--solver", "greedy")
    assert errors == ["time_s: Field required"]


# c) unknown keys: did you mean ---------------------------------------------------------------


def _tiny3_with(path: str, key: str) -> dict[str, Any]:
    """tiny3 with the key ``path`` (``jobs[2].stages``) renamed to ``key``."""
    doc: dict[str, Any] = yaml.safe_load(TINY3.read_text())
    parts = path.replace("[", ".").replace("]", "").split(".")
    target: Any = doc
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    target[key] = target.pop(parts[-1])
    return doc


@pytest.mark.parametrize(
    ("path", "key", "expected"),
    [
        ("name", "nme", "nme: unknown key; did you mean 'name'?"),
        ("mfu", "MFU", "MFU: unknown key; did you mean 'mfu'?"),
        ("regions[0].gpus", "gpu", "regions[0].gpu: unknown key; did you mean 'gpus'?"),
        ("jobs[2].stages", "stage", "jobs[2].stage: unknown key; did you mean 'stages'?"),
        (
            "links[1].latency_ms",
            "latency",
            "links[1].latency: unknown key; did you mean 'latency_ms'?",
        ),
        (
            "gpu_types[0].power_kw",
            "power",
            "gpu_types[0].power: unknown key; did you mean 'power_kw'?",
        ),
    ],
)
def test_unknown_key_suggests_the_field(
    runner: CliRunner, tmp_path: Path, path: str, key: str, expected: str
) -> None:
    errors = refused(runner, "validate", str(write(tmp_path, _tiny3_with(path, key))))
    assert expected in errors, errors


def test_top_level_epoch_suggests_epoch_s(runner: CliRunner, tmp_path: Path) -> None:
    doc = base_doc()
    doc["epoch"] = 300
    assert refused(runner, "validate", str(write(tmp_path, doc))) == [
        "epoch: unknown key; did you mean 'epoch_s'?"
    ]


def test_unknown_key_without_a_close_match(runner: CliRunner, tmp_path: Path) -> None:
    doc = base_doc()
    doc["colour"] = "red"  # 13 top-level keys: too many to list
    doc["links"][0]["zzz"] = 1  # 5 keys: listed
    assert sorted(refused(runner, "validate", str(write(tmp_path, doc)))) == [
        "colour: unknown key",
        "links[0].zzz: unknown key; allowed: a, b, directed, gbps, latency_ms",
    ]


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (
            {"series_cvs": "p.csv"},
            "regions[0].price.series_cvs: unknown key; did you mean 'series_csv'?",
        ),
        (
            {"monthly": [1]},
            "regions[0].price.monthly: unknown key; allowed: hourly_utc, series_csv",
        ),
    ],
)
def test_unknown_price_key_looks_at_every_price_kind(
    runner: CliRunner, tmp_path: Path, price: dict[str, Any], expected: str
) -> None:
    doc = base_doc()
    doc["regions"][0]["price"] = price
    assert expected in refused(runner, "validate", str(write(tmp_path, doc)))


def test_unknown_snapshot_key_suggests_the_snapshot_field(
    runner: CliRunner, tmp_path: Path
) -> None:
    doc = snapshot_doc()
    doc["free_gpu"] = doc.pop("free_gpus")
    errors = refused(runner, "epoch", str(write(tmp_path, doc)), "--solver", "greedy")
    assert errors == ["free_gpu: unknown key; did you mean 'free_gpus'?"]


def test_unknown_workload_key(runner: CliRunner, tmp_path: Path) -> None:
    doc = yaml.safe_load((INSTANCES / "poisson-spec.yaml").read_text())
    arrivals = doc["workload"]["arrivals"]
    arrivals["rate_per_hr"] = arrivals.pop("rate_per_hour")
    errors = refused(runner, "validate", str(write(tmp_path, doc)))
    assert "workload.arrivals.rate_per_hr: unknown key; did you mean 'rate_per_hour'?" in (errors)


def test_closest_and_did_you_mean() -> None:
    assert closest("epoch", ["epoch_s", "name"]) == "epoch_s"
    assert closest("Stages", ["stages", "name"]) == "stages"
    assert closest("colour", ["epoch_s", "name"]) is None
    assert did_you_mean("x", ["b", "a"]) == "; allowed: a, b"
    assert did_you_mean("x", [str(i) for i in range(20)]) == ""


# d) policy names and policy options ----------------------------------------------------------


def test_compare_names_the_option_and_the_closest_policy(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "o"
    errors = refused(
        runner, "compare", str(TINY3), "--policies", "bace,bace-cheapest,magic", "--out", str(out)
    )
    assert len(errors) == 2
    assert errors[0].startswith(
        "--policies: unknown policy 'bace-cheapest' (did you mean 'bace-cheapest-path'?); known: "
    )
    assert errors[1].startswith("--policies: unknown policy 'magic' (known: bace, ")
    assert not out.exists()


def test_run_names_the_option_and_the_closest_policy(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "o"
    errors = refused(runner, "run", str(TINY3), "--policy", "delay_first", "--out", str(out))
    assert errors[0].startswith(
        "--policy: unknown policy 'delay_first' (did you mean 'delay-first'?); known: bace, "
    )
    assert not out.exists()


def test_compare_needs_a_policy(runner: CliRunner, tmp_path: Path) -> None:
    errors = refused(runner, "compare", str(TINY3), "--policies", " , ", "--out", str(tmp_path))
    assert errors == ["--policies: give at least one policy name"]


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ("agin=1", "--weights: unknown weight 'agin' (did you mean 'aging'?); known: aging, "),
        ("colour=1", "--weights: unknown weight 'colour' (known: aging, length, bandwidth)"),
        ("aging", "--weights: aging needs a value, e.g. aging=1"),
        ("aging=fast", "--weights: aging must be a number, not 'fast'"),
        ("length=-1", "--weights: length must be a number in [0, 1e+06]"),
    ],
)
def test_weights_errors_name_the_option(
    runner: CliRunner, tmp_path: Path, weights: str, expected: str
) -> None:
    args = ["run", str(TINY3), "--policy", "bace", "--weights", weights, "--out", str(tmp_path)]
    errors = refused(runner, *args)
    assert errors[0].startswith(expected), errors


# e) missing files show their full path -------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "compare", "epoch", "validate", "info"])
def test_missing_input_file_shows_its_full_path(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    extra = {
        "run": ["--policy", "bace", "--out", "o"],
        "compare": ["--policies", "bace", "--out", "o"],
        "epoch": ["--solver", "greedy"],
    }.get(command, [])
    errors = refused(runner, command, "nope.yaml", *extra)
    assert errors == [f"{tmp_path.resolve() / 'nope.yaml'}: file not found"]


def test_unknown_model_is_named(runner: CliRunner, tmp_path: Path) -> None:
    doc = base_doc()
    doc["jobs"][0]["model"] = "gpt5"
    errors = refused(runner, "validate", str(write(tmp_path, doc)))
    assert errors == ["jobs[0].model: unknown model 'gpt5' (not inline and not in models/)"]


def test_missing_price_csv_shows_where_it_was_looked_for(runner: CliRunner, tmp_path: Path) -> None:
    doc = base_doc()
    doc["regions"][1]["price"] = {"series_csv": "prices/none.csv"}
    errors = refused(runner, "validate", str(write(tmp_path, doc)))
    assert errors == [
        "regions[1].price.series_csv: file not found: prices/none.csv "
        f"(looked for {tmp_path.resolve() / 'prices' / 'none.csv'}: "
        "relative to the instance file's folder)"
    ]


# f) a snapshot's relative price path: relative to what --------------------------------------


def _snapshot_with_price(folder: Path, series: str) -> Path:
    doc = snapshot_doc()
    doc["regions"][0]["price"] = {"series_csv": series}
    folder.mkdir(parents=True, exist_ok=True)
    return write(folder, doc, "snap.yaml")


def test_snapshot_price_missing_is_relative_to_its_folder(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = _snapshot_with_price(tmp_path / "snaps", "prices/p.csv")
    errors = refused(runner, "epoch", str(path), "--solver", "greedy")
    full = (tmp_path / "snaps" / "prices" / "p.csv").resolve()
    assert errors == [
        "regions[0].price.series_csv: file not found: prices/p.csv "
        f"(looked for {full}: relative to the instance file's folder)"
    ]


def test_snapshot_price_missing_with_data_root_says_not_relative_to_it(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = _snapshot_with_price(tmp_path / "snaps", "prices/p.csv")
    root = tmp_path.resolve()
    errors = refused(runner, "--data-root", str(root), "epoch", str(path), "--solver", "greedy")
    full = root / "snaps" / "prices" / "p.csv"
    assert errors == [
        "regions[0].price.series_csv: file not found: prices/p.csv "
        f"(looked for {full}: relative to the instance file's folder, not to --data-root {root})"
    ]


def test_snapshot_price_outside_its_folder_is_refused_naming_the_folder(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = _snapshot_with_price(tmp_path / "snaps", "../p.csv")
    errors = refused(runner, "epoch", str(path), "--solver", "greedy")
    assert errors == [
        f"regions[0].price.series_csv: ../p.csv is outside the instance file's folder "
        f"{tmp_path / 'snaps'}; data paths are relative to it (use --data-root DIR to allow "
        "files under DIR)"
    ]


def test_price_link_outside_the_data_root_names_the_data_root(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "outside.csv").write_text("utc_time,usd_per_kwh\n")
    root = (tmp_path / "root").resolve()
    path = _snapshot_with_price(root / "snaps", "link.csv")
    (root / "snaps" / "link.csv").symlink_to(tmp_path / "outside.csv")
    errors = refused(runner, "--data-root", str(root), "epoch", str(path), "--solver", "greedy")
    assert errors == [
        f"regions[0].price.series_csv: link.csv resolves outside --data-root {root} "
        "(symbolic links followed)"
    ]


def test_price_link_outside_the_folder_names_the_folder(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "outside.csv").write_text("utc_time,usd_per_kwh\n")
    path = _snapshot_with_price(tmp_path / "snaps", "link.csv")
    (tmp_path / "snaps" / "link.csv").symlink_to(tmp_path / "outside.csv")
    errors = refused(runner, "validate", str(path))
    folder = (tmp_path / "snaps").resolve()
    assert errors == [
        f"regions[0].price.series_csv: link.csv resolves outside the instance file's folder "
        f"{folder}; use --data-root DIR to allow files under DIR (symbolic links followed)"
    ]
