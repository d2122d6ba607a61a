"""The hindsight schedule (``bounds.hindsight``, DESIGN §5b): a schedule the simulator accepts, the
upper end of ``bound ≤ optimum ≤ hindsight``, written as a ``jobs.csv`` with the numbers the
simulator reported. The tiny worlds and their exhaustive list schedules are test_bounds.py's."""

from __future__ import annotations

import csv
import io
import json
from functools import cache
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bace_opt.bounds import BoundOptions, BoundResult, bound_instance
from bace_opt.bounds.data import relaxation_data
from bace_opt.bounds.hindsight import (
    ALPHA,
    ReplayError,
    ReplayPolicy,
    alpha_points,
    parse_jobs_csv,
    replay,
)
from bace_opt.cli import app
from bace_opt.core.placement import Block, Placement
from bace_opt.report.columns import JOB_COLUMNS
from bace_opt.sim import SimulationOptions, simulate
from tests.test_bounds import SLOT_S, WORLDS, list_schedules, world

REL = 1e-9
TINY3 = Path(__file__).resolve().parents[1] / "instances" / "tiny3.yaml"


@cache
def bounded(name: str) -> BoundResult:
    return bound_instance(world(name), BoundOptions(slot_s=SLOT_S, time_limit_s=60.0))


@cache
def written(name: str, folder: str) -> tuple[BoundResult, str]:
    path = Path(folder) / f"{name}.csv"
    result = bound_instance(world(name), BoundOptions(slot_s=SLOT_S, time_limit_s=60.0), (), path)
    return result, path.read_text()


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_bound_is_below_the_exhaustive_optimum_and_hindsight_above_it(name: str) -> None:
    result = bounded(name)
    h = result.hindsight
    assert h is not None and result.avg_jct_lower_s is not None
    best = min(s.avg_jct_s for s in list_schedules(name))
    assert result.avg_jct_lower_s <= best * (1 + REL)
    # every list schedule is a schedule, so the optimum is at most ``best``; hindsight is one
    # schedule, so at least the optimum: checked against the bound (always) and, on these worlds,
    # hindsight also reaches no lower than the best list schedule
    assert h["avg_jct_s"] >= result.avg_jct_lower_s * (1 - REL)
    assert best * (1 - REL) <= h["avg_jct_s"] <= best * (1 + REL)  # measured: it is the best
    if result.total_cost_lower_usd is not None:
        assert h["total_cost_usd"] >= result.total_cost_lower_usd - 1e-9
    assert h["jobs_finished"] == len(world(name).jobs) and h["replayed"]


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_the_jobs_csv_is_the_simulated_schedule(
    name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    result, text = written(name, str(tmp_path_factory.mktemp("h")))
    h = result.hindsight
    assert h is not None and h["jobs_csv"].endswith(f"{name}.csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == JOB_COLUMNS
    names = [r["name"] for r in rows]
    assert sorted(names) == sorted(j.name for j in world(name).jobs)  # each job once
    assert all(r["status"] == "finished" and r["end_s"] for r in rows)
    jct = [float(r["jct_s"]) for r in rows]
    assert sum(jct) / len(jct) == pytest.approx(h["avg_jct_s"], rel=REL)
    assert sum(float(r["cost_usd"]) for r in rows) == pytest.approx(h["total_cost_usd"], rel=REL)
    again = replay(world(name), text)  # the simulator accepts the file as a fixed plan
    assert [(r.name, r.start_s, r.end_s, r.cost_usd) for r in again.records] == [
        (r["name"], float(r["start_s"]), float(r["end_s"]), float(r["cost_usd"])) for r in rows
    ]


def test_a_replay_off_its_epochs_is_refused() -> None:
    instance = world("loaded")
    plan = {
        j.name: (j.arrival_s + 1.0, Placement(j.name, (Block("r0", 2),))) for j in instance.jobs
    }
    with pytest.raises(ReplayError):
        simulate(instance, ReplayPolicy(plan), SimulationOptions(timing=False))


def test_a_jobs_csv_with_a_job_that_never_ran_is_no_plan() -> None:
    header = ",".join(JOB_COLUMNS)
    with pytest.raises(ReplayError):
        parse_jobs_csv(f"{header}\nj0,0.0,,,,,,0,0.0,0.0,0.0,never ran\n")


def test_alpha_points_date_work_from_the_slot_start() -> None:
    """One job, all its work on one configuration in its arrival slot: the α-point is the arrival
    plus α of its run time."""
    instance = world("loaded")
    data = relaxation_data(instance, SLOT_S)
    shares = [0.0] * len(data.columns)
    first = next(i for i, (j, c, s) in enumerate(data.columns) if j == 0)
    shares[first] = 1.0
    _, c, _ = data.columns[first]
    points = alpha_points(data, shares, ALPHA)
    run_s = data.jobs[0].configs[c].run_s
    assert points[0] == pytest.approx(instance.jobs[0].arrival_s + ALPHA * run_s)


def test_bound_command_writes_the_hindsight_block(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    result = runner.invoke(app, ["bound", str(TINY3), "--out", str(out), "--slot-s", "600"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(out.read_text())
    h = doc["hindsight"]
    assert set(h) >= {"avg_jct_s", "total_cost_usd", "jobs_csv"}
    assert doc["avg_jct_lower_s"] <= h["avg_jct_s"] * (1 + REL)
    path = Path(h["jobs_csv"])
    assert path == tmp_path / "b.hindsight-jobs.csv" and path.exists()
    assert "hindsight schedule" in result.stdout
    custom = tmp_path / "mine.csv"
    args = ["bound", str(TINY3), "--out", str(out), "--hindsight-jobs", str(custom)]
    assert runner.invoke(app, args).exit_code == 0
    assert json.loads(out.read_text())["hindsight"]["jobs_csv"] == str(custom)
    skip = runner.invoke(app, ["bound", str(TINY3), "--out", str(out), "--no-hindsight"])
    assert skip.exit_code == 0 and "hindsight" not in json.loads(out.read_text())
    assert not list(tmp_path.glob(".*"))  # written atomically: no staging file left
