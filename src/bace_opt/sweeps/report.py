"""``bace-opt report DIR``: a finished (or partly finished) sweep as tables, PNG plots and one
self-contained HTML page (images embedded), written to ``DIR/report/``.

Simulation sweeps: per grid point and policy, the mean over seeds of each metric with a 95 %
confidence interval (Student's t, n − 1 degrees of freedom; none with a single seed); BACE-Pipe's
reduction of mean JCT and cost against every other policy when ``bace`` is in the sweep; JCT and
cost against bandwidth scale and load scale; JCT CDFs over all seeds at the base point.
Epoch sweeps: per snapshot and solver setting, what the MILP gains over greedy, its gap and times,
and the proven-optimal fraction per time limit.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from bace_opt.errors import InputError
from bace_opt.io.write import replace_atomic, write_text_atomic

SIM_AXES = ("instance", "policy", "weights", "milp_time_limit_s", "bandwidth_scale", "load_scale")
SIM_METRICS = {
    "avg_jct_h": "average JCT (h)",
    "total_cost_usd": "electricity cost ($)",
    "p95_jct_h": "p95 JCT (h)",
    "avg_wait_h": "average wait (h)",
    "total_energy_kwh": "energy (kWh)",
    "gpu_utilization": "GPU utilization",
    "jobs_never_ran": "jobs never ran",
}
EPOCH_AXES = ("snapshot", "time_limit_s", "warm_start", "gap", "weights")


def mean_ci(values: Sequence[float] | pd.Series, level: float = 0.95) -> tuple[float, float, int]:
    """Mean and the half-width of its ``level`` confidence interval (Student's t); NaN half-width
    for fewer than two values."""
    data = np.asarray(pd.Series(values).dropna(), dtype=float)
    n = len(data)
    if n == 0:
        return float("nan"), float("nan"), 0
    mean = float(data.mean())
    if n < 2:
        return mean, float("nan"), n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * data.std(ddof=1) / np.sqrt(n))
    return mean, half, n


def _save(fig: Figure, path: Path) -> Path:
    with replace_atomic(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png", metadata={"Software": None})
    plt.close(fig)
    return path


def _series_axes(data: pd.DataFrame) -> list[str]:
    """The axes that tell one plotted series from another (the policy, and what else varies)."""
    return [a for a in ("policy", "weights", "milp_time_limit_s") if data[a].nunique() > 1]


def _series_label(row: pd.Series | dict[str, Any], varying: Sequence[str]) -> str:
    parts = [str(row["policy"])]
    for axis in varying:
        value = row[axis]
        if (
            axis != "policy"
            and value is not None
            and not (isinstance(value, float) and np.isnan(value))
        ):
            parts.append(f"{axis.replace('_s', '').replace('milp_time_limit', 'limit')}={value}")
    return " ".join(parts)


# -- simulation sweeps ----------------------------------------------------------------------------


def _with_hours(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    for col in ("avg_jct_s", "p95_jct_s", "avg_wait_s"):
        if col in table:
            table[col.replace("_s", "_h")] = table[col] / 3600
    return table


def simulation_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, 95 % CI half-width and n over seeds for every metric, per grid point and policy."""
    ok = _with_hours(table[table.status == "ok"])
    rows = []
    keys = [a for a in SIM_AXES if a in ok]
    for point, group in ok.groupby(keys, dropna=False, sort=True):
        row: dict[str, Any] = dict(zip(keys, point, strict=True))
        for metric in SIM_METRICS:
            if metric in group:
                mean, half, n = mean_ci(group[metric])
                row[metric] = mean
                row[f"{metric}_ci95"] = half
                row["seeds"] = n
        rows.append(row)
    return pd.DataFrame(rows)


def reductions(table: pd.DataFrame, reference: str = "bace") -> pd.DataFrame:
    """``reference``'s reduction (%) of average JCT and of cost against every other series, per
    grid point: computed seed by seed (the same job stream for both, so the comparison is paired),
    then the mean and 95 % CI over seeds. The reference is ``reference`` with the sweep's first
    weights."""
    ok = table[table.status == "ok"]
    point = ["instance", "bandwidth_scale", "load_scale"]
    ours = ok[ok.policy == reference]
    if ours.empty:
        return pd.DataFrame()
    if ours.weights.notna().any():
        ours = ours[ours.weights == ours.weights.dropna().iloc[0]]
    mine = ours.set_index([*point, "seed"])[["avg_jct_s", "total_cost_usd"]]
    others = ok[~ok.key.isin(ours.key)].copy()
    varying = _series_axes(ok)
    others["against"] = [_series_label(r, varying) for _, r in others.iterrows()]
    paired = others.join(mine.add_suffix("_ref"), on=[*point, "seed"])
    paired["jct"] = 100 * (1 - paired.avg_jct_s_ref / paired.avg_jct_s)
    paired["cost"] = 100 * (1 - paired.total_cost_usd_ref / paired.total_cost_usd)
    rows = []
    for values, group in paired.groupby([*point, "against"], sort=True):
        row: dict[str, Any] = dict(zip([*point, "against"], values, strict=True))
        for metric in ("jct", "cost"):
            mean, half, n = mean_ci(group[metric])
            row[f"{metric}_reduction_pct"] = mean
            row[f"{metric}_reduction_pct_ci95"] = half
        row["seeds"] = n
        rows.append(row)
    return pd.DataFrame(rows)


def _base(values: Sequence[float]) -> float:
    """The axis value the other axis's plot is drawn at: 1 when swept, else the middle one."""
    ordered = sorted(set(values))
    return 1.0 if 1.0 in ordered else ordered[len(ordered) // 2]


def _axis_plots(summary: pd.DataFrame, folder: Path, instance: str) -> list[Path]:
    data = summary[summary.instance == instance]
    series_axes = _series_axes(data)
    written = []
    for axis, other in (("bandwidth_scale", "load_scale"), ("load_scale", "bandwidth_scale")):
        if data[axis].nunique() < 2:
            continue
        at = _base(data[other].tolist())
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for metric, ax in zip(("avg_jct_h", "total_cost_usd"), axes, strict=True):
            subset = data[data[other] == at]
            for _, group in subset.groupby(
                ["policy", "weights", "milp_time_limit_s"], dropna=False
            ):
                group = group.sort_values(axis)
                label = _series_label(group.iloc[0], series_axes)
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
            ax.set_xscale("log", base=2)
            ticks = sorted(data[axis].unique())
            ax.set_xticks(ticks, [f"×{t:g}" for t in ticks])
            ax.minorticks_off()
            ax.set_xlabel(f"{axis.replace('_', ' ')} ({other.replace('_', ' ')} = {at:g})")
            ax.set_ylabel(SIM_METRICS[metric])
            ax.grid(alpha=0.3)
        axes[1].legend(fontsize=7)
        fig.suptitle(f"{instance}: mean over seeds, 95 % CI", fontsize=10)
        written.append(_save(fig, folder / f"{instance}-vs-{axis.split('_')[0]}.png"))
    return written


def _reduction_plot(red: pd.DataFrame, folder: Path, instance: str) -> Path | None:
    """BACE-Pipe's paired reduction against each series along bandwidth and load (mean, 95 % CI)."""
    data = red[red.instance == instance]
    axes_swept = [a for a in ("bandwidth_scale", "load_scale") if data[a].nunique() > 1]
    if data.empty or not axes_swept:
        return None
    fig, grid = plt.subplots(2, len(axes_swept), figsize=(5.5 * len(axes_swept), 7), squeeze=False)
    for col, axis in enumerate(axes_swept):
        other = "load_scale" if axis == "bandwidth_scale" else "bandwidth_scale"
        at = _base(data[other].tolist())
        subset = data[data[other] == at]
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
            ax.set_xscale("log", base=2)
            ticks = sorted(subset[axis].unique())
            ax.set_xticks(ticks, [f"×{t:g}" for t in ticks])
            ax.minorticks_off()
            ax.set_xlabel(f"{axis.replace('_', ' ')} ({other.replace('_', ' ')} = {at:g})")
            ax.set_ylabel(f"BACE-Pipe's {'JCT' if metric == 'jct' else 'cost'} reduction (%)")
            ax.grid(alpha=0.3)
    grid[0][-1].legend(fontsize=7)
    fig.suptitle(f"{instance}: paired by seed, mean and 95 % CI", fontsize=10)
    return _save(fig, folder / f"{instance}-bace-reduction.png")


def _jobs(out: Path) -> pd.DataFrame:
    """Per-job JCTs by cell key: ``jobs.parquet``, which ``sweep`` writes with the results (older
    folders: read from the cell files, where present)."""
    path = out / "jobs.parquet"
    if path.is_file():
        return pd.read_parquet(path)
    rows = [
        (cell.stem, jct)
        for cell in sorted((out / "cells").glob("*.json"))
        for jct in json.loads(cell.read_text(encoding="utf-8")).get("jct_s") or []
    ]
    return pd.DataFrame(rows, columns=["key", "jct_s"])


def _cdf_plot(out: Path, table: pd.DataFrame, folder: Path, instance: str) -> Path | None:
    ok = table[(table.status == "ok") & (table.instance == instance)]
    if ok.empty:
        return None
    bw, load = _base(ok.bandwidth_scale.tolist()), _base(ok.load_scale.tolist())
    at = ok[(ok.bandwidth_scale == bw) & (ok.load_scale == load)]
    series_axes = _series_axes(at)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    plotted = False
    jobs = _jobs(out)
    for _, group in at.groupby(["policy", "weights", "milp_time_limit_s"], dropna=False):
        jct = jobs.jct_s[jobs.key.isin(group.key)].to_numpy()
        if len(jct):
            plotted = True
            xs = np.sort(np.asarray(jct)) / 3600
            label = _series_label(group.iloc[0], series_axes)
            ax.step(xs, np.arange(1, len(xs) + 1) / len(xs), where="post", label=label)
    if not plotted:
        plt.close(fig)
        return None
    ax.set_xscale("log")
    ax.set_xlabel("job completion time (h)")
    ax.set_ylabel("fraction of jobs")
    ax.set_title(f"{instance}: bandwidth ×{bw:g}, load ×{load:g}, all seeds", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, folder / f"{instance}-jct-cdf.png")


def _mean_pm(summary: pd.DataFrame, metric: str, digits: int) -> pd.DataFrame:
    """A pivot of ``mean ± ci`` strings: rows grid points, columns policy series."""
    data = summary.copy()
    series_axes = _series_axes(data)
    data["series"] = [_series_label(r, series_axes) for _, r in data.iterrows()]
    data["value"] = [
        f"{m:.{digits}f}" + ("" if np.isnan(h) else f" ± {h:.{digits}f}")
        for m, h in zip(data[metric], data[f"{metric}_ci95"], strict=True)
    ]
    index = [a for a in ("instance", "bandwidth_scale", "load_scale") if data[a].nunique() > 1]
    index = index or ["instance"]
    return data.pivot_table(index=index, columns="series", values="value", aggfunc="first")


def _simulation_report(out: Path, table: pd.DataFrame, folder: Path) -> dict[str, Any]:
    summary = simulation_summary(table)
    write_text_atomic(folder / "summary.csv", summary.to_csv(index=False))
    sections: list[tuple[str, str]] = []
    images: list[Path] = []
    if not summary.empty:
        for metric, digits in (("avg_jct_h", 2), ("total_cost_usd", 0)):
            pivot = _mean_pm(summary, metric, digits)
            sections.append((f"{SIM_METRICS[metric]}: mean ± 95 % CI over seeds", pivot.to_html()))
        red = reductions(table)
        if not red.empty:
            write_text_atomic(folder / "reductions.csv", red.to_csv(index=False))
            overview = (
                red.groupby("against")[["jct_reduction_pct", "cost_reduction_pct"]]
                .agg(["min", "median", "max"])
                .round(1)
            )
            write_text_atomic(folder / "reductions_overview.csv", overview.to_csv())
            sections.insert(
                0,
                (
                    "BACE-Pipe's reduction against each policy: min, median and max over the grid"
                    " of the per-point mean over seeds (%)",
                    overview.to_html(),
                ),
            )
        for instance in sorted(summary.instance.unique()):
            reduction = _reduction_plot(red, folder, instance) if not red.empty else None
            images += [reduction] if reduction else []
            images += _axis_plots(summary, folder, instance)
            cdf = _cdf_plot(out, table, folder, instance)
            if cdf:
                images.append(cdf)
    return {"sections": sections, "images": images}


# -- epoch sweeps ---------------------------------------------------------------------------------


def epoch_summary(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per cell: what the MILP gained over greedy; per time limit and start: how often proven."""
    ok = table[table.status == "ok"].copy()
    if ok.empty:
        return ok, ok
    ok["weight_gain_pct"] = (
        100 * (ok.milp_weight - ok.greedy_weight) / ok.greedy_weight.where(ok.greedy_weight > 0)
    )
    same = np.isclose(ok.milp_weight, ok.greedy_weight, rtol=1e-9, atol=1e-12)
    ok["cost_saving_pct"] = np.where(
        same,
        100 * (ok.greedy_cost - ok.milp_cost) / ok.greedy_cost.where(ok.greedy_cost > 0),
        np.nan,
    )
    cells = ok[
        [
            *EPOCH_AXES,
            "waiting",
            "milp_status",
            "weight_gain_pct",
            "cost_saving_pct",
            "cost_gap",
            "build_s",
            "solve_s",
            "greedy_s",
        ]
    ]
    by_limit = (
        ok.groupby(["time_limit_s", "warm_start"])
        .agg(
            cells=("status", "size"),
            proven_optimal=("milp_status", lambda s: float((s == "optimal").mean())),
            median_solve_s=("solve_s", "median"),
            max_solve_s=("solve_s", "max"),
            median_build_s=("build_s", "median"),
            mean_weight_gain_pct=("weight_gain_pct", "mean"),
            mean_cost_saving_pct=("cost_saving_pct", "mean"),
        )
        .reset_index()
    )
    return cells, by_limit


def _epoch_report(table: pd.DataFrame, folder: Path) -> dict[str, Any]:
    cells, by_limit = epoch_summary(table)
    write_text_atomic(folder / "summary.csv", cells.to_csv(index=False))
    write_text_atomic(folder / "by_time_limit.csv", by_limit.to_csv(index=False))
    sections = [
        (
            "Proven-optimal fraction and times per time limit",
            by_limit.round(3).to_html(index=False),
        ),
        ("Every cell", cells.round(4).to_html(index=False)),
    ]
    images = []
    if not cells.empty:
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
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        images.append(_save(fig, folder / "solve-time.png"))
    return {"sections": sections, "images": images}


# -- the page -------------------------------------------------------------------------------------


def _page(title: str, notes: list[str], sections: list[tuple[str, str]], images: list[Path]) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;font-size:13px;margin:0.5em 0 1.5em}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "img{max-width:100%;margin:1em 0}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        *(f"<p>{html.escape(n)}</p>" for n in notes),
    ]
    for heading, body in sections:
        parts += [f"<h2>{html.escape(heading)}</h2>", body]
    for image in images:
        data = base64.b64encode(image.read_bytes()).decode()
        parts += [
            f"<h3>{html.escape(image.stem)}</h3>",
            f"<img src='data:image/png;base64,{data}'>",
        ]
    parts.append("</body></html>")
    return "\n".join(parts)


def report(out: Path) -> Path:
    """Write ``out/report/`` (CSV tables, PNG plots, ``index.html``); returns the HTML path."""
    meta_path, results = out / "sweep.json", out / "results.parquet"
    if not meta_path.is_file() or not results.is_file():
        raise InputError(
            [
                f"{out}: not a sweep folder (no sweep.json and results.parquet); "
                "run `bace-opt sweep` first"
            ]
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    table = pd.read_parquet(results)
    folder = out / "report"
    folder.mkdir(exist_ok=True)
    if table.empty:
        parts: dict[str, Any] = {"sections": [], "images": []}
    elif meta["kind"] == "simulate":
        parts = _simulation_report(out, table, folder)
    else:
        parts = _epoch_report(table, folder)
    failed = table[table.status != "ok"] if not table.empty else table
    notes = [f"{len(table)} cells with results, {len(failed)} failed."]
    if not failed.empty:
        parts["sections"].append(
            (
                "Failed cells",
                failed.drop(columns=[c for c in failed if failed[c].isna().all()]).to_html(
                    index=False
                ),
            )
        )
    page = _page(
        f"Sweep {meta['name']} ({meta['kind']})", notes, parts["sections"], parts["images"]
    )
    return write_text_atomic(folder / "index.html", page)
