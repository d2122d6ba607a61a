"""The run summary of DESIGN §5 (avg and tail JCT, wait, makespan, energy,
cost, GPU and link utilization, stall, epochs, policy time) and the queueing and fairness metrics
(max and tail wait, jobs waiting over a day, slowdown): how they are computed. What each
column means and where it appears is declared in ``report.columns``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from bace_opt.sim.records import JobRecord, RunTotals


@dataclass(frozen=True)
class RunSummary:
    """The run summary: one field per metric declared in ``columns.SUMMARY``, in that order (a
    test keeps the two equal). None where a quantity is undefined, e.g. no job finished.

    The sums are Python sums, so with no finished job they are the int 0, as ``summary.json``
    has always written them."""

    policy: str
    jobs: int
    jobs_finished: int
    jobs_never_ran: int
    avg_jct_s: float | None
    p50_jct_s: float | None
    p95_jct_s: float | None
    p99_jct_s: float | None
    avg_wait_s: float | None
    max_wait_s: float | None
    p95_wait_s: float | None
    p99_wait_s: float | None
    jobs_waited_over_24h: int
    avg_slowdown: float | None
    p95_slowdown: float | None
    makespan_s: float
    total_energy_kwh: float
    total_cost_usd: float
    total_stall_s: float
    jobs_stalled: int
    gpu_utilization: float | None
    link_utilization: float | None
    epochs: int
    policy_time_s: float | None
    wall_time_s: float | None

    def as_dict(self) -> dict[str, Any]:
        """The fields by name, in declaration order: ``summary.json``'s metrics and a sweep
        cell's (values as they are; no copying or conversion)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _percentile(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


LONG_WAIT_S = 24 * 3600.0
"""A wait longer than a day counts in ``jobs_waited_over_24h``."""


def summarize(
    policy: str,
    records: Sequence[JobRecord],
    totals: RunTotals,
    reference_s: Mapping[str, float] | None = None,
) -> RunSummary:
    """The run's summary metrics from its job records and the simulator's integrals;
    ``reference_s`` (job name → its ideal run time, ``formulas.job.reference_run_time_s``) gives
    the slowdowns (None without it)."""
    done = [r for r in records if r.finished]
    jct = np.array([r.jct_s for r in done], dtype=float)
    wait = np.array([r.wait_s for r in done], dtype=float)
    slowdown = np.array([], dtype=float)
    if reference_s is not None:
        slowdown = jct / np.array([reference_s[r.name] for r in done], dtype=float)
    first = min((r.arrival_s for r in records), default=0.0)
    last = max((r.end_s for r in done if r.end_s is not None), default=first)
    makespan = last - first
    span = makespan if makespan > 0 else None
    return RunSummary(
        policy=policy,
        jobs=len(records),
        jobs_finished=len(done),
        jobs_never_ran=len(records) - len(done),
        avg_jct_s=float(jct.mean()) if len(jct) else None,
        p50_jct_s=_percentile(jct, 50),
        p95_jct_s=_percentile(jct, 95),
        p99_jct_s=_percentile(jct, 99),
        avg_wait_s=float(wait.mean()) if len(wait) else None,
        max_wait_s=float(wait.max()) if len(wait) else None,
        p95_wait_s=_percentile(wait, 95),
        p99_wait_s=_percentile(wait, 99),
        jobs_waited_over_24h=int((wait > LONG_WAIT_S).sum()),
        avg_slowdown=float(slowdown.mean()) if len(slowdown) else None,
        p95_slowdown=_percentile(slowdown, 95),
        makespan_s=makespan,
        total_energy_kwh=sum(r.energy_kwh for r in done),
        total_cost_usd=sum(r.cost_usd for r in done),
        total_stall_s=sum(r.stall_s for r in done),
        jobs_stalled=sum(1 for r in done if r.stall_s > 1e-6),
        gpu_utilization=totals.gpu_seconds / (totals.total_gpus * span) if span else None,
        link_utilization=(
            totals.link_gbit / (totals.link_capacity_gbps * span)
            if span and totals.link_capacity_gbps > 0
            else None
        ),
        epochs=totals.epochs,
        policy_time_s=totals.policy_time_s,
        wall_time_s=totals.wall_time_s,
    )
