"""The ``bace-opt`` command line: ``commands`` (one typer command per library call) over
``console`` (consoles, exit statuses, progress)."""

from bace_opt.cli.commands import app, main

__all__ = ["app", "main"]
