"""Whole simulations with exact epochs (policy ``milp``) against greedy BACE-Pipe (``bace``) on the
paper experiment's geo6 worlds: average JCT, cost, and the time spent deciding.

    .venv/bin/python benchmarks/milp_vs_bace.py [--points 1x1 0.25x2 1x2] [--seeds 0 1 2]

A point ``BxL`` is bandwidth scale B and load scale L (see ``paper_experiment.py``). The MILP policy
solves each epoch with a 5 s limit, warm-started by the greedy plan, and falls back to it on
failure. Writes ``benchmarks/results/milp_vs_bace.csv``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bace_opt.loading import parse_instance
from bace_opt.metrics import summarize
from bace_opt.policies import make_policy
from bace_opt.sim import simulate
from paper_experiment import instance_doc

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", nargs="+", default=["1x1", "0.25x2", "1x2"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = []
    for point in args.points:
        bandwidth, load = (float(v) for v in point.split("x"))
        for seed in args.seeds:
            instance = parse_instance(instance_doc(bandwidth, load, seed), ROOT / "instances")
            for name in ("bace", "milp"):
                tic = time.perf_counter()
                result = simulate(instance, make_policy(name, seed=seed))
                wall = time.perf_counter() - tic
                s = summarize(name, result.records, result.totals)
                row = {
                    "bandwidth": bandwidth,
                    "load": load,
                    "seed": seed,
                    "policy": name,
                    "avg_jct_h": s["avg_jct_s"] / 3600,
                    "cost_usd": s["total_cost_usd"],
                    "decide_s": s["policy_time_s"],
                    "wall_s": wall,
                    **result.policy_stats,
                }
                rows.append(row)
                print(
                    f"bw×{bandwidth:g} load×{load:g} seed {seed} {name:<5} "
                    f"JCT {row['avg_jct_h']:.3f} h  cost ${row['cost_usd']:.2f}  "
                    f"decide {row['decide_s']:.1f} s  {result.policy_stats}",
                    flush=True,
                )
    args.out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(args.out / "milp_vs_bace.csv", index=False)


if __name__ == "__main__":
    main()
