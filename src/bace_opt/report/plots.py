"""Figures of a comparison (PNG, matplotlib's file-only Agg backend): JCT CDFs, cost and energy per
policy, GPUs in use per region over time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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


def jct_cdf(results: Sequence[SimulationResult], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for result in results:
        jct = np.sort([r.jct_s / 3600 for r in result.records if r.jct_s is not None])
        if len(jct):
            ax.step(jct, np.arange(1, len(jct) + 1) / len(jct), where="post", label=result.policy)
    ax.set_xlabel("job completion time (h)")
    ax.set_ylabel("fraction of jobs")
    ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def cost_energy(summaries: Sequence[dict[str, float]], path: Path) -> Path:
    names = [str(s["policy"]) for s in summaries]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    left.bar(names, [s["total_cost_usd"] for s in summaries], color="tab:green")
    left.set_ylabel("electricity cost ($)")
    right.bar(names, [s["total_energy_kwh"] for s in summaries], color="tab:orange")
    right.set_ylabel("energy (kWh)")
    for ax in (left, right):
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def gpus_in_use(instance: Instance, results: Sequence[SimulationResult], path: Path) -> Path:
    regions = [r.name for r in instance.regions]
    fig, axes = plt.subplots(
        len(results), 1, figsize=(8, 2.2 * len(results)), sharex=True, squeeze=False
    )
    for ax, result in zip(axes[:, 0], results, strict=True):
        if result.timeline:
            t = np.array([p[0] for p in result.timeline]) / 3600
            used = np.array([p[1] for p in result.timeline]).T
            ax.stackplot(t, used, labels=regions, step="post")
        ax.set_title(result.policy, fontsize=9, loc="left")
        ax.set_ylabel("GPUs")
    axes[-1, 0].set_xlabel("time (h)")
    axes[0, 0].legend(fontsize=7, ncol=3, loc="upper right")
    fig.tight_layout()
    return _save(fig, path)
