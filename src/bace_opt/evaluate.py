"""What a placement implies for its job (DESIGN §2–§3): slowest GPU type, the bandwidth each
crossing needs, crossing latency, run time, the links it loads, and the epoch cost.

The greedy policies, the simulator and the checker all take these numbers from here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bace_opt import pipeline
from bace_opt.network import Direction
from bace_opt.placement import Placement
from bace_opt.world import GpuType, Instance, Job


@dataclass(frozen=True)
class PathEstimate:
    """A job on one placement, when every crossing gets the bandwidth it needs."""

    slowest: GpuType
    stage_time: float
    """t_c of the slowest stage (s)."""
    need_gbps: float
    """Bandwidth each crossing needs in each direction so communication hides under compute."""
    crossing_latency_s: tuple[float, ...]
    """Per crossing, the mean one-way latency of its forward and backward routes."""
    run_time_s: float
    """D: run time including crossing latency."""
    compute_time_s: float
    """D₀: run time without latency, the window prices are averaged over."""


def slowest_gpu(instance: Instance, placement: Placement) -> GpuType:
    """The GPU type with the least peak on the path (ties: by name)."""
    types = (instance.region[r].gpu_type for r in placement.regions)
    return min(types, key=lambda g: (g.peak_tflops, g.name))


def crossing_latency_s(instance: Instance, src: str, dst: str) -> float:
    """Mean one-way latency of the routes src→dst and dst→src, so that the DESIGN term
    ``2 · latency`` is the round trip a micro-batch's activations and gradients pay."""
    net = instance.network
    return (net.route_latency_s(src, dst) + net.route_latency_s(dst, src)) / 2.0


def estimate(instance: Instance, job: Job, placement: Placement) -> PathEstimate:
    """Slowest type, need, latency and run times of ``job`` on ``placement``."""
    slowest = slowest_gpu(instance, placement)
    t_c = instance.stage_time(job, slowest)
    latency = tuple(crossing_latency_s(instance, a, b) for a, b in placement.crossings)
    bubble = job.micro_batches + job.stages - 1
    run = pipeline.run_time(
        job.iterations, pipeline.iteration_time(job.micro_batches, job.stages, t_c, latency)
    )
    return PathEstimate(
        slowest=slowest,
        stage_time=t_c,
        need_gbps=pipeline.need_gbps(instance.activation(job), t_c),
        crossing_latency_s=latency,
        run_time_s=run,
        compute_time_s=job.iterations * bubble * t_c,
    )


def link_use(instance: Instance, placement: Placement) -> Counter[Direction]:
    """How many times each link direction carries this pipeline's traffic: every crossing loads
    the route forward (activations) and the route backward (gradients)."""
    use: Counter[Direction] = Counter()
    net = instance.network
    for a, b in placement.crossings:
        for route in (net.route(a, b), net.route(b, a)):
            if route is not None:
                use.update(route)
    return use


def epoch_cost(instance: Instance, job: Job, placement: Placement, time_s: float) -> float:
    """DESIGN §3: ``Σ_blocks stages · g · power_kw · pue_r · D · p̄_r`` ($), p̄_r being region r's
    mean price over ``[t, t + D₀]``. With constant prices this is what the simulator books."""
    est = estimate(instance, job, placement)
    total = 0.0
    for block in placement.blocks:
        rate = instance.region[block.region].usd_per_gpu_second(time_s, time_s + est.compute_time_s)
        total += block.stages * job.gpus_per_stage * est.run_time_s * rate
    return total
