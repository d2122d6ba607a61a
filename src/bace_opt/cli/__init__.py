"""The ``bace-opt`` command line: ``app`` (the typer application, global options) with its
commands in ``files`` (validate, info, schema, generate, example) and ``commands`` (run, compare,
epoch, sweep, report), over ``console`` (consoles, exit statuses, progress)."""

from bace_opt.cli import commands, files
from bace_opt.cli.app import app, main

__all__ = ["app", "commands", "files", "main"]
