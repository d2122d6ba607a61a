"""Hostile input: files that name other files, repeat keys, carry numbers the model cannot
compute, and output paths that are not files. Each case failed before the reliability pass;
each must now be exit 2 with the field named, no traceback, nothing echoed, nothing replaced."""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bace_opt.cli import app
from bace_opt.errors import InputError
from bace_opt.io.files import DATA_ROOT_ENV
from bace_opt.io.read import field_path, load_instance, parse_instance
from bace_opt.io.write import json_text
from bace_opt.io.yamlload import load_yaml
from bace_opt.policies import make_policy
from bace_opt.sim import simulate
from tests.test_validate import base_doc, run_validate, write

SECRET = "root:$6$do-not-echo-me:19000:0:99999:7:::"
PRICES = "utc_time,usd_per_kwh\n2023-01-01T00:00:00Z,0.1\n2023-01-01T01:00:00Z,0.2\n"


@pytest.fixture(autouse=True)
def _no_data_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """No data root before each test, and none after: ``--data-root`` sets the environment
    variable in-process, and monkeypatch restores only what it touched."""
    monkeypatch.setenv(DATA_ROOT_ENV, "")
    monkeypatch.delenv(DATA_ROOT_ENV)


def _with_price(tmp_path: Path, series: str, folder: str = "inst") -> Path:
    doc = base_doc()
    doc["regions"][0]["price"] = {"series_csv": series}
    (tmp_path / folder).mkdir(exist_ok=True)
    return write(tmp_path / folder, doc)


# 4. series_csv may not read any file ------------------------------------------------------------


@pytest.mark.parametrize("name", ["ABS", "../secret.csv", "sub/../../secret.csv"])
def test_price_path_may_not_leave_the_folder(runner: CliRunner, tmp_path: Path, name: str) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text(SECRET + "\n")
    path = _with_price(tmp_path, str(secret) if name == "ABS" else name)
    code, errors, _ = run_validate(runner, path)
    assert code == 2
    assert len(errors) == 1 and errors[0].startswith("regions[0].price.series_csv: ")
    assert "outside the instance file's folder" in errors[0] and "--data-root" in errors[0]
    assert "do-not-echo" not in "".join(errors)


def test_symlink_out_of_the_folder_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "secret.csv").write_text(SECRET + "\n")
    path = _with_price(tmp_path, "link.csv")
    (tmp_path / "inst" / "link.csv").symlink_to(tmp_path / "secret.csv")
    code, errors, _ = run_validate(runner, path)
    assert code == 2 and "resolves outside" in errors[0]
    assert "do-not-echo" not in "".join(errors)


def test_data_root_opts_in_and_content_is_never_echoed(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "secret.csv").write_text(SECRET + "\n")
    (tmp_path / "good.csv").write_text(PRICES)
    bad = _with_price(tmp_path, "../secret.csv")
    result = runner.invoke(app, ["--data-root", str(tmp_path), "validate", str(bad)])
    assert result.exit_code == 2
    assert "needs columns utc_time,usd_per_kwh" in result.stderr
    assert "do-not-echo" not in result.stderr + result.stdout
    good = _with_price(tmp_path, str(tmp_path / "good.csv"), folder="other")
    result = runner.invoke(app, ["--data-root", str(tmp_path), "validate", str(good)])
    assert result.exit_code == 0, result.stderr


def test_data_root_must_be_a_folder(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["--data-root", str(tmp_path / "no"), "validate", "x.yaml"])
    assert result.exit_code == 2 and "--data-root" in result.stderr


@pytest.mark.parametrize("kind", ["fifo", "dir"])
def test_price_file_must_be_a_regular_file(runner: CliRunner, tmp_path: Path, kind: str) -> None:
    path = _with_price(tmp_path, "p.csv")
    target = tmp_path / "inst" / "p.csv"
    os.mkfifo(target) if kind == "fifo" else target.mkdir()
    code, errors, _ = run_validate(runner, path)  # a FIFO would block a reader: never opened
    assert code == 2
    expected = "a FIFO" if kind == "fifo" else "a directory"
    assert errors == [f"regions[0].price.series_csv: p.csv: is {expected}, not a regular file"]


def test_instance_file_must_be_a_regular_file(runner: CliRunner, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.yaml")
    code, errors, _ = run_validate(runner, tmp_path / "x.yaml")
    assert code == 2 and errors == ["x.yaml: is a FIFO, not a regular file"]


# 5. duplicate keys ------------------------------------------------------------------------------


def test_duplicate_yaml_keys_are_refused(runner: CliRunner, tmp_path: Path) -> None:
    text = yaml.safe_dump(base_doc(), sort_keys=False)
    text = text.replace("gpus: 16\n", "gpus: 16\n  gpus: 1\n", 1) + "jobs: []\n"
    (tmp_path / "dup.yaml").write_text(text)
    code, errors, _ = run_validate(runner, tmp_path / "dup.yaml")
    assert code == 2
    assert [e.split(" (line")[0] for e in errors] == [
        "jobs: duplicate key",
        "regions[0].gpus: duplicate key",
    ]


def test_duplicate_json_keys_are_refused(runner: CliRunner, tmp_path: Path) -> None:
    text = json.dumps(base_doc())
    text = text.replace('"gpus": 16,', '"gpus": 16, "gpus": 1,', 1)
    (tmp_path / "dup.json").write_text(text)
    code, errors, _ = run_validate(runner, tmp_path / "dup.json")
    assert code == 2 and errors == ["regions[0].gpus: duplicate key"]


def test_non_standard_json_constants_are_refused(runner: CliRunner, tmp_path: Path) -> None:
    text = json.dumps(base_doc()).replace('"pue": 1.2', '"pue": NaN', 1)
    (tmp_path / "nan.json").write_text(text)
    code, errors, _ = run_validate(runner, tmp_path / "nan.json")
    assert code == 2 and errors[0].startswith("regions[0].pue: ")


def test_duplicates_through_anchors_fall_back_to_pyyaml() -> None:
    doc, problems = load_yaml("a: &x {b: 1}\nc: *x\nc: 2\n", field_path)
    assert problems == ["c: duplicate key (line 3)"]
    doc, problems = load_yaml("a: &x {b: 1}\nc: *x\n", field_path)
    assert doc == {"a": {"b": 1}, "c": {"b": 1}} and not problems


yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=10)
    | st.datetimes(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(value=yaml_values, flow=st.booleans())
def test_event_reader_equals_pyyaml(value: Any, flow: bool) -> None:
    """The fast reader gives exactly what ``yaml.safe_load`` gives, for any plain document."""
    text = yaml.safe_dump({"v": value}, default_flow_style=flow)
    doc, problems = load_yaml(text, field_path)
    assert not problems
    assert doc == yaml.safe_load(text)


# 6. standard JSON out ---------------------------------------------------------------------------


def test_written_json_is_standard() -> None:
    text = json_text({"bound": -math.inf, "gap": math.nan, "cost": 1.5, "rows": [math.inf]})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(c)) == {
        "bound": None,
        "cost": 1.5,
        "gap": None,
        "rows": [None],
    }


# 7. numbers the model cannot compute ------------------------------------------------------------


def _job(doc: dict[str, Any]) -> dict[str, Any]:
    job: dict[str, Any] = doc["jobs"][0]
    return job


EXTREMES = [
    ("gpu_types[0].peak_tflops", lambda d: d["gpu_types"][0].update(peak_tflops=1e308)),
    ("gpu_types[0].peak_tflops", lambda d: d["gpu_types"][0].update(peak_tflops=1e-308)),
    ("mfu", lambda d: d.update(mfu=1e-308)),
    ("links[0].gbps", lambda d: d["links"][0].update(gbps=1e308)),
    ("gpu_types[0].power_kw", lambda d: d["gpu_types"][0].update(power_kw=1e308)),
    ("regions[0].price", lambda d: d["regions"][0].update(price=1e308)),
    ("epoch_s", lambda d: d.update(epoch_s=1e-308)),
    ("jobs[0].arrival_s", lambda d: _job(d).update(arrival_s=1e308)),
    ("jobs[0].arrival_s", lambda d: _job(d).update(arrival_s=1e12)),
    ("jobs[0].iterations", lambda d: _job(d).update(iterations=10**12)),
    ("regions[0].gpus", lambda d: None),  # 5000 digits, spelled in the text below
]


@pytest.mark.parametrize(("field", "change"), EXTREMES, ids=[f for f, _ in EXTREMES])
def test_extreme_numbers_are_refused_by_field(
    runner: CliRunner, tmp_path: Path, field: str, change: Any
) -> None:
    doc = base_doc()
    change(doc)
    if field == "regions[0].gpus":  # 5000 digits: PyYAML cannot even write it, so spell it
        text = yaml.safe_dump(base_doc(), sort_keys=False).replace(
            "gpus: 16", "gpus: " + "9" * 5000, 1
        )
        (tmp_path / "i.yaml").write_text(text)
        code, errors, _ = run_validate(runner, tmp_path / "i.yaml")
        assert code == 2 and errors[0].startswith("i.yaml: ") and "digits" in errors[0]
        return
    code, errors, _ = run_validate(runner, write(tmp_path, doc))
    assert code == 2, errors
    assert any(e.startswith(f"{field}:") or e.startswith(f"{field}.") for e in errors), errors


numbers = st.sampled_from([0.0, -1.0, 1e-308, 1e-9, 1e-3, 1.0, 1e6, 1e12, 1e308, math.inf])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_whatever_validates_also_simulates(data: st.DataObject) -> None:
    """Any mix of extreme numbers is refused, or the run ends with finite numbers."""
    doc = copy.deepcopy(base_doc())
    doc["epoch_s"] = 300.0
    fields = [
        (doc["gpu_types"][0], "peak_tflops"),
        (doc["gpu_types"][0], "power_kw"),
        (doc, "mfu"),
        (doc["links"][0], "gbps"),
        (doc["links"][0], "latency_ms"),
        (doc["regions"][0], "price"),
        (doc, "epoch_s"),
        (_job(doc), "arrival_s"),
    ]
    for owner, key in data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3)):
        owner[key] = data.draw(numbers)
    try:
        instance = parse_instance(doc, Path("."))
    except InputError as exc:
        assert exc.problems and all(":" in p for p in exc.problems)
        return
    result = simulate(instance, make_policy("bace"))
    assert len(result.records) == 1
    record = result.records[0]
    assert math.isfinite(record.cost_usd) and math.isfinite(record.end_s)
    assert record.end_s > record.start_s >= record.arrival_s


# 8. traces --------------------------------------------------------------------------------------


def _trace_doc(tmp_path: Path, rows: str) -> Path:
    (tmp_path / "t.csv").write_text("submit_offset_s,duration_s,num_gpus\n" + rows)
    doc = base_doc()
    doc["jobs"] = []
    doc["workload"] = {
        "count": 2,
        "arrivals": {"process": "trace", "csv": "t.csv"},
        "durations": {"min_s": 60, "max_s": 3600},
        "mix": [{"model": "gpt3-1.3b", "shapes": [[4, 2]]}],
    }
    return write(tmp_path, doc)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("100,600,8\n50,600,8\n", "row 3: submit_offset_s goes back in time"),
        ("0,600,8\ninf,600,8\n", "row 3: submit_offset_s must be a finite"),
        ("0,600,8\n10,-5,8\n", "row 3: duration_s must be a finite positive number"),
        ("0,600,8\n10,600,0\n", "row 3: num_gpus must be a finite positive number"),
    ],
)
def test_bad_traces_are_refused(
    runner: CliRunner, tmp_path: Path, rows: str, expected: str
) -> None:
    code, errors, _ = run_validate(runner, _trace_doc(tmp_path, rows))
    assert code == 2 and len(errors) == 1, errors
    assert errors[0].startswith("workload.arrivals.csv: t.csv ") and expected in errors[0]


def test_trace_size_limit(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bace_opt.io.files.MAX_DATA_BYTES", 64)
    code, errors, _ = run_validate(runner, _trace_doc(tmp_path, "0,600,8\n" * 10))
    assert code == 2 and "more than the 64 allowed" in errors[0]


def test_generate_writes_only_what_validate_accepts(runner: CliRunner, tmp_path: Path) -> None:
    spec = _trace_doc(tmp_path, "0,600,8\n10,600,8\n")
    out = tmp_path / "elsewhere" / "g.yaml"
    assert runner.invoke(app, ["generate", str(spec), "--out", str(out)]).exit_code == 0
    assert len(load_instance(out).jobs) == 2


def test_generate_elsewhere_carries_its_price_files(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "inst" / "prices").mkdir(parents=True)
    (tmp_path / "inst" / "prices" / "p.csv").write_text(PRICES)
    spec = _trace_doc(tmp_path / "inst", "0,600,8\n10,600,8\n")
    doc = yaml.safe_load(spec.read_text())
    doc["regions"][0]["price"] = {"series_csv": "prices/p.csv"}
    spec.write_text(yaml.safe_dump(doc))
    out = tmp_path / "away" / "g.yaml"
    assert runner.invoke(app, ["generate", str(spec), "--out", str(out)]).exit_code == 0
    written = yaml.safe_load(out.read_text())
    assert written["regions"][0]["price"] == {"series_csv": "g-prices/p.csv"}
    assert (tmp_path / "away" / "g-prices" / "p.csv").read_text() == PRICES
    assert load_instance(out).region["r1"].price.price_at(3600.0) == pytest.approx(0.2)


# 9. exit codes of bad paths and options ---------------------------------------------------------


def test_symlink_loop_and_long_path_are_bad_input(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    code, errors, _ = run_validate(runner, tmp_path / "loop.yaml")
    assert code == 2 and "symbolic links" in errors[0]
    code, errors, _ = run_validate(runner, tmp_path / ("x" * 5000 + ".yaml"))
    assert code == 2 and "too long" in errors[0]


def test_nul_byte_in_a_data_path(runner: CliRunner, tmp_path: Path) -> None:
    code, errors, _ = run_validate(runner, _with_price(tmp_path, "p\x00.csv"))
    assert code == 2 and errors == ["regions[0].price.series_csv: the path contains a NUL byte"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--gap", "2"], "--gap"),
        (["--threads", "1000"], "--threads"),
    ],
)
def test_solver_options_are_bounded(runner: CliRunner, args: list[str], expected: str) -> None:
    snapshot = Path(__file__).parent.parent / "benchmarks" / "snapshots" / "10x4x6-seed0.yaml"
    result = runner.invoke(app, ["epoch", str(snapshot), *args])
    assert result.exit_code == 2 and expected in result.stderr + result.output


def test_huge_weights_are_bad_input(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, base_doc())
    args = ["run", str(path), "--policy", "bace", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, [*args, "--weights", "aging=1e308"])
    assert result.exit_code == 2 and result.stderr.startswith("--weights: aging")


# 1. outputs never replace what is not a regular file --------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "dir", "empty"])
def test_outputs_refuse_what_is_not_a_file(runner: CliRunner, tmp_path: Path, kind: str) -> None:
    target = tmp_path / "t"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "dir":
        target.mkdir()
    arg = "" if kind == "empty" else str(target)
    result = runner.invoke(app, ["schema", "--out", arg])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("--out: ")
    if kind == "fifo":
        assert target.is_fifo()


def test_outputs_write_through_a_symlink(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "real.json").write_text("old")
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    assert runner.invoke(app, ["schema", "--out", str(tmp_path / "link.json")]).exit_code == 0
    assert (tmp_path / "link.json").is_symlink()
    assert json.loads((tmp_path / "real.json").read_text())["title"] == "bace-opt instance file"


def test_bad_epoch_output_is_found_before_the_solve(runner: CliRunner, tmp_path: Path) -> None:
    snapshot = Path(__file__).parent.parent / "benchmarks" / "snapshots" / "200x16x10-seed0.yaml"
    os.mkfifo(tmp_path / "lp")
    result = runner.invoke(app, ["epoch", str(snapshot), "--write-lp", str(tmp_path / "lp")])
    assert result.exit_code == 2 and result.stderr.startswith("--write-lp: ")
    assert "refusing to replace it" in result.stderr


def test_unavailable_backend_is_a_usage_error(runner: CliRunner) -> None:
    snapshot = Path(__file__).parent.parent / "benchmarks" / "snapshots" / "10x4x6-seed0.yaml"
    for name, says in (("nosuchsolver", "not a Pyomo solver name"), ("gurobi", "not available")):
        result = runner.invoke(app, ["epoch", str(snapshot), "--backend", name])
        assert result.exit_code == 2 and "Traceback" not in result.stderr
        assert result.stderr.startswith(f"--backend: {name} ") and says in result.stderr
        assert "available: appsi_highs" in result.stderr and not result.stdout.strip()


def test_a_gap_above_zero_is_never_called_optimal(runner: CliRunner, tmp_path: Path) -> None:
    snapshot = Path(__file__).parent.parent / "benchmarks" / "snapshots" / "30x8x6-seed0.yaml"
    args = [
        "epoch",
        str(snapshot),
        "--solver",
        "milp",
        "--gap",
        "0.5",
        "--out",
        str(tmp_path / "e.json"),
    ]
    assert runner.invoke(app, [*args, "--time-limit", "30"]).exit_code == 0
    milp = json.loads((tmp_path / "e.json").read_text())["milp"]
    closed = milp["bound"] is not None and milp["bound"] == pytest.approx(
        milp["objective"], rel=1e-9
    )
    assert milp["status"] == "within_gap" or (milp["status"] == "optimal" and closed), milp


def test_progress_is_log_lines_off_a_terminal(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bace_opt.cli.console.PROGRESS_LOG_S", 0.0)
    instance = Path(__file__).parent.parent / "instances" / "tiny3.yaml"
    args = ["run", str(instance), "--policy", "bace", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("bace: ")]
    assert lines and lines[-1].split()[1].endswith("/4") and " done, " in lines[-1]


def test_a_fallback_shows_in_the_table(runner: CliRunner, tmp_path: Path) -> None:
    snapshot = Path(__file__).parent.parent / "benchmarks" / "snapshots" / "200x16x10-seed0.yaml"
    args = ["epoch", str(snapshot), "--solver", "milp", "--time-limit", "0.5", "--no-warm-start"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "→ greedy" in result.stdout and "reporting the greedy plan" in result.stderr
