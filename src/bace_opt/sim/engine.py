"""The simulation loop: next event → advance → complete and admit → decide → check and apply →
reshare links. Epochs happen at every arrival, every completion and, with ``epoch_s``, on a tick
every ``epoch_s`` seconds; events at the same time form one epoch."""

from __future__ import annotations

import math
import time as wallclock
from collections.abc import Callable
from dataclasses import dataclass, field

from bace_opt.core.world import Instance, Snapshot
from bace_opt.policies.base import Policy
from bace_opt.policies.greedy import GreedyPolicy
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


EXACT_SKIP_TICKS = 1_000_000
"""Idle ticks skipped one float addition at a time (the very tick times of a ticking run);
beyond this many, by one multiplication."""


def _next_tick(t: float, epoch_s: float, queue: EventQueue, idle_ok: bool) -> tuple[float, int]:
    """The next tick after one at ``t``, and how many idle ticks were skipped to reach it.

    A tick while no job waits decides nothing (there is nothing to place) and changes nothing,
    so with ``idle_ok`` the ticks before the next arrival or completion are not simulated, only
    counted as the empty epochs they would have been: a world whose next job arrives in ten years
    ends at once, with the same records, timeline and epoch count."""
    tick, skipped = t + epoch_s, 0
    upcoming = queue.next_time() if idle_ok else None
    if upcoming is None or tick >= upcoming:
        return tick, 0
    gap = math.ceil((upcoming - tick) / epoch_s)
    if gap > EXACT_SKIP_TICKS:
        return tick + gap * epoch_s, gap
    while tick < upcoming:
        tick += epoch_s
        skipped += 1
    return tick, skipped


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
    greedy = policy if isinstance(policy, GreedyPolicy) else None
    """A greedy policy reads the epoch with the queue's log (``ClusterState.live``), so an epoch
    costs no pass over every waiting job (an overloaded queue holds tens of thousands); any
    other policy gets the snapshot."""
    arrivals_left, epochs, policy_time = len(jobs), 0, 0.0
    dumping = options.on_snapshot is not None
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

        snapshot = state.snapshot(t) if options.on_snapshot or greedy is None else None
        if options.on_snapshot and snapshot is not None:
            options.on_snapshot(snapshot)
        if greedy is not None:
            epoch = state.live(t)
            tic = wallclock.perf_counter()
            plan = greedy.decide_live(epoch)
        else:
            assert snapshot is not None
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
            tick, idle = _next_tick(t, epoch_s, queue, idle_ok=not state.waiting and not dumping)
            epochs += idle
            queue.push(tick, Kind.TICK)
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
