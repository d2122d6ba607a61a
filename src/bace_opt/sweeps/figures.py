"""The PNG figures of ``bace-opt report`` (matplotlib's file-only Agg backend): metrics against
bandwidth and load scale, BACE-Pipe's reductions, JCT CDFs over seeds, and the MILP's solve
times. Each function draws from the tables of ``sweeps.stats`` and returns what it wrote as
``Plot``s: the file, and the title and caption the report's page shows with it. Every figure's
title names the instance (for an epoch sweep, the sweep) and the metric it shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bace_opt.io.write import replace_atomic
from bace_opt.report.columns import HOURS, SWEEP_METRICS, SWEPT
from bace_opt.sweeps.stats import series_axes, series_label

PLOTTED = tuple(column.sweep_key for column, swept in SWEPT if swept.digits is not None)
"""The metrics drawn against bandwidth and load scale: those the page shows as tables."""
SCALES = ("bandwidth_scale", "load_scale")
CI_NOTE = "Error bars: 95 % CI over seeds (Student's t); none where every seed gave the same value."


@dataclass(frozen=True)
class Plot:
    """A PNG written for the report, with what the page says about it."""

    path: Path
    title: str
    caption: str


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    with replace_atomic(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png", metadata={"Software": None})
    plt.close(fig)
    return path


def _words(axis: str) -> str:
    return axis.replace("_", " ")


def _base(values: Sequence[float]) -> float:
    """The axis value the other axis's plot is drawn at: 1 when swept, else the middle one."""
    ordered = sorted(set(values))
    return 1.0 if 1.0 in ordered else ordered[len(ordered) // 2]


def _other(axis: str) -> str:
    return SCALES[1] if axis == SCALES[0] else SCALES[0]


def _scale_axis(ax: Axes, axis: str, ticks: Sequence[float], at: float) -> None:
    """A log₂ x axis with ``×`` ticks, labelled with the other axis's value it is drawn at."""
    ax.set_xscale("log", base=2)
    ax.set_xticks(ticks, [f"×{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel(f"{_words(axis)} ({_words(_other(axis))} = ×{at:g})")


def axis_plots(summary: pd.DataFrame, folder: Path, instance: str) -> list[Plot]:
    """Per swept scale: the ``PLOTTED`` metrics' mean and 95 % CI per series, the other scale at
    its base value."""
    data = summary[summary.instance == instance]
    varying = series_axes(data)
    written = []
    labels = [SWEEP_METRICS[m] for m in PLOTTED]
    names = " and ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)
    for axis in SCALES:
        if data[axis].nunique() < 2:
            continue
        other = _other(axis)
        at = _base(data[other].tolist())
        fig, grid = plt.subplots(1, len(PLOTTED), figsize=(5.5 * len(PLOTTED), 4), squeeze=False)
        for metric, ax in zip(PLOTTED, grid[0], strict=True):
            subset = data[data[other] == at]
            for _, group in subset.groupby(
                ["policy", "weights", "milp_time_limit_s"], dropna=False
            ):
                group = group.sort_values(axis)
                label = series_label(group.iloc[0], varying)
                style = "-o" if group.iloc[0].policy == "bace" else "--."
                ax.errorbar(
                    group[axis],
                    group[metric],
                    yerr=group[f"{metric}_ci95"].fillna(0),
                    fmt=style,
                    capsize=2,
                    elinewidth=0.7,
                    alpha=0.85,
                    label=label,
                )
            _scale_axis(ax, axis, sorted(data[axis].unique()), at)
            ax.set_ylabel(SWEEP_METRICS[metric])
            ax.set_title(f"{SWEEP_METRICS[metric]} against {_words(axis)}", fontsize=9)
            ax.grid(alpha=0.3)
        grid[0][-1].legend(fontsize=7)
        title = f"{instance}: {names} against {_words(axis)}"
        fig.suptitle(f"{title} (mean over seeds, 95 % CI)", fontsize=10)
        path = _save(fig, folder / f"{instance}-vs-{axis.split('_')[0]}.png")
        caption = (
            f"Mean over seeds of each policy's {names} on {instance} at each {_words(axis)}, "
            f"{_words(other)} held at ×{at:g}. {CI_NOTE}"
        )
        written.append(Plot(path, title, caption))
    return written


def reduction_plot(red: pd.DataFrame, folder: Path, instance: str) -> Plot | None:
    """BACE-Pipe's paired reduction against each series along bandwidth and load (mean, 95 % CI)."""
    data = red[red.instance == instance]
    axes_swept = [a for a in SCALES if data[a].nunique() > 1]
    if data.empty or not axes_swept:
        return None
    fig, grid = plt.subplots(2, len(axes_swept), figsize=(5.5 * len(axes_swept), 7), squeeze=False)
    for col, axis in enumerate(axes_swept):
        at = _base(data[_other(axis)].tolist())
        subset = data[data[_other(axis)] == at]
        for row, metric in enumerate(("jct", "cost")):
            ax = grid[row][col]
            for against, group in subset.groupby("against"):
                group = group.sort_values(axis)
                ax.errorbar(
                    group[axis],
                    group[f"{metric}_reduction_pct"],
                    yerr=group[f"{metric}_reduction_pct_ci95"].fillna(0),
                    fmt="-o",
                    markersize=3,
                    capsize=2,
                    elinewidth=0.8,
                    label=f"vs {against}",
                )
            ax.axhline(0, color="black", linewidth=0.8)
            _scale_axis(ax, axis, sorted(subset[axis].unique()), at)
            what = "average JCT" if metric == "jct" else "electricity cost"
            ax.set_ylabel(f"BACE-Pipe's {what} reduction (%)")
            ax.set_title(f"{what} reduction against {_words(axis)}", fontsize=9)
            ax.grid(alpha=0.3)
    grid[0][-1].legend(fontsize=7)
    title = f"{instance}: BACE-Pipe's reduction of average JCT and electricity cost (%)"
    fig.suptitle(f"{title}\npaired by seed, mean and 95 % CI", fontsize=10)
    path = _save(fig, folder / f"{instance}-bace-reduction.png")
    caption = (
        f"On {instance}, how much lower BACE-Pipe's average JCT (top) and electricity cost "
        "(bottom) are than each other policy's, in % of theirs (above 0: BACE-Pipe is better), "
        f"computed seed by seed on the same job stream, then averaged. {CI_NOTE}"
    )
    return Plot(path, title, caption)


def jct_cdf(table: pd.DataFrame, jobs: pd.DataFrame, folder: Path, instance: str) -> Plot | None:
    """The JCT distribution per series over all seeds at the base grid point; ``jobs`` holds
    every finished job's ``jct_s`` by cell ``key``."""
    ok = table[(table.status == "ok") & (table.instance == instance)]
    if ok.empty:
        return None
    bw, load = _base(ok.bandwidth_scale.tolist()), _base(ok.load_scale.tolist())
    at = ok[(ok.bandwidth_scale == bw) & (ok.load_scale == load)]
    varying = series_axes(at)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    plotted = False
    for _, group in at.groupby(["policy", "weights", "milp_time_limit_s"], dropna=False):
        jct = jobs.jct_s[jobs.key.isin(group.key)].to_numpy()
        if len(jct):
            plotted = True
            xs = np.sort(np.asarray(jct)) / HOURS
            label = series_label(group.iloc[0], varying)
            ax.step(xs, np.arange(1, len(xs) + 1) / len(xs), where="post", label=label)
    if not plotted:
        plt.close(fig)
        return None
    ax.set_xscale("log")
    ax.set_xlabel("job completion time (h)")
    ax.set_ylabel("fraction of finished jobs")
    title = f"{instance}: job completion time (CDF), bandwidth ×{bw:g}, load ×{load:g}"
    ax.set_title(f"{title}, all seeds", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    path = _save(fig, folder / f"{instance}-jct-cdf.png")
    caption = (
        f"Fraction of the finished jobs on {instance} that completed within a given time (log "
        f"scale), per policy, over the jobs of every seed at bandwidth ×{bw:g} and load ×{load:g}."
    )
    return Plot(path, title, caption)


def solve_time(cells: pd.DataFrame, folder: Path, sweep: str = "epoch sweep") -> Plot:
    """An epoch sweep's MILP solve time against waiting jobs, per time limit and MIP start."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for (limit, warm), group in cells.groupby(["time_limit_s", "warm_start"]):
        proven = group.milp_status == "optimal"
        label = f"limit {limit:g} s, start {'on' if warm else 'off'}"
        line = ax.scatter(group.waiting[proven], group.solve_s[proven], marker="o", label=label)
        ax.scatter(
            group.waiting[~proven],
            group.solve_s[~proven],
            marker="x",
            color=line.get_facecolor(),
        )
    ax.set_xlabel("waiting jobs")
    ax.set_ylabel("solve time (s); o proven optimal, x stopped")
    snapshots = cells.snapshot.nunique() if "snapshot" in cells else 0
    title = f"{sweep}: MILP solve time (s) against waiting jobs, {snapshots} snapshots"
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    path = _save(fig, folder / "solve-time.png")
    caption = (
        "Wall-clock time of the MILP's two stages on each snapshot against the jobs waiting in "
        "it, per time limit and MIP start: o proven optimal, x stopped at the limit."
    )
    return Plot(path, title, caption)
