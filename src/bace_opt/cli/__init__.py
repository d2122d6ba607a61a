"""The ``bace-opt`` command line: ``app`` (the typer application, global options) with its
commands in ``files`` (validate, info, schema, generate, example), ``commands`` (run, compare,
epoch, sweep, report) and ``bound`` (whole-run bounds), over ``console`` (consoles, exit
statuses, progress)."""

from bace_opt.cli import bound, commands, files
from bace_opt.cli.app import app, main

__all__ = ["app", "bound", "commands", "files", "main"]
