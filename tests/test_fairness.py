"""The queueing and fairness metrics of ``summary.json`` against numbers worked by hand, and the
ideal run time a slowdown is measured against."""

from __future__ import annotations

import math

import pytest

from bace_opt.formulas import job as jobf
from bace_opt.io.read import load_instance
from bace_opt.report.metrics import summarize
from bace_opt.sim.records import JobRecord, RunTotals
from tests.conftest import INSTANCES

H = 3600.0
TOTALS = RunTotals(0.0, 8, 0.0, 0.0, 1, None, None)


def test_wait_and_slowdown_metrics_by_hand() -> None:
    # waits 0, 1 h, 25 h, 30 h; JCTs 2 h, 3 h, 27 h, 31 h; ideal run times 2 h, 1 h, 2 h, 1 h
    records = [
        JobRecord("a", 0.0, 0.0, 2 * H),
        JobRecord("b", 0.0, 1 * H, 3 * H),
        JobRecord("c", 0.0, 25 * H, 27 * H),
        JobRecord("d", 0.0, 30 * H, 31 * H),
        JobRecord("e", 0.0, status="never ran"),
    ]
    reference = {"a": 2 * H, "b": H, "c": 2 * H, "d": H, "e": H}
    s = summarize("p", records, TOTALS, reference)
    assert s.max_wait_s == 30 * H
    assert s.jobs_waited_over_24h == 2, "25 h and 30 h; the job that never ran is not counted"
    # numpy's linear percentile of [0, 1, 25, 30] h at 95 %: 25 + 0.85 · 5 = 29.25 h
    assert s.p95_wait_s == pytest.approx(29.25 * H)
    assert s.p99_wait_s == pytest.approx((25 + 0.97 * 5) * H)
    # slowdowns 1, 3, 13.5, 31
    assert s.avg_slowdown == pytest.approx((1 + 3 + 13.5 + 31) / 4)
    assert s.p95_slowdown == pytest.approx(13.5 + 0.85 * 17.5)


def test_without_reference_times_there_is_no_slowdown() -> None:
    s = summarize("p", [JobRecord("a", 0.0, 0.0, 5.0)], TOTALS)
    assert s.avg_slowdown is None and s.p95_slowdown is None
    assert s.max_wait_s == 0.0 and s.jobs_waited_over_24h == 0


def test_reference_run_time_is_the_fastest_region_that_holds_the_job_whole() -> None:
    hetero = load_instance(INSTANCES / "hetero4.yaml")
    for job in hetero.jobs:
        holds = [r for r in jobf.usable_regions(hetero, job) if r.gpus >= job.total_gpus]
        fastest = max(holds, key=lambda r: r.gpu_type.peak_tflops)
        t_c = jobf.stage_time(hetero, job, fastest.gpu_type.peak_tflops)
        by_hand = job.iterations * (job.micro_batches + job.stages - 1) * t_c
        assert math.isclose(jobf.reference_run_time_s(hetero, job), by_hand, rel_tol=1e-12)
        assert jobf.reference_run_times(hetero)[job.name] == jobf.reference_run_time_s(hetero, job)


def test_slowdown_is_at_least_one_in_a_real_run() -> None:
    import bace_opt as bo

    run = bo.simulate(bo.load(INSTANCES / "geo6.yaml"), "bace", timing=False)
    assert run.summary["avg_slowdown"] >= 1.0
    assert run.summary["max_wait_s"] >= run.summary["p99_wait_s"] >= run.summary["p95_wait_s"]
