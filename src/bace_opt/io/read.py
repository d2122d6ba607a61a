"""Read instance and snapshot files (YAML or JSON) into the domain model of ``world``.

Reading is strict and reports every problem at once, one line each, starting with the field path
(``regions[0].gpus: …``), so ``bace-opt validate`` can show a person all of them before any work is
done. Order of checks: the document (size, syntax) → the shape (``schema``) → the rules that relate
fields (names, references, prices, the memory rule, capacity) → the derived objects.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
import yaml
from pydantic import ValidationError

from bace_opt.core.network import Link
from bace_opt.core.prices import ConstantPrice, HourlyUtcPrice, PriceProfile, SeriesPrice
from bace_opt.core.world import GpuType, Instance, Job, ModelProfile, Region, Snapshot
from bace_opt.errors import InputError
from bace_opt.formulas import pipeline
from bace_opt.io.catalog import catalog_model
from bace_opt.io.schema import (
    PRICE_TAGS,
    HourlyUtcPriceSpec,
    InstanceFile,
    ModelSpec,
    SeriesCsvPriceSpec,
    SnapshotFile,
)
from bace_opt.io.workload import generate_jobs, read_trace

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_CSV_BYTES = 64 * 1024 * 1024
SNAPSHOT_KEYS = frozenset({"time_s", "free_gpus", "residual_gbps"})


# -- the document ---------------------------------------------------------------------------------


def read_document(path: Path) -> dict[str, Any]:
    """Parse a YAML or JSON file into a mapping, with a safe loader and a size limit."""
    where = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError([f"{where}: cannot read file ({exc.strerror})"]) from None
    if size > MAX_FILE_BYTES:
        raise InputError([f"{where}: file is {size} bytes, more than the {MAX_FILE_BYTES} allowed"])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([f"{where}: cannot read file as UTF-8 text ({exc})"]) from None
    if not text.strip():
        raise InputError([f"{where}: file is empty"])
    try:
        doc = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InputError([f"{where}: JSON syntax error at line {exc.lineno}: {exc.msg}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError([f"{where}: YAML syntax error{at}: {problem}"]) from None
    except RecursionError:
        raise InputError([f"{where}: document is nested too deeply"]) from None
    if doc is None:
        raise InputError([f"{where}: file is empty"])
    if not isinstance(doc, dict):
        raise InputError([f"{where}: expected a mapping of fields, got {type(doc).__name__}"])
    return doc


def field_path(loc: Iterable[int | str]) -> str:
    """``('regions', 0, 'price', 'hourly_utc', 'hourly_utc')`` → ``regions[0].price.hourly_utc``."""
    out = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif previous == "price" and part in PRICE_TAGS:
            pass  # a union tag, not a field of the file
        else:
            out += f".{part}" if out else str(part)
        previous = part
    return out or "(file)"


def _shape_problems(exc: ValidationError) -> list[str]:
    return [f"{field_path(err['loc'])}: {err['msg']}" for err in exc.errors()]


def _duplicates(names: Iterable[str]) -> set[str]:
    return {name for name, n in Counter(names).items() if n > 1}


# -- prices ---------------------------------------------------------------------------------------


def _read_price_series(spec: SeriesCsvPriceSpec, base_dir: Path, where: str, start: Any) -> Any:
    """A ``SeriesPrice`` from a CSV, or a problem line."""
    path = (base_dir / spec.series_csv).resolve()
    if not path.is_file():
        return f"{where}: file not found: {spec.series_csv}"
    if path.stat().st_size > MAX_CSV_BYTES:
        return f"{where}: {spec.series_csv} is larger than {MAX_CSV_BYTES} bytes"
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        return f"{where}: cannot read {spec.series_csv} as CSV ({str(exc).splitlines()[0]})"
    missing = {"utc_time", "usd_per_kwh"} - set(table.columns)
    if missing:
        return (
            f"{where}: {spec.series_csv} needs columns utc_time,usd_per_kwh; "
            f"missing {', '.join(sorted(missing))} (has {', '.join(map(str, table.columns))})"
        )
    if table.empty:
        return f"{where}: {spec.series_csv} has no rows"
    times = pd.to_datetime(table["utc_time"], utc=True, format="ISO8601", errors="coerce")
    if times.isna().any():
        row = int(times.isna().to_numpy().argmax())
        value = table["utc_time"].iloc[row]
        return f"{where}: {spec.series_csv} row {row + 2}: utc_time {value!r} is not ISO-8601"
    prices = pd.to_numeric(table["usd_per_kwh"], errors="coerce")
    bad = prices.isna() | ~prices.map(lambda v: math.isfinite(v) if pd.notna(v) else False)
    if bad.any():
        row = int(bad.to_numpy().argmax()) + 2
        return f"{where}: {spec.series_csv} row {row}: usd_per_kwh is not a number"
    if not times.is_monotonic_increasing or times.duplicated().any():
        return f"{where}: {spec.series_csv} utc_time must increase strictly"
    return SeriesPrice.from_utc(
        list(times.dt.to_pydatetime()), prices.tolist(), start, source=str(path)
    )


def _price(spec: Any, base_dir: Path, where: str, start: Any) -> PriceProfile | str:
    if isinstance(spec, HourlyUtcPriceSpec):
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        return HourlyUtcPrice(tuple(spec.hourly_utc), (start - midnight).total_seconds())
    if isinstance(spec, SeriesCsvPriceSpec):
        result: PriceProfile | str = _read_price_series(spec, base_dir, where, start)
        return result
    return ConstantPrice(float(spec))


# -- the rules that relate fields -----------------------------------------------------------------


def _resolve_models(
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


def _capacity_problem(
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


def _structure_problems(spec: InstanceFile) -> list[str]:
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


def _snapshot_problems(spec: SnapshotFile, instance: Instance) -> list[str]:
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


# -- building the domain objects ------------------------------------------------------------------


def build_instance(spec: InstanceFile, base_dir: Path, source: str = "") -> Instance:
    """Check the rules that relate fields and build the ``Instance`` (raises ``InputError``)."""
    problems = _structure_problems(spec)
    if problems:
        raise InputError(problems)
    start = spec.start_utc
    gpu_types = {g.name: GpuType(**g.model_dump()) for g in spec.gpu_types}
    regions: list[Region] = []
    for i, r in enumerate(spec.regions):
        price = _price(r.price, base_dir, f"regions[{i}].price.series_csv", start)
        if isinstance(price, str):
            problems.append(price)
            continue
        regions.append(Region(r.name, r.gpus, gpu_types[r.gpu_type], r.pue, price))
    wanted = [(f"jobs[{i}].model", j.model) for i, j in enumerate(spec.jobs)]
    if spec.workload:
        wanted += [(f"workload.mix[{i}].model", m.model) for i, m in enumerate(spec.workload.mix)]
    models, model_problems = _resolve_models(spec, wanted)
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
        problem = _capacity_problem(
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
                problem = _capacity_problem(
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
            read = read_trace(base_dir / w.arrivals.csv, w, "workload.arrivals.csv")
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
    return Instance(
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


def build_snapshot(spec: SnapshotFile, base_dir: Path, source: str = "") -> Snapshot:
    """Build a ``Snapshot``: regions left out of ``free_gpus`` are wholly free, link directions
    left out of ``residual_gbps`` wholly unused."""
    instance = build_instance(spec, base_dir, source)
    problems = _snapshot_problems(spec, instance)
    if problems:
        raise InputError(problems)
    free = {r.name: spec.free_gpus.get(r.name, r.gpus) for r in instance.regions}
    residual = dict(instance.network.capacity)
    for key, gbps in spec.residual_gbps.items():
        a, b = key.split(">")
        residual[(a, b)] = gbps
    return Snapshot(
        instance, spec.time_s, instance.jobs, MappingProxyType(free), MappingProxyType(residual)
    )


def is_snapshot_document(doc: Mapping[str, Any]) -> bool:
    """A snapshot is an instance with the epoch's state (``time_s`` and friends) added."""
    return bool(SNAPSHOT_KEYS & doc.keys())


def parse_instance(doc: Mapping[str, Any], base_dir: Path, source: str = "") -> Instance:
    try:
        spec = InstanceFile.model_validate(doc)
    except ValidationError as exc:
        raise InputError(_shape_problems(exc)) from None
    return build_instance(spec, base_dir, source)


def parse_snapshot(doc: Mapping[str, Any], base_dir: Path, source: str = "") -> Snapshot:
    try:
        spec = SnapshotFile.model_validate(doc)
    except ValidationError as exc:
        raise InputError(_shape_problems(exc)) from None
    return build_snapshot(spec, base_dir, source)


def load_instance(path: str | Path) -> Instance:
    """Read and check an instance file (raises ``InputError`` listing every problem)."""
    path = Path(path)
    return parse_instance(read_document(path), path.parent, str(path))


def load_snapshot(path: str | Path) -> Snapshot:
    """Read and check a snapshot file (raises ``InputError`` listing every problem)."""
    path = Path(path)
    return parse_snapshot(read_document(path), path.parent, str(path))


def load_any(path: str | Path) -> Instance | Snapshot:
    """Read an instance or a snapshot file, whichever it is."""
    path = Path(path)
    doc = read_document(path)
    if is_snapshot_document(doc):
        return parse_snapshot(doc, path.parent, str(path))
    return parse_instance(doc, path.parent, str(path))
