"""BACE-Pipe's cost-minimizing allocator: on each feasible path, contiguous stage blocks with the
most stages where electricity is cheapest; the cheapest path wins.

On a fixed path the run time D is fixed (its crossings' latency and its slowest GPU type), so the
epoch cost of DESIGN §3, ``Σ_blocks stages · g · power · PUE · D · p̄_r``, is ``g · D`` times a
linear function of the stage counts. Minimizing it with at least one stage per region and at most
the free stages of each is a fractional-knapsack: give every region one stage, then fill the rest
cheapest-region-first — exact, and vectorized over all paths at once. p̄_r is the region's mean
price over the job's expected run [t, t + D₀], so time-varying prices count as the job will meet
them. Ties (within 1e-9 relative) go to fewer crossings, then lower latency, then region order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bace_opt.placement import Block, Placement
from bace_opt.policies.bace.pathfinder import FloatArray, IntArray, PathSet
from bace_opt.world import Instance, Job

TIE_REL = 1e-9


@dataclass(frozen=True)
class Allocation:
    """The chosen placement and the epoch cost the allocator computed for it."""

    placement: Placement
    cost_usd: float


def gpu_second_price(instance: Instance, job: Job, time_s: float, peak_tflops: float) -> FloatArray:
    """$ per GPU-second in each region (power · PUE · p̄_r), p̄ over the run [t, t + D₀] that the
    job has when its slowest stage runs at ``peak_tflops``."""
    t_c = instance.stage_time_at(job, peak_tflops)
    compute_s = job.iterations * (job.micro_batches + job.stages - 1) * t_c
    return np.array([r.usd_per_gpu_second(time_s, time_s + compute_s) for r in instance.regions])


def _fill(
    job: Job, regions: IntArray, slots: IntArray, rate: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Stages per block (n, k) in path order and Σ stages · rate (n,), cheapest regions first."""
    k = regions.shape[1]
    held, price = slots[regions], rate[regions]
    order = np.argsort(price, axis=1, kind="stable")
    extra = np.take_along_axis(held, order, axis=1) - 1
    before = np.cumsum(extra, axis=1) - extra
    take = np.clip(job.stages - k - before, 0, extra)
    stages = np.empty_like(take)
    np.put_along_axis(stages, order, 1 + take, axis=1)
    return stages, (stages * price).sum(axis=1)


def cheapest(
    instance: Instance,
    job: Job,
    candidates: list[PathSet],
    slots: IntArray,
    time_s: float,
    names: tuple[str, ...],
) -> Allocation | None:
    """The least-cost placement over all candidate paths (None when there are none)."""
    rates: dict[float, FloatArray] = {}
    rows = []
    for paths in candidates:
        cost = np.empty(len(paths))
        stages = np.empty(paths.regions.shape, dtype=np.int64)
        for peak in np.unique(paths.peak_tflops):
            mask = paths.peak_tflops == peak
            if float(peak) not in rates:
                rates[float(peak)] = gpu_second_price(instance, job, time_s, float(peak))
            s, fill = _fill(job, paths.regions[mask], slots, rates[float(peak)])
            t_c = instance.stage_time_at(job, float(peak))
            run = job.iterations * (
                (job.micro_batches + job.stages - 1) * t_c + 2.0 * paths.latency_s[mask]
            )
            cost[mask] = job.gpus_per_stage * run * fill
            stages[mask] = s
        rows.append((paths, stages, cost))
    if not rows:
        return None
    best = min(float(cost.min()) for _, _, cost in rows)
    tied = []
    for paths, stages, cost in rows:
        for i in np.flatnonzero(cost <= best + abs(best) * TIE_REL + 1e-15):
            key = (paths.regions.shape[1], float(paths.latency_s[i]), tuple(paths.regions[i]))
            tied.append((key, paths.regions[i], stages[i], float(cost[i])))
    _, regions, stages, best_cost = min(tied, key=lambda t: t[0])
    blocks = tuple(Block(names[r], int(s)) for r, s in zip(regions, stages, strict=True))
    return Allocation(Placement(job.name, blocks), best_cost)


def first_feasible(
    job: Job, candidates: list[PathSet], slots: IntArray, names: tuple[str, ...]
) -> Placement | None:
    """The ablation without cost-min: the first feasible path (fewest regions, then region order),
    each region taking as many stages as it holds while leaving one for each later region."""
    for paths in candidates:
        if len(paths):
            regions = paths.regions[0]
            blocks, left = [], job.stages
            for i, r in enumerate(regions):
                take = min(int(slots[r]), left - (len(regions) - i - 1))
                blocks.append(Block(names[r], take))
                left -= take
            return Placement(job.name, tuple(blocks))
    return None
