"""Cells of ``sim-scale``: one whole simulation of an overloaded geo6 stream
(``worlds.geo6_stream``, built in memory: no YAML of 100k jobs to read), timed apart from building
the world. Only the simulator and the greedy policies are imported, so the peak RSS is the run's
(and its imports')."""

from __future__ import annotations

import time
from typing import Any

from bace_opt.policies import make_policy
from bace_opt.report.metrics import summarize
from bace_opt.sim import simulate
from cells import peak_rss_mib
from worlds import geo6_stream


def scale_run(jobs: int, load: float, policy: str, seed: int) -> dict[str, Any]:
    """Simulate ``jobs`` arrivals at offered load ``load``; ``avg_waiting`` is the time-average
    length of the waiting queue (Little: total wait over the makespan)."""
    tic = time.perf_counter()
    instance = geo6_stream(jobs, load=load, seed=seed)
    build = time.perf_counter() - tic
    tic = time.perf_counter()
    result = simulate(instance, make_policy(policy, seed=seed))
    wall = time.perf_counter() - tic
    summary = summarize(policy, result.records, result.totals).as_dict()
    waited = sum(r.wait_s or 0.0 for r in result.records)
    return {
        "jobs": jobs,
        "load": load,
        "policy": policy,
        "build_s": build,
        "wall_s": wall,
        "ms_per_job": 1000 * wall / jobs,
        "epochs": summary["epochs"],
        "policy_s": summary["policy_time_s"],
        "peak_rss_mib": peak_rss_mib(),
        "finished": summary["jobs_finished"],
        "avg_waiting": waited / summary["makespan_s"] if summary["makespan_s"] else 0.0,
        "avg_wait_h": (summary["avg_wait_s"] or 0.0) / 3600,
    }
