"""Index sets and coefficients of one epoch's MILP, computed from a snapshot (no Pyomo here).

Everything the model needs is precomputed per job: which regions can hold its stages (memory), the
GPU types that could be its slowest, and per type the bandwidth a crossing needs, the compute part
of its run time D₀ and the $/GPU-second rate of each region (price averaged over [t, t + D₀]); per
allowed region pair the crossing's latency term and the link directions it loads.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from bace_opt.core.network import Direction
from bace_opt.core.world import Job, Snapshot
from bace_opt.formulas import job as jobf
from bace_opt.formulas.energy import gpu_second_rate
from bace_opt.formulas.placement import crossing_link_uses, round_trip_latency_s
from bace_opt.milp.capacity import (
    CapacityBound,
    FixedAdmission,
    Item,
    fixed_admission,
    knapsack_bound,
    placeable,
)

Pair = tuple[str, str]


@dataclass(frozen=True)
class JobData:
    """Coefficients of one waiting job."""

    name: str
    weight: float
    stages: int
    width: int
    blocks: int
    """K_j = min(max_regions, S, usable regions): blocks the job may use."""
    regions: tuple[str, ...]
    """Regions whose GPU type holds a stage in memory, with room for at least one stage."""
    types: tuple[str, ...]
    """GPU types among ``regions``, slowest first: candidates for the job's slowest type."""
    need_gbps: dict[str, float]
    """Per slowest type: the bandwidth each crossing needs."""
    compute_s: dict[str, float]
    """Per slowest type: D₀ = I · (M + S − 1) · t_c."""
    rate: dict[tuple[str, str], float]
    """Per (region, slowest type): power · PUE · p̄ / 3600, $ per GPU-second."""
    pair_latency_s: dict[Pair, float]
    """Per allowed pair: I · (lat(a→b) + lat(b→a)), the run time one crossing adds."""
    max_stages: dict[str, int]
    """Per region: the most stages of this job its free GPUs hold."""

    @property
    def pairs(self) -> list[Pair]:
        return sorted(self.pair_latency_s)

    def pair_groups(self, end: int) -> list[tuple[str, list[str]]]:
        """The allowed pairs grouped by their ``end`` (0: the region a block leaves, 1: the one
        the next block enters), each region with the pairs' other ends, in ``regions`` order:
        the aggregated transition rows of the MILP, one per group."""
        other: dict[str, list[str]] = {}
        for pair in self.pairs:
            other.setdefault(pair[end], []).append(pair[1 - end])
        return [(r, other[r]) for r in self.regions if r in other]

    def stage_cost_bound(self, gpu_type: str | None = None) -> float:
        """Ē ≥ 0: an upper bound of g · Σ stages · rate over any placement (on ``gpu_type``, or
        any type) and over none (rate 0: the job not admitted) — a big-M of the cost rows."""
        rates = [v for (_, t), v in self.rate.items() if gpu_type in (None, t)]
        return self.width * self.stages * max(max(rates, default=0.0), 0.0)

    def stage_cost_floor(self, gpu_type: str | None = None) -> float:
        """Ř ≤ 0: a lower bound of g · Σ stages · rate over any placement (on ``gpu_type``, or
        any type); 0 unless a rate is negative — prices may be (markets have negative hours)."""
        rates = [v for (_, t), v in self.rate.items() if gpu_type in (None, t)]
        return self.width * self.stages * min(min(rates, default=0.0), 0.0)

    def latency_cost_floor(self) -> float:
        """P̌ ≤ 0: a lower bound of the cost one crossing's latency adds (longest pair × Ř)."""
        return max(self.pair_latency_s.values(), default=0.0) * self.stage_cost_floor()


def single_type(job: JobData) -> bool:
    """One candidate GPU type: the slowest type is known, so the model needs no theta or E."""
    return len(job.types) == 1


def rated(job: JobData) -> bool:
    """The job has one candidate type and may cross: its latency-cost rows read ``rho[j]``."""
    return single_type(job) and job.blocks > 1 and bool(job.pairs)


@dataclass(frozen=True)
class EpochData:
    """The whole epoch: jobs, regions, free GPUs, link directions and what loads them."""

    jobs: tuple[JobData, ...]
    regions: tuple[str, ...]
    region_type: dict[str, str]
    type_peak: dict[str, float]
    free_gpus: dict[str, int]
    residual_gbps: dict[Direction, float]
    pair_uses: dict[Pair, Counter[Direction]]
    """Link directions (with multiplicity) a crossing a→b loads: forward and backward routes."""

    @property
    def directions(self) -> list[Direction]:
        used = {d for uses in self.pair_uses.values() for d in uses}
        return sorted(used)

    def region_index(self, region: str) -> int:
        """The region's place in the instance's order: ``mirror_order`` keeps the pipelines whose
        first region comes before their last."""
        return self.regions.index(region)


def _job_data(
    snapshot: Snapshot, job: Job, weight: float, pair_uses: dict[Pair, Counter[Direction]]
) -> JobData:
    instance = snapshot.instance
    net = instance.network
    room = job_room(snapshot, job)
    regions = tuple(room)
    types = sorted(
        {instance.region[r].gpu_type for r in regions}, key=lambda g: (g.peak_tflops, g.name)
    )
    need, compute, rate = {}, {}, {}
    for gpu in types:
        t_c = jobf.stage_time(instance, job, gpu.peak_tflops)
        need[gpu.name] = jobf.need_gbps(instance, job, gpu.peak_tflops)
        compute[gpu.name] = jobf.compute_time_s(job, t_c)
        for name in regions:
            region = instance.region[name]
            end = snapshot.time_s + compute[gpu.name]
            rate[(name, gpu.name)] = gpu_second_rate(region, snapshot.time_s, end)
    latency = {}
    for a in regions:
        for b in regions:
            if (a, b) in pair_uses:
                latency[(a, b)] = job.iterations * round_trip_latency_s(net, a, b)
    return JobData(
        name=job.name,
        weight=weight,
        stages=job.stages,
        width=job.gpus_per_stage,
        blocks=blocks_of(snapshot, job, room),
        regions=regions,
        types=tuple(g.name for g in types),
        need_gbps=need,
        compute_s=compute,
        rate=rate,
        pair_latency_s=latency,
        max_stages=room,
    )


def job_room(snapshot: Snapshot, job: Job) -> dict[str, int]:
    """Per region whose GPU type holds a stage in memory and whose free GPUs hold at least one
    stage, in the instance's order: the most stages of ``job`` it holds."""
    g = job.gpus_per_stage
    return {
        r.name: min(job.stages, snapshot.free_gpus[r.name] // g)
        for r in snapshot.instance.regions
        if jobf.fits(job, r.gpu_type) and snapshot.free_gpus[r.name] >= g
    }


def blocks_of(snapshot: Snapshot, job: Job, room: dict[str, int]) -> int:
    """K_j = min(max_regions, S, usable regions): the most blocks a placement of ``job`` has."""
    return min(snapshot.instance.max_regions, job.stages, len(room))


def epoch_data(snapshot: Snapshot, weights: dict[str, float]) -> EpochData:
    """Coefficients for the snapshot's waiting jobs with the given priority weights."""
    instance = snapshot.instance
    net = instance.network
    names = tuple(r.name for r in instance.regions)
    pair_uses: dict[Pair, Counter[Direction]] = {}
    for a in names:
        for b in names:
            uses = crossing_link_uses(net, a, b) if a != b else None
            if uses is not None:
                pair_uses[(a, b)] = uses
    return EpochData(
        jobs=tuple(_job_data(snapshot, j, weights[j.name], pair_uses) for j in snapshot.waiting),
        regions=names,
        region_type={r.name: r.gpu_type.name for r in instance.regions},
        type_peak={g.name: g.peak_tflops for g in instance.gpu_types.values()},
        free_gpus=dict(snapshot.free_gpus),
        residual_gbps=dict(snapshot.residual_gbps),
        pair_uses=pair_uses,
    )


def mirror_symmetric(job: JobData, data: EpochData) -> bool:
    """Whether every placement of ``job`` and its mirror image (the blocks in reverse order)
    are interchangeable: each allowed pair a→b has b→a allowed too, with the same latency and the
    same link loads. Then the two use the same GPUs per region, the same link directions and run
    as long, so they cost the same (the crossing's activations go one way, its gradients the
    other, and both are counted). True for every network the instance files describe; checked
    per job so the MILP's ``mirror_order`` rows are only stated where they cut no optimum."""
    lat = job.pair_latency_s
    return all(
        (b, a) in lat
        and lat[(b, a)] == lat[(a, b)]
        and data.pair_uses[(b, a)] == data.pair_uses[(a, b)]
        for a, b in lat
    )


def capacity_bound(data: EpochData) -> CapacityBound:
    """The knapsack of the placeable waiting jobs into the free GPUs (``capacity``)."""
    return knapsack_bound(_items(data), sum(data.free_gpus.values()))


def _items(data: EpochData) -> list[Item]:
    """The placeable waiting jobs as the knapsack sees them."""
    return [
        Item(j.name, j.weight, j.stages * j.width)
        for j in data.jobs
        if placeable(j.stages, j.blocks, j.max_stages)
    ]


def admission_fixing(data: EpochData, floor: float) -> FixedAdmission:
    """The jobs every plan admitting at least ``floor`` of weight admits or leaves out
    (``capacity.fixed_admission``); an unplaceable job is left out by every plan."""
    items = _items(data)
    fixed = fixed_admission(items, sum(data.free_gpus.values()), floor)
    unplaceable = {j.name for j in data.jobs} - {i.name for i in items}
    return FixedAdmission(fixed.admit, fixed.leave | unplaceable)


def snapshot_capacity_bound(snapshot: Snapshot, weights: Mapping[str, float]) -> CapacityBound:
    """``capacity_bound`` straight from a snapshot, without the coefficients the MILP needs."""
    items = []
    for job in snapshot.waiting:
        room = job_room(snapshot, job)
        if placeable(job.stages, blocks_of(snapshot, job, room), room):
            items.append(Item(job.name, weights[job.name], job.total_gpus))
    return knapsack_bound(items, sum(snapshot.free_gpus.values()))


def trivial_bounds(data: EpochData) -> tuple[float, float]:
    """Bounds that need no MILP solve, for a stage stopped before the solver had one (valid for
    every plan): the capacity bound on the admission (maximized), and the least a plan can cost in
    the model's unit — 0, less only where a rate is negative: per job D₀ · Ř plus a P̌ per
    possible crossing (``cost``'s lower bounds of E, rho and P)."""
    weight = capacity_bound(data).weight
    floor = sum(
        max(j.compute_s.values(), default=0.0) * j.stage_cost_floor()
        + (j.blocks - 1) * j.latency_cost_floor()
        for j in data.jobs
        if j.blocks > 0
    )
    return weight, cost_scale(data) * floor


def cost_scale(data: EpochData) -> float:
    """A power of ten that lifts the largest single-job cost to at least 1 in the objective.

    Tiny epochs (a few iterations) cost micro-dollars; HiGHS's optimality tolerances (~1e-7) would
    then treat real differences as zero. Costs of a dollar or more stay in dollars (scale 1).
    """
    largest = max(
        (j.stage_cost_bound() * max(j.compute_s.values(), default=0.0) for j in data.jobs),
        default=1.0,
    )
    if largest <= 0:
        return 1.0
    return float(10.0 ** max(0, -math.floor(math.log10(largest))))
