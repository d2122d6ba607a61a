"""Seeded benchmark worlds: geo6's regions and links, or n synthetic regions on a full mesh, with a
Poisson workload sized to a target offered load."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bace_opt.core.world import Instance
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
