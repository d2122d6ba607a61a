"""End to end through the command line: shipped instances, info, schema, generate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bace_opt.cli import app
from bace_opt.io.read import load_instance
from tests.conftest import INSTANCES

SHIPPED = sorted(INSTANCES.glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_instance_validates(runner: CliRunner, path: Path) -> None:
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("ok: instance ")


def test_geo6_is_the_real_world() -> None:
    geo6 = load_instance(INSTANCES / "geo6.yaml")
    assert [r.name for r in geo6.regions] == [
        "us-east-1",
        "us-west-1",
        "eu-central-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-southeast-1",
    ]
    assert len(geo6.jobs) == 200
    assert len(geo6.network.directions) == 30
    # Skyplane, 2022-01 grid: us-east-1 → us-west-1 received ≈ 4.36 Gbit/s
    assert geo6.network.capacity[("us-east-1", "us-west-1")] == pytest.approx(4.363, abs=1e-3)
    # GreenDCC: PJM on 2023-10-02 00:00 UTC, USD/MWh / 1000
    assert geo6.region["us-east-1"].price.price_at(0.0) < 0.2


def test_info_shows_regions_links_and_need(runner: CliRunner) -> None:
    result = runner.invoke(app, ["info", str(INSTANCES / "tiny3.yaml")])
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "instance tiny3: 3 regions (64 GPUs), 6 link directions, 4 jobs" in text
    assert "us-east>eu-west" in text
    # GPT-3 1.3B, S=4, g=4, b=4, L=2048 on A100: need 8.388608 Gbit/s
    assert "8.389" in text


def test_info_on_a_snapshot(runner: CliRunner, tmp_path: Path) -> None:
    doc = yaml.safe_load((INSTANCES / "tiny3.yaml").read_text())
    doc.update(time_s=120, free_gpus={"us-east": 8}, residual_gbps={"us-east>us-west": 1.5})
    path = tmp_path / "snap.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "free_gpus" in result.stdout and "residual_gbps" in result.stdout


def test_schema_is_json_schema_of_the_instance(runner: CliRunner) -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "bace-opt instance file"
    assert schema["additionalProperties"] is False
    assert {"regions", "links", "jobs", "gpu_types"} <= set(schema["properties"])


def test_generate_is_deterministic_and_valid(runner: CliRunner, tmp_path: Path) -> None:
    spec = INSTANCES / "poisson-spec.yaml"
    a, b, c = tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "c.yaml"
    for target, seed in ((a, "5"), (b, "5"), (c, "6")):
        result = runner.invoke(app, ["generate", str(spec), "--out", str(target), "--seed", seed])
        assert result.exit_code == 0, result.stderr
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    instance = load_instance(a)
    assert len(instance.jobs) == 50
    arrivals = [j.arrival_s for j in instance.jobs]
    assert arrivals == sorted(arrivals) and arrivals[0] == 0.0


def test_generate_reproduces_geo6(runner: CliRunner, tmp_path: Path) -> None:
    """The shipped geo6 is exactly what its spec generates (prices rebased to the new folder)."""
    out = tmp_path / "sub" / "geo6.yaml"
    result = runner.invoke(app, ["generate", str(INSTANCES / "geo6-spec.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    fresh, shipped = load_instance(out), load_instance(INSTANCES / "geo6.yaml")
    assert fresh.jobs == shipped.jobs
    assert fresh.region["us-east-1"].price.integral(0, 86400) == pytest.approx(
        shipped.region["us-east-1"].price.integral(0, 86400)
    )


def test_generate_needs_a_workload(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["generate", str(INSTANCES / "tiny3.yaml"), "--out", str(tmp_path / "x.yaml")]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("workload: required")
    assert not (tmp_path / "x.yaml").exists()


def test_usage_error_is_status_2(runner: CliRunner) -> None:
    assert runner.invoke(app, ["validate"]).exit_code == 2
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2
