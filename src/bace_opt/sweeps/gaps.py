"""The report's view of a sweep's bounds (``bounds:``): the policies' gaps as tables (the median
over seeds per grid point and series) and, per instance, their (average JCT, cost) points against
each world's frontier.

The gaps themselves are the results table's ``compare --bound`` columns (``sweeps.bounds``); the
frontier curve is drawn with the same rule that gives the cost gap (``frontier_cost_at``), so a
point sits above the curve by exactly its cost gap.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from bace_opt.bounds.result import frontier_cost_at
from bace_opt.report.columns import HOURS
from bace_opt.sweeps.figures import Plot, _save
from bace_opt.sweeps.stats import POINT, SIM_AXES, series_axes, series_label

GAPS = {
    "jct_gap": "JCT gap (average JCT ÷ JCT bound)",
    "cost_gap": "cost gap (cost ÷ frontier at its JCT)",
    "cost_gap_total": "cost gap to the total cost bound",
}
"""The gap columns the report summarises, with their headings."""


def has_gaps(table: pd.DataFrame) -> bool:
    """Whether the results table carries gaps (a sweep with ``bounds:``)."""
    return not table.empty and all(g in table for g in GAPS)


def gap_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per grid point and series: the median over seeds of each gap, the seeds with a gap (runs
    that finished every job over a positive bound) and the seeds run."""
    ok = table[table.status == "ok"]
    keys = [a for a in SIM_AXES if a in ok]
    rows = []
    for point, group in ok.groupby(keys, dropna=False, sort=True):
        row: dict[str, Any] = dict(zip(keys, point, strict=True))
        for gap in GAPS:
            row[f"{gap}_median"] = group[gap].median()
        row["seeds_with_gap"] = int(group.jct_gap.notna().sum())
        row["seeds"] = len(group)
        rows.append(row)
    return pd.DataFrame(rows)


def gap_pivot(summary: pd.DataFrame, gap: str, digits: int = 3) -> pd.DataFrame:
    """Median ``gap`` as text: rows grid points, columns series (as ``stats.mean_pm``); empty
    where no seed had a gap, ``(k/n)`` where only k of n seeds had one."""
    data = summary.copy()
    varying = series_axes(data)
    data["series"] = [series_label(r, varying) for _, r in data.iterrows()]
    data["value"] = [
        "" if np.isnan(m) else f"{m:.{digits}f}" + (f" ({k}/{n})" if k < n else "")
        for m, k, n in zip(data[f"{gap}_median"], data.seeds_with_gap, data.seeds, strict=True)
    ]
    index = [a for a in POINT if data[a].nunique() > 1] or ["instance"]
    return data.pivot_table(index=index, columns="series", values="value", aggfunc="first")


def _curve(bound: pd.Series, right_s: float) -> list[tuple[float, float]]:
    """One world's frontier as the step function ``frontier_cost_at`` gives: its value at each
    breakpoint (s, $), which holds on the interval left of it, from the JCT bound on, carried on
    to ``right_s`` at the total cost bound."""
    points = [(p["avg_jct_s"], p["cost_lower_usd"]) for p in json.loads(bound.frontier)]
    total = None if pd.isna(bound.total_cost_lower_usd) else float(bound.total_cost_lower_usd)
    xs = {j for j, _ in points}
    if not pd.isna(bound.avg_jct_lower_s):
        xs.add(float(bound.avg_jct_lower_s))
    ordered = sorted(xs)
    if total is not None and ordered and right_s > ordered[-1]:
        ordered.append(right_s)
    curve = [(x, frontier_cost_at(points, x, total)) for x in ordered]
    return [(x, c) for x, c in curve if c is not None]


def _window(runs: pd.DataFrame, bounds: pd.DataFrame) -> tuple[float, float]:
    """The JCTs shown (s): the JCT bounds to the slowest run, with margins. The frontier goes on
    far to the right (to the JCT of the cheapest schedule), where no policy is."""
    lows = [*bounds.avg_jct_lower_s.dropna(), *runs.avg_jct_s]
    left = min(lows)
    right = float(runs.avg_jct_s.max()) if not runs.empty else 1.1 * max(lows)
    span = max(right - left, 0.01 * left)
    return left - 0.1 * span, right + 0.3 * span


def _visible(curve: list[tuple[float, float]], left: float, right: float) -> list[float]:
    """The curve's values on ``[left, right]`` (each holds from the breakpoint before it)."""
    before = [-np.inf, *(x for x, _ in curve)]
    return [c for (x, c), prev in zip(curve, before, strict=False) if x >= left and prev < right]


def _point_axes(ax: Axes, table: pd.DataFrame, bounds: pd.DataFrame, varying: list[str]) -> None:
    """One grid point: every seed's world (frontier, JCT bound) and every comparable run on it,
    zoomed to the runs."""
    runs = table[table.jct_gap.notna()]
    left, right = _window(runs, bounds)
    shown = [*runs.total_cost_usd]
    for i, (_, bound) in enumerate(bounds.iterrows()):
        curve = _curve(bound, right)
        shown += _visible(curve, left, right)
        if curve:
            label = "cost bound at that JCT (frontier)" if i == 0 else None
            xs, cs = zip(*((x / HOURS, c) for x, c in curve), strict=True)
            ax.step(xs, cs, where="pre", color="black", lw=1, alpha=0.7, label=label)
        if not pd.isna(bound.avg_jct_lower_s):
            label = "JCT bound" if i == 0 else None
            ax.axvline(bound.avg_jct_lower_s / HOURS, color="grey", ls=":", lw=1, label=label)
    for _, group in runs.groupby(["policy", "weights", "milp_time_limit_s"], dropna=False):
        label = series_label(group.iloc[0], varying)
        style = "o" if group.iloc[0].policy == "bace" else "s"
        ax.plot(group.avg_jct_s / HOURS, group.total_cost_usd, style, alpha=0.85, label=label)
    ax.set_xlim(left / HOURS, right / HOURS)
    if shown:
        low, high = min(shown), max(shown)
        pad = 0.08 * ((high - low) or abs(high) or 1.0)
        ax.set_ylim(low - pad, high + pad)
    ax.grid(alpha=0.3)


def frontier_plot(
    table: pd.DataFrame, bounds: pd.DataFrame, folder: Path, instance: str
) -> Plot | None:
    """Per grid point of ``instance`` (rows: load scale, columns: bandwidth scale), the
    policies' (average JCT, cost) against the frontier of each seed's world."""
    data = table[(table.instance == instance) & (table.status == "ok")]
    worlds = bounds[(bounds.instance == instance) & (bounds.status != "error")]
    if worlds.empty or data.jct_gap.isna().all():
        return None
    loads, widths = sorted(worlds.load_scale.unique()), sorted(worlds.bandwidth_scale.unique())
    fig, grid = plt.subplots(
        len(loads), len(widths), figsize=(5 * len(widths), 3.8 * len(loads)), squeeze=False
    )
    varying = series_axes(data)
    for (r, load), (c, width) in ((a, b) for a in enumerate(loads) for b in enumerate(widths)):
        ax = grid[r][c]
        at = data[(data.load_scale == load) & (data.bandwidth_scale == width)]
        own = worlds[(worlds.load_scale == load) & (worlds.bandwidth_scale == width)]
        _point_axes(ax, at, own, varying)
        ax.set_title(f"bandwidth ×{width:g}, load ×{load:g}", fontsize=9)
        ax.set_xlabel("average JCT (h)")
        ax.set_ylabel("electricity cost ($)")
    fullest = max(grid.flat, key=lambda a: len(a.get_legend_handles_labels()[1]))
    fullest.legend(fontsize=7)  # the subplot with every series (some may have none finished)
    title = f"{instance}: policies' average JCT and cost against the bounds"
    fig.suptitle(title, fontsize=10)
    path = _save(fig, folder / f"{instance}-frontier.png")
    caption = (
        f"On {instance}, per grid point: each policy's average JCT and electricity cost (one "
        "marker per seed, runs that finished every job only, the axes zoomed to them) against "
        "each seed's world's bounds: "
        "left of the dotted line no schedule's average JCT can be; below the step line no "
        "schedule that fast can cost (the frontier at that JCT, then the total cost bound). A "
        "marker's cost ÷ the line's at its JCT is its cost gap, its JCT ÷ the dotted line's its "
        "JCT gap."
    )
    return Plot(path, title, caption)
