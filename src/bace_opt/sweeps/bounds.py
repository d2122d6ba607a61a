"""Whole-run bounds in a simulation sweep (its ``bounds:`` block): one bound cell per world, the
bounds table, and every policy cell's gaps to its world's bounds.

A *world* is what changes the instance — instance × bandwidth scale × load scale × seed; the
prioritizer weights and the MILP limit change only the policy, so every policy cell of a world
shares its one bound. A bound cell's key is a digest of the instance's label (as a policy cell's:
its data files are relative to it), the world's scaled document (without its ``name``, which
spells the grid point: seeds that change nothing, explicit jobs, share a bound), the ``bounds:``
options and the code digest, so a rerun skips it as it skips a finished policy
cell. Bound cells run through the same runner as the others, first (each takes far longer).

Outputs: ``cells/KEY.json`` keeps a bound cell's whole ``bace-opt bound`` JSON under ``bound``;
``bounds.csv`` has one row per world (its frontier as JSON text); the results table gets the
``compare --bound`` columns (``BOUND_GAP_COLUMNS``), computed by ``compare --bound``'s own code
(``bounds.read.BoundFile.gaps``), so a sweep and a comparison of one world give the same gaps.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bace_opt.bounds import BoundOptions, bound_instance
from bace_opt.bounds.read import BoundFile
from bace_opt.core.world import Instance
from bace_opt.io.read import parse_instance
from bace_opt.report.columns import BOUND_GAP_COLUMNS
from bace_opt.sweeps import cells as sweep_cells
from bace_opt.sweeps.cells import Cell, CellOutcome, Task, execute, scaled_document
from bace_opt.sweeps.spec import BoundsSpec, SimulationSweepFile, Sweep

WORLD = ("instance", "bandwidth_scale", "load_scale", "seed")
"""The axes that change the instance: one bound per combination."""
BOUNDS_CSV = "bounds.csv"
BOUND_COLUMNS = (
    *WORLD,
    "key",
    "status",
    "avg_jct_lower_s",
    "total_cost_lower_usd",
    "trivial_jct_lower_s",
    "hindsight_avg_jct_s",
    "hindsight_total_cost_usd",
    "time_s",
    "message",
    "error",
    "frontier",
)
"""``bounds.csv``'s header: ``status`` is the bound's (``optimal``, ``time_limit``) or ``error``
(the cell failed: ``error`` says why); ``frontier`` is the bound file's list as JSON text."""


@dataclass(frozen=True)
class BoundTask:
    """What a worker needs to bound one world: the parsed world and the options."""

    instance: Instance
    options: BoundOptions


def bound_options(spec: BoundsSpec) -> BoundOptions:
    return BoundOptions(
        slot_s=spec.slot_s, time_limit_s=spec.time_limit_s, hindsight=spec.hindsight
    )


def world_cells(sweep: Sweep) -> list[Cell]:
    """One bound cell per world, in the grid's order; none when the sweep has no ``bounds:``.
    Worlds with equal documents share a key (``unique`` runs it once)."""
    spec = sweep.spec
    if not isinstance(spec, SimulationSweepFile) or spec.bounds is None:
        return []
    options = spec.bounds.model_dump()
    grid = spec.grid
    paths = [(sweep.folder / p).resolve() for p in spec.instances]
    out = []
    for path, label, doc, _ in sweep_cells.inputs(paths, sweep.folder):
        for bandwidth, load, seed in itertools.product(
            grid.bandwidth_scale, grid.load_scale, grid.seeds
        ):
            world = scaled_document(doc, bandwidth, load, seed)
            del world["name"]
            key = sweep_cells.digest(["bound", label, world, options, sweep_cells.code_digest()])
            params = dict(zip(WORLD, (label, bandwidth, load, seed), strict=True))
            out.append(Cell(key, params, path, doc))
    return out


def unique(cells: Iterable[Cell]) -> list[Cell]:
    """The cells with distinct keys, first of each kept."""
    first: dict[str, Cell] = {}
    for cell in cells:
        first.setdefault(cell.key, cell)
    return list(first.values())


def make_bound_task(sweep: Sweep, cell: Cell) -> BoundTask:
    """Parse the world on the driver (raises ``InputError`` for a bad input file)."""
    spec = sweep.spec
    assert isinstance(spec, SimulationSweepFile) and spec.bounds is not None
    p = cell.params
    doc = scaled_document(cell.document, p["bandwidth_scale"], p["load_scale"], p["seed"])
    instance = parse_instance(doc, cell.source.parent, str(cell.source))
    return BoundTask(instance, bound_options(spec.bounds))


def execute_bound(task: BoundTask) -> CellOutcome:
    """Bound one world; never raises. No hindsight ``jobs.csv`` is written (the worker may be on
    another machine): the JSON's ``hindsight`` block has its numbers."""
    tic = time.perf_counter()
    try:
        found = bound_instance(task.instance, task.options).to_json()
    except Exception as exc:
        return CellOutcome.raised(exc, time.perf_counter() - tic)
    return CellOutcome(
        "ok", cell_s=time.perf_counter() - tic, provenance=found["provenance"], bound=found
    )


def run_task(task: Task | BoundTask) -> CellOutcome:
    """What a worker runs for any cell of a sweep (a module-level function, so it pickles)."""
    if isinstance(task, BoundTask):
        return execute_bound(task)
    return execute(task)


def _bound_row(cell: Cell, record: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {**dict(cell.params), "key": cell.key}
    if record.get("status") != "ok" or not isinstance(record.get("bound"), dict):
        return {**row, "status": "error", "error": record.get("error")}
    bound = record["bound"]
    hindsight = bound.get("hindsight") or {}
    return {
        **row,
        **{k: bound.get(k) for k in BOUND_COLUMNS if k not in row and k != "frontier"},
        "hindsight_avg_jct_s": hindsight.get("avg_jct_s"),
        "hindsight_total_cost_usd": hindsight.get("total_cost_usd"),
        "error": None,
        "frontier": json.dumps(bound.get("frontier", []), separators=(",", ":")),
    }


def bounds_table(records: Iterable[tuple[Cell, Mapping[str, Any] | None]]) -> pd.DataFrame:
    """One row per world that has a record (``BOUND_COLUMNS``)."""
    rows = [_bound_row(cell, record) for cell, record in records if record is not None]
    return pd.DataFrame(rows, columns=list(BOUND_COLUMNS))


def _value(value: Any) -> Any:
    """A table's value as the bound code expects it: None for a missing number (NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def bound_file(row: Mapping[Any, Any]) -> BoundFile | None:
    """A ``bounds.csv`` row as the bound file ``compare --bound`` reads (None: no bound)."""
    if row["status"] == "error":
        return None
    frontier = tuple((p["avg_jct_s"], p["cost_lower_usd"]) for p in json.loads(row["frontier"]))
    jct, cost = _value(row["avg_jct_lower_s"]), _value(row["total_cost_lower_usd"])
    path = Path("cells") / f"{row['key']}.json"
    return BoundFile(path, "", str(row["status"]), jct, cost, frontier, None)


def _gaps(row: Mapping[Any, Any], bound: BoundFile | None) -> dict[str, Any]:
    if bound is None or row.get("status") != "ok":
        return dict.fromkeys(BOUND_GAP_COLUMNS)
    summary = {k: _value(row.get(k)) for k in ("policy", "avg_jct_s", "total_cost_usd")}
    summary["jobs_finished"] = int(row["jobs_finished"])
    summary["jobs_never_ran"] = int(row["jobs_never_ran"])
    gaps = bound.gaps(summary)
    return {c: gaps[c] for c in BOUND_GAP_COLUMNS}


def with_gaps(table: pd.DataFrame, bounds: pd.DataFrame) -> pd.DataFrame:
    """The results table with each policy cell's gaps to its world's bounds (``compare
    --bound``'s rule and columns; empty where the run did not finish every job, or the world has
    no bound)."""
    if table.empty:
        return table
    files = {
        tuple(row[a] for a in WORLD): bound_file(row) for row in bounds.to_dict(orient="records")
    }
    gaps = [
        _gaps(row, files.get(tuple(row[a] for a in WORLD)))
        for row in table.to_dict(orient="records")
    ]
    extra = pd.DataFrame(gaps, columns=list(BOUND_GAP_COLUMNS), index=table.index, dtype=float)
    return pd.concat([table.drop(columns=list(BOUND_GAP_COLUMNS), errors="ignore"), extra], axis=1)
