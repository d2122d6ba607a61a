"""The command line (DESIGN §5): a thin typer layer, one library call per command.

Exit status: 0 success, 2 bad input or usage (one line per problem, no traceback), 1 anything else
(a one-line message; ``--debug`` shows the traceback).
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from bace_opt.describe import Row, describe
from bace_opt.errors import InputError
from bace_opt.generate import expand_workload
from bace_opt.loading import load_any
from bace_opt.output import write_json_atomic, write_text_atomic, write_yaml_atomic
from bace_opt.schema import InstanceFile
from bace_opt.world import Snapshot

app = typer.Typer(
    name="bace-opt",
    help="Schedule pipeline-parallel LLM training across cloud regions, and prove how good it is.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console(soft_wrap=True)
if not out.is_terminal:
    out = Console(soft_wrap=True, width=160)
err = Console(stderr=True, highlight=False, soft_wrap=True)
_state = {"debug": False}

P = ParamSpec("P")
R = TypeVar("R")

FileArg = Annotated[
    Path, typer.Argument(help="Instance or snapshot file (YAML or JSON).", show_default=False)
]


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
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if _state["debug"]:
                raise
            err.print(f"error: {type(exc).__name__}: {exc}", markup=False)
            raise typer.Exit(1) from None

    return wrapper


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
) -> None:
    _state["debug"] = debug
    logging.basicConfig(level=logging.INFO if debug else logging.WARNING, format="%(message)s")
    if debug:
        logging.getLogger("bace_opt").setLevel(logging.DEBUG)


def _table(title: str, rows: list[Row]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    if not rows:
        return table
    for key in rows[0]:
        numeric = isinstance(rows[0][key], int | float)
        table.add_column(key, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(f"{v:g}" if isinstance(v, float) else str(v) for v in row.values()))
    return table


@app.command()
@handled
def validate(file: FileArg) -> None:
    """Check an instance or snapshot file: exit 0 with a summary, or 2 listing the problems."""
    world = load_any(file)
    out.print(f"ok: {describe(world).headline}", markup=False, highlight=False)


@app.command()
@handled
def info(file: FileArg) -> None:
    """What is in a file: regions, links, and the job mix with the bandwidth each shape needs."""
    world = load_any(file)
    d = describe(world)
    out.print(d.headline, markup=False, highlight=False)
    out.print(_table("Regions (price in $/kWh)", d.regions))
    out.print(_table("Link directions", d.links))
    if d.job_mix:
        title = (
            "Job mix: S stages × g GPUs, M micro-batches of b × L tokens; "
            "need@T = Gbit/s per crossing when the slowest stage runs on T"
        )
        out.print(_table(title, d.job_mix))
    if isinstance(world, Snapshot):
        out.print(f"epoch time: {world.time_s:g} s")


@app.command()
@handled
def schema(
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the schema here instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of the instance file, for editors to check files as people type."""
    document: dict[str, Any] = InstanceFile.model_json_schema()
    if out_file:
        write_json_atomic(out_file, document)
    else:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")


@app.command()
@handled
def generate(
    spec: Annotated[Path, typer.Argument(help="Instance file with a `workload:` generator spec.")],
    out_file: Annotated[Path, typer.Option("--out", help="Instance file to write (YAML/JSON).")],
    seed: Annotated[int | None, typer.Option(help="Override the spec's seed.", min=0)] = None,
    count: Annotated[int | None, typer.Option(help="Override the number of jobs.", min=1)] = None,
) -> None:
    """Draw a seeded workload into an instance file with explicit jobs (same seed, same file)."""
    document, drawn = expand_workload(spec, out_file, seed=seed, count=count)
    if out_file.suffix.lower() == ".json":
        write_text_atomic(out_file, json.dumps(document, indent=2, default=str) + "\n")
    else:
        write_yaml_atomic(out_file, document)
    out.print(f"wrote {out_file}: {drawn} jobs drawn", markup=False, highlight=False)


def main() -> None:
    """Console-script entry point."""
    app()
