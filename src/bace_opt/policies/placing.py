"""Placement rules the baselines are made of: fill regions in a given order, split a job along a
path, and delay-first's fastest placement by predicted iteration time. Each returns a placement or
None when the job does not fit the free resources."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

from bace_opt.core.network import Direction
from bace_opt.core.placement import Block, Placement
from bace_opt.core.world import Instance, Job
from bace_opt.formulas import job as jobf
from bace_opt.formulas import pipeline
from bace_opt.formulas.job import usable_regions
from bace_opt.formulas.placement import estimate, link_use
from bace_opt.resources.ledger import Ledger

BW_FLOOR_GBPS = 1e-6
"""Residual bandwidth counted for a fully reserved link when predicting (not zero: finite keys)."""


def connected(instance: Instance, a: str, b: str) -> bool:
    """A crossing a→b needs a route both ways."""
    net = instance.network
    return net.route(a, b) is not None and net.route(b, a) is not None


def fill_in_order(
    instance: Instance, job: Job, order: Iterable[str], free: dict[str, int]
) -> Placement | None:
    """Walk regions in ``order``; each takes as many stages as its free GPUs hold, until the job
    is placed. A region is skipped when it holds no whole stage, has no route to the previous
    block's region, or would leave more stages than the largest remaining regions can hold within
    ``max_regions``. None when no such filling places the job."""
    names = list(order)
    slots = [free[name] // job.gpus_per_stage for name in names]
    blocks: list[Block] = []
    left = job.stages
    for i, name in enumerate(names):
        if slots[i] <= 0 or (blocks and not connected(instance, blocks[-1].region, name)):
            continue
        take = min(slots[i], left)
        spare = instance.max_regions - len(blocks) - 1
        later = sorted(slots[i + 1 :], reverse=True)[:spare] if spare > 0 else []
        if left - take > sum(later):
            continue
        blocks.append(Block(name, take))
        left -= take
        if left == 0:
            return Placement(job.name, tuple(blocks))
    return None


def nominal_run_time(instance: Instance, job: Job) -> float:
    """D₀ in one region of the fastest GPU type that holds the job: the SJF length."""
    return jobf.ideal_run_time_s(instance, job, jobf.fastest_usable(instance, job).gpu_type)


def predicted_iteration_time(
    instance: Instance, job: Job, placement: Placement, residual: Mapping[Direction, float]
) -> float:
    """T_iter if each crossing got the least residual bandwidth on the links it loads."""
    est = estimate(instance, job, placement)
    uses = link_use(instance, placement)
    bw = min((residual[d] / n for d, n in uses.items()), default=float("inf"))
    tau = pipeline.micro_batch_step(
        est.stage_time,
        jobf.activation(instance, job),
        [max(bw, BW_FLOOR_GBPS)] * len(placement.crossings),
    )
    return pipeline.iteration_time(job.micro_batches, job.stages, tau, sum(est.crossing_latency_s))


def _split(job: Job, path: Sequence[str], free: dict[str, int]) -> Placement | None:
    """Stages along ``path``, each region as many as it holds while leaving one per later region."""
    blocks, left = [], job.stages
    for i, name in enumerate(path):
        later = len(path) - i - 1
        take = min(free[name] // job.gpus_per_stage, left - later)
        if take < 1:
            return None
        blocks.append(Block(name, take))
        left -= take
    return Placement(job.name, tuple(blocks)) if left == 0 else None


def fastest_placement(instance: Instance, job: Job, ledger: Ledger) -> Placement | None:
    """delay-first's placement: fewest crossings; among those the shortest predicted iteration."""
    regions = [
        r for r in usable_regions(instance, job) if ledger.free[r.name] >= job.gpus_per_stage
    ]
    whole = [r for r in regions if ledger.free[r.name] // job.gpus_per_stage >= job.stages]
    if whole:
        best = min(whole, key=lambda r: (-r.gpu_type.peak_tflops, -ledger.free[r.name], r.name))
        return Placement(job.name, (Block(best.name, job.stages),))
    names = [r.name for r in regions]
    for k in range(2, instance.max_regions + 1):
        candidates = []
        for path in itertools.permutations(names, k):
            if any(not connected(instance, a, b) for a, b in itertools.pairwise(path)):
                continue
            placement = _split(job, path, ledger.free)
            if placement is not None:
                t_iter = predicted_iteration_time(instance, job, placement, ledger.residual)
                candidates.append((t_iter, path, placement))
        if candidates:
            return min(candidates, key=lambda c: (c[0], c[1]))[2]
    return None
