"""The researcher's report: each policy's gap to the whole-run bounds, and what the gap is made of.

Reads ``bace-opt bound ... --policies P,...`` files (with their hindsight schedule) and, per world
and policy, splits the JCT gap in two factors:

    policy ÷ bound  =  policy ÷ hindsight  ×  hindsight ÷ bound

The optimum lies between the bound and the hindsight schedule (a feasible schedule found with
full knowledge of arrivals and prices). So ``policy ÷ hindsight`` is what deciding online costs at
least, measured against a clairvoyant schedule (below 1: the policy beats that schedule, and
clairvoyance as we exploit it buys nothing); ``hindsight ÷ bound`` is the most the optimum can be
above the bound: the part of the gap no schedule we know closes, relaxation slack or not.
Costs are set beside the frontier at the policy's own JCT (``cost ÷ frontier``).

    .venv/bin/bace-opt bound instances/geo6.yaml --out geo6.json --policies bace,sjf,...
    .venv/bin/python benchmarks/gap_report.py geo6.json [more.json ...]

Prints the table, writes ``benchmarks/results/gap_report.{csv,json}``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pandas as pd


def rows_of(bound: dict[str, Any], world: str) -> list[dict[str, Any]]:
    """One row per policy of one bound file, the hindsight schedule's factors beside it."""
    jct_bound = bound["avg_jct_lower_s"]
    hindsight = bound.get("hindsight") or {}
    hind_jct = hindsight.get("avg_jct_s")
    rows = []
    for name, p in bound.get("policies", {}).items():
        if not p["comparable"]:
            continue
        rows.append(
            {
                "world": world,
                "policy": name,
                "avg_jct_h": p["avg_jct_s"] / 3600,
                "jct_gap": p["jct_gap"],
                "jct_vs_hindsight": p["avg_jct_s"] / hind_jct if hind_jct else None,
                "hindsight_vs_bound": hind_jct / jct_bound if hind_jct and jct_bound else None,
                "total_cost_usd": p["total_cost_usd"],
                "frontier_cost_usd": p["frontier_cost_lower_usd"],
                "cost_gap": p["cost_gap"],
            }
        )
    rows.sort(key=lambda r: r["jct_gap"] if r["jct_gap"] is not None else float("inf"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bounds", type=Path, nargs="+", help="bace-opt bound output files")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    worlds: list[dict[str, Any]] = []
    for path in args.bounds:
        bound = json.loads(path.read_text())
        world = path.stem.removeprefix("gap-")
        hindsight = bound.get("hindsight") or {}
        worlds.append(
            {
                "world": world,
                "jct_bound_h": bound["avg_jct_lower_s"] / 3600,
                "trivial_h": bound["trivial_jct_lower_s"] / 3600,
                "hindsight_jct_h": (hindsight.get("avg_jct_s") or float("nan")) / 3600,
                "hindsight_cost_usd": hindsight.get("total_cost_usd"),
                "cost_bound_usd": bound["total_cost_lower_usd"],
                "status": bound["status"],
                "time_s": bound["time_s"],
                "instance_sha256": bound["provenance"]["instance"]["sha256"],
            }
        )
        rows.extend(rows_of(bound, world))
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(pd.DataFrame(worlds).round(4).to_string(index=False))
        print()
        print(table.round(4).to_string(index=False))
    stem = args.out / "gap_report"
    table.to_csv(stem.with_suffix(".csv"), index=False)
    document = {"worlds": worlds, "policies": table.to_dict("records")}
    stem.with_suffix(".json").write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {stem}.csv and .json")


if __name__ == "__main__":
    main()
