"""Plot the MILP gap study from ``results/milp_gap.csv`` (and ``milp_gap_10s.csv`` when present):
solve time and the weight greedy leaves on the table, per snapshot size.

    .venv/bin/python benchmarks/plot_milp_gap.py      # writes benchmarks/results/milp_gap.png
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = ["10x4x6", "30x8x6", "60x16x6", "100x16x10", "200x16x10"]


def main() -> None:
    runs = pd.read_csv(RESULTS / "milp_gap.csv").assign(limit="60 s")
    if (RESULTS / "milp_gap_10s.csv").exists():
        runs = pd.concat([runs, pd.read_csv(RESULTS / "milp_gap_10s.csv").assign(limit="10 s")])
    runs = runs[runs["size"].isin(SIZES)]
    runs["x"] = runs["size"].map(SIZES.index)
    runs["gain_pct"] = 100 * (runs.milp_weight - runs.greedy_weight) / runs.greedy_weight
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for (limit, warm), group in runs.groupby(["limit", "warm_start"]):
        label = f"limit {limit}, {'greedy start' if warm else 'no start'}"
        marker = "o" if warm else "x"
        left.scatter(group.x + (0.1 if warm else -0.1), group.solve_s, marker=marker, label=label)
        right.scatter(group.x + (0.1 if warm else -0.1), group.gain_pct, marker=marker, label=label)
    for ax in (left, right):
        ax.set_xticks(range(len(SIZES)), SIZES)
        ax.set_xlabel("waiting jobs × stages × regions")
        ax.grid(alpha=0.3)
    left.set_ylabel("solve time (s)")
    left.set_yscale("log")
    right.set_ylabel("priority weight admitted, MILP over greedy (%)")
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(RESULTS / "milp_gap.png", dpi=110)


if __name__ == "__main__":
    main()
