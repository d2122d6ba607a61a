"""The simulator's changing state: waiting queue, free GPUs, link reservations, running pipelines
and their fluid progress. The instance itself never changes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from types import MappingProxyType

from bace_opt import pipeline
from bace_opt.energy import energy_cost_usd, energy_kwh
from bace_opt.evaluate import PathEstimate, estimate, link_use
from bace_opt.feasibility import placement_problems
from bace_opt.metrics import JobRecord
from bace_opt.network import Direction
from bace_opt.placement import Placement
from bace_opt.sim.sharing import Flow, max_min_rates
from bace_opt.world import Instance, Job, Snapshot


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
    uses: Counter[Direction]
    remaining: float
    t_iter: float
    rate_gbps: float
    updated_s: float
    rate_since_s: float
    version: int = 0

    def close_link_interval(self, t: float) -> float:
        """Gbit carried since the rate last changed (all uses of all link directions)."""
        gbit = sum(self.uses.values()) * self.rate_gbps * (t - self.rate_since_s)
        self.rate_since_s = t
        return gbit

    def advance(self, t: float) -> None:
        self.remaining = max(self.remaining - (t - self.updated_s) / self.t_iter, 0.0)
        self.updated_s = t

    def finish_time(self) -> float:
        return self.updated_s + self.remaining * self.t_iter


@dataclass
class ClusterState:
    """Everything that changes during a run, with the operations the engine's steps need."""

    instance: Instance
    free: dict[str, int] = field(init=False)
    residual: dict[Direction, float] = field(init=False)
    waiting: dict[str, Job] = field(default_factory=dict)
    running: dict[str, RunningJob] = field(default_factory=dict)
    records: dict[str, JobRecord] = field(default_factory=dict)
    gpu_seconds: float = 0.0
    link_gbit: float = 0.0
    _busy_gpus: int = 0
    _clock: float = 0.0
    _links_changed: bool = False
    _residual_view: MappingProxyType[Direction, float] | None = None

    def __post_init__(self) -> None:
        self.free = {r.name: r.gpus for r in self.instance.regions}
        self.residual = dict(self.instance.network.capacity)

    # -- time ------------------------------------------------------------------------------------

    def advance(self, t: float) -> None:
        """Move the clock; GPU-seconds integrate exactly (progress is advanced lazily)."""
        self.gpu_seconds += self._busy_gpus * (t - self._clock)
        self._clock = t

    def snapshot(self, t: float) -> Snapshot:
        if self._residual_view is None:
            residual = {d: max(v, 0.0) for d, v in self.residual.items()}
            self._residual_view = MappingProxyType(residual)
        return Snapshot(
            self.instance,
            t,
            tuple(self.waiting.values()),
            MappingProxyType(dict(self.free)),
            self._residual_view,
        )

    # -- jobs coming and going -------------------------------------------------------------------

    def arrive(self, job: Job) -> None:
        self.waiting[job.name] = job

    def start(self, policy: str, placement: Placement, t: float, check_bandwidth: bool) -> None:
        """Check ``placement`` against what is free now, then start it."""
        job = self.waiting.get(placement.job)
        if job is None:
            raise InfeasiblePlacementError(
                f"policy '{policy}' placed job '{placement.job}', which is not waiting"
            )
        problems = placement_problems(
            self.instance, job, placement, self.free, self.residual if check_bandwidth else None
        )
        if problems:
            raise InfeasiblePlacementError(
                f"policy '{policy}' placed job '{job.name}' as {placement.describe()} "
                f"infeasibly: {'; '.join(problems)}"
            )
        del self.waiting[job.name]
        est = estimate(self.instance, job, placement)
        uses = link_use(self.instance, placement)
        for region, gpus in placement.gpus_by_region(job.gpus_per_stage).items():
            self.free[region] -= gpus
            self._busy_gpus += gpus
        for direction, times in uses.items():
            self.residual[direction] -= times * est.need_gbps
        if uses:
            self._links_changed, self._residual_view = True, None
        t_iter = pipeline.iteration_time(
            job.micro_batches, job.stages, est.stage_time, est.crossing_latency_s
        )
        self.running[job.name] = RunningJob(
            job, placement, t, est, uses, float(job.iterations), t_iter, est.need_gbps, t, t
        )

    def finish(self, name: str, t: float) -> None:
        """Book the job's energy and cost over its whole run, release its GPUs and links."""
        run = self.running.pop(name)
        job, placement = run.job, run.placement
        self.link_gbit += run.close_link_interval(t)
        energy = cost = 0.0
        for block in placement.blocks:
            region = self.instance.region[block.region]
            gpus = block.stages * job.gpus_per_stage
            power = region.gpu_type.power_kw
            energy += energy_kwh(gpus, power, region.pue, t - run.start_s)
            cost += energy_cost_usd(region.price, gpus, power, region.pue, run.start_s, t)
            self.free[block.region] += gpus
            self._busy_gpus -= gpus
        for direction, times in run.uses.items():
            self.residual[direction] += times * run.estimate.need_gbps
        if run.uses:
            self._links_changed, self._residual_view = True, None
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
        if not self._links_changed:
            return []
        self._links_changed = False
        flows = {
            name: Flow(run.estimate.need_gbps, run.uses)
            for name, run in self.running.items()
            if run.uses
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
                self.instance.activation(run.job),
                [rate] * len(run.placement.crossings),
            )
            run.t_iter = pipeline.iteration_time(
                run.job.micro_batches, run.job.stages, tau, run.estimate.crossing_latency_s
            )
            run.rate_gbps = rate
            run.version += 1
            changed.append(run)
        return changed

    def used_gpus(self) -> tuple[int, ...]:
        """GPUs in use per region, in instance order."""
        return tuple(r.gpus - self.free[r.name] for r in self.instance.regions)
