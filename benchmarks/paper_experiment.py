"""The BACE-Pipe paper's experiment on geo6: WAN bandwidth × load × seeds, BACE-Pipe against the
baselines and its ablations; average JCT and total electricity cost, and BACE-Pipe's reduction.

    .venv/bin/python benchmarks/paper_experiment.py            # full grid, 2 worker processes
    .venv/bin/python benchmarks/paper_experiment.py --seeds 0 --bandwidth 1 --load 1

World: geo6's six regions, links and 2023 hourly prices (instances/geo6-spec.yaml). Each seed
replays a different 200-job window of the Philly trace (rows 200·(seed+1) onward, shapes drawn with
that seed) over the GPT-3 1.3B–175B / Llama-2 7B–70B mix. Bandwidth scale multiplies every link's
capacity; load scale multiplies the arrival rate (divides the trace's gaps). Writes
``benchmarks/results/paper_cells.csv`` (one row per run), ``paper_table.csv`` (means over seeds)
and ``paper_*.png``.
"""

from __future__ import annotations

import argparse
import copy
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bace_opt.loading import parse_instance
from bace_opt.metrics import summarize
from bace_opt.policies import make_policy
from bace_opt.sim import simulate

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "results"
POLICIES = [
    "bace",
    "delay-first",
    "cost-first",
    "cost-first-spill",
    "sjf",
    "bace-no-priority",
    "bace-no-pathfinder",
    "bace-no-costmin",
]
BASELINES = ["delay-first", "cost-first", "cost-first-spill", "sjf"]
PAPER = "JCT −27.9…−64.7 %, cost −12.6…−30.6 % (against delay-first and cost-first)"


def instance_doc(bandwidth: float, load: float, seed: int) -> dict[str, Any]:
    doc = copy.deepcopy(yaml.safe_load((ROOT / "instances" / "geo6-spec.yaml").read_text()))
    for link in doc["links"]:
        link["gbps"] = link["gbps"] * bandwidth
    workload = doc["workload"]
    workload["seed"] = seed
    workload["arrivals"]["start_row"] = 200 * (seed + 1)
    workload["arrivals"]["time_scale"] = workload["arrivals"]["time_scale"] / load
    doc["name"] = f"geo6-bw{bandwidth}-load{load}-seed{seed}"
    return dict(doc)


def cell(bandwidth: float, load: float, seed: int, policy: str) -> dict[str, Any]:
    instance = parse_instance(instance_doc(bandwidth, load, seed), ROOT / "instances")
    result = simulate(instance, make_policy(policy, seed=seed))
    s = summarize(policy, result.records, result.totals)
    return {
        "bandwidth": bandwidth,
        "load": load,
        "seed": seed,
        "policy": policy,
        "avg_jct_h": s["avg_jct_s"] / 3600,
        "avg_wait_h": s["avg_wait_s"] / 3600,
        "p95_jct_h": s["p95_jct_s"] / 3600,
        "cost_usd": s["total_cost_usd"],
        "energy_kwh": s["total_energy_kwh"],
        "jobs_stalled": s["jobs_stalled"],
        "finished": s["jobs_finished"],
        "policy_s": s["policy_time_s"],
    }


def reductions(table: pd.DataFrame) -> pd.DataFrame:
    """BACE-Pipe's reduction of avg JCT and cost against each other policy, per grid point."""
    rows = []
    for (bw, load), group in table.groupby(["bandwidth", "load"]):
        bace = group[group.policy == "bace"].iloc[0]
        for _, other in group[group.policy != "bace"].iterrows():
            rows.append(
                {
                    "bandwidth": bw,
                    "load": load,
                    "against": other.policy,
                    "jct_reduction_pct": 100 * (1 - bace.avg_jct_h / other.avg_jct_h),
                    "cost_reduction_pct": 100 * (1 - bace.cost_usd / other.cost_usd),
                }
            )
    return pd.DataFrame(rows)


def plot(table: pd.DataFrame, out: Path) -> None:
    for metric, label in (("avg_jct_h", "average JCT (h)"), ("cost_usd", "electricity cost ($)")):
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for policy in POLICIES:
            rows = table[table.policy == policy]
            by_bw = rows[rows.load == 1.0].sort_values("bandwidth")
            by_load = rows[rows.bandwidth == 1.0].sort_values("load")
            style = "-o" if policy == "bace" else "--."
            axes[0].plot(by_bw.bandwidth, by_bw[metric], style, label=policy)
            axes[1].plot(by_load.load, by_load[metric], style, label=policy)
        axes[0].set_xscale("log", base=2)
        axes[0].set_xlabel("WAN bandwidth scale (load ×1)")
        axes[1].set_xlabel("arrival-rate scale (bandwidth ×1)")
        for ax in axes:
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
        axes[1].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / f"paper_{metric}.png", dpi=110)
        plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bandwidth", type=float, nargs="+", default=[0.25, 0.5, 1.0, 2.0])
    parser.add_argument("--load", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--policies", nargs="+", default=POLICIES)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    grid = [
        (b, lo, s, p)
        for b in args.bandwidth
        for lo in args.load
        for s in args.seeds
        for p in args.policies
    ]
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        cells = list(pool.map(cell, *zip(*grid, strict=True)))
    args.out.mkdir(parents=True, exist_ok=True)
    runs = pd.DataFrame(cells)
    runs.to_csv(args.out / "paper_cells.csv", index=False)
    table = runs.groupby(["bandwidth", "load", "policy"], as_index=False).mean(numeric_only=True)
    table = table.drop(columns="seed")
    table.to_csv(args.out / "paper_table.csv", index=False)
    red = reductions(table)
    red.to_csv(args.out / "paper_reductions.csv", index=False)
    pd.set_option("display.width", 160)
    print(
        table.pivot_table(index=["bandwidth", "load"], columns="policy", values="avg_jct_h")
        .round(2)
        .to_string()
    )
    print()
    print(
        table.pivot_table(index=["bandwidth", "load"], columns="policy", values="cost_usd")
        .round(0)
        .to_string()
    )
    print()
    summary = (
        red.groupby("against")[["jct_reduction_pct", "cost_reduction_pct"]]
        .agg(["min", "median", "max"])
        .round(1)
    )
    print("BACE-Pipe's reduction against each policy over the grid (%, mean over seeds per point):")
    print(summary.to_string())
    print(f"paper: {PAPER}")
    plot(table, args.out)


if __name__ == "__main__":
    main()
