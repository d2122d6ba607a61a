"""The tables of ``bace-opt report``, computed from a sweep's combined results: pure functions of
data frames (no files, no figures), so they can be tested and reused on their own.

Simulation sweeps: per grid point and policy, the mean over seeds of each metric the columns
declare as swept, with a 95 % confidence interval (Student's t, n − 1 degrees of freedom; none
with a single seed, and none when every seed gave the same value: a seed that varies nothing —
jobs given explicitly, a deterministic policy — repeats one run, and ``± 0`` would claim a
certainty that no sampling earned), and BACE-Pipe's paired reductions. Epoch sweeps: per
snapshot and solver setting, what the MILP gains over greedy, and per time limit how often it
proves the optimum.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bace_opt.report.columns import HOURS, SWEEP_METRICS, SWEPT

SIM_AXES = ("instance", "policy", "weights", "milp_time_limit_s", "bandwidth_scale", "load_scale")
"""A simulation sweep's grid axes but the seed: what one row of its summary stands for."""
EPOCH_AXES = ("snapshot", "time_limit_s", "warm_start", "gap", "weights")
"""An epoch sweep's grid axes."""
POINT = ("instance", "bandwidth_scale", "load_scale")
"""What makes two simulation cells the same world (with the seed): the reductions pair on it."""


def mean_ci(values: Sequence[float] | pd.Series, level: float = 0.95) -> tuple[float, float, int]:
    """Mean and the half-width of its ``level`` confidence interval (Student's t); NaN half-width
    for fewer than two values or for values all the same (no spread: no interval)."""
    data = np.asarray(pd.Series(values).dropna(), dtype=float)
    n = len(data)
    if n == 0:
        return float("nan"), float("nan"), 0
    if bool((data == data[0]).all()):
        return float(data[0]), float("nan"), n
    mean = float(data.mean())
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * data.std(ddof=1) / np.sqrt(n))
    return mean, half, n


def series_axes(data: pd.DataFrame) -> list[str]:
    """The axes that tell one plotted series from another (the policy, and what else varies)."""
    return [a for a in ("policy", "weights", "milp_time_limit_s") if data[a].nunique() > 1]


def series_label(row: pd.Series | dict[str, Any], varying: Sequence[str]) -> str:
    """A series' name in legends and columns: the policy, then every other varying axis."""
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
    """The table with the metrics the report averages in hours added under their hour keys."""
    table = table.copy()
    for column, swept in SWEPT:
        if swept.hours and column.key in table:
            table[column.sweep_key] = table[column.key] / HOURS
    return table


def simulation_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, 95 % CI half-width and n over seeds for every metric, per grid point and policy."""
    ok = _with_hours(table[table.status == "ok"])
    rows = []
    keys = [a for a in SIM_AXES if a in ok]
    for point, group in ok.groupby(keys, dropna=False, sort=True):
        row: dict[str, Any] = dict(zip(keys, point, strict=True))
        for metric in SWEEP_METRICS:
            if metric in group:
                mean, half, n = mean_ci(group[metric])
                row[metric] = mean
                row[f"{metric}_ci95"] = half
                row["seeds"] = n
        rows.append(row)
    return pd.DataFrame(rows)


NO_CI = "†"
"""Marks a mean over two or more seeds shown without a CI: every seed gave the same value."""


def _mean_pm(mean: float, half: float, seeds: int, digits: int) -> str:
    if np.isnan(mean):
        return ""
    if not np.isnan(half):
        return f"{mean:.{digits}f} ± {half:.{digits}f}"
    return f"{mean:.{digits}f}" + (f" {NO_CI}" if seeds > 1 else "")


def mean_pm(summary: pd.DataFrame, metric: str, digits: int) -> pd.DataFrame:
    """A pivot of ``mean ± ci`` strings: rows grid points, columns policy series. A mean without
    a CI is the plain mean: from one seed, or marked ``NO_CI`` from seeds that all agreed."""
    data = summary.copy()
    varying = series_axes(data)
    data["series"] = [series_label(r, varying) for _, r in data.iterrows()]
    data["value"] = [
        _mean_pm(m, h, int(n), digits)
        for m, h, n in zip(data[metric], data[f"{metric}_ci95"], data["seeds"], strict=True)
    ]
    index = [a for a in POINT if data[a].nunique() > 1]
    index = index or ["instance"]
    return data.pivot_table(index=index, columns="series", values="value", aggfunc="first")


def identical_series(table: pd.DataFrame) -> pd.DataFrame:
    """The series whose seeds varied nothing: per series (as labelled in the tables), at how many
    grid points it ran two or more seeds and at how many of those every seed gave the same value
    of every swept metric. Only series with at least one such point."""
    ok = _with_hours(table[table.status == "ok"])
    keys = [a for a in SIM_AXES if a in ok]
    metrics = [m for m in SWEEP_METRICS if m in ok]
    varying = series_axes(ok) if not ok.empty else []
    rows: dict[str, list[int]] = {}
    for _, group in ok.groupby(keys, dropna=False, sort=True):
        if len(group) < 2:
            continue
        label = series_label(group.iloc[0], varying)
        same = all(group[m].nunique(dropna=False) == 1 for m in metrics)
        counts = rows.setdefault(label, [0, 0])
        counts[0] += 1
        counts[1] += int(same)
    return pd.DataFrame(
        [(label, points, same) for label, (points, same) in rows.items() if same],
        columns=["series", "points", "identical"],
    )


def reductions(table: pd.DataFrame, reference: str = "bace") -> pd.DataFrame:
    """``reference``'s reduction (%) of average JCT and of cost against every other series, per
    grid point: computed seed by seed (the same job stream for both, so the comparison is paired),
    then the mean and 95 % CI over seeds. The reference is ``reference`` with the sweep's first
    weights."""
    ok = table[table.status == "ok"]
    point = list(POINT)
    ours = ok[ok.policy == reference]
    if ours.empty:
        return pd.DataFrame()
    if ours.weights.notna().any():
        ours = ours[ours.weights == ours.weights.dropna().iloc[0]]
    mine = ours.set_index([*point, "seed"])[["avg_jct_s", "total_cost_usd"]]
    others = ok[~ok.key.isin(ours.key)].copy()
    varying = series_axes(ok)
    others["against"] = [series_label(r, varying) for _, r in others.iterrows()]
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


def reductions_overview(red: pd.DataFrame) -> pd.DataFrame:
    """Per series compared against: min, median and max over the grid of the reductions."""
    return (
        red.groupby("against")[["jct_reduction_pct", "cost_reduction_pct"]]
        .agg(["min", "median", "max"])
        .round(1)
    )


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
