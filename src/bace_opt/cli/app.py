"""The ``bace-opt`` typer application and its global options (``--debug``, ``--data-root``,
``--version``); the commands register on it from ``files`` and ``commands``."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from bace_opt.cli.console import err, out, state
from bace_opt.io.files import DATA_ROOT_ENV

app = typer.Typer(
    name="bace-opt",
    help="Schedule pipeline-parallel LLM training across cloud regions, and prove how good it is.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(asked: bool) -> None:
    if asked:
        from bace_opt.report.provenance import version_text

        out.print(version_text(), markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print bace-opt's version and those of Python and the solver, and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
    data_root: Annotated[
        Path | None,
        typer.Option(
            "--data-root",
            help="Let instance files name data files (price series, traces) anywhere under DIR; "
            "by default only under the instance file's own folder.",
            metavar="DIR",
        ),
    ] = None,
) -> None:
    state["debug"] = debug
    if data_root is not None:
        if not data_root.is_dir():
            err.print(f"--data-root: {data_root} is not a folder", markup=False)
            raise typer.Exit(2)
        os.environ[DATA_ROOT_ENV] = str(data_root.resolve())  # sweep workers inherit it
    logging.basicConfig(level=logging.INFO if debug else logging.WARNING, format="%(message)s")
    if debug:
        logging.getLogger("bace_opt").setLevel(logging.DEBUG)


def main() -> None:
    """Console-script entry point."""
    app()
