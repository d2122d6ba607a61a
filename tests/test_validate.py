"""Every bad-file rule of DESIGN §4: exit status 2, one line per problem starting with the field
path, and no traceback — through the CLI, as a user meets it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bace_opt.cli import app

Doc = dict[str, Any]


def base_doc() -> Doc:
    return {
        "name": "t",
        "gpu_types": [{"name": "A100", "peak_tflops": 312, "power_kw": 0.4, "memory_gb": 80}],
        "regions": [
            {"name": "r1", "gpus": 16, "gpu_type": "A100", "pue": 1.2, "price": 0.1},
            {"name": "r2", "gpus": 16, "gpu_type": "A100", "pue": 1.1, "price": 0.2},
        ],
        "links": [{"a": "r1", "b": "r2", "gbps": 5.0, "latency_ms": 20}],
        "jobs": [
            {
                "name": "j1",
                "arrival_s": 0,
                "model": "gpt3-1.3b",
                "stages": 4,
                "gpus_per_stage": 2,
                "iterations": 10,
                "micro_batches": 8,
                "micro_batch_size": 4,
                "seq_len": 2048,
            },
        ],
    }


def run_validate(runner: CliRunner, path: Path) -> tuple[int, list[str], str]:
    result = runner.invoke(app, ["validate", str(path)])
    assert "Traceback" not in result.output
    assert "Traceback" not in result.stderr
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr.strip().splitlines(), result.stdout


def write(tmp_path: Path, doc: Any, name: str = "instance.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_base_document_is_valid(runner: CliRunner, tmp_path: Path) -> None:
    code, errors, stdout = run_validate(runner, write(tmp_path, base_doc()))
    assert code == 0, errors
    assert stdout.startswith("ok: instance t: 2 regions (32 GPUs), 2 link directions, 1 jobs")


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    """A mutation that sets ``a.b[0].c`` style paths (value ``...`` deletes)."""

    def mutate(doc: Doc) -> None:
        parts = path.replace("[", ".").replace("]", "").split(".")
        target: Any = doc
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last: Any = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
        if value is ...:
            del target[last]
        else:
            target[last] = value

    return mutate


BAD: list[tuple[str, Callable[[Doc], None], str]] = [
    ("unknown top key", _set("colour", "red"), "colour: unknown key"),
    ("unknown nested key", _set("regions[0].zone", "x"), "regions[0].zone: unknown key"),
    ("wrong type", _set("regions[0].gpus", "many"), "regions[0].gpus: Input should be a valid int"),
    ("zero GPUs", _set("regions[0].gpus", 0), "regions[0].gpus: Input should be greater than"),
    ("negative gbps", _set("links[0].gbps", -1.0), "links[0].gbps: Input should be greater than"),
    ("zero gbps", _set("links[0].gbps", 0), "links[0].gbps: Input should be greater than"),
    ("zero power", _set("gpu_types[0].power_kw", 0), "gpu_types[0].power_kw: Input should be"),
    ("pue below 1", _set("regions[1].pue", 0.9), "regions[1].pue: Input should be greater"),
    ("zero stages", _set("jobs[0].stages", 0), "jobs[0].stages: Input should be greater than"),
    ("missing field", _set("jobs[0].iterations", ...), "jobs[0].iterations: Field required"),
    ("link to unknown region", _set("links[0].b", "mars"), "links[0].b: unknown region 'mars'"),
    ("self link", _set("links[0].b", "r1"), "links[0].b: a link must join two different"),
    ("duplicate region", _set("regions[1].name", "r1"), "regions: duplicate name 'r1'"),
    (
        "duplicate job",
        lambda d: d["jobs"].append(copy.deepcopy(d["jobs"][0])),
        "jobs: duplicate name 'j1'",
    ),
    (
        "duplicate gpu type",
        lambda d: d["gpu_types"].append(copy.deepcopy(d["gpu_types"][0])),
        "gpu_types: duplicate name 'A100'",
    ),
    (
        "duplicate link",
        lambda d: d["links"].append({"a": "r2", "b": "r1", "gbps": 1, "latency_ms": 1}),
        "links[1]: direction r2>r1 is already given by links[0]",
    ),
    ("unknown gpu type", _set("regions[0].gpu_type", "TPU"), "regions[0].gpu_type: unknown GPU"),
    ("unknown model", _set("jobs[0].model", "gpt5"), "jobs[0].model: unknown model 'gpt5'"),
    ("memory rule", _set("jobs[0].model", "gpt3-175b"), "jobs[0]: fails the memory rule"),
    ("too many GPUs", _set("jobs[0].gpus_per_stage", 16), "jobs[0]: needs 4 stages × 16 GPUs"),
    (
        "max_regions too low",
        lambda d: _set("max_regions", 1)(d) or _set("jobs[0].gpus_per_stage", 8)(d),
        "jobs[0]: needs 4 stages × 8 GPUs",
    ),
    (
        "hourly wrong length",
        _set("regions[0].price", {"hourly_utc": [0.1] * 23}),
        "regions[0].price.hourly_utc: List should have at least 24 items",
    ),
    ("price wrong type", _set("regions[0].price", "cheap"), "regions[0].price: Input should be"),
    (
        "price unknown key",
        _set("regions[0].price", {"monthly": [1]}),
        "regions[0].price.monthly: unknown key; allowed: hourly_utc, series_csv",
    ),
    ("nan price", _set("regions[0].price", float("nan")), "regions[0].price: Input should be"),
    ("bad start_utc", _set("start_utc", "yesterday"), "start_utc: Input should be a valid date"),
    (
        "no seq_len",
        lambda d: (
            d.update(models=[{"name": "m", "params": 1e9, "layers": 4, "hidden": 1024}])
            or _set("jobs[0].model", "m")(d)
            or _set("jobs[0].seq_len", ...)(d)
        ),
        "jobs[0].seq_len: required",
    ),
]


@pytest.mark.parametrize(("label", "mutate", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_instance(
    runner: CliRunner, tmp_path: Path, label: str, mutate: Callable[[Doc], None], expected: str
) -> None:
    doc = base_doc()
    mutate(doc)
    code, errors, _ = run_validate(runner, write(tmp_path, doc))
    assert code == 2, label
    assert any(line.startswith(expected) for line in errors), errors


def test_every_problem_is_reported_at_once(runner: CliRunner, tmp_path: Path) -> None:
    doc = base_doc()
    doc["regions"][0]["gpus"] = 0
    doc["jobs"][0]["stages"] = -1
    doc["links"][0]["gbps"] = 0
    code, errors, _ = run_validate(runner, write(tmp_path, doc))
    assert code == 2
    assert [e.split(":")[0] for e in errors] == [
        "regions[0].gpus",
        "links[0].gbps",
        "jobs[0].stages",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "instance.yaml: file is empty"),
        ("   \n# only a comment\n", "instance.yaml: file is empty"),
        ("name: [unclosed\n", "instance.yaml: YAML syntax error at line 2"),
        ("a: b: c\n", "instance.yaml: YAML syntax error at line 1, column 5"),
        ("- just\n- a list\n", "instance.yaml: expected a mapping of fields, got list"),
        ("!!python/object:os.system {}\n", "instance.yaml: YAML syntax error"),
    ],
)
def test_bad_documents(runner: CliRunner, tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "instance.yaml"
    path.write_text(text)
    code, errors, _ = run_validate(runner, path)
    assert code == 2
    assert errors[0].startswith(expected), errors


def test_bad_json(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "instance.json"
    path.write_text('{"name": "x",,}')
    code, errors, _ = run_validate(runner, path)
    assert (code, errors[0][:40]) == (2, "instance.json: JSON syntax error at line")


def test_json_instance_is_accepted(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(base_doc()))
    assert run_validate(runner, path)[0] == 0


def test_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    code, errors, _ = run_validate(runner, tmp_path / "nope.yaml")
    assert code == 2
    assert errors == [f"{(tmp_path / 'nope.yaml').absolute()}: file not found"]


def test_missing_price_csv(runner: CliRunner, tmp_path: Path) -> None:
    doc = base_doc()
    doc["regions"][1]["price"] = {"series_csv": "prices/none.csv"}
    code, errors, _ = run_validate(runner, write(tmp_path, doc))
    assert code == 2
    looked = tmp_path.resolve() / "prices" / "none.csv"
    assert errors == [
        "regions[1].price.series_csv: file not found: prices/none.csv "
        f"(looked for {looked}: relative to the instance file's folder)"
    ]


@pytest.mark.parametrize(
    ("csv", "expected"),
    [
        ("time,price\n2023-01-01T00:00:00Z,0.1\n", "needs columns utc_time,usd_per_kwh"),
        ("utc_time,usd_per_kwh\n", "has no rows"),
        ("utc_time,usd_per_kwh\nnot-a-time,0.1\n", "row 2: utc_time 'not-a-time' is not ISO-8601"),
        ("utc_time,usd_per_kwh\n2023-01-01T00:00:00Z,abc\n", "row 2: usd_per_kwh must be a number"),
        ("utc_time,usd_per_kwh\n2023-01-01T00:00:00Z,1e308\n", "within ±100 $/kWh"),
        ("utc_time,usd_per_kwh\n2023-01-01T00:00:00Z,inf\n", "row 2: usd_per_kwh must be a number"),
        (
            "utc_time,usd_per_kwh\n2023-01-01T01:00:00Z,0.1\n2023-01-01T00:00:00Z,0.2\n",
            "utc_time must increase strictly",
        ),
        ("", "cannot read p.csv as a CSV"),
    ],
)
def test_bad_price_csv(runner: CliRunner, tmp_path: Path, csv: str, expected: str) -> None:
    (tmp_path / "p.csv").write_text(csv)
    doc = base_doc()
    doc["regions"][0]["price"] = {"series_csv": "p.csv"}
    code, errors, _ = run_validate(runner, write(tmp_path, doc))
    assert code == 2
    assert len(errors) == 1 and errors[0].startswith("regions[0].price.series_csv: ")
    assert expected in errors[0], errors


def test_bad_snapshot(runner: CliRunner, tmp_path: Path) -> None:
    doc = base_doc()
    doc.update(time_s=10, free_gpus={"r1": 20, "mars": 1}, residual_gbps={"r1>r2": 9, "r1-r2": 1})
    code, errors, _ = run_validate(runner, write(tmp_path, doc))
    assert code == 2
    assert errors == [
        "free_gpus.mars: unknown region",
        "free_gpus.r1: 20 free, but the region has 16",
        "residual_gbps.r1-r2: not a link direction 'from>to' of this instance",
        "residual_gbps.r1>r2: 9 Gbit/s, more than the link's 5",
    ]


def test_good_snapshot(runner: CliRunner, tmp_path: Path) -> None:
    doc = base_doc()
    doc.update(time_s=3600, free_gpus={"r1": 8}, residual_gbps={"r2>r1": 2.5})
    code, errors, stdout = run_validate(runner, write(tmp_path, doc))
    assert code == 0, errors
    assert stdout.startswith("ok: snapshot t:") and "epoch at t=3600 s" in stdout
