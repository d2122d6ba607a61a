"""The MILP gap study: greedy BACE-Pipe against the exact epoch MILP on seeded snapshot suites of
growing size, and on snapshots dumped from geo6 runs.

    .venv/bin/python benchmarks/milp_gap.py                       # the suite below
    .venv/bin/python benchmarks/milp_gap.py --sizes 60x16x6 --time-limit 60 --seeds 0 1 2

A size ``JxSxR`` is J waiting jobs with up to S stages on R regions (6 = geo6's regions, links
and prices; otherwise a synthetic mesh); free GPUs are drawn so that about half the waiting demand
fits, residual bandwidth 30–100 % of capacity. ``geo6-N`` is the N-th busiest epoch
(most waiting jobs, something placeable) of a greedy geo6 run of the paper experiment at bandwidth
×0.25, load ×2, seed 0. Each cell runs in a fresh process (peak RSS is its own),
with and without the greedy MIP start. Writes ``benchmarks/results/milp_gap.csv``/``.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bace_opt.app.epoch import compare_epoch
from bace_opt.core.world import Snapshot
from bace_opt.io.documents import snapshot_document
from bace_opt.io.read import parse_instance
from bace_opt.io.write import write_yaml_atomic
from bace_opt.milp import SolveOptions
from bace_opt.policies.bace import BacePipe
from bace_opt.report.files import csv_text
from worlds import region_doc

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "results"
MODELS = ["gpt3-1.3b", "gpt3-2.7b", "gpt3-6.7b", "llama2-7b", "gpt3-13b", "llama2-13b"]


def suite_snapshot(jobs: int, max_stages: int, regions: int, seed: int) -> Snapshot:
    rng = np.random.default_rng(seed)
    doc = region_doc(regions, seed)
    stage_choices = [s for s in (2, 4, 8, 12, 16) if s <= max_stages]
    params = {
        "gpt3-1.3b": 1.3e9,
        "gpt3-2.7b": 2.7e9,
        "gpt3-6.7b": 6.7e9,
        "llama2-7b": 7e9,
        "gpt3-13b": 13e9,
        "llama2-13b": 13e9,
    }
    doc["jobs"] = []
    while len(doc["jobs"]) < jobs:
        model, stages = str(rng.choice(MODELS)), int(rng.choice(stage_choices))
        width = int(rng.choice([1, 2, 4]))
        if 16 * params[model] / (stages * width) > 80e9:
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


def cell(size: str, seed: int, time_limit: float, warm: bool) -> dict[str, Any]:
    snapshot = snapshot_of(size, seed)
    options = SolveOptions(time_limit_s=time_limit, warm_start=warm, threads=2)
    row = compare_epoch(snapshot, options).row()
    return {
        "size": size,
        "seed": seed,
        "warm_start": warm,
        "time_limit_s": time_limit,
        **row,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def write_snapshots(folder: Path, sizes: list[str], seeds: list[int]) -> None:
    """The suite as snapshot files, for ``bace-opt epoch`` and the sweep ``milp-gap.yaml``."""
    folder.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        for seed in [1] if size.startswith("geo6-") else seeds:
            name = size if size.startswith("geo6-") else f"{size}-seed{seed}"
            path = folder / f"{name}.yaml"
            write_yaml_atomic(path, snapshot_document(snapshot_of(size, seed), folder))
            print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", nargs="+", default=["10x4x6", "30x8x6", "60x16x6", "100x16x10", "200x16x10"]
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--no-cold", action="store_true", help="Skip the runs without MIP start.")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--name", default="milp_gap", help="Stem of the output files.")
    parser.add_argument(
        "--write-snapshots", type=Path, help="Only write the suite's snapshot files here."
    )
    args = parser.parse_args()
    if args.write_snapshots:
        write_snapshots(args.write_snapshots, args.sizes, args.seeds)
        return
    rows = []
    spawn = multiprocessing.get_context("spawn")
    print(
        f"{'size':>10} {'seed':>4} {'start':>5} {'status':>10} {'build s':>7} {'solve s':>7} "
        f"{'w greedy':>9} {'w milp':>9} {'$ greedy':>9} {'$ milp':>9} {'MiB':>5}"
    )
    for size in args.sizes:
        for seed in args.seeds:
            for warm in (True,) if args.no_cold else (True, False):
                with ProcessPoolExecutor(1, mp_context=spawn) as pool:
                    row = pool.submit(cell, size, seed, args.time_limit, warm).result()
                rows.append(row)
                print(
                    f"{size:>10} {seed:>4} {'yes' if warm else 'no':>5} {row['milp_status']:>10} "
                    f"{row['build_s']:>7.2f} {row['solve_s']:>7.2f} "
                    f"{row['greedy_weight']:>9.4f} {row['milp_weight']:>9.4f} "
                    f"{row['greedy_cost']:>9.2f} {row['milp_cost']:>9.2f} "
                    f"{row['peak_rss_mib']:>5.0f}",
                    flush=True,
                )
    args.out.mkdir(parents=True, exist_ok=True)
    columns = list(rows[0])
    (args.out / f"{args.name}.csv").write_text(
        csv_text(columns, ([r[c] for c in columns] for r in rows))
    )
    (args.out / f"{args.name}.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
