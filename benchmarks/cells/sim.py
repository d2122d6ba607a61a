"""Cells of ``sim-speed``/``bace-speed`` (one whole simulation) and ``decision-speed`` (one
decision). Only the simulator and the greedy policies are imported here: a ``sim-speed`` cell's
peak RSS is what a simulation costs, not Pyomo's or the sweep machinery's import."""

from __future__ import annotations

import functools
import time
from types import MappingProxyType
from typing import Any

import numpy as np

from bace_opt.core.world import Snapshot
from bace_opt.policies import make_policy
from bace_opt.report.metrics import summarize
from bace_opt.sim import simulate
from cells import peak_rss_mib
from worlds import world


def sim_speed(regions: int, jobs: int, load: float, policy: str, seed: int) -> dict[str, Any]:
    """One simulation of ``jobs`` Poisson arrivals; events = arrivals + completions."""
    instance = world(regions, jobs, load=load, seed=seed)
    tic = time.perf_counter()
    result = simulate(instance, make_policy(policy, seed=seed))
    wall = time.perf_counter() - tic
    summary = summarize(policy, result.records, result.totals).as_dict()
    events = len(instance.jobs) + summary["jobs_finished"]
    return {
        "regions": regions,
        "jobs": jobs,
        "load": load,
        "policy": policy,
        "wall_s": wall,
        "events": events,
        "events_per_s": events / wall,
        "epochs": summary["epochs"],
        "policy_s": summary["policy_time_s"],
        "peak_rss_mib": peak_rss_mib(),
        "avg_wait_h": (summary["avg_wait_s"] or 0.0) / 3600,
        "gpu_util": summary["gpu_utilization"],
    }


@functools.lru_cache(maxsize=8)
def busy_snapshot(regions: int, jobs: int, seed: int) -> Snapshot:
    """Every job waiting at the last arrival; each region 20–100 % free, each link 30–100 % free.
    Cached: repeats and policies decide on the same snapshot, and building it is not timed."""
    instance = world(regions, jobs, seed=seed)
    rng = np.random.default_rng(seed)
    free = {r.name: int(r.gpus * rng.uniform(0.2, 1.0)) for r in instance.regions}
    residual = {d: c * float(rng.uniform(0.3, 1.0)) for d, c in instance.network.capacity.items()}
    t = max(j.arrival_s for j in instance.jobs)
    return Snapshot(instance, t, instance.jobs, MappingProxyType(free), MappingProxyType(residual))


def decision_speed(regions: int, jobs: int, policy: str, seed: int) -> dict[str, Any]:
    """A fresh policy decides twice on the same snapshot: cold (builds the instance's path index)
    and warm (reuses it, as every epoch of a simulation after the first does)."""
    snapshot = busy_snapshot(regions, jobs, seed)
    decider = make_policy(policy)
    tic = time.perf_counter()
    placed = len(decider.decide(snapshot))
    cold = time.perf_counter() - tic
    tic = time.perf_counter()
    decider.decide(snapshot)
    warm = time.perf_counter() - tic
    return {
        "regions": regions,
        "jobs": jobs,
        "policy": policy,
        "cold_ms": 1000 * cold,
        "warm_ms": 1000 * warm,
        "placed": placed,
    }
