"""The rules of an instance or snapshot file that relate fields to each other (DESIGN §4): unique
names, references to known regions, GPU types and models, the memory rule, enough GPUs somewhere,
free resources within capacity, running jobs that fit what is in use. Each problem is one line
starting with its field path."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from bace_opt.core.placement import Block, Placement
from bace_opt.core.world import Instance, ModelProfile, Region
from bace_opt.formulas import job as job_formulas
from bace_opt.formulas import pipeline
from bace_opt.io.catalog import catalog_model
from bace_opt.io.schema import MAX_TIME_S, InstanceFile, ModelSpec, RunningSpec, SnapshotFile

_STAGES = re.compile(r"[0-9]{1,6}")


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
    return problems + running_problems(spec, instance)


def parse_placement(where: str, job: str, text: str, instance: Instance) -> Placement | str:
    """``region:stages>region:stages`` read strictly: known regions, each once, whole stage counts
    of at least 1; a problem line instead when it is not."""
    blocks: list[Block] = []
    for part in text.split(">"):
        region, colon, stages = part.rpartition(":")
        if not colon or not _STAGES.fullmatch(stages):
            return (
                f"{where}: '{part}' is not a block 'region:stages' "
                f"(a placement is 'region:stages>region:stages', e.g. 'us-east:3>eu-west:5')"
            )
        if region not in instance.region:
            return f"{where}: unknown region '{region}'"
        if int(stages) < 1:
            return f"{where}: block '{part}' has no stages (at least 1)"
        if any(b.region == region for b in blocks):
            return f"{where}: region '{region}' appears twice (a placement uses a region once)"
        blocks.append(Block(region, int(stages)))
    return Placement(job, tuple(blocks))


def running_problems(spec: SnapshotFile, instance: Instance) -> list[str]:
    """Running jobs: placements that parse, started by ``time_s`` and expected to end no earlier,
    names of their own, and together no more GPUs per region than ``free_gpus`` leaves in use
    (fewer is fine: other holders may be left out)."""
    problems: list[str] = []
    waiting = {j.name for j in spec.jobs}
    first: dict[str, int] = {}
    held: dict[str, int] = {}
    for i, run in enumerate(spec.running):
        where = f"running[{i}]"
        if run.name in first:
            problems.append(
                f"{where}.name: duplicate name '{run.name}' (see running[{first[run.name]}])"
            )
        elif run.name in waiting:
            problems.append(f"{where}.name: '{run.name}' is also a waiting job in jobs")
        first.setdefault(run.name, i)
        problems += _running_times(where, run, spec.time_s)
        placement = parse_placement(f"{where}.placement", run.name, run.placement, instance)
        if isinstance(placement, str):
            problems.append(placement)
            continue
        for name, gpus in placement.gpus_by_region(run.gpus_per_stage).items():
            held[name] = held.get(name, 0) + gpus
    for region in instance.regions:
        in_use = region.gpus - spec.free_gpus.get(region.name, region.gpus)
        if 0 <= in_use < held.get(region.name, 0):  # below 0: free_gpus itself is wrong
            problems.append(
                f"running: the running jobs hold {held[region.name]} GPUs in {region.name}, but "
                f"free_gpus leaves {in_use} of its {region.gpus} in use"
            )
    return problems


def _running_times(where: str, run: RunningSpec, time_s: float) -> list[str]:
    problems: list[str] = []
    if run.start_s > time_s:
        problems.append(
            f"{where}.start_s: {run.start_s:g} s, after the snapshot's time_s {time_s:g} s "
            f"(a running job has started)"
        )
    if run.end_s < time_s:
        problems.append(
            f"{where}.end_s: {run.end_s:g} s, before the snapshot's time_s {time_s:g} s "
            f"(a job still running is expected to end at or after it)"
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
