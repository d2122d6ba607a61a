"""``bace-opt report DIR``: a finished (or partly finished) sweep as tables, PNG plots and one
self-contained HTML page (images embedded), written to ``DIR/report/``.

Simulation sweeps: per grid point and policy, the mean over seeds of each swept metric with a
95 % confidence interval; BACE-Pipe's reduction of mean JCT and cost against every other policy
when ``bace`` is in the sweep; JCT and cost against bandwidth scale and load scale; JCT CDFs over
all seeds at the base point. Epoch sweeps: per snapshot and solver setting, what the MILP gains
over greedy, its gap and times, and the proven-optimal fraction per time limit.

This module reads the folder, writes the files and assembles the page; the numbers come from
``sweeps.stats`` and the pictures from ``sweeps.figures``.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import pandas as pd

from bace_opt.errors import InputError
from bace_opt.io.write import write_text_atomic
from bace_opt.report.columns import SWEEP_METRICS, SWEPT
from bace_opt.sweeps import figures
from bace_opt.sweeps.stats import (
    epoch_summary,
    mean_pm,
    reductions,
    reductions_overview,
    simulation_summary,
)

TABLES = tuple(
    (column.sweep_key, swept.digits) for column, swept in SWEPT if swept.digits is not None
)
"""The swept metrics the page shows as ``mean ± CI`` tables, with their decimals."""


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


def _simulation_report(out: Path, table: pd.DataFrame, folder: Path) -> dict[str, Any]:
    summary = simulation_summary(table)
    write_text_atomic(folder / "summary.csv", summary.to_csv(index=False))
    sections: list[tuple[str, str]] = []
    images: list[Path] = []
    if not summary.empty:
        for metric, digits in TABLES:
            pivot = mean_pm(summary, metric, digits)
            heading = f"{SWEEP_METRICS[metric]}: mean ± 95 % CI over seeds"
            sections.append((heading, pivot.to_html()))
        red = reductions(table)
        if not red.empty:
            write_text_atomic(folder / "reductions.csv", red.to_csv(index=False))
            overview = reductions_overview(red)
            write_text_atomic(folder / "reductions_overview.csv", overview.to_csv())
            sections.insert(
                0,
                (
                    "BACE-Pipe's reduction against each policy: min, median and max over the grid"
                    " of the per-point mean over seeds (%)",
                    overview.to_html(),
                ),
            )
        jobs = _jobs(out)
        for instance in sorted(summary.instance.unique()):
            reduction = figures.reduction_plot(red, folder, instance) if not red.empty else None
            images += [reduction] if reduction else []
            images += figures.axis_plots(summary, folder, instance)
            cdf = figures.jct_cdf(table, jobs, folder, instance)
            if cdf:
                images.append(cdf)
    return {"sections": sections, "images": images}


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
    images = [figures.solve_time(cells, folder)] if not cells.empty else []
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
