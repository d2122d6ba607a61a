"""Random small worlds for property tests: a complete mesh of regions, a few jobs that fit."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from bace_opt.core.placement import Block, Placement
from bace_opt.core.world import Instance, Job
from bace_opt.errors import InputError
from bace_opt.io.read import parse_instance
from bace_opt.resources.feasibility import placement_problems

MODELS = ("gpt3-1.3b", "gpt3-2.7b", "gpt3-6.7b")


@st.composite
def world_docs(
    draw: st.DrawFn,
    max_jobs: int = 10,
    sizes: tuple[int, ...] = (8, 16, 32, 64),
    min_regions_per_job: int = 1,
    min_price: float = 0.01,
) -> dict[str, Any]:
    """A random world; ``min_price`` < 0 lets prices go negative, as wholesale markets' do (to
    four decimals then, as a tariff is: no price of 1e-171 $/kWh, whose coefficients HiGHS would
    drop as below its smallest matrix value)."""
    n = draw(st.integers(2, 4))
    names = [f"r{i}" for i in range(n)]
    price = st.floats(min_price, 0.5)
    if min_price < 0.01:
        price = price.map(lambda v: round(v, 4))
    hourly = st.lists(price, min_size=24, max_size=24).map(lambda v: {"hourly_utc": v})
    regions = [
        {
            "name": name,
            "gpus": draw(st.sampled_from(sizes)),
            "gpu_type": draw(st.sampled_from(["A100", "H100"])),
            "pue": draw(st.floats(1.0, 1.6)),
            "price": draw(price | hourly),
        }
        for name in names
    ]
    links = [
        {"a": a, "b": b, "gbps": draw(st.floats(0.5, 12.0)), "latency_ms": draw(st.floats(1, 120))}
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    ]
    jobs = []
    for k in range(draw(st.integers(1, max_jobs))):
        jobs.append(
            {
                "name": f"j{k}",
                "arrival_s": draw(st.floats(0, 7200).map(lambda x: round(x, 1))),
                "model": draw(st.sampled_from(MODELS)),
                "stages": draw(st.sampled_from([1, 2, 4, 8])),
                "gpus_per_stage": draw(st.sampled_from([1, 2, 4])),
                "iterations": draw(st.integers(5, 400)),
                "micro_batches": draw(st.sampled_from([4, 8, 16])),
                "micro_batch_size": draw(st.sampled_from([1, 2, 4])),
                "seq_len": 2048,
            }
        )
    return {
        "name": "random-world",
        "max_regions": draw(st.integers(min_regions_per_job, 3)),
        "epoch_s": draw(st.none() | st.sampled_from([300.0, 900.0])),
        "gpu_types": [
            {"name": "A100", "peak_tflops": 312, "power_kw": 0.4, "memory_gb": 80},
            {"name": "H100", "peak_tflops": 989, "power_kw": 0.7, "memory_gb": 80},
        ],
        "regions": regions,
        "links": links,
        "jobs": jobs,
    }


def build(doc: dict[str, Any]) -> Instance:
    """The instance, or a rejected example when a drawn job cannot fit this world."""
    try:
        return parse_instance(doc, Path("."))
    except InputError:
        assume(False)
        raise


def all_placements(instance: Instance, job: Job) -> list[Placement]:
    """Every placement of DESIGN §3's form: ≤ max_regions contiguous blocks in distinct regions."""
    names = [r.name for r in instance.regions]
    out = []
    for k in range(1, min(instance.max_regions, job.stages) + 1):
        for path in itertools.permutations(names, k):
            for cut in itertools.combinations(range(1, job.stages), k - 1):
                sizes = np.diff([0, *cut, job.stages])
                out.append(
                    Placement(
                        job.name, tuple(Block(r, int(s)) for r, s in zip(path, sizes, strict=True))
                    )
                )
    return out


def fits_with_bandwidth(instance: Instance, job: Job) -> bool:
    """Whether some placement holds the job on an empty cluster with every crossing at its need."""
    free = {r.name: r.gpus for r in instance.regions}
    residual = dict(instance.network.capacity)
    return any(
        not placement_problems(instance, job, p, free, residual)
        for p in all_placements(instance, job)
    )
