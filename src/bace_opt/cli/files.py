"""Commands about files: ``validate``, ``info``, ``schema``, ``generate`` and ``example`` (the
shipped instances copied out). They start quickly: no simulator, solver or plotting imports."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from bace_opt.app.describe import describe
from bace_opt.app.generate import generate_instance
from bace_opt.cli.app import app
from bace_opt.cli.console import handled, out
from bace_opt.core.world import Snapshot
from bace_opt.io.read import load_any
from bace_opt.io.schema import InstanceFile
from bace_opt.io.write import check_output, write_json_atomic
from bace_opt.report.terminal import rows_table

FileArg = Annotated[
    Path, typer.Argument(help="Instance or snapshot file (YAML or JSON).", show_default=False)
]


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
    out.print(rows_table("Regions (price in $/kWh)", d.regions))
    out.print(rows_table("Link directions", d.links))
    if d.job_mix:
        title = (
            "Job mix: S stages × g GPUs, M micro-batches of b × L tokens; "
            "need@T = Gbit/s per crossing when the slowest stage runs on T"
        )
        out.print(rows_table(title, d.job_mix))
    if d.running:
        out.print(rows_table("Running jobs (soonest expected end first; times in h)", d.running))
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
    if out_file is not None:
        check_output(out_file, "--out")
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
    check_output(out_file, "--out")
    drawn = generate_instance(spec, out_file, seed=seed, count=count)
    out.print(f"wrote {out_file}: {drawn} jobs drawn", markup=False, highlight=False)


@app.command()
@handled
def example(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to copy the examples into.")
    ] = Path("bace-opt-examples"),
) -> None:
    """Copy the shipped example instances (and the price series and traces they use) to DIR."""
    from bace_opt.app.example import copy_examples

    names = copy_examples(out_dir)
    out.print(f"wrote {out_dir}: {', '.join(names)}", markup=False, highlight=False)
    out.print(
        f"try: bace-opt compare {out_dir / 'geo6.yaml'} --policies bace,sjf,cost-first "
        "--out results",
        markup=False,
        highlight=False,
    )
