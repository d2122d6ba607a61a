"""Cells of ``split-budget``: one simulation of the paper grid (cost-first or BACE-Pipe with one
split budget), and the comparison against cost-first printed after the run."""

from __future__ import annotations

import statistics
from typing import Any

from bace_opt.io.read import parse_instance, read_document
from bace_opt.policies import make_policy
from bace_opt.policies.bace import BacePipe, CheapestPath, WholeElseSplit
from bace_opt.sim import SimulationOptions, simulate
from bace_opt.sweeps.cells import scaled_document
from registry import ROOT, Spec

BASELINE = "cost-first"
TIE_PCT = 0.01
"""Differences smaller than this (in %) count as ties: e.g. two jobs arriving together that swap
regions between the policies change a run's cost by 1e-7."""


def split_run(world: str, bandwidth: float, load: float, seed: int, policy: str) -> dict[str, Any]:
    """One simulation; ``policy`` is "cost-first", "none" (``bace-cheapest-path``) or a budget."""
    source = ROOT / "instances" / f"{world}.yaml"
    doc = scaled_document(read_document(source), bandwidth, load, seed)
    instance = parse_instance(doc, source.parent, str(source))
    if policy == BASELINE:
        decider: Any = make_policy(BASELINE)
    else:
        allocator = CheapestPath() if policy == "none" else WholeElseSplit(float(policy))
        decider = BacePipe(allocator=allocator)
    records = simulate(instance, decider, SimulationOptions(timing=False)).records
    return {
        "world": world,
        "bandwidth_scale": bandwidth,
        "load_scale": load,
        "seed": seed,
        "policy": policy,
        "avg_jct_h": statistics.fmean(r.jct_s for r in records if r.jct_s is not None) / 3600.0,
        "jobs_never_ran": sum(1 for r in records if r.jct_s is None),
        "total_cost_usd": sum(r.cost_usd for r in records),
        "split_jobs": sum(1 for r in records if r.crossings),
    }


def verdict(jct_pct: float, cost_pct: float) -> str:
    if max(jct_pct, cost_pct) >= TIE_PCT:
        return "above"
    return "below" if max(jct_pct, cost_pct) <= -TIE_PCT else "tie"


def compare(spec: Spec, rows: list[dict[str, Any]]) -> None:
    """Per world: each budget's JCT and cost against cost-first at every grid point (ratio of the
    means over seeds, negative = BACE-Pipe lower), and at how many points it is at or below."""
    means: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:
        key = (r["world"], r["bandwidth_scale"], r["load_scale"], r["policy"])
        means.setdefault(key, []).append(r)

    def mean(world: str, bw: float, load: float, policy: str, field: str) -> float:
        return statistics.fmean(r[field] for r in means[(world, bw, load, policy)])

    worlds = list(dict.fromkeys(r["world"] for r in rows))
    grid = list(dict.fromkeys((r["bandwidth_scale"], r["load_scale"]) for r in rows))
    budgets = [p for p in dict.fromkeys(r["policy"] for r in rows) if p != BASELINE]
    seeds = len({r["seed"] for r in rows})
    for world in worlds:
        print(f"\n{world}: BACE-Pipe vs cost-first, JCT % / cost % (mean of {seeds} seeds)")
        print("| bw × | load × | " + " | ".join(f"budget {b}" for b in budgets) + " |")
        print("|---:|---:|" + "---:|" * len(budgets))
        verdicts: dict[str, list[str]] = {b: [] for b in budgets}
        for bw, load in grid:
            cells = []
            for b in budgets:
                jct, cost = (
                    100 * (mean(world, bw, load, b, k) / mean(world, bw, load, BASELINE, k) - 1)
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
