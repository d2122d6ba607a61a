"""Seeded synthetic workloads: Poisson or trace-driven arrivals over a model mix.

Deterministic for a seed: one ``numpy.random.Generator`` drives every draw, in job order.
Iterations come from a target run time: ``I = max(1, round(D_target / T_iter))`` where ``T_iter`` is
the iteration time of the job's pipeline on the reference GPU type with no crossings, so a job's
run time in its best placement is close to the target.

Trace mode replays a Philly-format table (``submit_offset_s``, ``duration_s``, ``num_gpus``): the
arrivals keep the trace's gaps (times ``time_scale``), the durations are clipped to the range, and
each job takes the pipeline shape of the mix whose GPU count S·g is closest to the trace job's GPU
count (on a log scale; ties drawn by the mix weights).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from bace_opt.core.world import GpuType, Job, ModelProfile
from bace_opt.formulas import pipeline
from bace_opt.io.files import read_data_table
from bace_opt.io.schema import MAX_TIME_S, MixEntry, TraceArrivals, WorkloadSpec

TRACE_COLUMNS = ("submit_offset_s", "duration_s", "num_gpus")


def read_trace(
    base_dir: Path, data_root: Path | None, spec: WorkloadSpec, where: str
) -> pd.DataFrame | str:
    """The rows of a job trace this workload replays, or a problem line. The same rules as price
    series (``io.files``); offsets finite and non-decreasing (arrivals never go back in time),
    durations and GPU counts positive, arrivals within ``MAX_TIME_S`` once scaled."""
    arrivals = spec.arrivals
    if not isinstance(arrivals, TraceArrivals):
        return f"{where}: the workload's arrivals are not a trace"
    name = arrivals.csv
    table = read_data_table(name, base_dir, data_root, where, TRACE_COLUMNS)
    if isinstance(table, str):
        return table
    start = arrivals.start_row
    rows = table.iloc[start : start + spec.count][list(TRACE_COLUMNS)]
    if len(rows) < spec.count:
        have = len(rows)
        return f"{where}: {name} has {have} rows from start_row {start}, need {spec.count}"
    numeric = rows.apply(pd.to_numeric, errors="coerce").astype(float)
    values = numeric.to_numpy()
    finite = np.isfinite(values)
    positive = finite[:, 1:] & (values[:, 1:] > 0) if len(values) else finite[:, 1:]
    for column, ok in (
        (TRACE_COLUMNS[0], finite[:, 0]),
        (TRACE_COLUMNS[1], positive[:, 0]),
        (TRACE_COLUMNS[2], positive[:, 1]),
    ):
        if not ok.all():
            row = start + int((~ok).argmax()) + 2
            return f"{where}: {name} row {row}: {column} must be a finite positive number"
    offsets = values[:, 0]
    back = np.diff(offsets) < 0
    if back.any():
        row = start + int(back.argmax()) + 3
        return f"{where}: {name} row {row}: submit_offset_s goes back in time"
    if (offsets[-1] - offsets[0]) * arrivals.time_scale > MAX_TIME_S:
        return f"{where}: {name}: the arrivals span more than {MAX_TIME_S:g} s"
    result: pd.DataFrame = numeric.reset_index(drop=True)
    return result


def _iterations(
    entry: MixEntry,
    model: ModelProfile,
    shape: tuple[int, int],
    gpu: GpuType,
    mfu: float,
    target_s: float,
) -> int:
    stages, width = shape
    seq_len = entry.seq_len or model.seq_len or 0
    t_c = pipeline.stage_compute_time(
        model.params, entry.micro_batch_size, seq_len, stages, width, gpu.peak_tflops, mfu
    )
    t_iter = pipeline.iteration_time(entry.micro_batches, stages, t_c, 0.0)
    return max(1, round(target_s / t_iter))


def _closest_shapes(
    mix: list[MixEntry], gpus: float
) -> tuple[list[tuple[int, tuple[int, int]]], np.ndarray]:
    """(mix index, shape) pairs whose S·g is closest to ``gpus``, and their weights."""
    options = [(i, (s[0], s[1])) for i, e in enumerate(mix) for s in e.shapes]
    distance = [abs(math.log2(s * g / gpus)) for _, (s, g) in options]
    best = min(distance)
    chosen = [o for o, d in zip(options, distance, strict=True) if d <= best + 1e-12]
    weights = np.array([mix[i].weight / len(mix[i].shapes) for i, _ in chosen])
    return chosen, weights / weights.sum()


def generate_jobs(
    spec: WorkloadSpec,
    models: dict[str, ModelProfile],
    reference: GpuType,
    mfu: float,
    trace: pd.DataFrame | None,
) -> list[Job]:
    """Draw ``spec.count`` jobs; same spec and seed give the same jobs."""
    rng = np.random.default_rng(spec.seed)
    width = max(4, len(str(spec.count - 1)))
    mix_weights = np.array([e.weight for e in spec.mix])
    mix_weights = mix_weights / mix_weights.sum()
    lo, hi = sorted((spec.durations.min_s, spec.durations.max_s))
    jobs: list[Job] = []
    arrival = 0.0
    for n in range(spec.count):
        if trace is not None:
            row = trace.iloc[n]
            scale = spec.arrivals.time_scale if spec.arrivals.process == "trace" else 1.0
            arrival = float(row.submit_offset_s - trace.submit_offset_s.iloc[0]) * scale
            target = float(np.clip(row.duration_s, lo, hi))
            options, weights = _closest_shapes(spec.mix, float(row.num_gpus))
            index, shape = options[int(rng.choice(len(options), p=weights))]
        else:
            rate = spec.arrivals.rate_per_hour if spec.arrivals.process == "poisson" else 1.0
            if n > 0:
                arrival += float(rng.exponential(3600.0 / rate))
            target = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
            index = int(rng.choice(len(spec.mix), p=mix_weights))
            raw = spec.mix[index].shapes[int(rng.integers(len(spec.mix[index].shapes)))]
            shape = (raw[0], raw[1])
        entry = spec.mix[index]
        model = models[entry.model]
        jobs.append(
            Job(
                name=f"{spec.name_prefix}{n:0{width}d}",
                arrival_s=round(arrival, 3),
                model=model,
                stages=shape[0],
                gpus_per_stage=shape[1],
                iterations=_iterations(entry, model, shape, reference, mfu, target),
                micro_batches=entry.micro_batches,
                micro_batch_size=entry.micro_batch_size,
                seq_len=entry.seq_len or model.seq_len or 0,
            )
        )
    return jobs
