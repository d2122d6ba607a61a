"""Per-job records and the run summary of DESIGN §5 (avg and tail JCT, wait, makespan, energy,
cost, GPU and link utilization, stall, epochs, policy time)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

JOB_COLUMNS = (
    "name",
    "arrival_s",
    "start_s",
    "end_s",
    "jct_s",
    "wait_s",
    "placement",
    "crossings",
    "stall_s",
    "energy_kwh",
    "cost_usd",
    "status",
)
"""Columns of ``jobs.csv``, in order."""


@dataclass(frozen=True)
class JobRecord:
    """What happened to one job. ``start_s`` is None for a job that never ran; ``status`` says
    ``finished`` or why it did not run."""

    name: str
    arrival_s: float
    start_s: float | None = None
    end_s: float | None = None
    placement: str = ""
    crossings: int = 0
    stall_s: float = 0.0
    energy_kwh: float = 0.0
    cost_usd: float = 0.0
    status: str = "finished"

    @property
    def finished(self) -> bool:
        return self.end_s is not None

    @property
    def jct_s(self) -> float | None:
        return None if self.end_s is None else self.end_s - self.arrival_s

    @property
    def wait_s(self) -> float | None:
        return None if self.start_s is None else self.start_s - self.arrival_s

    def row(self) -> dict[str, Any]:
        return {column: getattr(self, column) for column in JOB_COLUMNS}


@dataclass(frozen=True)
class RunTotals:
    """Integrals the simulator accumulates besides the job records."""

    gpu_seconds: float
    """∫ GPUs in use dt."""
    total_gpus: int
    link_gbit: float
    """∫ Σ_directions Gbit/s in use dt, in Gbit."""
    link_capacity_gbps: float
    """Σ capacity over link directions."""
    epochs: int
    policy_time_s: float | None
    wall_time_s: float | None


def _percentile(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


def summarize(policy: str, records: Sequence[JobRecord], totals: RunTotals) -> dict[str, Any]:
    """The ``summary.json`` fields (None where a quantity is undefined, e.g. no job finished)."""
    done = [r for r in records if r.finished]
    jct = np.array([r.jct_s for r in done], dtype=float)
    wait = np.array([r.wait_s for r in done], dtype=float)
    first = min((r.arrival_s for r in records), default=0.0)
    last = max((r.end_s for r in done if r.end_s is not None), default=first)
    makespan = last - first
    span = makespan if makespan > 0 else None
    return {
        "policy": policy,
        "jobs": len(records),
        "jobs_finished": len(done),
        "jobs_never_ran": len(records) - len(done),
        "avg_jct_s": float(jct.mean()) if len(jct) else None,
        "p50_jct_s": _percentile(jct, 50),
        "p95_jct_s": _percentile(jct, 95),
        "p99_jct_s": _percentile(jct, 99),
        "avg_wait_s": float(wait.mean()) if len(wait) else None,
        "makespan_s": makespan,
        "total_energy_kwh": sum(r.energy_kwh for r in done),
        "total_cost_usd": sum(r.cost_usd for r in done),
        "total_stall_s": sum(r.stall_s for r in done),
        "jobs_stalled": sum(1 for r in done if r.stall_s > 1e-6),
        "gpu_utilization": totals.gpu_seconds / (totals.total_gpus * span) if span else None,
        "link_utilization": (
            totals.link_gbit / (totals.link_capacity_gbps * span)
            if span and totals.link_capacity_gbps > 0
            else None
        ),
        "epochs": totals.epochs,
        "policy_time_s": totals.policy_time_s,
        "wall_time_s": totals.wall_time_s,
    }
