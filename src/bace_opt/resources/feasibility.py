"""Whether a placement can be applied to the resources of an epoch (DESIGN §2–§3).

Structure: stage blocks that add up to the job's S stages, each in a different known region, at
most ``max_regions`` of them, each region's GPU type holding the stage in memory, and a route both
ways for every crossing. Resources: free GPUs per region and, for a bandwidth-aware policy, ``need``
Gbit/s of residual on every link direction the crossings load.
"""

from __future__ import annotations

from collections.abc import Mapping

from bace_opt.core.network import Direction, direction_key
from bace_opt.core.placement import Placement
from bace_opt.core.world import Instance, Job
from bace_opt.formulas import job as jobf
from bace_opt.resources.demand import Demand

EPS_GBPS = 1e-9


def structure_problems(instance: Instance, job: Job, placement: Placement) -> list[str]:
    """What is wrong with the shape of a placement, whatever resources are free."""
    problems: list[str] = []
    regions = placement.regions
    if not placement.blocks:
        return ["no stage blocks"]
    if any(b.stages < 1 for b in placement.blocks):
        problems.append("a block has fewer than 1 stage")
    if sum(b.stages for b in placement.blocks) != job.stages:
        problems.append(
            f"blocks hold {sum(b.stages for b in placement.blocks)} stages, "
            f"the job has {job.stages}"
        )
    if len(set(regions)) != len(regions):
        problems.append(f"a region appears twice in {placement.describe()}")
    if len(regions) > instance.max_regions:
        problems.append(f"{len(regions)} regions, more than max_regions={instance.max_regions}")
    for name in regions:
        region = instance.region.get(name)
        if region is None:
            problems.append(f"region {name}: unknown")
        elif not jobf.fits(job, region.gpu_type):
            problems.append(f"region {name}: a stage does not fit {region.gpu_type.name} memory")
    if problems:
        return problems
    for a, b in placement.crossings:
        for src, dst in ((a, b), (b, a)):
            if instance.network.route(src, dst) is None:
                problems.append(f"crossing {a}>{b}: no route {src}>{dst}")
    return problems


def resource_problems(
    demand: Demand, free_gpus: Mapping[str, int], residual_gbps: Mapping[Direction, float] | None
) -> list[str]:
    """What ``demand`` takes that is not free; bandwidth only when ``residual_gbps`` is given."""
    problems: list[str] = []
    for region, gpus in demand.gpus.items():
        if gpus > free_gpus[region]:
            problems.append(f"region {region}: needs {gpus} GPUs, {free_gpus[region]} free")
    if residual_gbps is not None and demand.uses:
        need = demand.need_gbps
        for direction, times in sorted(demand.uses.items()):
            if times * need > residual_gbps[direction] + EPS_GBPS:
                problems.append(
                    f"link {direction_key(direction)}: needs {times * need:.4g} Gbit/s, "
                    f"{residual_gbps[direction]:.4g} residual"
                )
    return problems


def placement_problems(
    instance: Instance,
    job: Job,
    placement: Placement,
    free_gpus: Mapping[str, int],
    residual_gbps: Mapping[Direction, float] | None,
    demand: Demand | None = None,
) -> list[str]:
    """Every reason ``placement`` cannot be applied now (empty when it can); ``demand`` is
    computed here unless the caller has it."""
    problems = structure_problems(instance, job, placement)
    if problems:
        return problems
    demand = demand or Demand.of(instance, job, placement)
    return resource_problems(demand, free_gpus, residual_gbps)
