"""A checked file → the domain objects: an ``Instance`` (prices resolved, models resolved, a
``workload:`` drawn into jobs) or a ``Snapshot`` (the instance plus the epoch's free resources).
Every problem is collected before raising, so a person sees all of them at once."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pandas as pd

from bace_opt.core.network import Link
from bace_opt.core.placement import Placement
from bace_opt.core.world import GpuType, Instance, Job, Region, Running, Snapshot
from bace_opt.errors import InputError
from bace_opt.io.prices import price_profile
from bace_opt.io.rules import (
    capacity_problem,
    horizon_problems,
    resolve_models,
    snapshot_problems,
    structure_problems,
)
from bace_opt.io.schema import InstanceFile, SnapshotFile
from bace_opt.io.workload import generate_jobs, read_trace


def build_instance(
    spec: InstanceFile, base_dir: Path, source: str = "", data_root: Path | None = None
) -> Instance:
    """Check the rules that relate fields and build the ``Instance`` (raises ``InputError``)."""
    problems = structure_problems(spec)
    if problems:
        raise InputError(problems)
    start = spec.start_utc
    gpu_types = {g.name: GpuType(**g.model_dump()) for g in spec.gpu_types}
    regions: list[Region] = []
    for i, r in enumerate(spec.regions):
        price = price_profile(r.price, base_dir, data_root, f"regions[{i}].price.series_csv", start)
        if isinstance(price, str):
            problems.append(price)
            continue
        regions.append(Region(r.name, r.gpus, gpu_types[r.gpu_type], r.pue, price))
    wanted = [(f"jobs[{i}].model", j.model) for i, j in enumerate(spec.jobs)]
    if spec.workload:
        wanted += [(f"workload.mix[{i}].model", m.model) for i, m in enumerate(spec.workload.mix)]
    models, model_problems = resolve_models(spec, wanted)
    problems += model_problems
    if problems:
        raise InputError(problems)

    jobs: list[Job] = []
    for i, j in enumerate(spec.jobs):
        model = models[j.model]
        seq_len = j.seq_len or model.seq_len
        if seq_len is None:
            problems.append(f"jobs[{i}].seq_len: required, model '{model.name}' has no seq_len")
            continue
        problem = capacity_problem(
            f"jobs[{i}]", model.params, j.stages, j.gpus_per_stage, regions, spec.max_regions
        )
        if problem:
            problems.append(problem)
        fields = j.model_dump(exclude={"model", "seq_len"})
        jobs.append(Job(model=model, seq_len=seq_len, **fields))
    if spec.workload:
        w = spec.workload
        for i, entry in enumerate(w.mix):
            for k, (stages, width) in enumerate(entry.shapes):
                problem = capacity_problem(
                    f"workload.mix[{i}].shapes[{k}]",
                    models[entry.model].params,
                    stages,
                    width,
                    regions,
                    spec.max_regions,
                )
                if problem:
                    problems.append(problem)
            if (entry.seq_len or models[entry.model].seq_len) is None:
                problems.append(f"workload.mix[{i}].seq_len: required, the model has none")
        trace: pd.DataFrame | None = None
        if w.arrivals.process == "trace":
            read = read_trace(base_dir, data_root, w, "workload.arrivals.csv")
            if isinstance(read, str):
                problems.append(read)
            else:
                trace = read
        if not problems:
            reference = gpu_types[w.reference_gpu or spec.gpu_types[0].name]
            taken = {j.name for j in jobs}
            generated = generate_jobs(w, models, reference, spec.mfu, trace)
            clash = sorted(taken & {j.name for j in generated})
            if clash:
                problems.append(
                    f"workload.name_prefix: generated names clash with jobs: {clash[0]}"
                )
            jobs += generated
    if problems:
        raise InputError(problems)
    jobs.sort(key=lambda j: (j.arrival_s, j.name))
    instance = Instance(
        name=spec.name,
        start_utc=start,
        mfu=spec.mfu,
        bytes_per_element=spec.bytes_per_element,
        epoch_s=spec.epoch_s,
        max_regions=spec.max_regions,
        relays=spec.relays,
        gpu_types=MappingProxyType(gpu_types),
        regions=tuple(regions),
        links=tuple(Link(**lk.model_dump()) for lk in spec.links),
        jobs=tuple(jobs),
        source=source,
    )
    labels = {j.name: f"jobs[{i}]" for i, j in enumerate(spec.jobs)}
    if spec.workload:
        labels.update({j.name: f"workload (job {j.name})" for j in jobs if j.name not in labels})
    problems = horizon_problems(instance, labels)
    if problems:
        raise InputError(
            problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        )
    return instance


def build_snapshot(
    spec: SnapshotFile, base_dir: Path, source: str = "", data_root: Path | None = None
) -> Snapshot:
    """Build a ``Snapshot``: regions left out of ``free_gpus`` are wholly free, link directions
    left out of ``residual_gbps`` wholly unused; ``running`` in the file's order."""
    instance = build_instance(spec, base_dir, source, data_root)
    problems = snapshot_problems(spec, instance)
    if problems:
        raise InputError(problems)
    free = {r.name: spec.free_gpus.get(r.name, r.gpus) for r in instance.regions}
    residual = dict(instance.network.capacity)
    for key, gbps in spec.residual_gbps.items():
        a, b = key.split(">")
        residual[(a, b)] = gbps
    running = tuple(
        Running(
            r.name,
            Placement.parse(r.name, r.placement),
            r.start_s,
            r.end_s,
            r.gpus_per_stage,
            r.need_gbps,
        )
        for r in spec.running
    )
    views = MappingProxyType(free), MappingProxyType(residual)
    return Snapshot(instance, spec.time_s, instance.jobs, *views, running)
