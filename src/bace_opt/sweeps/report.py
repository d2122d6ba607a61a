"""``bace-opt report DIR``: a finished (or partly finished) sweep as tables, PNG plots and one
self-contained HTML page (images embedded), written to ``DIR/report/``.

Simulation sweeps: per grid point and policy, the mean over seeds of each swept metric with a
95 % confidence interval; BACE-Pipe's reduction of mean JCT and cost against every other policy
when ``bace`` is in the sweep; JCT and cost against bandwidth scale and load scale; JCT CDFs over
all seeds at the base point. Epoch sweeps: per snapshot and solver setting, what the MILP gains
over greedy, its gap and times, and the proven-optimal fraction per time limit.

A series whose seeds all gave the same results (jobs given explicitly and a deterministic
policy: the seed varies nothing) has no CI: its tables show the plain mean marked ``†``, its CSV
CI columns are empty, and the page and the log (a warning, on stderr at the command line) say so.

This module reads the folder, writes the files and assembles the page (human headers, a caption
under every table and figure); the numbers come from ``sweeps.stats`` and the pictures from
``sweeps.figures``. The CSV files keep the tables' own column names.
"""

from __future__ import annotations

import base64
import html
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bace_opt.errors import InputError
from bace_opt.io.write import write_text_atomic
from bace_opt.report.columns import SUMMARY, SWEEP_METRICS, SWEPT
from bace_opt.sweeps import figures, gaps
from bace_opt.sweeps.bounds import BOUNDS_CSV
from bace_opt.sweeps.figures import Plot
from bace_opt.sweeps.stats import (
    NO_CI,
    epoch_summary,
    identical_series,
    mean_pm,
    reductions,
    reductions_overview,
    simulation_summary,
)

log = logging.getLogger(__name__)

TABLES = tuple(
    (column.sweep_key, swept.digits) for column, swept in SWEPT if swept.digits is not None
)
"""The swept metrics the page shows as ``mean ± CI`` tables, with their decimals."""

HEADERS = {
    "instance": "Instance",
    "policy": "Policy",
    "series": "Policy",
    "against": "Against",
    "weights": "Priority weights",
    "milp_time_limit_s": "MILP time limit (s)",
    "bandwidth_scale": "Bandwidth scale",
    "load_scale": "Load scale",
    "seed": "Seed",
    "seeds": "Seeds",
    "key": "Cell key",
    "status": "Status",
    "error": "Error",
    "snapshot": "Snapshot",
    "time_limit_s": "Time limit (s)",
    "warm_start": "MIP start",
    "gap": "Relative MIP gap",
    "waiting": "Waiting jobs",
    "milp_status": "MILP status",
    "weight_gain_pct": "MILP weight gain (%)",
    "cost_saving_pct": "MILP cost saving (%)",
    "cost_gap": "MILP cost gap to bound",
    "build_s": "Model build (s)",
    "solve_s": "Solve (s)",
    "greedy_s": "Greedy (s)",
    "cells": "Cells",
    "proven_optimal": "Proven optimal (fraction)",
    "median_solve_s": "Median solve (s)",
    "max_solve_s": "Max solve (s)",
    "median_build_s": "Median build (s)",
    "mean_weight_gain_pct": "Mean weight gain (%)",
    "mean_cost_saving_pct": "Mean cost saving (%)",
    "jct_reduction_pct": "Average JCT reduction (%)",
    "cost_reduction_pct": "Electricity cost reduction (%)",
    **{key: label[:1].upper() + label[1:] for key, label in SWEEP_METRICS.items()},
}
"""The page's column headers; any other key is spelled out with its unit (``_header``)."""
UNITS = {"s": "s", "h": "h", "pct": "%", "usd": "$", "kwh": "kWh", "gbps": "Gbit/s"}
DOCS = {column.key: column.doc for column in SUMMARY}


def _header(key: Any) -> str:
    """A column's header on the page: ``HEADERS``, else the key in words with its unit."""
    name = str(key)
    if name in HEADERS:
        return HEADERS[name]
    *words, last = name.split("_")
    if words and last in UNITS:
        return f"{' '.join(words).capitalize()} ({UNITS[last]})"
    return name.replace("_", " ").capitalize()


def _html(table: pd.DataFrame, data_columns: bool = False) -> str:
    """A table as plain HTML with one header row: a named index becomes ordinary leading
    columns, a column MultiIndex one header per column (``Average JCT reduction (%), min``),
    keys human headers, scales ``×0.5``. With ``data_columns``, the columns are values (policy
    series) and keep their names; only the index's get headers."""
    flat = table.copy()
    if isinstance(flat.columns, pd.MultiIndex):
        flat.columns = [", ".join([_header(c[0]), *map(str, c[1:])]) for c in flat.columns]
    elif not data_columns:
        flat.columns = [_header(c) for c in flat.columns]
    index = [n for n in flat.index.names if n is not None]
    flat = flat.reset_index(drop=not index)
    for scale in ("bandwidth_scale", "load_scale"):
        if scale in index:
            flat[scale] = [f"×{v:g}" if isinstance(v, int | float) else v for v in flat[scale]]
    flat.columns = [_header(c) if c in index else str(c) for c in flat.columns]
    return str(flat.to_html(index=False, na_rep="", border=0))


@dataclass
class Page:
    """What the page shows: notes at the top, tables (heading, HTML, caption), figures."""

    notes: list[str] = field(default_factory=list)
    tables: list[tuple[str, str, str]] = field(default_factory=list)
    plots: list[Plot] = field(default_factory=list)


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


def _identical_note(table: pd.DataFrame) -> str | None:
    """The note (and log warning) on series whose seeds varied nothing, if there are any."""
    same = identical_series(table)
    if same.empty:
        return None
    names = ", ".join(
        str(series) if n == points else f"{series} ({n} of {points} points)"
        for series, points, n in zip(same.series, same.points, same.identical, strict=True)
    )
    return (
        f"Seeds identical: for {names}, every seed gave the same results (jobs given explicitly "
        f"and a deterministic policy: the seed varies nothing), so they have no CI; the tables "
        f"show their plain mean, marked {NO_CI}, and summary.csv leaves their CI empty."
    )


def _mean_caption(metric: str) -> str:
    key = next(c.key for c, _ in SWEPT if c.sweep_key == metric)
    what = DOCS[key].split(";")[0].rstrip(".")
    hours = " Shown in hours." if metric != key else ""
    return (
        f"{what}.{hours} Mean over seeds ± the half-width of its 95 % confidence interval "
        f"(Student's t); a plain mean had one seed, a mean marked {NO_CI} had seeds that all "
        "gave the same value (no CI). Rows: grid points; columns: policies."
    )


def _simulation_report(out: Path, table: pd.DataFrame, folder: Path) -> Page:
    summary = simulation_summary(table)
    write_text_atomic(folder / "summary.csv", summary.to_csv(index=False))
    page = Page()
    if summary.empty:
        return page
    note = _identical_note(table)
    if note:
        log.warning("%s", note)
        page.notes.append(note)
    for metric, digits in TABLES:
        heading = f"{HEADERS[metric]}: mean ± 95 % CI over seeds"
        body = _html(mean_pm(summary, metric, digits), data_columns=True)
        page.tables.append((heading, body, _mean_caption(metric)))
    red = reductions(table)
    if not red.empty:
        write_text_atomic(folder / "reductions.csv", red.to_csv(index=False))
        overview = reductions_overview(red)
        write_text_atomic(folder / "reductions_overview.csv", overview.to_csv())
        caption = (
            "How much lower BACE-Pipe's average JCT and electricity cost are than each other "
            "policy's, in % of theirs (above 0: BACE-Pipe is better): per grid point the mean over "
            "seeds of the seed-by-seed reduction, then its min, median and max over the grid."
        )
        heading = "BACE-Pipe's reduction against each policy (%)"
        page.tables.insert(0, (heading, _html(overview), caption))
    jobs = _jobs(out)
    for instance in sorted(summary.instance.unique()):
        reduction = figures.reduction_plot(red, folder, instance) if not red.empty else None
        page.plots += [reduction] if reduction else []
        page.plots += figures.axis_plots(summary, folder, instance)
        cdf = figures.jct_cdf(table, jobs, folder, instance)
        page.plots += [cdf] if cdf else []
    if gaps.has_gaps(table) and (out / BOUNDS_CSV).is_file():
        bounds = pd.read_csv(out / BOUNDS_CSV, dtype={"instance": str})
        _bound_report(table, bounds, folder, page)
    return page


def _bound_report(table: pd.DataFrame, bounds: pd.DataFrame, folder: Path, page: Page) -> None:
    """A sweep with ``bounds:``: ``gaps.csv``, the median gap tables and the frontier plots."""
    summary = gaps.gap_summary(table)
    write_text_atomic(folder / "gaps.csv", summary.to_csv(index=False))
    for gap, label in gaps.GAPS.items():
        if summary[f"{gap}_median"].isna().all():
            page.notes.append(f"No {label}: no run finished every job over a positive bound.")
            continue
        caption = (
            f"The {label}, as compare --bound computes it, per grid point and policy: the median "
            "over seeds, each seed against its own world's bounds (bounds.csv). Empty where no "
            "seed has one (no run finished every job, or the bound is not positive); (k/n): only "
            "k of n seeds have one."
        )
        body = _html(gaps.gap_pivot(summary, gap), data_columns=True)
        page.tables.append((f"{label[:1].upper()}{label[1:]}: median over seeds", body, caption))
    for instance in sorted(table.instance.unique()):
        plot = gaps.frontier_plot(table, bounds, folder, instance)
        page.plots += [plot] if plot else []


def _epoch_report(table: pd.DataFrame, folder: Path, name: str) -> Page:
    cells, by_limit = epoch_summary(table)
    write_text_atomic(folder / "summary.csv", cells.to_csv(index=False))
    write_text_atomic(folder / "by_time_limit.csv", by_limit.to_csv(index=False))
    page = Page()
    page.tables.append(
        (
            "Proven-optimal fraction and times per time limit",
            _html(by_limit.round(3)),
            "Per MILP time limit and MIP start: the cells, the fraction the MILP proved optimal, "
            "its solve and build times, and its mean gain in admitted weight and saving in cost "
            "over greedy (%).",
        )
    )
    page.tables.append(
        (
            "Every cell",
            _html(cells.round(4)),
            "One row per snapshot and solver setting: what the MILP gained over greedy (weight "
            "gain; cost saving where both admitted the same weight), its gap and its times.",
        )
    )
    if not cells.empty:
        page.plots.append(figures.solve_time(cells, folder, name))
    return page


# -- the page -------------------------------------------------------------------------------------

STYLE = (
    "body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
    "figure{margin:1em 0 2em}figcaption{font-size:13px;color:#444;max-width:60em;margin-top:.4em}"
    "table{border-collapse:collapse;font-size:13px}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}"
    "img{max-width:100%}.note{background:#fff6d5;border-left:4px solid #e0b000;padding:.5em 1em}"
)


def _figure(body: str, caption: str) -> str:
    return f"<figure>{body}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _page(title: str, page: Page) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        *(f"<p class='note'>{html.escape(n)}</p>" for n in page.notes),
    ]
    for heading, body, caption in page.tables:
        parts += [f"<h2>{html.escape(heading)}</h2>", _figure(body, caption)]
    for plot in page.plots:
        data = base64.b64encode(plot.path.read_bytes()).decode()
        image = f"<img src='data:image/png;base64,{data}' alt='{html.escape(plot.title)}'>"
        parts += [f"<h3>{html.escape(plot.title)}</h3>", _figure(image, plot.caption)]
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
        page = Page()
    elif meta["kind"] == "simulate":
        page = _simulation_report(out, table, folder)
    else:
        page = _epoch_report(table, folder, str(meta["name"]))
    failed = table[table.status != "ok"] if not table.empty else table
    page.notes.insert(0, f"{len(table)} cells with results, {len(failed)} failed.")
    if not failed.empty:
        shown = failed.drop(columns=[c for c in failed if failed[c].isna().all()])
        caption = "The cells that raised an error, with their grid point and the error."
        page.tables.append(("Failed cells", _html(shown), caption))
    html_page = _page(f"Sweep {meta['name']} ({meta['kind']})", page)
    return write_text_atomic(folder / "index.html", html_page)
