"""Time of one BACE-Pipe decision: 500 waiting jobs on 20 regions (and 6), partly busy cluster.

    .venv/bin/python benchmarks/decision_speed.py [--jobs 500] [--repeats 7]

Each repeat builds a fresh policy (so the one-off path index is included: "cold") and then decides
again on the same snapshot ("warm", the index reused as in a simulation). Prints the median and
writes ``benchmarks/results/decision_speed.csv``/``.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from types import MappingProxyType

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bace_opt.core.world import Instance, Snapshot
from bace_opt.policies import make_policy
from bace_opt.report.files import csv_text
from worlds import world

OUT = Path(__file__).resolve().parent / "results"


def busy_snapshot(instance: Instance, seed: int) -> Snapshot:
    """All jobs waiting at the last arrival; each region 20–100% free, each link 30–100% free."""
    rng = np.random.default_rng(seed)
    free = {r.name: int(r.gpus * rng.uniform(0.2, 1.0)) for r in instance.regions}
    residual = {d: c * float(rng.uniform(0.3, 1.0)) for d, c in instance.network.capacity.items()}
    t = max(j.arrival_s for j in instance.jobs)
    return Snapshot(instance, t, instance.jobs, MappingProxyType(free), MappingProxyType(residual))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--regions", type=int, nargs="+", default=[20, 6])
    parser.add_argument("--policies", nargs="+", default=["bace", "bace-no-pathfinder"])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = []
    print(f"{'regions':>7} {'jobs':>5} {'policy':<20} {'cold ms':>8} {'warm ms':>8} {'placed':>6}")
    for regions in args.regions:
        snapshot = busy_snapshot(world(regions, args.jobs, seed=1), seed=1)
        for name in args.policies:
            cold, warm, placed = [], [], 0
            for _ in range(args.repeats):
                policy = make_policy(name)
                tic = time.perf_counter()
                placed = len(policy.decide(snapshot))
                cold.append(time.perf_counter() - tic)
                tic = time.perf_counter()
                policy.decide(snapshot)
                warm.append(time.perf_counter() - tic)
            row = {
                "regions": regions,
                "jobs": args.jobs,
                "policy": name,
                "cold_ms": 1000 * statistics.median(cold),
                "warm_ms": 1000 * statistics.median(warm),
                "placed": placed,
                "repeats": args.repeats,
            }
            rows.append(row)
            print(
                f"{regions:>7} {args.jobs:>5} {name:<20} {row['cold_ms']:>8.1f} "
                f"{row['warm_ms']:>8.1f} {placed:>6}",
                flush=True,
            )
    args.out.mkdir(parents=True, exist_ok=True)
    columns = list(rows[0])
    (args.out / "decision_speed.csv").write_text(
        csv_text(columns, ([r[c] for c in columns] for r in rows))
    )
    (args.out / "decision_speed.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
