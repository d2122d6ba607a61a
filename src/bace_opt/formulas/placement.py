"""What a placement implies for its job (DESIGN §2–§3): slowest GPU type, the bandwidth each
crossing needs, crossing latency, run time, the link directions it loads, and the epoch cost.

The greedy policies, the simulator and the MILP's coefficients take these numbers from here
(the checker recomputes them on its own, to check them). A crossing between regions a and b sends
activations over the route a→b and gradients over the route b→a, so both its latency and its link
load come from the pair of routes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bace_opt.core.network import Direction, RegionGraph
from bace_opt.core.placement import Placement
from bace_opt.core.world import GpuType, Instance, Job
from bace_opt.formulas import job as jobf
from bace_opt.formulas.energy import gpu_second_rate


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


def round_trip_latency_s(network: RegionGraph, a: str, b: str) -> float:
    """Latency of the route a→b plus the route b→a (inf when either is missing): what one
    crossing between a and b adds to an iteration, its activations going one way and its
    gradients the other."""
    return network.route_latency_s(a, b) + network.route_latency_s(b, a)


def crossing_latency_s(instance: Instance, src: str, dst: str) -> float:
    """The mean one-way latency of the routes src→dst and dst→src, so that the DESIGN term
    ``2 · latency`` is the round trip."""
    return round_trip_latency_s(instance.network, src, dst) / 2.0


def crossing_link_uses(network: RegionGraph, a: str, b: str) -> Counter[Direction] | None:
    """How many times a crossing between a and b loads each link direction: the route a→b
    (activations) and the route b→a (gradients); None when either route is missing."""
    forward, backward = network.route(a, b), network.route(b, a)
    if forward is None or backward is None:
        return None
    return Counter((*forward, *backward))


def estimate(instance: Instance, job: Job, placement: Placement) -> PathEstimate:
    """Slowest type, need, latency and run times of ``job`` on ``placement``."""
    slowest = slowest_gpu(instance, placement)
    t_c = jobf.stage_time(instance, job, slowest.peak_tflops)
    latency = tuple(crossing_latency_s(instance, a, b) for a, b in placement.crossings)
    return PathEstimate(
        slowest=slowest,
        stage_time=t_c,
        need_gbps=jobf.need_gbps(instance, job, slowest.peak_tflops),
        crossing_latency_s=latency,
        run_time_s=jobf.run_time_s(job, t_c, sum(latency)),
        compute_time_s=jobf.compute_time_s(job, t_c),
    )


def link_use(instance: Instance, placement: Placement) -> Counter[Direction]:
    """How many times each link direction carries this pipeline's traffic, over all crossings."""
    use: Counter[Direction] = Counter()
    for a, b in placement.crossings:
        use.update(crossing_link_uses(instance.network, a, b) or {})
    return use


def epoch_cost(instance: Instance, job: Job, placement: Placement, time_s: float) -> float:
    """DESIGN §3: ``Σ_blocks stages · g · power_kw · pue_r · D · p̄_r`` ($), p̄_r being region r's
    mean price over ``[t, t + D₀]``. With constant prices this is what the simulator books."""
    est = estimate(instance, job, placement)
    total = 0.0
    for block in placement.blocks:
        rate = gpu_second_rate(instance.region[block.region], time_s, time_s + est.compute_time_s)
        total += block.stages * job.gpus_per_stage * est.run_time_s * rate
    return total
