"""The tables the commands print: the results of ``run`` and ``compare`` (the summary metrics
with a ``Shown`` in ``report.columns``, labelled and formatted as declared there), and plain rows
(``info``'s regions, links and job mix; ``epoch``'s solvers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table

from bace_opt.report.columns import HOURS, TERMINAL_VIEW, Shown

Row = Mapping[str, str | int | float]

MISSING = "–"
"""What the table shows for an undefined value (None), e.g. policy time under --no-timing."""


def _cell(shown: Shown, value: Any) -> str:
    if value is None:
        return MISSING
    return shown.fmt.format(value / HOURS if shown.hours else value)


def summary_table(summaries: Sequence[Mapping[str, Any]]) -> Table:
    """One row per run summary (as written to ``summary.json``), the columns of ``TERMINAL_VIEW``;
    a key a summary lacks shows as missing."""
    table = Table(title="Results", title_justify="left")
    for _, shown in TERMINAL_VIEW:
        table.add_column(shown.label, justify=shown.justify)
    for summary in summaries:
        table.add_row(*(_cell(shown, summary.get(key)) for key, shown in TERMINAL_VIEW))
    return table


def rows_table(title: str, rows: Sequence[Row]) -> Table:
    """A table of rows with the same keys: numbers right-aligned (floats as ``g``), text left."""
    table = Table(title=title, title_justify="left", show_lines=False)
    if not rows:
        return table
    for key, value in rows[0].items():
        table.add_column(key, justify="right" if isinstance(value, int | float) else "left")
    for row in rows:
        table.add_row(*(f"{v:g}" if isinstance(v, float) else str(v) for v in row.values()))
    return table
