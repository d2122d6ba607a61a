"""A sweep's cells: the grid expanded into independent runs, each with a stable key, and the one
function a worker executes for a cell.

A cell's key is a hash of its parameters and of the input document it reads, so a rerun
recognises finished cells, and a cell whose instance file changed is run again. The task handed to
a worker carries the parsed world (an ``Instance`` or ``Snapshot``), so workers on other machines
need no access to the sweep's files.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import itertools
import json
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from bace_opt.app.epoch import compare_epoch
from bace_opt.core.world import Instance, Snapshot
from bace_opt.errors import InputError
from bace_opt.formulas.job import reference_run_times
from bace_opt.io.read import parse_instance, parse_snapshot, read_document
from bace_opt.milp import SolveOptions
from bace_opt.policies import PolicyOptions, make_policy, policy_entry
from bace_opt.policies.bace import PriorityWeights
from bace_opt.policies.registry import MILP_TIME_LIMIT_S
from bace_opt.report import provenance as made
from bace_opt.report.metrics import summarize
from bace_opt.sim import SimulationOptions, simulate
from bace_opt.sweeps.spec import SimulationSweepFile, Sweep, WeightsSpec, matches

TIMING_COLUMNS = ("policy_time_s", "wall_time_s", "cell_s", "greedy_s", "build_s", "solve_s")
"""Wall-clock measurements: they differ between any two runs of the same cell."""


@dataclass(frozen=True)
class SimulationTask:
    instance: Instance
    policy: str
    options: PolicyOptions
    epoch_s: float | None


@dataclass(frozen=True)
class EpochTask:
    snapshot: Snapshot
    options: SolveOptions
    weights: PriorityWeights


Task = SimulationTask | EpochTask


@dataclass(frozen=True)
class Cell:
    """One run of the sweep: its key, its parameters (the combined table's first columns) and a
    recipe for its task (built on demand, so a resumed sweep parses only what it still runs)."""

    key: str
    params: Mapping[str, Any]
    source: Path
    document: Mapping[str, Any]


def digest(data: Any) -> str:
    """SHA-256 of JSON-able data with sorted keys: equal data, equal key, on any machine."""
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def code_digest() -> str:
    """SHA-256 over the package's Python sources. Part of every cell's key: a result belongs to
    the code that made it, so after any change to bace-opt a rerun computes its cells afresh
    instead of reusing cells an older policy or simulator wrote."""
    package = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def inputs(paths: list[Path], folder: Path) -> Iterator[tuple[Path, str, dict[str, Any], str]]:
    """Each input file with its short name (the stem, or the relative path where stems collide),
    its document and the document's digest."""
    stems = [p.stem for p in paths]
    for path, stem in zip(paths, stems, strict=True):
        label = stem
        if stems.count(stem) > 1:
            label = str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)
        doc = read_document(path)
        yield path, label, doc, digest(doc)


def scaled_document(
    doc: Mapping[str, Any], bandwidth: float, load: float, seed: int
) -> dict[str, Any]:
    """The instance document of one grid point.

    * bandwidth scale ``b``: every link's ``gbps`` × b;
    * load scale ``l``: arrivals come l× as often — a Poisson ``rate_per_hour`` × l, a trace's
      ``time_scale`` / l, explicit jobs' ``arrival_s`` / l;
    * seed ``s``: a generated workload draws with seed s, and a trace replays the s-th next window
      of ``count`` rows (``start_row`` + s · count), so seeds are different job streams. Explicit
      ``jobs`` do not change with the seed (only the ``random`` policy's draws do).
    """
    out = copy.deepcopy(dict(doc))
    for link in out.get("links") or []:
        if isinstance(link, dict) and isinstance(link.get("gbps"), int | float):
            link["gbps"] = link["gbps"] * bandwidth
    for job in out.get("jobs") or []:
        if isinstance(job, dict) and isinstance(job.get("arrival_s"), int | float):
            job["arrival_s"] = job["arrival_s"] / load
    workload = out.get("workload")
    if isinstance(workload, dict):
        workload["seed"] = seed
        arrivals = workload.get("arrivals")
        if isinstance(arrivals, dict) and arrivals.get("process") == "trace":
            arrivals["start_row"] = arrivals.get("start_row", 0) + seed * workload.get("count", 0)
            arrivals["time_scale"] = arrivals.get("time_scale", 1.0) / load
        elif isinstance(arrivals, dict) and isinstance(arrivals.get("rate_per_hour"), int | float):
            arrivals["rate_per_hour"] = arrivals["rate_per_hour"] * load
    out["name"] = f"{doc.get('name', 'instance')}-bw{bandwidth:g}-load{load:g}-seed{seed}"
    return out


def _weights(spec: WeightsSpec) -> PriorityWeights:
    return PriorityWeights(spec.aging_per_hour, spec.length, spec.bandwidth)


def _simulation_cells(sweep: Sweep, spec: SimulationSweepFile) -> Iterator[Cell]:
    paths = [(sweep.folder / p).resolve() for p in spec.instances]
    grid = spec.grid
    for path, label, doc, doc_digest in inputs(paths, sweep.folder):
        for policy, bandwidth, load, seed in itertools.product(
            spec.policies, grid.bandwidth_scale, grid.load_scale, grid.seeds
        ):
            entry = policy_entry(policy)
            weights = grid.weights if entry.uses_weights else [None]
            limits = grid.milp_time_limit_s if entry.uses_time_limit else [None]
            for w, limit in itertools.product(weights, limits):
                params = {
                    "instance": label,
                    "policy": policy,
                    "bandwidth_scale": bandwidth,
                    "load_scale": load,
                    "seed": seed,
                    "weights": w.label if w else None,
                    "milp_time_limit_s": limit,
                }
                recipe = {
                    **params,
                    "weights": w.model_dump() if w else None,
                    "epoch_s": spec.epoch_s,
                }
                yield Cell(digest([recipe, doc_digest, code_digest()]), params, path, doc)


def _epoch_cells(sweep: Sweep) -> Iterator[Cell]:
    spec = sweep.spec
    assert spec.kind == "epoch"
    paths = sorted({p for pattern in spec.snapshots for p in matches(sweep.folder, pattern)})
    grid = spec.grid
    for path, label, doc, doc_digest in inputs(paths, sweep.folder):
        for limit, warm, gap, w in itertools.product(
            grid.time_limit_s, grid.warm_start, grid.gap, grid.weights
        ):
            params = {
                "snapshot": label,
                "time_limit_s": limit,
                "warm_start": warm,
                "gap": gap,
                "weights": w.label,
            }
            recipe = {
                **params,
                "weights": w.model_dump(),
                "solver": spec.solver,
                "threads": spec.threads,
            }
            yield Cell(digest([recipe, doc_digest, code_digest()]), params, path, doc)


def _check_inputs(cells: list[Cell]) -> None:
    """Parse every input file once, as written, so a bad one stops the sweep before any work
    (a cell's own scaled world is parsed again when it runs)."""
    problems: list[str] = []
    seen: set[Path] = set()
    for cell in cells:
        if cell.source in seen:
            continue
        seen.add(cell.source)
        parse = parse_snapshot if "snapshot" in cell.params else parse_instance
        try:
            parse(dict(cell.document), cell.source.parent, str(cell.source))
        except InputError as exc:
            problems += [f"{cell.source.name}: {p}" for p in exc.problems]
    if problems:
        raise InputError(problems)


def expand(sweep: Sweep) -> list[Cell]:
    """Every cell of the sweep, in a fixed order (files, then the grid axes as written); raises
    ``InputError`` when an input file is bad."""
    if isinstance(sweep.spec, SimulationSweepFile):
        cells = list(_simulation_cells(sweep, sweep.spec))
    else:
        cells = list(_epoch_cells(sweep))
    _check_inputs(cells)
    return cells


def make_task(sweep: Sweep, cell: Cell) -> Task:
    """Parse the cell's world on the driver (raises ``InputError`` for a bad input file)."""
    spec = sweep.spec
    p = cell.params
    if isinstance(spec, SimulationSweepFile):
        doc = scaled_document(cell.document, p["bandwidth_scale"], p["load_scale"], p["seed"])
        instance = parse_instance(doc, cell.source.parent, str(cell.source))
        weights = next((w for w in spec.grid.weights if w.label == p["weights"]), WeightsSpec())
        policy = PolicyOptions(
            seed=p["seed"],
            weights=_weights(weights),
            milp_time_limit_s=p["milp_time_limit_s"] or MILP_TIME_LIMIT_S,
        )
        return SimulationTask(instance, p["policy"], policy, spec.epoch_s)
    snapshot = parse_snapshot(dict(cell.document), cell.source.parent, str(cell.source))
    weights = next(w for w in spec.grid.weights if w.label == p["weights"])
    solve = SolveOptions(
        solver=spec.solver,
        time_limit_s=p["time_limit_s"],
        mip_gap=p["gap"],
        threads=spec.threads,
        warm_start=p["warm_start"],
    )
    return EpochTask(snapshot, solve, _weights(weights))


@dataclass(frozen=True)
class CellOutcome:
    """What running a cell gave: ``ok`` with its ``metrics`` (and, for a simulation, every
    finished job's ``jct_s`` for the report's CDFs), or ``error`` with the error, the last lines
    of its traceback where there is one, and how long it ran."""

    status: Literal["ok", "error"]
    metrics: Mapping[str, Any] | None = None
    jct_s: tuple[float, ...] | None = None
    error: str | None = None
    traceback: str | None = None
    cell_s: float | None = None
    provenance: Mapping[str, Any] | None = None
    """How the worker made it: its versions, the input file's SHA-256, the policy or solver with
    its options (the grid point's scalings are the cell's ``params``)."""
    bound: Mapping[str, Any] | None = None
    """A bound cell's whole ``bace-opt bound`` JSON (``sweeps.bounds``)."""

    @classmethod
    def failed(cls, exc: BaseException, prefix: str = "") -> CellOutcome:
        return cls("error", error=f"{prefix}{type(exc).__name__}: {exc}")

    @classmethod
    def raised(cls, exc: BaseException, cell_s: float) -> CellOutcome:
        """A cell whose work raised ``exc`` (call it in the ``except``: the traceback's end is
        kept for the cell file)."""
        return cls(
            "error",
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(limit=-4),
            cell_s=cell_s,
        )

    def to_json(self) -> dict[str, Any]:
        """The cell file's fields (those that are set)."""
        out: dict[str, Any] = {"status": self.status}
        if self.metrics is not None:
            out["metrics"] = dict(self.metrics)
        if self.jct_s is not None:
            out["jct_s"] = list(self.jct_s)
        for name in ("error", "traceback", "cell_s"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.provenance is not None:
            out["provenance"] = dict(self.provenance)
        if self.bound is not None:
            out["bound"] = dict(self.bound)
        return out


def task_provenance(task: Task) -> dict[str, Any]:
    """The ``provenance`` block of a cell's record (``report.provenance``)."""
    if isinstance(task, SimulationTask):
        instance = task.instance
        epoch_s = task.epoch_s if task.epoch_s is not None else instance.epoch_s
        return made.run_provenance(instance, task.policy, task.options, epoch_s)
    world = task.snapshot.instance
    options = task.options
    return made.provenance(
        snapshot=made.source(world),
        greedy={"name": "bace-cheapest-path", "weights": asdict(task.weights)},
        solver=made.milp_solver(options),
    )


def execute(task: Task) -> CellOutcome:
    """Run one cell's task; never raises (a failing cell is recorded, the sweep goes on)."""
    tic = time.perf_counter()
    try:
        if isinstance(task, SimulationTask):
            options = SimulationOptions(epoch_s=task.epoch_s)
            result = simulate(
                task.instance, make_policy(task.policy, options=task.options), options
            )
            reference = reference_run_times(task.instance)
            summary = summarize(task.policy, result.records, result.totals, reference)
            metrics = summary.as_dict()
            metrics.update(result.policy_stats)
            del metrics["policy"]
            jct = [r.jct_s for r in result.records if r.jct_s is not None]
        else:
            metrics = compare_epoch(task.snapshot, task.options, task.weights).row()
            jct = []
    except Exception as exc:
        return CellOutcome.raised(exc, time.perf_counter() - tic)
    metrics["cell_s"] = time.perf_counter() - tic
    return CellOutcome("ok", metrics=metrics, jct_s=tuple(jct), provenance=task_provenance(task))
