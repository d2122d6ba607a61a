"""Simulator speed: wall time, events per second and peak memory for each baseline policy on
1k/5k/20k-job Poisson workloads over geo6 (6 regions) and a synthetic 20-region mesh.

    .venv/bin/python benchmarks/sim_speed.py                 # the full table (several minutes)
    .venv/bin/python benchmarks/sim_speed.py --sizes 1000 --regions 6 --repeats 3

Each cell runs in a fresh process (so peak RSS is the cell's own); the table shows the median over
``--repeats`` runs. Writes ``benchmarks/results/sim_speed.csv`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bace_opt.policies import make_policy
from bace_opt.policies.registry import names_with
from bace_opt.report.files import csv_text
from bace_opt.report.metrics import summarize
from bace_opt.sim import simulate
from worlds import world

OUT = Path(__file__).resolve().parent / "results"
COLUMNS = (
    "regions",
    "jobs",
    "load",
    "policy",
    "wall_s",
    "events",
    "events_per_s",
    "epochs",
    "policy_s",
    "peak_rss_mib",
    "avg_wait_h",
    "gpu_util",
    "repeats",
)


def cell(regions: int, jobs: int, load: float, policy: str) -> dict[str, Any]:
    instance = world(regions, jobs, load=load, seed=0)
    tic = time.perf_counter()
    result = simulate(instance, make_policy(policy, seed=0))
    wall = time.perf_counter() - tic
    summary = summarize(policy, result.records, result.totals).as_dict()
    finished = summary["jobs_finished"]
    events = len(instance.jobs) + finished  # arrivals and completions
    return {
        "regions": regions,
        "jobs": jobs,
        "load": load,
        "policy": policy,
        "wall_s": wall,
        "events": events,
        "events_per_s": events / wall,
        "epochs": summary["epochs"],
        "policy_s": summary["policy_time_s"],
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "avg_wait_h": (summary["avg_wait_s"] or 0.0) / 3600,
        "gpu_util": summary["gpu_utilization"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--regions", type=int, nargs="+", default=[6, 20])
    parser.add_argument("--policies", nargs="+", default=names_with("baseline"))
    parser.add_argument("--load", type=float, default=0.7)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    rows = []
    spawn = multiprocessing.get_context("spawn")
    header = (
        f"{'regions':>7} {'jobs':>6} {'policy':<17} {'wall s':>8} {'events/s':>9} "
        f"{'peak MiB':>8} {'wait h':>8}"
    )
    print(header)
    for regions in args.regions:
        for jobs in args.sizes:
            for policy in args.policies:
                runs = []
                for _ in range(args.repeats):
                    with ProcessPoolExecutor(1, mp_context=spawn) as pool:
                        runs.append(pool.submit(cell, regions, jobs, args.load, policy).result())
                row = dict(runs[0])
                for key in ("wall_s", "events_per_s", "policy_s", "peak_rss_mib"):
                    row[key] = statistics.median(r[key] for r in runs)
                row["repeats"] = args.repeats
                rows.append(row)
                print(
                    f"{regions:>7} {jobs:>6} {policy:<17} {row['wall_s']:>8.2f} "
                    f"{row['events_per_s']:>9.0f} {row['peak_rss_mib']:>8.0f} "
                    f"{row['avg_wait_h']:>8.2f}",
                    flush=True,
                )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sim_speed.csv").write_text(
        csv_text(COLUMNS, ([r[c] for c in COLUMNS] for r in rows))
    )
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": multiprocessing.cpu_count(),
    }
    (args.out / "sim_speed.json").write_text(
        json.dumps({"machine": machine, "rows": rows}, indent=2)
    )


if __name__ == "__main__":
    main()
