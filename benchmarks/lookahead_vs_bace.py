"""``lookahead`` against ``bace`` on a sweep's results (``benchmarks/lookahead.sweep.yaml``): per
world × load × bandwidth, the median over seeds of average JCT and total cost of each, their
ratios, whether the point has a queue (``bace``'s average wait over a minute), and over the seeds
how often ``lookahead`` is no worse on both. Prints the table, writes CSV and JSON.

    .venv/bin/bace-opt sweep benchmarks/lookahead.sweep.yaml --out benchmarks/results/lookahead
    .venv/bin/python benchmarks/lookahead_vs_bace.py benchmarks/results/lookahead
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

REL = 1e-9


def table(results: pd.DataFrame) -> pd.DataFrame:
    keys = ["instance", "load_scale", "bandwidth_scale", "seed"]
    cells = results[results.status == "ok"].pivot_table(
        index=keys, columns="policy", values=["avg_jct_s", "total_cost_usd", "avg_wait_s"]
    )
    both = (cells["avg_jct_s"]["lookahead"] <= cells["avg_jct_s"]["bace"] * (1 + REL)) & (
        cells["total_cost_usd"]["lookahead"] <= cells["total_cost_usd"]["bace"] * (1 + REL)
    )
    flat = pd.DataFrame(
        {
            "bace_jct_h": cells["avg_jct_s"]["bace"] / 3600,
            "lookahead_jct_h": cells["avg_jct_s"]["lookahead"] / 3600,
            "bace_cost": cells["total_cost_usd"]["bace"],
            "lookahead_cost": cells["total_cost_usd"]["lookahead"],
            "bace_wait_h": cells["avg_wait_s"]["bace"] / 3600,
            "no_worse_both": both,
        }
    ).reset_index()
    ms = results[(results.policy == "lookahead") & (results.status == "ok")].set_index(keys)
    per_epoch = 1000 * ms["policy_time_s"] / ms["epochs"]
    flat["lookahead_ms_per_epoch"] = per_epoch.reindex(pd.MultiIndex.from_frame(flat[keys])).values
    group = flat.groupby(["instance", "load_scale", "bandwidth_scale"])
    out = group.median(numeric_only=True).drop(columns=["seed", "no_worse_both"])
    out["seeds"] = group.size()
    out["seeds_no_worse_both"] = group["no_worse_both"].sum()
    out["jct_ratio"] = out["lookahead_jct_h"] / out["bace_jct_h"]
    out["cost_ratio"] = out["lookahead_cost"] / out["bace_cost"]
    out["queue"] = out["bace_wait_h"] > 1 / 60
    return out.reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    results = pd.read_csv(args.sweep_dir / "results.csv")
    out = table(results)
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(out.round(4).to_string(index=False))
    stem = args.out / "lookahead_vs_bace"
    out.to_csv(stem.with_suffix(".csv"), index=False)
    stem.with_suffix(".json").write_text(json.dumps(out.to_dict("records"), indent=1) + "\n")
    print(f"wrote {stem}.csv and .json")


if __name__ == "__main__":
    main()
