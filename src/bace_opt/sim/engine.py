"""The simulation loop: next event → advance → complete and admit → decide → check and apply →
reshare links. Epochs happen at every arrival, every completion and, with ``epoch_s``, on a tick
every ``epoch_s`` seconds; events at the same time form one epoch."""

from __future__ import annotations

import time as wallclock
from collections.abc import Callable
from dataclasses import dataclass, field

from bace_opt.core.world import Instance, Snapshot
from bace_opt.policies.base import Policy
from bace_opt.sim.events import EventQueue, Kind
from bace_opt.sim.records import JobRecord, RunTotals
from bace_opt.sim.state import ClusterState, RunningJob

NEVER_PLACED = "never ran: the policy did not place it before the cluster went idle"


@dataclass(frozen=True)
class SimulationOptions:
    """How to run; the world itself comes from the instance."""

    epoch_s: float | None = None
    """Tick interval; None uses the instance's ``epoch_s`` (which may be None: no ticks)."""
    on_snapshot: Callable[[Snapshot], None] | None = None
    """Called with every epoch's snapshot before the policy decides (e.g. to dump it)."""
    on_progress: Callable[[int, int], None] | None = None
    """Called after every epoch with (jobs finished, jobs in all)."""
    timing: bool = True
    """Measure wall-clock and policy time (off: those fields are None, outputs byte-stable)."""


@dataclass
class SimulationResult:
    """Job records in instance order, the run's integrals, and GPUs in use over time."""

    policy: str
    records: list[JobRecord]
    totals: RunTotals
    timeline: list[tuple[float, tuple[int, ...]]] = field(default_factory=list)
    policy_stats: dict[str, int] = field(default_factory=dict)
    """Counters a policy keeps (e.g. the MILP policy's solves and fallbacks)."""


def simulate(
    instance: Instance, policy: Policy, options: SimulationOptions | None = None
) -> SimulationResult:
    """Run ``policy`` on ``instance`` from the first arrival until nothing more can happen."""
    options = options or SimulationOptions()
    epoch_s = options.epoch_s if options.epoch_s is not None else instance.epoch_s
    jobs = {job.name: job for job in instance.jobs}
    state = ClusterState(instance)
    queue = EventQueue()
    for job in instance.jobs:
        queue.push(job.arrival_s, Kind.ARRIVAL, job.name)
    if epoch_s and instance.jobs:
        queue.push(instance.jobs[0].arrival_s + epoch_s, Kind.TICK)
    live: dict[str, int] = {}
    arrivals_left, epochs, policy_time = len(jobs), 0, 0.0
    timeline: list[tuple[float, tuple[int, ...]]] = []
    started_at = wallclock.perf_counter()

    def schedule(run: RunningJob) -> None:
        live[run.job.name] = run.version
        queue.push(run.finish_time(), Kind.COMPLETION, run.job.name, run.version)

    while (batch := queue.pop_batch(live)) is not None:
        t = batch.time
        state.advance(t)
        for name in batch.completions:
            state.running[name].advance(t)
            state.finish(name, t)
            del live[name]
        for name in batch.arrivals:
            state.arrive(jobs[name])
        arrivals_left -= len(batch.arrivals)

        snapshot = state.snapshot(t)
        if options.on_snapshot:
            options.on_snapshot(snapshot)
        tic = wallclock.perf_counter()
        plan = policy.decide(snapshot)
        policy_time += wallclock.perf_counter() - tic
        epochs += 1

        for placement in plan:
            state.start(policy.name, placement, t, policy.bandwidth_aware)
            schedule(state.running[placement.job])
        if batch.completions or len(plan):
            for run in state.reshare(t):
                schedule(run)
            used = state.used_gpus()
            if not timeline or timeline[-1][1] != used:
                timeline.append((t, used))
        if batch.tick and epoch_s and (state.running or arrivals_left):
            queue.push(t + epoch_s, Kind.TICK)
        if options.on_progress:
            options.on_progress(len(state.records), len(jobs))

    records = [
        state.records.get(name) or JobRecord(name, job.arrival_s, status=NEVER_PLACED)
        for name, job in jobs.items()
    ]
    totals = RunTotals(
        gpu_seconds=state.gpu_seconds,
        total_gpus=sum(r.gpus for r in instance.regions),
        link_gbit=state.link_gbit,
        link_capacity_gbps=sum(instance.network.capacity.values()),
        epochs=epochs,
        policy_time_s=policy_time if options.timing else None,
        wall_time_s=wallclock.perf_counter() - started_at if options.timing else None,
    )
    stats = dict(policy.stats)
    return SimulationResult(policy.name, records, totals, timeline, stats)
