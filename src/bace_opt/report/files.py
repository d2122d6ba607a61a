"""Write a run's results (DESIGN §5): ``jobs.csv``, ``summary.json`` and ``timeline.csv``, each
atomically; floats in their shortest round-trip form, so equal runs give byte-identical files.
Headers and keys come from the declarations in ``report.columns``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bace_opt.core.world import Instance
from bace_opt.formulas.job import reference_run_times
from bace_opt.io.write import write_json_atomic, write_text_atomic
from bace_opt.policies.registry import PolicyOptions
from bace_opt.report.columns import JOB_COLUMNS, TIMELINE_TIME
from bace_opt.report.metrics import summarize
from bace_opt.sim import SimulationResult
from bace_opt.sim.records import JobRecord


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def job_row(record: JobRecord) -> tuple[Any, ...]:
    """A record's ``jobs.csv`` row, in ``JOB_COLUMNS`` order."""
    return tuple(getattr(record, column) for column in JOB_COLUMNS)


def run_summary(
    instance: Instance, result: SimulationResult, made: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What ``summary.json`` holds: the summary metrics, the instance's name, the policy's
    counters (its ``stats``) and, last, how the run was made (``made``, see ``provenance``)."""
    reference = reference_run_times(instance)
    summary = summarize(result.policy, result.records, result.totals, reference).as_dict()
    summary["instance"] = instance.name
    summary.update(result.policy_stats)
    if made is not None:
        summary["provenance"] = dict(made)
    return summary


def simulated(
    instance: Instance,
    policy: str,
    options: PolicyOptions,
    epoch_s: float | None = None,
    timing: bool = True,
) -> tuple[SimulationResult, dict[str, Any]]:
    """One run of a registered policy and what its ``summary.json`` holds (provenance included):
    ``bo.simulate`` and ``bound --policies`` are this."""
    from bace_opt.policies import make_policy
    from bace_opt.report.provenance import run_provenance
    from bace_opt.sim import SimulationOptions, simulate

    result = simulate(
        instance,
        make_policy(policy, options.seed, options),
        SimulationOptions(epoch_s=epoch_s, timing=timing),
    )
    chosen = epoch_s if epoch_s is not None else instance.epoch_s
    return result, run_summary(instance, result, run_provenance(instance, policy, options, chosen))


def write_run(
    instance: Instance,
    result: SimulationResult,
    folder: Path,
    made: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the three files of one run into ``folder``; returns ``run_summary``."""
    summary = run_summary(instance, result, made)
    rows = (job_row(r) for r in result.records)
    write_text_atomic(folder / "jobs.csv", csv_text(JOB_COLUMNS, rows))
    regions = [r.name for r in instance.regions]
    timeline = ([t, *used] for t, used in result.timeline)
    header = [TIMELINE_TIME.key, *regions]
    write_text_atomic(folder / "timeline.csv", csv_text(header, timeline))
    write_json_atomic(folder / "summary.json", summary)
    return summary
