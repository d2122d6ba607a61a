"""The tables the commands print: the results of ``run`` and ``compare`` (the summary metrics
with a ``Shown`` in ``report.columns``, labelled and formatted as declared there), and plain rows
(``info``'s regions, links and job mix; ``epoch``'s solvers).

Every table fits the console it is printed on, measured when it is printed. Its first column (the
policy, the region, the solver) is never cut or wrapped; a value is never cut either. What gives
way, in this order: headers wrap onto two lines, then the table is printed as several tables one
under the other, each led by the first column again. A console too narrow for the first column and
one more is the only case where a line is longer than the console.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from bace_opt.report.columns import GAP_VIEW, HOURS, TERMINAL_VIEW, Shown

Row = Mapping[str, str | int | float]

MISSING = "–"
"""What the table shows for an undefined value (None), e.g. policy time under --no-timing."""


@dataclass(frozen=True)
class _Column:
    header: str
    cells: tuple[str, ...]
    justify: Literal["left", "right"]

    @property
    def width(self) -> int:
        """Content width with the header on one line."""
        return max([cell_len(self.header), *map(cell_len, self.cells)])

    @property
    def narrow(self) -> int:
        """Content width with the header on at most two lines (split at a space)."""
        words = self.header.split(" ")
        header = min(
            max(cell_len(" ".join(words[:i])), cell_len(" ".join(words[i:])))
            for i in range(1, len(words) + 1)
        )
        return max([header, *map(cell_len, self.cells)])


def _line_width(widths: Sequence[int]) -> int:
    """A table's line: each column's content, one space of padding either side, and borders."""
    return sum(widths) + 3 * len(widths) + 1


def _groups(columns: Sequence[_Column], room: int) -> list[list[_Column]]:
    """The columns after the first, packed in order into tables that fit ``room`` with the first
    column leading each (at least one more column per table, whatever the room)."""
    key, rest = columns[0], columns[1:]
    groups: list[list[_Column]] = []
    for column in rest:
        if groups and _line_width([key.width, *(c.narrow for c in (*groups[-1], column))]) <= room:
            groups[-1].append(column)
        else:
            groups.append([column])
    return [[key, *group] for group in groups] or [[key]]


@dataclass(frozen=True)
class FittedTable:
    """A table that fits the console it is printed on (see the module's docstring); its title
    wraps at the console's width, not the table's."""

    title: str
    columns: tuple[_Column, ...]

    def tables(self, width: int) -> list[tuple[str, Table]]:
        """The tables to print on a console ``width`` cells wide, each with its title."""
        if not self.columns:
            return [(self.title, Table())]
        groups = _groups(self.columns, width)
        titles = [self.title, *(f"{self.title} (continued)" for _ in groups[1:])]
        return [(t, _table(g, width)) for t, g in zip(titles, groups, strict=True)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for title, table in self.tables(options.max_width):
            yield from Text(title, style="table.title").wrap(console, options.max_width)
            if table.columns:
                yield table

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        if not self.columns:
            return Measurement(0, 0)
        least = _line_width([self.columns[0].width, *(c.narrow for c in self.columns[1:2])])
        most = _line_width([c.width for c in self.columns])
        return Measurement(min(least, options.max_width), min(most, options.max_width))


def _table(columns: Sequence[_Column], room: int) -> Table:
    """One table of ``columns``: headers on one line if that fits ``room``, else on two; the
    first column as wide as its widest cell and never wrapped."""
    wide = _line_width([c.width for c in columns]) <= room
    table = Table()
    for i, column in enumerate(columns):
        table.add_column(
            column.header,
            justify=column.justify,
            width=column.width if wide or i == 0 else column.narrow,
            no_wrap=i == 0,
        )
    for row in range(len(columns[0].cells)):
        table.add_row(*(c.cells[row] for c in columns))
    return table


def _cell(shown: Shown, value: Any) -> str:
    if value is None:
        return MISSING
    return shown.fmt.format(value / HOURS if shown.hours else value)


GAP_SHOWN = "{:.4f}"
"""A gap to the bounds: a factor ≥ 1, where the third and fourth decimals still tell policies
apart (geo6's best are within 1 % of the JCT bound)."""


def summary_table(summaries: Sequence[Mapping[str, Any]], gaps: bool = False) -> FittedTable:
    """One row per run summary (as written to ``summary.json``), the columns of ``TERMINAL_VIEW``;
    a key a summary lacks shows as missing. With ``gaps`` (``compare --bound``), each gap of the
    summary's ``bound`` block follows the column it divides (``GAP_VIEW``)."""
    columns = []
    for key, shown in TERMINAL_VIEW:
        cells = tuple(_cell(shown, s.get(key)) for s in summaries)
        columns.append(_Column(shown.label, cells, shown.justify))
        for after, gap, label in GAP_VIEW if gaps else ():
            if after == key:
                values = (s.get("bound", {}).get(gap) for s in summaries)
                cells = tuple(MISSING if v is None else GAP_SHOWN.format(v) for v in values)
                columns.append(_Column(label, cells, "right"))
    title = "Results (gaps: ÷ JCT bound, ÷ frontier at the policy's JCT)" if gaps else "Results"
    return FittedTable(title, tuple(columns))


def rows_table(title: str, rows: Sequence[Row]) -> FittedTable:
    """A table of rows with the same keys: numbers right-aligned (floats as ``g``), text left."""
    if not rows:
        return FittedTable(title, ())
    columns = tuple(
        _Column(
            key,
            tuple(f"{r[key]:g}" if isinstance(r[key], float) else str(r[key]) for r in rows),
            "right" if isinstance(value, int | float) else "left",
        )
        for key, value in rows[0].items()
    )
    return FittedTable(title, columns)
