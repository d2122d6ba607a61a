"""The one benchmark runner: every benchmark is a spec in ``registry.BENCHMARKS``.

    .venv/bin/python benchmarks/run.py --list                 # names, kinds, cells, result files
    .venv/bin/python benchmarks/run.py sim-speed              # make bench
    .venv/bin/python benchmarks/run.py milp-gap --quick --out /tmp/bench   # tiny sizes

Runs the spec's cells (each run of a cell in a fresh process where the spec says so, so peak RSS
and timings are the cell's own), prints a table as the rows come, and writes ``STEM.csv`` and
``STEM.json`` to the spec's folder or ``--out DIR`` (STEM = the spec's ``stem``, which keeps the
file names docs/benchmarks.md cites, e.g. ``sim_speed``). One row per cell: the median over the
repeats of its timed fields, with ``repeats``. The JSON also records the machine (platform, CPUs,
Python, numpy/pyomo/highspy), the git commit and the spec, so a table can be traced to its run.
``--quick`` runs the spec's tiny variant and, without ``--out``, writes to its folder's
``quick/`` so that it never overwrites measured rows.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bace_opt.io.write import write_json_atomic, write_text_atomic
from bace_opt.report.files import csv_text
from registry import BENCHMARKS, ROOT, Spec

SPAWN = multiprocessing.get_context("spawn")
"""Fresh interpreters: a forked cell would inherit (and count) the runner's memory."""
PACKAGES = ("numpy", "pyomo", "highspy")


@dataclass(frozen=True)
class Outcome:
    spec: Spec
    rows: list[dict[str, Any]]
    csv: Path
    json: Path


def resolve(target: str) -> Callable[..., Any]:
    """``"module:function"`` → the function (imported now, not when the registry is)."""
    module, _, name = target.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


def runs(spec: Spec) -> Iterator[list[dict[str, Any]]]:
    """Each cell's runs (``spec.repeats`` of them), cell by cell in the spec's order."""
    measure = resolve(spec.measure)
    cells = spec.cells()
    if spec.isolation == "pool":
        with ProcessPoolExecutor(spec.workers, mp_context=SPAWN) as pool:
            futures = [[pool.submit(measure, **c) for _ in range(spec.repeats)] for c in cells]
            for group in futures:
                yield [f.result() for f in group]
        return
    for cell in cells:
        if spec.isolation == "inline":
            yield [measure(**cell) for _ in range(spec.repeats)]
            continue
        done = []
        for _ in range(spec.repeats):  # one process per run, one at a time
            with ProcessPoolExecutor(1, mp_context=SPAWN) as pool:
                done.append(pool.submit(measure, **cell).result())
        yield done


def median_row(spec: Spec, done: list[dict[str, Any]]) -> dict[str, Any]:
    """The first run's row, with the median over all runs of each timed field."""
    row = dict(done[0])
    for key in spec.timed:
        row[key] = statistics.median(r[key] for r in done)
    row["repeats"] = len(done)
    return row


class Table:
    """The terminal table of ``spec.table`` (``name:format`` items), printed row by row."""

    def __init__(self, layout: str) -> None:
        self.columns: list[tuple[str, str, str, int]] = []
        for item in layout.split():
            name, fmt = item.split(":", 1)
            match = re.match(r"([<>])(\d+)", fmt)
            align, width = (match.group(1), int(match.group(2))) if match else ("<", 0)
            self.columns.append((name, fmt, align, max(width, len(name))))

    def header(self) -> str:
        return " ".join(f"{name:{align}{width}}" for name, _, align, width in self.columns)

    def line(self, row: Mapping[str, Any]) -> str:
        cells = []
        for name, fmt, align, width in self.columns:
            value = row.get(name)
            if value is None:
                text = "–"
            elif isinstance(value, str | bool) or not fmt.lstrip("<>0123456789"):
                text = str(value)  # text, or a number shown as it is
            else:
                text = format(value, fmt)
            cells.append(f"{text:{align}{width}}")
        return " ".join(cells)


def plain(value: Any) -> Any:
    """A JSON-able copy: paths relative to the repository, tuples as lists, numpy scalars."""
    if isinstance(value, Path):
        return str(value.relative_to(ROOT)) if value.is_relative_to(ROOT) else str(value)
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value.item() if hasattr(value, "item") else value


def machine() -> dict[str, Any]:
    found: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "packages": found,
    }


def commit() -> dict[str, Any]:
    """HEAD and whether tracked files differ from it (then the rows are not HEAD's alone)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"sha": git("rev-parse", "HEAD"), "dirty": None if status is None else bool(status)}


def write(spec: Spec, rows: list[dict[str, Any]], meta: dict[str, Any]) -> tuple[Path, Path]:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    csv_path, json_path = spec.files
    write_text_atomic(csv_path, csv_text(columns, ([r.get(c) for c in columns] for r in rows)))
    spec_doc = {"kind": type(spec).__name__} | {f.name: getattr(spec, f.name) for f in fields(spec)}
    document = meta | {"spec": spec_doc, "columns": columns, "rows": rows}
    write_json_atomic(json_path, plain(document))
    return csv_path, json_path


def run_benchmark(
    spec: Spec | str,
    *,
    quick: bool = False,
    repeats: int | None = None,
    out: Path | None = None,
) -> Outcome:
    """Run one spec (or the registry's spec of that name); see the module docstring."""
    spec = BENCHMARKS[spec] if isinstance(spec, str) else spec
    if quick:
        spec = spec.quick_variant()
    if repeats is not None:
        spec = replace(spec, repeats=repeats)
    if out is not None:
        spec = replace(spec, out=Path(out))
    started, tic = datetime.now(UTC), time.perf_counter()
    print(f"== {spec.name}{' (quick)' if quick else ''}: {spec.description}", flush=True)
    table = Table(spec.table)
    print(table.header(), flush=True)
    rows = []
    for done in runs(spec):
        rows.append(median_row(spec, done))
        print(table.line(rows[-1]), flush=True)
    if not rows:
        raise SystemExit(f"{spec.name}: no cells (no snapshot file matched?)")
    meta = {
        "benchmark": spec.name,
        "quick": quick,
        "started_utc": started.isoformat(timespec="seconds"),
        "elapsed_s": time.perf_counter() - tic,
        "machine": machine(),
        "commit": commit(),
    }
    csv_path, json_path = write(spec, rows, meta)
    print(f"wrote {csv_path} and {json_path.name}", flush=True)
    if spec.report:
        resolve(spec.report)(spec, rows)
    return Outcome(spec, rows, csv_path, json_path)


def listing() -> None:
    print(f"{'name':<15} {'kind':<14} {'cells':>5} {'quick':>5}  results / what")
    for name, spec in BENCHMARKS.items():
        path = spec.files[0].relative_to(ROOT)
        quick = len(spec.quick_variant().cells())
        print(f"{name:<15} {type(spec).__name__:<14} {len(spec.cells()):>5} {quick:>5}  {path}")
        print(f"{'':<44}{spec.description}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("name", nargs="?", help=f"one of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--quick", action="store_true", help="the spec's tiny variant")
    parser.add_argument("--repeats", type=int, help="runs per cell (default: the spec's)")
    parser.add_argument("--out", type=Path, help="folder of the result files")
    args = parser.parse_args()
    if args.list:
        listing()
        return
    if args.name not in BENCHMARKS:
        parser.error(f"name one benchmark of: {', '.join(BENCHMARKS)} (or --list)")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    run_benchmark(args.name, quick=args.quick, repeats=args.repeats, out=args.out)


if __name__ == "__main__":
    main()
