"""The Python surface of bace-opt (``import bace_opt as bo``): load a file, simulate a policy,
compare policies, solve one epoch — the commands' work without their files (``bo.policies()``
lists the policy names: the ``policies`` package is callable).

    import bace_opt as bo
    world = bo.load("instances/geo6.yaml")
    run = bo.simulate(world, "bace", seed=0)
    run.summary["avg_jct_s"], run.jobs.head()
    bo.compare(world, ["bace", "sjf", "cost-first"])       # one row per policy
    bo.solve_epoch(bo.load("benchmarks/snapshots/30x8x6-seed0.yaml"), time_limit=10)
    bo.bound(world, policies=["bace"]).to_json()           # ``bace-opt bound``'s document
    bo.compare(world, ["bace", "sjf"], bound="geo6-bound.json")  # with each policy's gaps

Every function returns plain data (dicts, pandas DataFrames, frozen dataclasses) that equals
what the command line writes for the same inputs: ``simulate(...).summary`` is ``summary.json``
without the timing fields when ``timing=False``, ``.jobs`` has the ``jobs.csv`` columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bace_opt.app.epoch import SOLVERS, EpochReport, solve_snapshot
from bace_opt.core.world import Instance, Snapshot
from bace_opt.errors import InputError
from bace_opt.io.read import load_any
from bace_opt.milp import SolveOptions
from bace_opt.policies import PolicyOptions, make_policy
from bace_opt.policies.bace import PriorityWeights
from bace_opt.policies.registry import MILP_TIME_LIMIT_S
from bace_opt.report.columns import BOUND_GAP_COLUMNS, COMPARE_COLUMNS, JOB_COLUMNS
from bace_opt.report.files import job_row, simulated
from bace_opt.sim import SimulationResult

if TYPE_CHECKING:  # the bounds import Pyomo: only on use
    from bace_opt.bounds.result import BoundResult


def load(path: str | Path, data_root: str | Path | None = None) -> Instance | Snapshot:
    """An instance or a snapshot file, checked (``InputError`` lists every problem)."""
    return load_any(Path(path), Path(data_root) if data_root is not None else None)


@dataclass(frozen=True)
class Run:
    """One simulated run: ``summary`` (``summary.json``'s content), ``jobs`` (``jobs.csv``'s rows)
    and ``result``, the simulator's own record of it."""

    summary: dict[str, Any]
    jobs: pd.DataFrame
    result: SimulationResult


def _instance(world: Instance | Snapshot) -> Instance:
    return world.instance if isinstance(world, Snapshot) else world


def simulate(
    world: Instance | Snapshot,
    policy: str,
    seed: int = 0,
    *,
    epoch_s: float | None = None,
    weights: PriorityWeights | None = None,
    milp_time_limit_s: float = MILP_TIME_LIMIT_S,
    timing: bool = True,
) -> Run:
    """Simulate ``policy`` on ``world`` (a snapshot's instance, all its jobs)."""
    options = PolicyOptions(seed, weights or PriorityWeights(), milp_time_limit_s)
    result, summary = simulated(_instance(world), policy, options, epoch_s, timing)
    jobs = pd.DataFrame([job_row(r) for r in result.records], columns=list(JOB_COLUMNS))
    return Run(summary, jobs, result)


def compare(
    world: Instance | Snapshot,
    policies: Sequence[str],
    seed: int = 0,
    *,
    bound: str | Path | None = None,
    **options: Any,
) -> pd.DataFrame:
    """The same world for each policy: one row per policy with ``summary.csv``'s columns; with
    ``bound`` (a ``bace-opt bound`` file of this world, checked as ``compare --bound`` checks it)
    also each policy's gaps to it (``BOUND_GAP_COLUMNS``)."""
    from bace_opt.bounds.read import read_bound

    for name in policies:
        make_policy(name)  # an unknown name fails before any work
    known = None if bound is None else read_bound(Path(bound), _instance(world), "bound")
    rows = [simulate(world, name, seed, **options).summary for name in policies]
    columns = list(COMPARE_COLUMNS)
    table = [[row.get(c) for c in COMPARE_COLUMNS] for row in rows]
    if known is not None:
        columns += BOUND_GAP_COLUMNS
        for row, line in zip(rows, table, strict=True):
            gaps = known.gaps(row)
            line += [gaps[c] for c in BOUND_GAP_COLUMNS]
    return pd.DataFrame(table, columns=columns)


def bound(
    world: Instance | Snapshot,
    *,
    slot_s: float = 3600.0,
    time_limit: float = 600.0,
    policies: Sequence[str] = (),
    hindsight: bool = True,
    window_jobs: int | None = None,
) -> BoundResult:
    """``bace-opt bound``'s work: lower bounds on average JCT and total cost, the frontier, the
    hindsight schedule (its ``jobs.csv`` not written) and each of ``policies``' gaps;
    ``.to_json()`` is the command's document. ``window_jobs`` as ``--window-jobs``."""
    from bace_opt.bounds import BoundOptions, bound_instance
    from bace_opt.bounds.windows import bound_by_windows

    for name in policies:
        make_policy(name)
    instance = _instance(world)
    chosen = BoundOptions(
        slot_s=slot_s, time_limit_s=time_limit, hindsight=hindsight and window_jobs is None
    )
    if window_jobs is not None:
        return bound_by_windows(instance, chosen, window_jobs, policies)
    return bound_instance(instance, chosen, policies)


def solve_epoch(
    snapshot: Snapshot,
    solver: str = "both",
    time_limit: float = 30.0,
    gap: float = 0.0,
    threads: int | None = None,
    backend: str = "appsi_highs",
    warm_start: bool = True,
) -> EpochReport:
    """One epoch's decision by ``milp``, ``greedy`` or ``both``, each re-measured by the checker
    (``.greedy`` / ``.milp``: status, admitted, placements, cost_usd, bound; ``.to_json()`` is
    ``bace-opt epoch --out``'s document)."""
    if not isinstance(snapshot, Snapshot):
        raise InputError(["solve_epoch: needs a snapshot (an epoch's state), not an instance"])
    if solver not in SOLVERS:
        raise InputError([f"solver: must be one of {', '.join(SOLVERS)}, not '{solver}'"])
    if not 0 <= gap < 1:
        raise InputError([f"gap: a relative gap in [0, 1), not {gap:g}"])
    return solve_snapshot(
        snapshot, solver, SolveOptions(backend, time_limit, gap, threads, warm_start)
    )
