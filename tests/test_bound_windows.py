"""``bound --window-jobs``: the bound of a stream cut into windows of consecutive arrivals is the
job-weighted sum of the windows' bounds — below the whole run's bound (the windows drop the
competition between windows), below every list schedule the exhaustive search of ``test_bounds``
finds, and above the trivial bound."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bace_opt.bounds import BoundOptions
from bace_opt.bounds.windows import bound_by_windows, windows_of
from bace_opt.cli import app
from tests.conftest import INSTANCES
from tests.test_bounds import REL, SLOT_S, WORLDS, bounds, list_schedules, world

TOL = 1e-6


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_windows_bound_below_the_whole_and_every_schedule(name: str) -> None:
    instance = world(name)
    whole = bounds(name)
    options = BoundOptions(slot_s=SLOT_S, time_limit_s=60.0, hindsight=False)
    windowed = bound_by_windows(instance, options, window_jobs=2)
    assert len(windowed.relaxation["windows"]) == len(windows_of(instance, 2)) >= 2
    assert str(windowed.status) == "optimal"
    assert whole.avg_jct_lower_s is not None and whole.total_cost_lower_usd is not None
    assert windowed.avg_jct_lower_s is not None and windowed.total_cost_lower_usd is not None
    # at the LPs' optima windowed ≤ whole; the safe bounds from each LP's duals carry the solver's
    # tolerance (~1e-7 relative: without a budget, cost decomposes by job and the two are equal)
    assert windowed.avg_jct_lower_s <= whole.avg_jct_lower_s * (1 + TOL)
    assert windowed.total_cost_lower_usd <= whole.total_cost_lower_usd * (1 + TOL)
    assert windowed.avg_jct_lower_s >= windowed.trivial_jct_lower_s * (1 - REL)
    schedules = list_schedules(name)
    assert windowed.avg_jct_lower_s <= min(s.avg_jct_s for s in schedules) * (1 + REL)
    assert windowed.total_cost_lower_usd <= min(s.cost_usd for s in schedules) * (1 + REL)
    # the sum, by hand: each window's bound weighted by its jobs
    parts = windowed.relaxation["windows"]
    n = sum(w["jobs"] for w in parts)
    assert n == len(instance.jobs)
    by_hand = sum(w["jobs"] * w["avg_jct_lower_s"] for w in parts) / n
    assert windowed.avg_jct_lower_s == pytest.approx(by_hand, rel=1e-12)
    assert windowed.total_cost_lower_usd == pytest.approx(
        sum(w["cost_lower_usd"] for w in parts), rel=1e-12
    )


def test_one_window_of_everything_is_the_whole_bound() -> None:
    name = sorted(WORLDS)[0]
    instance = world(name)
    options = BoundOptions(slot_s=SLOT_S, time_limit_s=60.0, hindsight=False)
    one = bound_by_windows(instance, options, window_jobs=len(instance.jobs))
    assert one.avg_jct_lower_s == pytest.approx(bounds(name).avg_jct_lower_s, rel=1e-9)


def test_bound_window_jobs_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    result = CliRunner().invoke(
        app,
        [
            "bound",
            str(INSTANCES / "tiny3.yaml"),
            "--out",
            str(out),
            "--window-jobs",
            "2",
            "--policies",
            "bace",
            "--time-limit",
            "60",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["relaxation"]["window_jobs"] == 2
    assert doc["frontier"] == [] and "hindsight" not in doc
    assert "decomposed into 2 windows" in doc["message"]
    gap = doc["policies"]["bace"]["jct_gap"]
    assert gap is not None and gap >= 1 - 1e-9
    assert not (tmp_path / "b.hindsight-jobs.csv").exists()
