"""Seeded benchmark worlds: geo6's regions and links, or n synthetic regions on a full mesh, with a
Poisson workload sized to a target offered load; and geo10 epochs (real regions, links, prices and
Philly trace jobs) with a 200-job queue in an empty or a half-busy world."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import yaml

from bace_opt.core.world import Instance, Snapshot
from bace_opt.io.read import parse_instance

ROOT = Path(__file__).resolve().parents[1]
MIX: list[dict[str, Any]] = [
    {"model": "gpt3-1.3b", "weight": 3, "shapes": [[4, 2], [2, 4], [8, 1]]},
    {"model": "gpt3-2.7b", "weight": 2, "shapes": [[4, 2], [8, 2]]},
    {"model": "gpt3-6.7b", "weight": 2, "shapes": [[4, 4], [8, 2], [8, 4]]},
    {"model": "llama2-13b", "weight": 1, "shapes": [[8, 4]], "micro_batch_size": 2},
    {"model": "llama2-70b", "weight": 1, "shapes": [[8, 8]], "micro_batch_size": 1},
]
DURATIONS = (1800.0, 28800.0)


def _mean_gpus() -> float:
    total = sum(e["weight"] for e in MIX)
    return float(sum(e["weight"] / total * np.mean([s * g for s, g in e["shapes"]]) for e in MIX))


def _mean_duration() -> float:
    lo, hi = DURATIONS
    return (hi - lo) / math.log(hi / lo)  # mean of a log-uniform draw


def region_doc(regions: int, seed: int) -> dict[str, Any]:
    """geo6's regions, links and prices (6), or ``regions`` synthetic ones (seeded)."""
    if regions == 6:
        doc = yaml.safe_load((ROOT / "instances" / "geo6.yaml").read_text())
        doc.pop("jobs")
        for region in doc["regions"]:
            # relative to ROOT, where these documents are parsed (data paths stay inside it)
            region["price"]["series_csv"] = f"instances/{region['price']['series_csv']}"
        return dict(doc)
    rng = np.random.default_rng(seed)
    names = [f"region-{i:02d}" for i in range(regions)]
    return {
        "name": f"synthetic{regions}",
        "max_regions": 3,
        "gpu_types": [{"name": "A100-80GB", "peak_tflops": 312, "power_kw": 0.4, "memory_gb": 80}],
        "regions": [
            {
                "name": n,
                "gpus": int(rng.choice([64, 96, 128, 192, 256])),
                "gpu_type": "A100-80GB",
                "pue": round(float(rng.uniform(1.1, 1.4)), 3),
                "price": round(float(rng.uniform(0.03, 0.2)), 4),
            }
            for n in names
        ],
        "links": [
            {
                "a": a,
                "b": b,
                "gbps": round(float(rng.uniform(1.0, 10.0)), 3),
                "latency_ms": round(float(rng.uniform(5, 150)), 1),
            }
            for i, a in enumerate(names)
            for b in names[i + 1 :]
        ],
    }


def world(regions: int, jobs: int, load: float = 0.9, seed: int = 0) -> Instance:
    """``jobs`` Poisson arrivals whose offered load is ``load`` of all GPUs."""
    doc = region_doc(regions, seed)
    gpus = sum(r["gpus"] for r in doc["regions"])
    rate_per_hour = load * gpus * 3600 / (_mean_gpus() * _mean_duration())
    doc["name"] = f"{doc['name']}-{jobs}jobs"
    doc["workload"] = {
        "seed": seed,
        "count": jobs,
        "arrivals": {"process": "poisson", "rate_per_hour": rate_per_hour},
        "durations": {"min_s": DURATIONS[0], "max_s": DURATIONS[1]},
        "mix": MIX,
    }
    return parse_instance(doc, ROOT)


def _spec_job_gpu_seconds(workload: dict[str, Any]) -> float:
    """Mean S·g · target run time of a job drawn from a ``workload:`` (mix × log-uniform)."""
    mix = workload["mix"]
    total = sum(e["weight"] for e in mix)
    gpus = sum(e["weight"] / total * np.mean([s * g for s, g in e["shapes"]]) for e in mix)
    lo, hi = workload["durations"]["min_s"], workload["durations"]["max_s"]
    return float(gpus) * (hi - lo) / math.log(hi / lo)


def geo6_stream(jobs: int, load: float = 1.5, seed: int = 0) -> Instance:
    """geo6-spec's regions, links, hourly prices and job mix with ``jobs`` Poisson arrivals whose
    offered load is ``load`` of all GPUs (at the jobs' target run times): above 1 the world is
    overloaded and the waiting queue grows for the whole run. Built in memory (no YAML of jobs)."""
    doc = yaml.safe_load((ROOT / "instances" / "geo6-spec.yaml").read_text())
    gpus = sum(r["gpus"] for r in doc["regions"])
    workload = doc["workload"]
    rate_per_hour = load * gpus * 3600 / _spec_job_gpu_seconds(workload)
    doc["name"] = f"geo6-stream-{jobs}jobs"
    workload.update(
        seed=seed, count=jobs, arrivals={"process": "poisson", "rate_per_hour": rate_per_hour}
    )
    return parse_instance(doc, ROOT / "instances")


GEO10_SPEC = ROOT / "instances" / "geo10-spec.yaml"
GEO10_BEFORE = 400
"""Trace jobs that run before a geo10 epoch (the half-busy world is a simulation of them)."""


def geo10_stream(jobs: int, seed: int) -> Instance:
    """geo10-spec's world replaying ``jobs`` Philly rows from row ``seed · jobs`` (a sweep's seed:
    the workload's seed and the s-th window of the trace; ``sweeps.cells.scaled_document``)."""
    from bace_opt.sweeps.cells import scaled_document

    doc = yaml.safe_load(GEO10_SPEC.read_text())
    doc["workload"]["count"] = jobs
    doc["workload"]["arrivals"]["start_row"] = 0
    return parse_instance(scaled_document(doc, 1.0, 1.0, seed), ROOT / "instances")


def geo10_epoch(world: str, waiting: int = 200, seed: int = 0) -> Snapshot:
    """An epoch of geo10 with ``waiting`` trace jobs queued, in an ``empty`` or ``half``-busy world.

    The seed's trace window holds ``GEO10_BEFORE`` + ``waiting`` rows. The first ones are
    simulated with BACE-Pipe on geo10; the epoch is the one whose GPUs held by running jobs are
    closest to half (earliest on ties) among those inside the arrival phase and late enough for
    the queue below.
    The last ``waiting`` rows are the queue: their trace gaps kept, shifted so that the last one
    arrives at the epoch's time. ``half`` keeps the run's running jobs, free GPUs and residual
    bandwidth (the simulator's own accounting; its few queued jobs are left out); ``empty`` is the
    same queue at the same time (same prices and priority weights) with every GPU and link free.
    """
    from bace_opt.policies.bace import BacePipe
    from bace_opt.sim import SimulationOptions, simulate

    if world not in ("empty", "half"):
        raise ValueError(f"world must be 'empty' or 'half', not {world!r}")
    stream = geo10_stream(GEO10_BEFORE + waiting, seed)
    before, queue = stream.jobs[:GEO10_BEFORE], stream.jobs[GEO10_BEFORE:]
    span = queue[-1].arrival_s - queue[0].arrival_s
    seen: list[Snapshot] = []
    simulate(replace(stream, jobs=before), BacePipe(), SimulationOptions(on_snapshot=seen.append))
    total = sum(r.gpus for r in stream.regions)
    eligible = [s for s in seen if span <= s.time_s <= before[-1].arrival_s]
    if not eligible:
        raise ValueError(f"seed {seed}: no epoch after {span:g} s within the arrival phase")
    epoch = min(
        eligible, key=lambda s: (abs(total - sum(s.free_gpus.values()) - total / 2), s.time_s)
    )
    t = epoch.time_s
    last = queue[-1].arrival_s
    jobs = tuple(replace(j, arrival_s=round(t - (last - j.arrival_s), 3)) for j in queue)
    name = f"geo10-{waiting}-{world}-seed{seed}"
    instance = replace(stream, name=name, jobs=jobs)
    if world == "half":
        return Snapshot(instance, t, jobs, epoch.free_gpus, epoch.residual_gbps, epoch.running)
    free = MappingProxyType({r.name: r.gpus for r in instance.regions})
    return Snapshot(instance, t, jobs, free, MappingProxyType(dict(instance.network.capacity)))
