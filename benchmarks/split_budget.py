"""How BACE-Pipe's split budget trades JCT and cost against cost-first (issue #4).

    .venv/bin/python benchmarks/split_budget.py [--budgets none 0 0.05 0.1 0.2] [--seeds 8]

For geo6 and the geo6-half what-if, the paper experiment's grid (bandwidth × load) over every
trace window (seeds 0–7): cost-first, and BACE-Pipe with each split budget ("none" is the
paper-literal allocator, ``bace-cheapest-path``). Prints, per world and budget, BACE-Pipe's
average JCT and total cost against cost-first at every grid point (ratio of the means over seeds,
negative = BACE-Pipe lower) and how many points it is at or below cost-first on both. Writes
``benchmarks/results/split_budget.csv``/``.json`` (one row per run).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bace_opt.io.read import parse_instance, read_document
from bace_opt.io.write import write_json_atomic, write_text_atomic
from bace_opt.policies import make_policy
from bace_opt.policies.bace import BacePipe, CheapestPath, WholeElseSplit
from bace_opt.report.files import csv_text
from bace_opt.sim import SimulationOptions, simulate
from bace_opt.sweeps.cells import scaled_document

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results"
WORLDS = ("geo6-spec", "geo6-half-spec")
BANDWIDTH = (0.25, 0.5, 1.0, 2.0)
LOAD = (0.5, 1.0, 2.0)
TIE_PCT = 0.01
"""Differences smaller than this (in %) count as ties: e.g. two jobs arriving together that swap
regions between the policies change a run's cost by 1e-7."""


def verdict(jct_pct: float, cost_pct: float) -> str:
    if max(jct_pct, cost_pct) >= TIE_PCT:
        return "above"
    return "below" if max(jct_pct, cost_pct) <= -TIE_PCT else "tie"


def run(world: str, bandwidth: float, load: float, seed: int, budget: str) -> dict[str, Any]:
    """One simulation; ``budget`` is "cost-first", "none" or a number."""
    source = ROOT / "instances" / f"{world}.yaml"
    doc = scaled_document(read_document(source), bandwidth, load, seed)
    instance = parse_instance(doc, source.parent, str(source))
    if budget == "cost-first":
        policy: Any = make_policy("cost-first")
    else:
        policy = BacePipe(
            allocator=CheapestPath() if budget == "none" else WholeElseSplit(float(budget))
        )
    records = simulate(instance, policy, SimulationOptions(timing=False)).records
    return {
        "world": world,
        "bandwidth_scale": bandwidth,
        "load_scale": load,
        "seed": seed,
        "policy": budget,
        "avg_jct_h": statistics.fmean(r.jct_s for r in records if r.jct_s is not None) / 3600.0,
        "jobs_never_ran": sum(1 for r in records if r.jct_s is None),
        "total_cost_usd": sum(r.cost_usd for r in records),
        "split_jobs": sum(1 for r in records if r.crossings),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budgets", nargs="+", default=["none", "0", "0.05", "0.1", "0.2"])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    policies = ["cost-first", *args.budgets]
    grid = list(itertools.product(WORLDS, BANDWIDTH, LOAD, range(args.seeds), policies))
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(run, *zip(*grid, strict=True), chunksize=4))

    def mean(world: str, bw: float, load: float, policy: str, key: str) -> float:
        return statistics.fmean(
            r[key]
            for r in rows
            if (r["world"], r["bandwidth_scale"], r["load_scale"], r["policy"])
            == (world, bw, load, policy)
        )

    for world in WORLDS:
        print(f"\n{world}: BACE-Pipe vs cost-first, JCT % / cost % (mean of {args.seeds} seeds)")
        print("| bw × | load × | " + " | ".join(f"budget {b}" for b in args.budgets) + " |")
        print("|---:|---:|" + "---:|" * len(args.budgets))
        verdicts: dict[str, list[str]] = {b: [] for b in args.budgets}
        for bw, load in itertools.product(BANDWIDTH, LOAD):
            cells = []
            for b in args.budgets:
                jct, cost = (
                    100 * (mean(world, bw, load, b, k) / mean(world, bw, load, "cost-first", k) - 1)
                    for k in ("avg_jct_h", "total_cost_usd")
                )
                verdicts[b].append(verdict(jct, cost))
                cells.append(f"{jct:+.2f} / {cost:+.2f}")
            print(f"| {bw:g} | {load:g} | " + " | ".join(cells) + " |")
        for b, v in verdicts.items():
            print(
                f"budget {b}: below on both at {v.count('below')}, tied within {TIE_PCT} % on one"
                f" and below on the other or tied on both at {v.count('tie')}, above on one at"
                f" {v.count('above')} of {len(v)} points"
            )
    OUT.mkdir(parents=True, exist_ok=True)
    write_text_atomic(OUT / "split_budget.csv", csv_text(list(rows[0]), (r.values() for r in rows)))
    write_json_atomic(OUT / "split_budget.json", rows)
    print(f"\nwrote {OUT / 'split_budget.csv'} and .json")


if __name__ == "__main__":
    main()
