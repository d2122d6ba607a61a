"""The rules of an instance or snapshot file that relate fields to each other (DESIGN §4): unique
names, references to known regions, GPU types and models, the memory rule, enough GPUs somewhere,
free resources within capacity. Each problem is one line starting with its field path."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from bace_opt.core.world import Instance, ModelProfile, Region
from bace_opt.formulas import job as job_formulas
from bace_opt.formulas import pipeline
from bace_opt.io.catalog import catalog_model
from bace_opt.io.schema import MAX_TIME_S, InstanceFile, ModelSpec, SnapshotFile


def _duplicates(names: Iterable[str]) -> set[str]:
    return {name for name, n in Counter(names).items() if n > 1}


def resolve_models(
    spec: InstanceFile, wanted: Iterable[tuple[str, str]]
) -> tuple[dict[str, ModelProfile], list[str]]:
    """Profiles for every model name used: inline first, then the shipped catalog."""
    inline = {m.name: m for m in spec.models}
    models: dict[str, ModelProfile] = {}
    problems: list[str] = []
    for where, name in wanted:
        if name in models:
            continue
        found: ModelSpec | None = inline.get(name) or catalog_model(name)
        if found is None:
            problems.append(f"{where}: unknown model '{name}' (not inline and not in models/)")
            continue
        models[name] = ModelProfile(**found.model_dump())
    return models, problems


def capacity_problem(
    where: str, params: float, stages: int, gpus_per_stage: int, regions: list[Region], k: int
) -> str | None:
    """The memory rule and the 'more GPUs than exist anywhere' rule for one pipeline shape."""
    usable = [
        r
        for r in regions
        if pipeline.fits_memory(params, stages, gpus_per_stage, r.gpu_type.memory_gb)
    ]
    if not usable:
        need = pipeline.memory_per_gpu_bytes(params, stages, gpus_per_stage) / 1e9
        best = max(r.gpu_type.memory_gb for r in regions)
        return (
            f"{where}: fails the memory rule: 16·params/(S·g) = {need:.1f} GB per GPU, "
            f"more than any GPU type here ({best:g} GB); use more stages or GPUs per stage"
        )
    slots = sorted((r.gpus // gpus_per_stage for r in usable), reverse=True)
    reachable = sum(slots[:k])
    if reachable < stages:
        return (
            f"{where}: needs {stages} stages × {gpus_per_stage} GPUs, but at most "
            f"{reachable * gpus_per_stage} GPUs in whole stages exist in {k} region(s) "
            f"(max_regions) where it fits in memory"
        )
    return None


def structure_problems(spec: InstanceFile) -> list[str]:
    problems: list[str] = []
    for field, names in (
        ("gpu_types", [g.name for g in spec.gpu_types]),
        ("regions", [r.name for r in spec.regions]),
        ("models", [m.name for m in spec.models]),
        ("jobs", [j.name for j in spec.jobs]),
    ):
        for name in sorted(_duplicates(names)):
            problems.append(f"{field}: duplicate name '{name}'")
    gpu_names = {g.name for g in spec.gpu_types}
    region_names = {r.name for r in spec.regions}
    for i, region in enumerate(spec.regions):
        if region.gpu_type not in gpu_names:
            problems.append(f"regions[{i}].gpu_type: unknown GPU type '{region.gpu_type}'")
    seen: dict[tuple[str, str], int] = {}
    for i, link in enumerate(spec.links):
        for end in ("a", "b"):
            if getattr(link, end) not in region_names:
                problems.append(f"links[{i}].{end}: unknown region '{getattr(link, end)}'")
        if link.a == link.b:
            problems.append(f"links[{i}].b: a link must join two different regions")
        directions = [(link.a, link.b)] + ([] if link.directed else [(link.b, link.a)])
        for direction in directions:
            if direction in seen:
                problems.append(
                    f"links[{i}]: direction {direction[0]}>{direction[1]} "
                    f"is already given by links[{seen[direction]}]"
                )
            seen.setdefault(direction, i)
    if spec.workload and spec.workload.reference_gpu not in (None, *gpu_names):
        problems.append(f"workload.reference_gpu: unknown GPU type '{spec.workload.reference_gpu}'")
    return problems


def snapshot_problems(spec: SnapshotFile, instance: Instance) -> list[str]:
    problems: list[str] = []
    for name, free in sorted(spec.free_gpus.items()):
        region = instance.region.get(name)
        if region is None:
            problems.append(f"free_gpus.{name}: unknown region")
        elif free > region.gpus:
            problems.append(f"free_gpus.{name}: {free} free, but the region has {region.gpus}")
    capacity = instance.network.capacity
    for key, gbps in sorted(spec.residual_gbps.items()):
        parts = key.split(">")
        direction = (parts[0], parts[1]) if len(parts) == 2 else None
        if direction is None or direction not in capacity:
            problems.append(f"residual_gbps.{key}: not a link direction 'from>to' of this instance")
        elif gbps > capacity[direction] * (1 + 1e-9):
            problems.append(
                f"residual_gbps.{key}: {gbps:g} Gbit/s, "
                f"more than the link's {capacity[direction]:g}"
            )
    return problems


def horizon_problems(instance: Instance, labels: dict[str, str]) -> list[str]:
    """Jobs the model cannot compute to the second: arriving past ``MAX_TIME_S`` (a drawn
    workload can), or running longer than it even whole in their fastest region. ``labels``
    names each job's field (``jobs[3]``)."""
    problems: list[str] = []
    for job in instance.jobs:
        where = labels.get(job.name, f"job {job.name}")
        if job.arrival_s > MAX_TIME_S:
            problems.append(f"{where}.arrival_s: {job.arrival_s:g} s, past {MAX_TIME_S:g} s")
            continue
        fastest = job_formulas.fastest_usable(instance, job).gpu_type
        run_s = job_formulas.ideal_run_time_s(instance, job, fastest)
        if not run_s <= MAX_TIME_S:
            problems.append(
                f"{where}.iterations: the job runs {run_s:.3g} s even whole on {fastest.name}, "
                f"more than {MAX_TIME_S:g} s"
            )
    return problems
