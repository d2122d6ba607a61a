"""The simulator's changing state: waiting queue, free GPUs, link reservations, running pipelines
and their fluid progress. The instance itself never changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from bace_opt.core.placement import Placement
from bace_opt.core.world import Instance, Job, Running, Snapshot
from bace_opt.formulas import job as jobf
from bace_opt.formulas import pipeline
from bace_opt.formulas.energy import energy_cost_usd, energy_kwh
from bace_opt.formulas.placement import PathEstimate, estimate
from bace_opt.policies.lineup import LiveEpoch, WaitingLog
from bace_opt.resources.demand import Demand, Release
from bace_opt.resources.feasibility import structure_problems
from bace_opt.resources.ledger import Ledger
from bace_opt.sim.records import JobRecord
from bace_opt.sim.sharing import Flow, max_min_rates


def _stall(actual_s: float, ideal_s: float) -> float:
    """Time lost to communication; float noise of the event arithmetic (relative 1e-9) is none."""
    stall = actual_s - ideal_s
    return stall if stall > 1e-9 * ideal_s else 0.0


class InfeasiblePlacementError(RuntimeError):
    """A policy returned a placement the epoch's resources cannot hold: a bug in the policy."""


@dataclass
class RunningJob:
    """A pipeline in progress. Progress is fluid: ``remaining`` iterations shrink at
    ``1 / t_iter`` per second, and ``t_iter`` changes only when its link share changes."""

    job: Job
    placement: Placement
    start_s: float
    estimate: PathEstimate
    demand: Demand
    remaining: float
    t_iter: float
    rate_gbps: float
    updated_s: float
    rate_since_s: float
    version: int = 0
    _listed: Running | None = None
    """``as_running`` as of ``_listed_version`` (a snapshot lists every running job: made anew
    only when the pace changed, so dumping a big run's epochs stays cheap)."""
    _listed_version: int = -1

    def close_link_interval(self, t: float) -> float:
        """Gbit carried since the rate last changed (all uses of all link directions)."""
        gbit = sum(self.demand.uses.values()) * self.rate_gbps * (t - self.rate_since_s)
        self.rate_since_s = t
        return gbit

    def advance(self, t: float) -> None:
        self.remaining = max(self.remaining - (t - self.updated_s) / self.t_iter, 0.0)
        self.updated_s = t

    def finish_time(self) -> float:
        """When it ends at its current pace: the time of its live completion event (the pace
        changes only with a reshare, which advances it first and schedules the new time)."""
        return self.updated_s + self.remaining * self.t_iter

    def as_running(self) -> Running:
        """The job as a snapshot lists it, expected to end at its scheduled completion."""
        if self._listed is None or self._listed_version != self.version:
            gpus = self.job.gpus_per_stage
            end = self.finish_time()
            need = self.demand.need_gbps if self.demand.uses else None  # None: no crossings
            name, placement = self.job.name, self.placement
            self._listed = Running(name, placement, self.start_s, end, gpus, need)
            self._listed_version = self.version
        return self._listed


@dataclass
class ClusterState:
    """Everything that changes during a run, with the operations the engine's steps need."""

    instance: Instance
    resources: Ledger = field(init=False)
    waiting: dict[str, Job] = field(default_factory=dict)
    queue: WaitingLog = field(default_factory=WaitingLog)
    """The waiting queue's arrivals and starts, for policies that follow it instead of reading
    every waiting job at every epoch."""
    running: dict[str, RunningJob] = field(default_factory=dict)
    records: dict[str, JobRecord] = field(default_factory=dict)
    gpu_seconds: float = 0.0
    link_gbit: float = 0.0
    _busy_gpus: int = 0
    _clock: float = 0.0
    _shared_version: int = 0
    """``resources.links_version`` when links were last shared out."""
    _listed: tuple[Running, ...] | None = None
    """The running jobs as the last snapshot listed them, until a job starts or ends or a pace
    changes (an epoch that changes nothing lists them at no cost)."""

    def __post_init__(self) -> None:
        self.resources = Ledger.idle(self.instance)

    # -- time ------------------------------------------------------------------------------------

    def advance(self, t: float) -> None:
        """Move the clock; GPU-seconds integrate exactly (progress is advanced lazily)."""
        self.gpu_seconds += self._busy_gpus * (t - self._clock)
        self._clock = t

    def snapshot(self, t: float) -> Snapshot:
        """The epoch as a policy sees it, with every running job in the order they started."""
        return Snapshot(
            self.instance,
            t,
            tuple(self.waiting.values()),
            MappingProxyType(dict(self.resources.free)),
            self.resources.residual,
            self._running_list(),
        )

    def _running_list(self) -> tuple[Running, ...]:
        if self._listed is None:
            self._listed = tuple([run.as_running() for run in self.running.values()])
        return self._listed

    def live(self, t: float) -> LiveEpoch:
        """The epoch as a greedy policy reads it: ``snapshot`` without the tuple of every waiting
        job (the queue's log instead), so an epoch does not cost O(waiting jobs)."""
        free = MappingProxyType(dict(self.resources.free))
        running = self.running

        def releases() -> list[Release]:
            return [Release(run.finish_time(), run.demand) for run in running.values()]

        return LiveEpoch(self.instance, t, free, self.resources.residual, self.queue, releases)

    # -- jobs coming and going -------------------------------------------------------------------

    def arrive(self, job: Job) -> None:
        self.waiting[job.name] = job
        self.queue.join(job)

    def start(self, policy: str, placement: Placement, t: float, check_bandwidth: bool) -> None:
        """Check ``placement`` against what is free now, then start it."""
        job = self.waiting.get(placement.job)
        if job is None:
            raise InfeasiblePlacementError(
                f"policy '{policy}' placed job '{placement.job}', which is not waiting"
            )
        problems = structure_problems(self.instance, job, placement)
        if not problems:
            est = estimate(self.instance, job, placement)
            demand = Demand.of(self.instance, job, placement, est)
            problems = self.resources.shortfall(demand, check_bandwidth)
        if problems:
            raise InfeasiblePlacementError(
                f"policy '{policy}' placed job '{job.name}' as {placement.describe()} "
                f"infeasibly: {'; '.join(problems)}"
            )
        del self.waiting[job.name]
        self.queue.leave(job)
        self._listed = None
        self.resources.take(demand)
        self._busy_gpus += job.total_gpus
        t_iter = pipeline.iteration_time(
            job.micro_batches, job.stages, est.stage_time, sum(est.crossing_latency_s)
        )
        self.running[job.name] = RunningJob(
            job, placement, t, est, demand, float(job.iterations), t_iter, est.need_gbps, t, t
        )

    def finish(self, name: str, t: float) -> None:
        """Book the job's energy and cost over its whole run, release its GPUs and links."""
        run = self.running.pop(name)
        self._listed = None
        job, placement = run.job, run.placement
        self.link_gbit += run.close_link_interval(t)
        energy = cost = 0.0
        for block in placement.blocks:
            region = self.instance.region[block.region]
            gpus = block.stages * job.gpus_per_stage
            power = region.gpu_type.power_kw
            energy += energy_kwh(gpus, power, region.pue, t - run.start_s)
            cost += energy_cost_usd(region.price, gpus, power, region.pue, run.start_s, t)
        self.resources.release(run.demand)
        self._busy_gpus -= job.total_gpus
        self.records[name] = JobRecord(
            name=name,
            arrival_s=job.arrival_s,
            start_s=run.start_s,
            end_s=t,
            placement=placement.describe(),
            crossings=len(placement.crossings),
            stall_s=_stall(t - run.start_s, run.estimate.run_time_s),
            energy_kwh=energy,
            cost_usd=cost,
        )

    # -- link sharing ----------------------------------------------------------------------------

    def reshare(self, t: float) -> list[RunningJob]:
        """Share link capacity max-min fairly among running pipelines; returns the jobs whose
        pace changed (their completion time moved). Nothing to do unless a pipeline with
        crossings started or finished since the last call."""
        if self._shared_version == self.resources.links_version:
            return []
        self._shared_version = self.resources.links_version
        flows = {
            name: Flow(run.estimate.need_gbps, run.demand.uses)
            for name, run in self.running.items()
            if run.demand.uses
        }
        if not flows:
            return []
        rates = max_min_rates(flows, self.instance.network.capacity)
        changed = []
        for name, rate in rates.items():
            run = self.running[name]
            if rate == run.rate_gbps:
                continue
            run.advance(t)
            self.link_gbit += run.close_link_interval(t)
            tau = pipeline.micro_batch_step(
                run.estimate.stage_time,
                jobf.activation(self.instance, run.job),
                [rate] * len(run.placement.crossings),
            )
            run.t_iter = pipeline.iteration_time(
                run.job.micro_batches, run.job.stages, tau, sum(run.estimate.crossing_latency_s)
            )
            run.rate_gbps = rate
            run.version += 1
            changed.append(run)
        if changed:
            self._listed = None
        return changed

    def used_gpus(self) -> tuple[int, ...]:
        """GPUs in use per region, in instance order."""
        return tuple(r.gpus - self.resources.free[r.name] for r in self.instance.regions)
