"""``bace-opt bound``: lower bounds on average JCT and total cost over every schedule of an
instance, the cost–JCT frontier and the hindsight schedule (DESIGN §5b; its ``jobs.csv`` beside
``--out`` as ``F.hindsight-jobs.csv`` unless ``--hindsight-jobs`` says where) — one library call,
``bounds.bound_instance``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bace_opt.cli.app import app
from bace_opt.cli.commands import InstanceArg
from bace_opt.cli.console import err, handled, out
from bace_opt.errors import InputError
from bace_opt.io.read import load_instance
from bace_opt.io.write import check_output, write_json_atomic
from bace_opt.report.terminal import rows_table


@app.command()
@handled
def bound(
    instance_file: InstanceArg,
    out_file: Annotated[Path, typer.Option("--out", help="Write the bounds as JSON here.")],
    slot_s: Annotated[
        float,
        typer.Option(
            "--slot-s",
            help="Length of the time slots (s); they grow after the last arrival.",
            min=1.0,
        ),
    ] = 3600.0,
    time_limit: Annotated[
        float,
        typer.Option("--time-limit", help="Seconds to build and solve the LPs.", min=0.01),
    ] = 600.0,
    policies: Annotated[
        str | None,
        typer.Option(help="Comma-separated policies to simulate and put beside the bounds."),
    ] = None,
    lp_method: Annotated[
        str, typer.Option("--lp-method", help="HiGHS LP algorithm: auto, ipm, simplex or pdlp.")
    ] = "auto",
    hindsight_jobs: Annotated[
        Path | None,
        typer.Option(
            "--hindsight-jobs",
            help="Write the hindsight schedule's jobs.csv here (default: beside --out, "
            "F.hindsight-jobs.csv).",
        ),
    ] = None,
    no_hindsight: Annotated[
        bool, typer.Option("--no-hindsight", help="Skip the hindsight schedule.")
    ] = False,
    window_jobs: Annotated[
        int | None,
        typer.Option(
            "--window-jobs",
            help="Bound windows of this many consecutive arrivals apart and sum them (long "
            "streams; no frontier, no hindsight schedule).",
            min=1,
        ),
    ] = None,
) -> None:
    """Lower bounds on average JCT and total cost that no schedule beats, and the frontier."""
    from bace_opt.app.run import policy_list
    from bace_opt.bounds import BoundOptions, bound_instance

    options = BoundOptions(
        slot_s=slot_s,
        time_limit_s=time_limit,
        method=lp_method,
        hindsight=not no_hindsight and window_jobs is None,
    )
    problems = options.problems()
    names: list[str] = []
    try:
        names = policy_list(policies) if policies is not None else []
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)
    check_output(out_file, "--out")
    jobs_csv = None
    if options.hindsight:
        jobs_csv = hindsight_jobs or out_file.with_name(f"{out_file.stem}.hindsight-jobs.csv")
        check_output(jobs_csv, "--hindsight-jobs")
    instance = load_instance(instance_file)
    if window_jobs is not None:
        from bace_opt.bounds.windows import bound_by_windows

        result = bound_by_windows(instance, options, window_jobs, names)
    else:
        result = bound_instance(instance, options, names, jobs_csv)
    if result.message:
        err.print(result.message, markup=False)
    title = f"Bounds ({result.status}, {result.time_s:.1f} s; gaps: ÷ bound, ÷ frontier)"
    out.print(rows_table(title, result.rows()))
    write_json_atomic(out_file, result.to_json())
    out.print(f"wrote {out_file}", markup=False, highlight=False)
    if result.hindsight is not None and jobs_csv is not None:
        out.print(f"wrote {jobs_csv}", markup=False, highlight=False)
