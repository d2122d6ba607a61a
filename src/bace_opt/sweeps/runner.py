"""Run a sweep's cells on local processes or a Dask cluster, resumably.

Layout of the output folder::

    DIR/sweep.json          the sweep document and its kind (what ``report`` reads)
    DIR/cells/KEY.json      one file per finished or failed cell, written atomically
    DIR/results.parquet     the combined table (one row per cell of the current sweep file)
    DIR/results.csv         the same, as CSV
    DIR/jobs.parquet        every finished job's JCT by cell key (the report's CDFs; cells/ is
                            scratch and need not be kept or shared)
    DIR/bounds.csv          with ``bounds:``, one row per world (``sweeps.bounds``); the results
                            tables then have each policy cell's gaps to its world's bounds

The driver parses each cell's world, hands the task to a worker, and writes the cell's file as its
result comes back, so a sweep killed at any moment loses only the cells in flight. A rerun skips
every cell whose file says ``ok``; failed cells are tried again (a failure may be transient, and a
fixed input file changes the cell's key anyway). Keys include the package's code digest, so a
rerun after changing bace-opt recomputes everything.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from bace_opt.errors import InputError
from bace_opt.io.write import replace_atomic, write_json_atomic, write_text_atomic
from bace_opt.report import provenance as made
from bace_opt.sweeps import bounds
from bace_opt.sweeps.bounds import BoundTask, run_task
from bace_opt.sweeps.cells import Cell, CellOutcome, Task, code_digest, expand, make_task
from bace_opt.sweeps.spec import Sweep

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Work = Iterable[tuple[Cell, Callable[[], Task | BoundTask]]]


@dataclass(frozen=True)
class SweepOutcome:
    """What a (re)run did: cells in the sweep, already finished before, run now, failed now."""

    cells: int
    skipped: int
    ran: int
    failed: int
    table: pd.DataFrame


def cell_path(out: Path, cell: Cell) -> Path:
    return out / "cells" / f"{cell.key}.json"


def read_cell(out: Path, cell: Cell) -> dict[str, Any] | None:
    """The cell's record, or None when it has none (or an unreadable one)."""
    try:
        record: dict[str, Any] = json.loads(cell_path(out, cell).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record


def _finished(out: Path, cell: Cell) -> bool:
    record = read_cell(out, cell)
    return record is not None and record.get("status") == "ok"


def _in_process(work: Work) -> Iterator[tuple[Cell, CellOutcome]]:
    for cell, task in work:
        yield cell, _run(task)


def _run(task: Callable[[], Task | BoundTask]) -> CellOutcome:
    """Build the task (on the driver) and run it here."""
    try:
        built = task()
    except Exception as exc:  # recorded for the cell
        return CellOutcome.failed(exc)
    return run_task(built)


def _windowed(
    submit: Callable[[Task | BoundTask], Any],
    done: Callable[[set[Any]], set[Any]],
    result: Callable[[Any], CellOutcome],
    work: Work,
    window: int,
) -> Iterator[tuple[Cell, CellOutcome]]:
    """Keep at most ``window`` cells in flight (so the driver never holds every world at once)
    and yield each cell as its result arrives."""
    pending: dict[Any, Cell] = {}
    queue = iter(work)
    exhausted = False
    while pending or not exhausted:
        while not exhausted and len(pending) < window:
            item = next(queue, None)
            if item is None:
                exhausted = True
                break
            cell, task = item
            try:
                pending[submit(task())] = cell
            except Exception as exc:  # a world that cannot be built fails its cell
                yield cell, CellOutcome.failed(exc)
        if not pending:
            continue
        for future in done(set(pending)):
            cell = pending.pop(future)
            try:
                yield cell, result(future)
            except Exception as exc:  # a crashed worker fails its cell
                yield cell, CellOutcome.failed(exc, prefix="worker failed: ")


PARENT_CHECK_S = 1.0
"""How often a worker looks whether its driver is still alive."""


def _orphan_watch(parent: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent:
            os._exit(1)  # the driver died (even by SIGKILL): nobody wants this cell any more


def _worker_start(parent: int) -> None:
    """A worker ignores Ctrl-C (the driver handles it and ends the workers) and dies within a
    second or so of its driver."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_orphan_watch, args=(parent,), daemon=True).start()


def _local_pool(work: Work, workers: int) -> Iterator[tuple[Cell, CellOutcome]]:
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_worker_start, initargs=(os.getpid(),)
    )

    def done(futures: set[Future[CellOutcome]]) -> set[Future[CellOutcome]]:
        return wait(futures, return_when=FIRST_COMPLETED).done

    try:
        yield from _windowed(
            lambda t: pool.submit(run_task, t), done, lambda f: f.result(), work, 2 * workers
        )
    except BaseException:  # Ctrl-C, or the caller stopped: end the cells in flight now
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def connect(address: str, timeout: str = "20s") -> Any:
    """A Dask ``Client`` for the scheduler at ``address`` (``InputError`` if unreachable)."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - a dependency, but say so clearly
        raise InputError(
            ["--scheduler: needs dask.distributed (pip install 'dask[distributed]')"]
        ) from None
    try:
        return Client(address, timeout=timeout)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(
            [f"--scheduler: cannot reach a Dask scheduler at {address} ({exc})"]
        ) from None


def _dask(work: Work, client: Any) -> Iterator[tuple[Cell, CellOutcome]]:
    from distributed import wait as dask_wait

    with client:
        slots = max(1, sum(client.nthreads().values()))

        def done(futures: set[Any]) -> set[Any]:
            finished = dask_wait(list(futures), return_when="FIRST_COMPLETED")  # type: ignore[no-untyped-call]
            return set(finished.done)

        yield from _windowed(
            lambda t: client.submit(run_task, t, pure=False),
            done,
            lambda f: f.result(),
            work,
            2 * slots,
        )


def _record(cell: Cell, outcome: CellOutcome) -> dict[str, Any]:
    """The cell file: the cell, when it finished, and its outcome."""
    return {
        "key": cell.key,
        "params": dict(cell.params),
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        **outcome.to_json(),
    }


def combine(out: Path, cells: list[Cell]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The combined table — one row per cell that has a record (parameters, status, metrics) —
    and the jobs table: one row per finished job of those cells (``key``, ``jct_s``)."""
    rows: list[dict[str, Any]] = []
    keys: list[str] = []
    jct: list[float] = []
    for cell in cells:
        record = read_cell(out, cell)
        if record is None:
            continue
        rows.append(
            {
                **dict(cell.params),
                "status": record.get("status"),
                "error": record.get("error"),
                **(record.get("metrics") or {}),
                "key": cell.key,
            }
        )
        finished = record.get("jct_s") or []
        keys += [cell.key] * len(finished)
        jct += finished
    return pd.DataFrame(rows), pd.DataFrame({"key": keys, "jct_s": pd.Series(jct, dtype=float)})


def write_tables(
    out: Path, table: pd.DataFrame, jobs: pd.DataFrame, bound: pd.DataFrame | None = None
) -> None:
    if bound is not None:
        write_text_atomic(out / bounds.BOUNDS_CSV, bound.to_csv(index=False))
    with replace_atomic(out / "results.parquet") as tmp:
        table.to_parquet(tmp, index=False)
    write_text_atomic(out / "results.csv", table.to_csv(index=False))
    with replace_atomic(out / "jobs.parquet") as tmp:
        jobs.to_parquet(tmp, index=False)


def run_sweep(
    sweep: Sweep,
    out: Path,
    workers: int = 1,
    scheduler: str | None = None,
    on_progress: Progress | None = None,
) -> SweepOutcome:
    """Run every cell of ``sweep`` that ``out`` has no finished record of.

    ``workers`` local processes (1: in this process), or the Dask cluster at ``scheduler``.
    """
    cells = expand(sweep)
    worlds = bounds.world_cells(sweep)
    client = connect(scheduler) if scheduler else None  # before anything is written
    out.mkdir(parents=True, exist_ok=True)
    inputs = {str(c.source): None for c in cells}
    write_json_atomic(
        out / "sweep.json",
        {
            "name": sweep.spec.name,
            "kind": sweep.spec.kind,
            "document": sweep.document,
            "provenance": made.provenance(
                code_sha256=code_digest(),
                inputs={path: made.file_sha256(path) for path in inputs},
            ),
        },
    )
    distinct = bounds.unique(worlds)
    todo_bounds = [c for c in distinct if not _finished(out, c)]  # first: each takes longest
    todo = todo_bounds + [c for c in cells if not _finished(out, c)]
    bound_keys = {c.key for c in todo_bounds}
    work: Work = [
        *((c, partial(bounds.make_bound_task, sweep, c)) for c in todo_bounds),
        *((c, partial(make_task, sweep, c)) for c in todo[len(todo_bounds) :]),
    ]
    if client is not None:
        results = _dask(work, client)
    elif workers > 1 and len(todo) > 1:
        results = _local_pool(work, min(workers, len(todo)))
    else:
        results = _in_process(work)
    ran = failed = 0
    if on_progress:
        on_progress(0, len(todo))
    for cell, outcome in results:
        write_json_atomic(cell_path(out, cell), _record(cell, outcome))
        if outcome.status != "ok" and cell.key in bound_keys:
            log.warning("bound of %s failed: %s", dict(cell.params), outcome.error)
        ran += 1
        failed += outcome.status != "ok"
        if on_progress:
            on_progress(ran, len(todo))
    table, jobs = combine(out, cells)
    bound = None
    if worlds:
        bound = bounds.bounds_table((c, read_cell(out, c)) for c in worlds)
        table = bounds.with_gaps(table, bound)
    write_tables(out, table, jobs, bound)
    total = len(cells) + len(distinct)
    return SweepOutcome(total, total - len(todo), ran, failed, table)
