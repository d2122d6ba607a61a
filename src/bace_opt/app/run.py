"""Run policies on an instance and write what DESIGN §5 asks for: the library calls behind
``bace-opt run`` and ``bace-opt compare``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bace_opt.core.world import Instance, Snapshot
from bace_opt.errors import InputError
from bace_opt.io.documents import snapshot_document
from bace_opt.io.write import (
    staged_folder,
    write_json_atomic,
    write_text_atomic,
    write_yaml_atomic,
)
from bace_opt.policies import PolicyOptions, make_policy, policy_entry
from bace_opt.policies.bace import PriorityWeights
from bace_opt.policies.lookahead import LookaheadSettings
from bace_opt.policies.lookahead.options import parse_lookahead
from bace_opt.policies.registry import parse_weights
from bace_opt.report import plots
from bace_opt.report.columns import BOUND_GAP_COLUMNS, COMPARE_COLUMNS
from bace_opt.report.files import csv_text, write_run
from bace_opt.report.provenance import run_provenance
from bace_opt.sim import SimulationOptions, SimulationResult, simulate

if TYPE_CHECKING:  # the bounds' package imports Pyomo: only ``compare --bound`` needs it
    from bace_opt.bounds.read import BoundFile


@dataclass(frozen=True)
class RunSettings:
    """What a run needs besides the instance and the policy name."""

    seed: int = 0
    epoch_s: float | None = None
    timing: bool = True
    dump_snapshots: Path | None = None
    on_progress: Callable[[int, int], None] | None = None
    policy: PolicyOptions | None = None
    """Seed, priority weights and MILP limit for the policy (default: from ``seed``)."""


def policy_options(
    seed: int, weights: str | None, milp_time_limit_s: float, lookahead: str | None = None
) -> PolicyOptions:
    """The policy's options from the command line (``--weights aging=0.25,length=1,...``,
    ``--lookahead value=100,...``)."""
    chosen = parse_weights(weights) if weights else PriorityWeights()
    settings = parse_lookahead(lookahead) if lookahead else LookaheadSettings()
    return PolicyOptions(seed, chosen, milp_time_limit_s, settings)


def policy_list(text: str) -> list[str]:
    """``--policies a,b,c`` → known policy names, in order (``InputError`` for none or unknown)."""
    names = [p.strip() for p in text.split(",") if p.strip()]
    if not names:
        raise InputError(["--policies: give at least one policy name"])
    problems: list[str] = []
    for name in names:
        try:
            policy_entry(name, "--policies")
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return names


def _dumper(folder: Path) -> Callable[[Snapshot], None]:
    count = 0

    def dump(snapshot: Snapshot) -> None:
        nonlocal count
        write_yaml_atomic(folder / f"epoch-{count:06d}.yaml", snapshot_document(snapshot, folder))
        count += 1

    return dump


def run_policy(
    instance: Instance, policy: str, out: Path, settings: RunSettings = RunSettings()
) -> tuple[SimulationResult, dict[str, Any]]:
    """Simulate one policy and write ``jobs.csv``, ``summary.json`` and ``timeline.csv`` (staged:
    all three replace a previous run's together, or none does)."""
    options = SimulationOptions(
        epoch_s=settings.epoch_s,
        timing=settings.timing,
        on_progress=settings.on_progress,
        on_snapshot=_dumper(settings.dump_snapshots) if settings.dump_snapshots else None,
    )
    chosen = settings.policy or PolicyOptions(settings.seed)
    epoch_s = settings.epoch_s if settings.epoch_s is not None else instance.epoch_s
    made = run_provenance(instance, policy, chosen, epoch_s)
    with staged_folder(out) as staging:
        result = simulate(instance, make_policy(policy, settings.seed, settings.policy), options)
        return result, write_run(instance, result, staging, made)


def compare_policies(
    instance: Instance,
    policies: Sequence[str],
    out: Path,
    settings: RunSettings = RunSettings(),
    figures: bool = True,
    bound: BoundFile | None = None,
) -> list[dict[str, Any]]:
    """The same world for each policy: one folder each, ``summary.csv`` and the plots, staged
    as a whole (a killed compare leaves the previous results as they were, not a mix). With a
    ``bound`` (``compare --bound``), each summary gets its ``bound`` block of gaps (in the returned
    summaries and in its ``summary.json``) and ``summary.csv`` the ``BOUND_GAP`` columns."""
    for name in policies:
        make_policy(name)  # unknown names fail before any work
    results, summaries = [], []
    with staged_folder(out) as staging:
        for name in policies:
            dump = settings.dump_snapshots / name if settings.dump_snapshots else None
            result, summary = run_policy(
                instance, name, staging / name, replace(settings, dump_snapshots=dump)
            )
            results.append(result)
            summaries.append(summary)
        header: tuple[str, ...] = COMPARE_COLUMNS
        rows = [[s.get(c) for c in COMPARE_COLUMNS] for s in summaries]
        if bound is not None:
            header = (*COMPARE_COLUMNS, *BOUND_GAP_COLUMNS)
            for name, summary, row in zip(policies, summaries, rows, strict=True):
                summary["bound"] = bound.gaps(summary)
                write_json_atomic(staging / name / "summary.json", summary)
                row += [summary["bound"][c] for c in BOUND_GAP_COLUMNS]
        write_text_atomic(staging / "summary.csv", csv_text(header, rows))
        if figures:
            plots.jct_cdf(results, staging / "jct_cdf.png", instance.name)
            plots.cost_energy(summaries, staging / "cost_energy.png", instance.name)
            plots.gpus_in_use(instance, results, staging / "gpus_in_use.png")
    return summaries
