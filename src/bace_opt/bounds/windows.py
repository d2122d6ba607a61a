"""The bound of a long job stream, by windows of consecutive arrivals (``bound --window-jobs W``).

The whole-run LP grows with jobs × configurations × slots; past about a thousand jobs it no longer
fits minutes or memory. Cut the jobs, in arrival order, into windows of W and bound each window's
jobs alone, on the whole world:

- **JCT**: Σ_k N_k · b_k / N ≤ the average JCT of every schedule, where b_k is window k's bound
  on its own jobs' average JCT. Why: restrict any schedule of all jobs to window k's jobs; it is
  a schedule of those jobs alone (every GPU, link and price they met is still there; the other
  jobs only took capacity away), so its JCT sum is ≥ N_k · b_k. Sum over the windows.
- **cost**: Σ_k c_k ≤ the total cost of every schedule, by the same restriction (each job's energy
  is paid by it alone; every window's cost bound is a bound on its jobs' share).

The windows are looser than the whole: a job's competition with the jobs of other windows is
dropped (in an overloaded world, the queue that one window leaves to the next). No frontier and no
hindsight schedule are given for a decomposed bound.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

from bace_opt.bounds.compute import (
    BoundOptions,
    bound_provenance,
    cost_bound,
    jct_bound,
    simulate_policies,
    unrunnable,
)
from bace_opt.bounds.data import relaxation_data
from bace_opt.bounds.relaxation import build_relaxation
from bace_opt.bounds.result import BoundResult, BoundStatus, PolicyGap
from bace_opt.bounds.solve import LpSolver, Session
from bace_opt.core.world import Instance
from bace_opt.errors import InputError


def windows_of(instance: Instance, window_jobs: int) -> list[Instance]:
    """The instance's jobs in arrival order (ties by name), cut into windows of ``window_jobs``;
    each window the whole world with only its jobs."""
    jobs = sorted(instance.jobs, key=lambda j: (j.arrival_s, j.name))
    return [
        dataclasses.replace(instance, jobs=tuple(jobs[i : i + window_jobs]))
        for i in range(0, len(jobs), window_jobs)
    ]


def _window(part: Instance, options: BoundOptions, deadline: float) -> dict[str, Any]:
    """One window's JCT and cost bounds (no frontier, no hindsight)."""
    tic = time.monotonic()
    data = relaxation_data(part, options.slot_s)
    problems = unrunnable(data)
    if problems:
        raise InputError(problems)
    run = Session(LpSolver(build_relaxation(data)), deadline, options.method)
    trivial = sum(jp.min_run_s for jp in data.jobs) / data.n_jobs
    jct, _, _ = jct_bound(run, data, trivial)
    cost = cost_bound(run, data)[0] if data.cost_bounded else None
    return {
        "jobs": data.n_jobs,
        "first_arrival_s": min(j.arrival_s for j in part.jobs),
        "avg_jct_lower_s": jct,
        "trivial_jct_lower_s": trivial,
        "cost_lower_usd": cost,
        "stopped": run.stopped,
        "time_s": time.monotonic() - tic,
    }


def bound_by_windows(
    instance: Instance,
    options: BoundOptions,
    window_jobs: int,
    policies: Sequence[str] = (),
) -> BoundResult:
    """The decomposed bound (module docstring); the time limit is shared out evenly over the
    windows still to do."""
    problems = options.problems()
    if window_jobs < 1:
        problems.append(f"--window-jobs: must be at least 1, not {window_jobs}")
    if problems:
        raise InputError(problems)
    started = time.monotonic()
    parts = windows_of(instance, window_jobs)
    done = []
    for k, part in enumerate(parts):
        left = started + options.time_limit_s - time.monotonic()
        done.append(_window(part, options, time.monotonic() + max(left, 0.0) / (len(parts) - k)))
    n = sum(w["jobs"] for w in done)
    jct = sum(w["jobs"] * w["avg_jct_lower_s"] for w in done) / n
    trivial = sum(w["jobs"] * w["trivial_jct_lower_s"] for w in done) / n
    costs = [w["cost_lower_usd"] for w in done]
    cost = sum(costs) if all(c is not None for c in costs) else None
    stopped = any(w["stopped"] for w in done)
    messages = [f"decomposed into {len(parts)} windows of up to {window_jobs} consecutive arrivals"]
    if cost is None:
        messages.append("no cost bound: some window's cost LP gave none")
    if stopped:
        messages.append("stopped at the time limit: the numbers given are valid, some are missing")
    summaries = simulate_policies(instance, policies)
    gaps = tuple(  # no frontier: a policy's cost is set beside the total cost bound
        PolicyGap.of(name, s, (), jct, cost) for name, s in zip(policies, summaries, strict=True)
    )
    return BoundResult(
        avg_jct_lower_s=jct,
        total_cost_lower_usd=cost,
        frontier=(),
        status=BoundStatus.TIME_LIMIT if stopped else BoundStatus.OPTIMAL,
        slot_s=options.slot_s,
        time_s=time.monotonic() - started,
        message="; ".join(messages),
        trivial_jct_lower_s=trivial,
        relaxation={"window_jobs": window_jobs, "windows": done},
        policies=gaps,
        provenance=bound_provenance(instance, options, policies),
    )
