"""Policy ``lookahead``: the horizon's capacities by hand, the plan's choices on worlds small
enough to reason about (shortest first; a cheap hour ahead is waited for only when time is cheap),
the fallback to ``bace``, and a run through the CLI. That it never beats the whole-run bounds is
held with every other policy in ``test_bounds``; that it places only what fits, in
``test_running``."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from bace_opt.cli import app
from bace_opt.core.placement import Block, Placement
from bace_opt.core.world import Instance, Running, Snapshot
from bace_opt.io.read import parse_instance
from bace_opt.policies import PolicyOptions, make_policy
from bace_opt.policies.lookahead import LookaheadPolicy, LookaheadSettings
from bace_opt.policies.lookahead import policy as lookahead_policy
from bace_opt.policies.lookahead.horizon import HorizonShape, build_horizon
from bace_opt.policies.lookahead.plan import PlanResult
from tests.conftest import INSTANCES

JOB = {"model": "gpt3-1.3b", "stages": 2, "gpus_per_stage": 4, "micro_batches": 8}
JOB |= {"micro_batch_size": 4, "seq_len": 2048}
IDEAL_ITERATION_S = 9 * 0.064  # (M + S − 1) · t_c on one region, t_c = 0.064 s (test_simulator)


def world(jobs: list[dict[str, Any]], price: Any = 0.1, gpus: int = 8) -> Instance:
    doc = {
        "name": "one",
        "gpu_types": [{"name": "A100", "peak_tflops": 312, "power_kw": 0.4, "memory_gb": 80}],
        "regions": [
            {"name": "r1", "gpus": gpus, "gpu_type": "A100", "pue": 1.0, "price": price},
            {"name": "r2", "gpus": gpus, "gpu_type": "A100", "pue": 1.0, "price": price},
        ],
        "links": [{"a": "r1", "b": "r2", "gbps": 10, "latency_ms": 10}],
        "jobs": [{"arrival_s": 0, **JOB, **job} for job in jobs],
    }
    return parse_instance(doc, Path("."))


def snapshot(
    instance: Instance, free: dict[str, int], running: tuple[Running, ...] = ()
) -> Snapshot:
    residual = dict(instance.network.capacity)
    return Snapshot(instance, 0.0, instance.jobs, free, residual, running)


def policy(value: float = 100.0) -> LookaheadPolicy:
    options = PolicyOptions(lookahead=LookaheadSettings(jct_usd_per_h=value))
    made = make_policy("lookahead", options=options)
    assert isinstance(made, LookaheadPolicy)
    return made


def test_the_horizon_gives_back_what_running_jobs_hold() -> None:
    instance = world([{"name": "a", "iterations": 10}])
    # a pipeline r1:1 > r2:1 of 4-GPU stages, ending 1350 s from now (1.5 fine slots), 2 Gbit/s
    held = Running("x", Placement("x", (Block("r1", 1), Block("r2", 1))), -10.0, 1350.0, 4, 2.0)
    snap = snapshot(instance, {"r1": 4, "r2": 4}, (held,))
    snap = dataclasses.replace(snap, residual_gbps={d: 8.0 for d in instance.network.capacity})
    horizon = build_horizon(snap, HorizonShape(slot_s=900, fine_h=1, horizon_h=3))
    assert horizon.starts.tolist() == [0, 900, 1800, 2700, 3600, 7200, 10800]
    assert horizon.finite == 6
    r1 = horizon.gpu_s[horizon.regions.index("r1")]
    assert r1.tolist() == [4 * 900, 4 * 900 + 4 * 450, 8 * 900, 8 * 900, 8 * 3600, 8 * 3600]
    # the crossing loads each direction once (route r1→r2, route r2→r1), 2 Gbit/s each
    d = horizon.directions.index(("r1", "r2"))
    assert horizon.gbit[d].tolist() == [
        8 * 900,
        8 * 900 + 2 * 450,
        10 * 900,
        10 * 900,
        36000,
        36000,
    ]


def test_the_plan_runs_the_shorter_job_first() -> None:
    instance = world(
        [{"name": "long", "iterations": 4000}, {"name": "short", "iterations": 1000}], gpus=8
    )
    chosen = policy().decide(snapshot(instance, {"r1": 8, "r2": 0}))
    assert [p.job for p in chosen] == ["short"]
    assert chosen.placements[0].describe() == "r1:2"


def test_both_start_when_both_fit() -> None:
    instance = world([{"name": "a", "iterations": 4000}, {"name": "b", "iterations": 1000}])
    chosen = policy().decide(snapshot(instance, {"r1": 8, "r2": 8}))
    assert sorted(p.job for p in chosen) == ["a", "b"]


# an hour at 2 $/kWh, then a day at 0.01: a half-hour job of 8 GPUs × 0.4 kW saves
# 8 · 0.4 · 0.5 · (2 − 0.01) ≈ $3.2 by waiting an hour
DEAR_THEN_CHEAP = {"hourly_utc": [2.0] + [0.01] * 23}
HALF_HOUR = round(1800 / IDEAL_ITERATION_S)


def test_a_cheap_hour_ahead_is_waited_for_when_time_is_cheap() -> None:
    instance = world([{"name": "a", "iterations": HALF_HOUR}], price=DEAR_THEN_CHEAP)
    patient = policy(value=0.5)
    assert len(patient.decide(snapshot(instance, {"r1": 8, "r2": 8}))) == 0
    assert patient.stats["lookahead_held"] == 1


def test_time_worth_more_than_the_saving_starts_now() -> None:
    instance = world([{"name": "a", "iterations": HALF_HOUR}], price=DEAR_THEN_CHEAP)
    chosen = policy(value=100.0).decide(snapshot(instance, {"r1": 8, "r2": 8}))
    assert [p.job for p in chosen] == ["a"]


def test_a_failed_plan_falls_back_to_bace(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*_: object) -> PlanResult:
        return PlanResult(False, (), "plan LP: Time limit reached", 0.0, 0)

    monkeypatch.setattr(lookahead_policy, "solve_plan", failing)
    instance = world([{"name": "a", "iterations": 4000}, {"name": "b", "iterations": 1000}])
    snap = snapshot(instance, {"r1": 8, "r2": 0})
    planner = policy()
    assert planner.decide(snap) == make_policy("bace").decide(snap)
    assert planner.stats["lookahead_fallbacks"] == 1


def test_nothing_that_fits_means_no_solve() -> None:
    instance = world([{"name": "a", "iterations": 10}])
    planner = policy()
    assert len(planner.decide(snapshot(instance, {"r1": 4, "r2": 0}))) == 0
    assert planner.stats["lookahead_solves"] == 0


def test_run_lookahead_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["run", str(INSTANCES / "tiny3.yaml"), "--policy", "lookahead", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["policy"] == "lookahead"
    assert summary["jobs_finished"] == summary["jobs"]
    assert summary["lookahead_solves"] > 0
    assert summary["provenance"]["policy"]["lookahead"]["jct_usd_per_h"] == 100.0
    assert np.isfinite(summary["avg_jct_s"])


def test_bad_lookahead_options_exit_2_one_line_each(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(INSTANCES / "tiny3.yaml"),
            "--policy",
            "lookahead",
            "--out",
            str(tmp_path / "run"),
            "--lookahead",
            "value=abc,guard=3,max_jobs=2.5,slot_s=10",
        ],
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        "--lookahead: value must be a number in [0, 1e+09]",
        "--lookahead: unknown option 'guard' (did you mean 'guard_h'?); known: value, guard_h, "
        "horizon_h, slot_s, fine_h, max_jobs, max_configs",
        "--lookahead: max_jobs must be a whole number in [1, 10000]",
        "--lookahead: slot_s must be a number in [60, 86400]",
    ]
    assert "Traceback" not in result.output


def test_lookahead_options_reach_the_policy() -> None:
    from bace_opt.policies.lookahead.options import parse_lookahead

    settings = parse_lookahead("value=1.5, horizon_h=6, max_jobs=8")
    assert settings.jct_usd_per_h == 1.5
    assert settings.shape == HorizonShape(horizon_h=6.0)
    assert settings.max_jobs == 8 and isinstance(settings.max_jobs, int)
