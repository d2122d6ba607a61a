"""Cells of the MILP gap study (``milp-gap*``: greedy against the exact epoch MILP on one
snapshot) and of ``milp-snapshots`` (the same snapshots as files), and the study's figure.

A size ``JxSxR`` is J waiting jobs with up to S stages on R regions (6 = geo6's regions, links and
prices; otherwise a synthetic mesh of ``worlds.py``); free GPUs are drawn so that about half the
waiting demand fits, residual bandwidth 30–100 % of capacity. ``geo6-N`` is the N-th busiest epoch
(most waiting jobs, something placeable) of a greedy geo6 run of the paper experiment at bandwidth
×0.25, load ×2, seed 0 — the same for every seed.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from bace_opt.app.epoch import compare_epoch
from bace_opt.core.world import Snapshot
from bace_opt.io.documents import snapshot_document
from bace_opt.io.read import parse_instance
from bace_opt.io.write import write_yaml_atomic
from bace_opt.milp import SolveOptions
from bace_opt.policies.bace import BacePipe
from cells import peak_rss_mib
from registry import ROOT, Spec
from worlds import region_doc

PARAMS = {
    "gpt3-1.3b": 1.3e9,
    "gpt3-2.7b": 2.7e9,
    "gpt3-6.7b": 6.7e9,
    "llama2-7b": 7e9,
    "gpt3-13b": 13e9,
    "llama2-13b": 13e9,
}
"""The models of the suite's jobs and their parameter counts (for the memory rule)."""


def suite_snapshot(jobs: int, max_stages: int, regions: int, seed: int) -> Snapshot:
    rng = np.random.default_rng(seed)
    doc = region_doc(regions, seed)
    stage_choices = [s for s in (2, 4, 8, 12, 16) if s <= max_stages]
    doc["jobs"] = []
    while len(doc["jobs"]) < jobs:
        model, stages = str(rng.choice(list(PARAMS))), int(rng.choice(stage_choices))
        width = int(rng.choice([1, 2, 4]))
        if 16 * PARAMS[model] / (stages * width) > 80e9:
            continue  # fails the memory rule on A100-80GB: draw again
        i = len(doc["jobs"])
        doc["jobs"].append(
            {
                "name": f"w{i:03d}",
                "arrival_s": float(i * 30),
                "model": model,
                "stages": stages,
                "gpus_per_stage": width,
                "iterations": int(rng.integers(500, 5000)),
                "micro_batches": 16,
                "micro_batch_size": 2,
            }
        )
    instance = parse_instance(doc, ROOT)
    demand = sum(j.total_gpus for j in instance.jobs)
    total = sum(r.gpus for r in instance.regions)
    share = min(1.0, 0.5 * demand / total)
    free = {r.name: int(r.gpus * min(1.0, share * rng.uniform(0.5, 1.5))) for r in instance.regions}
    residual = {d: c * float(rng.uniform(0.3, 1.0)) for d, c in instance.network.capacity.items()}
    t = float(jobs * 30 + 600)
    return Snapshot(instance, t, instance.jobs, MappingProxyType(free), MappingProxyType(residual))


def geo6_epoch(rank: int) -> Snapshot:
    """The ``rank``-th busiest epoch of a greedy run on the scarce-bandwidth, high-load geo6."""
    from bace_opt.io.read import read_document
    from bace_opt.sim import SimulationOptions, simulate
    from bace_opt.sweeps.cells import scaled_document

    spec = read_document(ROOT / "instances" / "geo6-spec.yaml")
    instance = parse_instance(scaled_document(spec, 0.25, 2.0, 0), ROOT / "instances")
    seen: list[Snapshot] = []
    simulate(instance, BacePipe(), SimulationOptions(on_snapshot=seen.append))
    placeable = [s for s in seen if len(BacePipe().decide(s)) >= 1]
    placeable.sort(key=lambda s: (-len(s.waiting), s.time_s))
    return placeable[rank - 1]


def snapshot_of(size: str, seed: int) -> Snapshot:
    if size.startswith("geo6-"):
        return geo6_epoch(int(size.split("-")[1]))
    jobs, stages, regions = (int(v) for v in size.split("x"))
    return suite_snapshot(jobs, stages, regions, seed)


def gap(
    size: str, seed: int, time_limit_s: float, warm_start: bool, threads: int
) -> dict[str, Any]:
    """Greedy and the exact MILP on one snapshot; peak RSS includes building the snapshot."""
    options = SolveOptions(time_limit_s=time_limit_s, warm_start=warm_start, threads=threads)
    row = compare_epoch(snapshot_of(size, seed), options).row()
    return {
        "size": size,
        "seed": seed,
        "warm_start": warm_start,
        "time_limit_s": time_limit_s,
        **row,
        "peak_rss_mib": peak_rss_mib(),
    }


def write_snapshot(size: str, seed: int, folder: str) -> dict[str, Any]:
    """One snapshot as a file, named ``SIZE-seedN.yaml`` (``geo6-N.yaml`` for geo6 epochs)."""
    name = size if size.startswith("geo6-") else f"{size}-seed{seed}"
    path = Path(folder) / f"{name}.yaml"
    snapshot = snapshot_of(size, seed)
    write_yaml_atomic(path, snapshot_document(snapshot, path.parent))
    return {"size": size, "seed": seed, "waiting": len(snapshot.waiting), "file": str(path)}


def plot(spec: Spec, rows: list[dict[str, Any]]) -> None:
    """Solve time and the priority weight the MILP admits beyond greedy, per size, one series
    per (time limit, MIP start), from the result files named by the spec's ``figure_from``."""
    figure = getattr(spec, "figure", None)
    if figure is None:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    files = [spec.out / f"{stem}.csv" for stem in getattr(spec, "figure_from", ())]
    runs = pd.concat([pd.read_csv(f) for f in files if f.exists()], ignore_index=True)
    runs = runs[runs["greedy_weight"] > 0]
    sizes = list(dict.fromkeys(runs["size"]))
    runs = runs.assign(
        x=runs["size"].map(sizes.index),
        gain_pct=100 * (runs.milp_weight - runs.greedy_weight) / runs.greedy_weight,
    )
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for (limit, warm), group in runs.groupby(["time_limit_s", "warm_start"]):
        label = f"limit {limit:g} s, {'greedy start' if warm else 'no start'}"
        marker, dx = ("o", 0.1) if warm else ("x", -0.1)
        left.scatter(group.x + dx, group.solve_s, marker=marker, label=label)
        right.scatter(group.x + dx, group.gain_pct, marker=marker, label=label)
    for ax in (left, right):
        ax.set_xticks(range(len(sizes)), sizes)
        ax.set_xlabel("waiting jobs × stages × regions")
        ax.grid(alpha=0.3)
    left.set_ylabel("solve time (s)")
    left.set_yscale("log")
    right.set_ylabel("priority weight admitted, MILP over greedy (%)")
    right.legend(fontsize=7)
    fig.tight_layout()
    path = spec.out / f"{figure}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")
