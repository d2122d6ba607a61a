"""Figures of a comparison (PNG, matplotlib's file-only Agg backend): JCT CDFs, cost and energy per
policy, GPUs in use per region over time.

Each figure has a builder (``*_figure``, returning the matplotlib ``Figure``, for tests and
notebooks) and a writer (the plain name, which saves it and returns the path). Every figure's
title names the instance and what it shows; bars carry their values; the GPU plot draws the
cluster's capacity as a dashed line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from bace_opt.core.world import Instance
from bace_opt.io.write import replace_atomic
from bace_opt.sim import SimulationResult


def _save(fig: Figure, path: Path) -> Path:
    with replace_atomic(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png", metadata={"Software": None})
    plt.close(fig)
    return path


def _title(instance: str | None, what: str) -> str:
    return f"{instance}: {what}" if instance else what


def _number(value: float) -> str:
    """A bar's label: whole numbers with thousands separators from 100 up, else 3 digits."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def jct_cdf_figure(results: Sequence[SimulationResult], instance: str | None = None) -> Figure:
    """The distribution of job completion times, one step line per policy."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for i, result in enumerate(results):
        jct = np.sort([r.jct_s / 3600 for r in result.records if r.jct_s is not None])
        if len(jct):
            fraction = np.arange(1, len(jct) + 1) / len(jct)
            style = "-" if i < 10 else "--"  # the colour cycle has ten colours
            ax.step(jct, fraction, style, where="post", label=result.policy)
    ax.set_xlabel("job completion time (h)")
    ax.set_ylabel("fraction of finished jobs")
    ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.set_title(_title(instance, "job completion time (CDF) per policy"), fontsize=10)
    fig.tight_layout()
    return fig


def jct_cdf(results: Sequence[SimulationResult], path: Path, instance: str | None = None) -> Path:
    return _save(jct_cdf_figure(results, instance), path)


def cost_energy_figure(
    summaries: Sequence[Mapping[str, Any]], instance: str | None = None
) -> Figure:
    """Electricity cost and energy of the finished jobs, one bar per policy, values on the bars."""
    names = [str(s["policy"]) for s in summaries]
    fig, (left, right) = plt.subplots(1, 2, figsize=(max(9.0, 0.9 * len(names) + 3), 4.2))
    panels = (
        (left, "total_cost_usd", "electricity cost ($)", "tab:green"),
        (right, "total_energy_kwh", "energy (kWh)", "tab:orange"),
    )
    for ax, key, label, color in panels:
        values = [float(s[key]) for s in summaries]
        bars = ax.bar(names, values, color=color)
        ax.bar_label(bars, labels=[_number(v) for v in values], fontsize=7, padding=2)
        ax.set_ylabel(label)
        ax.set_title(label, fontsize=9)
        ax.margins(y=0.15)
        ax.tick_params(axis="x", labelsize=8)
        for tick in ax.get_xticklabels():
            tick.set_rotation(40)
            tick.set_horizontalalignment("right")
            tick.set_rotation_mode("anchor")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(_title(instance, "electricity cost and energy per policy"), fontsize=10)
    fig.tight_layout()
    return fig


def cost_energy(
    summaries: Sequence[Mapping[str, Any]], path: Path, instance: str | None = None
) -> Path:
    return _save(cost_energy_figure(summaries, instance), path)


def gpus_in_use_figure(instance: Instance, results: Sequence[SimulationResult]) -> Figure:
    """GPUs in use over time, stacked by region, one panel per policy; the dashed line is the
    capacity of all regions together."""
    regions = [r.name for r in instance.regions]
    capacity = sum(r.gpus for r in instance.regions)
    fig, axes = plt.subplots(
        len(results),
        1,
        figsize=(8, 0.6 + 2.2 * len(results)),
        sharex=True,
        squeeze=False,
        layout="constrained",
    )
    for ax, result in zip(axes[:, 0], results, strict=True):
        if result.timeline:
            t = np.array([p[0] for p in result.timeline]) / 3600
            used = np.array([p[1] for p in result.timeline]).T
            ax.stackplot(t, used, labels=regions, step="post")
        ax.axhline(
            capacity, color="black", linestyle="--", linewidth=1, label=f"capacity ({capacity})"
        )
        ax.set_ylim(0, capacity * 1.1)
        ax.set_title(result.policy, fontsize=9, loc="left")
        ax.set_ylabel("GPUs in use")
    axes[-1, 0].set_xlabel("time (h)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="outside right upper")
    fig.suptitle(f"{instance.name}: GPUs in use per region over time", fontsize=10)
    return fig


def gpus_in_use(instance: Instance, results: Sequence[SimulationResult], path: Path) -> Path:
    return _save(gpus_in_use_figure(instance, results), path)
