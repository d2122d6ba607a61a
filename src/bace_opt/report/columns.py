"""Every column of every output and every run metric, declared once (DESIGN §5).

A ``Column`` says what a value means and where it appears; the writers derive their headers and
views from the ordered tuples at the end of this module instead of keeping lists of their own:

* ``jobs.csv`` — ``JOB``, in declaration order;
* ``summary.json`` and a sweep cell's metrics — ``SUMMARY``, every one (``summarize`` computes
  them; a test checks that its ``RunSummary`` has exactly these fields);
* ``compare``'s ``summary.csv`` — the ``SUMMARY`` columns with ``compare=True``, in declaration
  order;
* the terminal table of ``run`` and ``compare`` — those with a ``Shown``, in ``Shown.position``
  order;
* ``bace-opt report`` on a simulation sweep — those with a ``Swept``, in ``Swept.position`` order.

The terminal table and the sweep report order their columns for reading, not as the files do
(cost before energy, JCT before everything), hence the explicit positions. They are checked when
this module is imported: a gap or a duplicate fails at once instead of shifting a column.

This module imports nothing heavy, so the command line can build its table without numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

HOURS = 3600.0
"""Seconds per hour: durations are stored in seconds and shown in hours."""


@dataclass(frozen=True)
class Shown:
    """A column of the terminal table."""

    label: str
    fmt: str
    """``str.format`` pattern of a value (the table shows ``–`` for None)."""
    position: int
    """Place in the table, from 0."""
    hours: bool = False
    """Show seconds as hours (the value divided by ``HOURS``, then ``fmt``)."""
    justify: Literal["left", "right"] = "right"


@dataclass(frozen=True)
class Swept:
    """A metric the sweep report averages over seeds (mean, 95 % CI, n)."""

    label: str
    """Axis label of its plots and heading of its table, e.g. ``average JCT (h)``."""
    position: int
    """Place among the report's metrics (and so among ``report/summary.csv``'s columns), from 0."""
    hours: bool = False
    """Average it in hours, as ``<key without _s>_h``."""
    digits: int | None = None
    """Decimals of its ``mean ± CI`` table on the page; a metric with a table is also plotted
    against bandwidth and load scale. None: neither."""


@dataclass(frozen=True)
class Column:
    """One output column or run metric: its key (the header, the JSON key, the field name), its
    unit, what it means, and the outputs besides its own file that show it."""

    key: str
    unit: str
    """``s``, ``kWh``, ``$``, ``count``, ``fraction``, ``factor`` or ``text``."""
    doc: str
    compare: bool = False
    """A column of ``compare``'s ``summary.csv`` (summary metrics only)."""
    shown: Shown | None = None
    swept: Swept | None = None

    @property
    def sweep_key(self) -> str:
        """The key of this metric in the sweep report's tables."""
        if self.swept is not None and self.swept.hours:
            return self.key.removesuffix("_s") + "_h"
        return self.key


JOB = (
    Column("name", "text", "The job's name from the instance."),
    Column("arrival_s", "s", "When the job arrived."),
    Column("start_s", "s", "When its pipeline started; empty if it never ran."),
    Column("end_s", "s", "When it finished; empty if it never ran."),
    Column("jct_s", "s", "Job completion time: end − arrival."),
    Column("wait_s", "s", "Time queued before it started: start − arrival."),
    Column("placement", "text", "Its pipeline's blocks, ``region:stages`` joined by ``>``."),
    Column("crossings", "count", "Region boundaries its pipeline crosses."),
    Column("stall_s", "s", "Run time lost to communication below each crossing's need."),
    Column("energy_kwh", "kWh", "Energy over its whole run, stalls and PUE included."),
    Column("cost_usd", "$", "Electricity cost over its whole run (the price integral)."),
    Column("status", "text", "``finished``, or why the job never ran."),
)
"""``jobs.csv``, one row per job of the instance."""

SUMMARY = (
    Column(
        "policy",
        "text",
        "The policy's name.",
        compare=True,
        shown=Shown("policy", "{}", 0, justify="left"),
    ),
    Column("jobs", "count", "Jobs in the instance.", compare=True),
    Column(
        "jobs_finished",
        "count",
        "Jobs that ran to completion.",
        compare=True,
        shown=Shown("finished", "{}", 1),
    ),
    Column(
        "jobs_never_ran",
        "count",
        "Jobs the policy never placed before the cluster went idle.",
        swept=Swept("jobs never ran", 6),
    ),
    Column(
        "avg_jct_s",
        "s",
        "Mean job completion time over finished jobs; None if none finished.",
        compare=True,
        shown=Shown("avg JCT h", "{:.2f}", 2, hours=True),
        swept=Swept("average JCT (h)", 0, hours=True, digits=2),
    ),
    Column("p50_jct_s", "s", "Median job completion time over finished jobs.", compare=True),
    Column(
        "p95_jct_s",
        "s",
        "95th percentile of job completion time over finished jobs.",
        compare=True,
        shown=Shown("p95 JCT h", "{:.2f}", 3, hours=True),
        swept=Swept("p95 JCT (h)", 2, hours=True),
    ),
    Column(
        "p99_jct_s", "s", "99th percentile of job completion time over finished jobs.", compare=True
    ),
    Column(
        "avg_wait_s",
        "s",
        "Mean queueing time over finished jobs.",
        compare=True,
        shown=Shown("avg wait h", "{:.2f}", 4, hours=True),
        swept=Swept("average wait (h)", 3, hours=True),
    ),
    Column(
        "max_wait_s",
        "s",
        "Longest queueing time of a finished job (what starvation looks like).",
        compare=True,
        shown=Shown("max wait h", "{:.2f}", 5, hours=True),
        swept=Swept("longest wait (h)", 7, hours=True, digits=1),
    ),
    Column("p95_wait_s", "s", "95th percentile of queueing time over finished jobs.", compare=True),
    Column("p99_wait_s", "s", "99th percentile of queueing time over finished jobs.", compare=True),
    Column(
        "jobs_waited_over_24h",
        "count",
        "Finished jobs that queued longer than 24 hours.",
        compare=True,
        swept=Swept("jobs waiting > 24 h", 8),
    ),
    Column(
        "avg_slowdown",
        "factor",
        "Mean over finished jobs of JCT ÷ the job's ideal run time (whole, no latency, in the "
        "fastest region that holds it).",
        compare=True,
        swept=Swept("mean slowdown", 9),
    ),
    Column(
        "p95_slowdown",
        "factor",
        "95th percentile of the slowdown over finished jobs.",
        compare=True,
    ),
    Column(
        "makespan_s",
        "s",
        "From the first arrival to the last completion.",
        compare=True,
        shown=Shown("makespan h", "{:.2f}", 6, hours=True),
    ),
    Column(
        "total_energy_kwh",
        "kWh",
        "Energy of the finished jobs.",
        compare=True,
        shown=Shown("energy kWh", "{:,.0f}", 8),
        swept=Swept("energy (kWh)", 4),
    ),
    Column(
        "total_cost_usd",
        "$",
        "Electricity cost of the finished jobs.",
        compare=True,
        shown=Shown("cost $", "{:,.2f}", 7),
        swept=Swept("electricity cost ($)", 1, digits=0),
    ),
    Column("total_stall_s", "s", "Stall of the finished jobs, summed.", compare=True),
    Column(
        "jobs_stalled",
        "count",
        "Finished jobs that stalled more than a microsecond.",
        compare=True,
        shown=Shown("stalled", "{}", 9),
    ),
    Column(
        "gpu_utilization",
        "fraction",
        "∫ GPUs in use dt / (all GPUs × makespan); None for a zero makespan.",
        compare=True,
        shown=Shown("GPU util", "{:.3f}", 10),
        swept=Swept("GPU utilization", 5),
    ),
    Column(
        "link_utilization",
        "fraction",
        "∫ Σ carried Gbit/s dt / (Σ capacity × makespan); None without links or makespan.",
        compare=True,
        shown=Shown("link util", "{:.3f}", 11),
    ),
    Column(
        "epochs",
        "count",
        "Times the policy was asked to decide.",
        compare=True,
        shown=Shown("epochs", "{}", 12),
    ),
    Column(
        "policy_time_s",
        "s",
        "Wall-clock time inside the policy; None with --no-timing.",
        compare=True,
        shown=Shown("policy s", "{:.3f}", 13),
    ),
    Column("wall_time_s", "s", "Wall-clock time of the whole simulation; None with --no-timing."),
)
"""The run summary: ``summary.json`` (with the instance's name and the policy's counters) and a
sweep cell's metrics."""

TIMELINE_TIME = Column("time_s", "s", "When the GPUs in use changed (``timeline.csv``).")
"""``timeline.csv``'s first column; one column per region (GPUs in use) follows."""

BOUND_GAP = (
    Column("jct_lower_s", "s", "The bound file's ``avg_jct_lower_s``: no schedule is faster."),
    Column(
        "frontier_cost_lower_usd",
        "$",
        "The frontier at the policy's average JCT: no schedule that fast costs less.",
    ),
    Column("jct_gap", "factor", "The policy's average JCT ÷ ``jct_lower_s``."),
    Column("cost_gap", "factor", "The policy's cost ÷ ``frontier_cost_lower_usd``."),
    Column("cost_gap_total", "factor", "The policy's cost ÷ the total cost bound."),
)
"""``compare --bound``'s columns after ``summary.csv``'s own (and its ``summary.json``'s ``bound``
block): empty where the run did not finish every job, or the bound is missing or not positive."""
GAP_VIEW = (("avg_jct_s", "jct_gap", "JCT gap"), ("total_cost_usd", "cost_gap", "cost gap"))
"""``compare --bound``'s terminal table: (the column it follows, the gap, its heading)."""


def _positioned(positions: list[int], what: str) -> None:
    if sorted(positions) != list(range(len(positions))):
        raise AssertionError(f"{what} positions must be 0..{len(positions) - 1}: {positions}")


def _check() -> None:
    """The declarations are consistent: unique keys, placements only on summary metrics, hours
    only for seconds, positions without gaps or duplicates."""
    for group in (JOB, (*SUMMARY, *BOUND_GAP)):
        keys = [c.key for c in group]
        if len(set(keys)) != len(keys):
            raise AssertionError(f"duplicate keys: {keys}")
    for column in (*JOB, TIMELINE_TIME, *BOUND_GAP):
        if column.compare or column.shown or column.swept:
            raise AssertionError(f"{column.key}: only summary metrics appear elsewhere")
    for column in SUMMARY:
        hours = (column.shown and column.shown.hours) or (column.swept and column.swept.hours)
        if hours and column.unit != "s":
            raise AssertionError(f"{column.key}: only seconds can be shown in hours")
    _positioned([c.shown.position for c in SUMMARY if c.shown], "terminal")
    _positioned([c.swept.position for c in SUMMARY if c.swept], "sweep")


_check()

JOB_COLUMNS = tuple(c.key for c in JOB)
"""``jobs.csv``'s header."""
SUMMARY_METRICS = tuple(c.key for c in SUMMARY)
"""The fields of ``RunSummary``, in order."""
COMPARE_COLUMNS = tuple(c.key for c in SUMMARY if c.compare)
"""``compare``'s ``summary.csv`` header."""
BOUND_GAP_COLUMNS = tuple(c.key for c in BOUND_GAP)
"""What ``compare --bound`` adds to that header."""
TERMINAL_VIEW: tuple[tuple[str, Shown], ...] = tuple(
    sorted(((c.key, c.shown) for c in SUMMARY if c.shown), key=lambda pair: pair[1].position)
)
"""The terminal table's columns, left to right: summary key and how it is shown."""
SWEPT: tuple[tuple[Column, Swept], ...] = tuple(
    sorted(((c, c.swept) for c in SUMMARY if c.swept), key=lambda pair: pair[1].position)
)
"""The sweep report's metrics, in its order."""
SWEEP_METRICS = {c.sweep_key: swept.label for c, swept in SWEPT}
"""The sweep report's metric keys and their labels, in its order."""
