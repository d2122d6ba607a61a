"""The rolling-horizon plan of one ``lookahead`` epoch: a time-indexed LP over the waiting jobs,
solved by HiGHS (highspy's arrays: the LP is rebuilt every epoch, and Pyomo's build would cost more
than the solve).

It is the whole-run relaxation of ``bace-opt bound`` (docs/bounds.md) cut to what an online
scheduler knows at time ``t₀``: the jobs that have arrived, the running jobs' expected ends, and
the prices of the next hours (day-ahead prices are public a day ahead). Columns ``x[j, c, s]`` are
the share of job j's work done on configuration c in slot s; ``C[j]`` is j's completion, in hours
after ``t₀``. Rows:

- every job's work is done once: ``Σ_{c,s} x = 1`` (the overflow slot takes what does not fit);
- a job runs at most at full speed: ``Σ_c D_c · x[j,c,s] ≤ |s|``;
- GPU-seconds per region and slot, Gbit per link direction and slot, at most what is free then;
- completion after mean busy time plus half a run (work dated at its slot's middle), and after a
  whole run from ``t₀``.

Objective: ``value · Σ_j C_j + Σ cost(j, c, s) · x`` ($), where ``value`` is what an hour of one
job's completion time is worth (``jct_usd_per_h``) and cost is the energy of the work at slot s's
mean prices. A large ``value`` makes the plan a JCT plan with cost as a tie-breaker; a small one
lets it hold a job for a cheaper hour or region.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from bace_opt.core.prices import DAY_S, HOUR_S
from bace_opt.core.world import Instance
from bace_opt.formulas.energy import gpu_second_rate
from bace_opt.policies.lookahead.horizon import Horizon
from bace_opt.resources.configurations import Config

FloatArray = np.ndarray


@dataclass(frozen=True)
class JobPlan:
    """What the plan does with one job."""

    rate_now: float
    """Share of full speed it runs at in the first slot (1: the plan runs it from now)."""
    config_now: int
    """Its configuration with the most work in the first slot (−1 when it has none)."""
    completion_h: float
    """Its completion in the plan, hours after ``t₀`` (the plan's order)."""


@dataclass(frozen=True)
class PlanResult:
    ok: bool
    jobs: tuple[JobPlan, ...]
    message: str
    solve_s: float
    columns: int


def _rates(instance: Instance, horizon: Horizon) -> FloatArray:
    """(regions, slots) $ per GPU-second at each slot's mean prices; the overflow at the mean of
    the day after the horizon."""
    out = np.empty((len(horizon.regions), horizon.count))
    for i, region in enumerate(instance.regions):
        for s in range(horizon.count):
            t0 = horizon.starts[s]
            t1 = horizon.ends[s] if s < horizon.finite else t0 + DAY_S
            out[i, s] = gpu_second_rate(region, t0, t1)
    return out


class _Rows:
    """Sparse rows as (row, column, value) triplets and their bounds."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, cols: np.ndarray, vals: np.ndarray, lower: float, upper: float) -> None:
        keep = vals != 0
        self.rows.append(np.full(int(keep.sum()), len(self.lower)))
        self.cols.append(cols[keep])
        self.vals.append(vals[keep])
        self.lower.append(lower)
        self.upper.append(upper)


def _model(
    instance: Instance, horizon: Horizon, jobs: list[tuple[Config, ...]], value: FloatArray
) -> tuple[Any, list[int]]:
    """The LP as a ``highspy.HighsLp`` and each job's first column."""
    import highspy

    n_slots, finite = horizon.count, horizon.finite
    lengths, t0 = horizon.lengths, horizon.starts[0]
    region = {name: i for i, name in enumerate(horizon.regions)}
    direction = {d: i for i, d in enumerate(horizon.directions)}
    rates = _rates(instance, horizon)
    offsets, cost = [], []
    n = 0
    for configs in jobs:
        offsets.append(n)
        n += len(configs) * n_slots
    n_x = n
    c_col = n_x + np.arange(len(jobs))
    rows = _Rows()
    gpu_terms: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    link_terms: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    slot_idx = np.arange(n_slots)
    # work is dated at its slot's middle (the overflow's at its start): dated at the start, as the
    # bound must, a job run from now would have half a slot of slack in its mean busy time, and
    # the plan would hold it for a slot whenever a later slot is cheaper, at no cost in C_j
    middle = np.append(horizon.starts[:-1] + lengths / 2, horizon.starts[-1])
    busy_at = (middle - t0) / HOUR_S
    for j, configs in enumerate(jobs):
        run = np.array([c.run_s for c in configs])
        cols = offsets[j] + np.arange(len(configs))[:, None] * n_slots + slot_idx[None, :]
        job_cost = np.zeros((len(configs), n_slots))
        for c, config in enumerate(configs):
            for name, gpu_s in zip(config.regions, config.gpu_s, strict=True):
                r = region[name]
                job_cost[c] += gpu_s * rates[r]
                gpu_terms.setdefault(r, []).append((cols[c, :finite], gpu_s / lengths))
            for d, gbit in config.gbit:
                if d in direction:
                    link_terms.setdefault(direction[d], []).append(
                        (cols[c, :finite], gbit / lengths)
                    )
        cost.append(job_cost.ravel())
        rows.add(cols.ravel(), np.ones(cols.size), 1.0, 1.0)
        for s in range(finite):
            rows.add(cols[:, s], run / lengths[s], -np.inf, 1.0)
        busy = busy_at[None, :] + run[:, None] / (2 * HOUR_S)
        whole = np.broadcast_to(run[:, None] / HOUR_S, cols.shape)
        for coef in (busy, whole):
            rows.add(np.append(cols.ravel(), c_col[j]), np.append(-coef.ravel(), 1.0), 0.0, np.inf)
    for capacity, terms in ((horizon.gpu_s, gpu_terms), (horizon.gbit, link_terms)):
        for i, parts in sorted(terms.items()):
            cols = np.stack([p[0] for p in parts])
            vals = np.stack([p[1] for p in parts])
            for s in range(finite):
                rows.add(cols[:, s], vals[:, s], -np.inf, float(capacity[i, s] / lengths[s]))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_x + len(jobs), len(rows.lower)
    lp.col_cost_ = np.concatenate([*cost, value])
    lp.col_lower_ = np.zeros(lp.num_col_)
    lp.col_upper_ = np.concatenate([np.ones(n_x), np.full(len(jobs), np.inf)])
    lp.row_lower_, lp.row_upper_ = np.array(rows.lower), np.array(rows.upper)
    r_idx, c_idx = np.concatenate(rows.rows), np.concatenate(rows.cols)
    vals = np.concatenate(rows.vals)
    order = np.lexsort((c_idx, r_idx))
    starts = np.searchsorted(r_idx[order], np.arange(lp.num_row_ + 1))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_row_, lp.a_matrix_.num_col_ = lp.num_row_, lp.num_col_
    lp.a_matrix_.start_ = starts.astype(np.int32)
    lp.a_matrix_.index_ = c_idx[order].astype(np.int32)
    lp.a_matrix_.value_ = vals[order]
    return lp, offsets


def solve_plan(
    instance: Instance,
    horizon: Horizon,
    jobs: list[tuple[Config, ...]],
    value_usd_per_h: FloatArray,
    time_limit_s: float,
) -> PlanResult:
    """The plan for ``jobs`` (each its configurations; ``value_usd_per_h`` what an hour of each
    one's completion is worth), or ``ok=False`` with why."""
    import highspy
    from pyomo.common.tee import capture_output

    tic = time.perf_counter()
    lp, offsets = _model(instance, horizon, jobs, value_usd_per_h)
    with capture_output(io.StringIO(), capture_fd=True):  # HiGHS prints a banner at birth
        highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", max(time_limit_s, 0.01))
    if highs.passModel(lp) != highspy.HighsStatus.kOk:
        return PlanResult(False, (), "HiGHS did not accept the plan's LP", 0.0, lp.num_col_)
    highs.run()
    status = highs.getModelStatus()
    elapsed = time.perf_counter() - tic
    if status != highspy.HighsModelStatus.kOptimal:
        message = f"plan LP: {highs.modelStatusToString(status)}"
        return PlanResult(False, (), message, elapsed, lp.num_col_)
    x = np.asarray(highs.getSolution().col_value)
    n_slots, first = horizon.count, horizon.lengths[0]
    n_x = lp.num_col_ - len(jobs)
    out = []
    for j, configs in enumerate(jobs):
        share = x[offsets[j] : offsets[j] + len(configs) * n_slots].reshape(len(configs), n_slots)
        share = np.clip(share, 0.0, None)
        run = np.array([c.run_s for c in configs])
        now = share[:, 0] * run
        best = int(np.argmax(now)) if now.max() > 0 else -1
        out.append(JobPlan(float(now.sum() / first), best, float(x[n_x + j])))
    return PlanResult(True, tuple(out), "", elapsed, lp.num_col_)
