"""What the command line shares: its consoles, how errors become exit statuses, and progress.

Exit status: 0 success, 2 bad input or usage (one line per problem, no traceback; output paths
are checked before any work), 130 interrupted (Ctrl-C: one line, no output that looks complete),
1 anything else (a one-line message; ``--debug`` shows the traceback).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bace_opt.errors import InputError

out = Console(soft_wrap=True)
if not out.is_terminal:
    out = Console(soft_wrap=True, width=160)
err = Console(stderr=True, highlight=False, soft_wrap=True)
state = {"debug": False}

P = ParamSpec("P")
R = TypeVar("R")
CORES = os.cpu_count() or 1


def handled(command: Callable[P, R]) -> Callable[P, R]:
    """Turn library errors into exit statuses: bad input → 2 with one line per problem, anything
    else → 1 with a one-line message (the traceback only with ``--debug``)."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            for problem in exc.problems:
                err.print(problem, markup=False)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("interrupted", markup=False)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if state["debug"]:
                raise
            err.print(f"error: {type(exc).__name__}: {exc}", markup=False)
            raise typer.Exit(1) from None

    return wrapper


PROGRESS_LOG_S = 10.0
"""Off a terminal, progress is a log line on stderr at most this often (none in a short run)."""


def log_lines(label: str) -> Callable[[int, int], None]:
    started = last = time.monotonic()

    def update(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_LOG_S:
            last = now
            err.print(f"{label}: {done}/{total} done, {now - started:.0f} s", markup=False)

    return update


@contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar (finished jobs or cells) while the block runs, on a terminal; else a log
    line every ``PROGRESS_LOG_S`` seconds."""
    if not err.is_terminal:
        yield log_lines(label)
        return
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task(label, total=None)
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total)
