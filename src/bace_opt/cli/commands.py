"""The commands that do the work (DESIGN §5): ``run``, ``compare``, ``epoch``, ``sweep`` and
``report`` — a thin typer layer, one library call per command (exit statuses: ``console``).

The simulation, MILP and sweep layers (matplotlib, Pyomo, SciPy, Dask) are imported inside the
commands that use them, so ``validate``, ``info``, ``schema`` and ``generate`` (``files``) start in
about a second instead of 2.6 s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bace_opt.cli.app import app
from bace_opt.cli.console import CORES, err, handled, out, progress
from bace_opt.errors import InputError
from bace_opt.io.read import load_instance, load_snapshot
from bace_opt.io.write import check_output, write_json_atomic
from bace_opt.policies import policy_entry, policy_names
from bace_opt.policies.registry import MILP_TIME_LIMIT_S
from bace_opt.report.terminal import rows_table, summary_table

InstanceArg = Annotated[
    Path, typer.Argument(help="Instance file (YAML or JSON).", show_default=False)
]
OutOption = Annotated[Path, typer.Option("--out", help="Folder for the results.")]
SeedOption = Annotated[int, typer.Option(help="Seed of seeded policies (e.g. random).", min=0)]
EpochOption = Annotated[
    float | None,
    typer.Option(
        "--epoch-s",
        help="Also decide every this many seconds (default: the instance's).",
        min=1.0,
    ),
]
TimingOption = Annotated[
    bool,
    typer.Option(
        "--timing/--no-timing",
        help="Record wall-clock and policy time (--no-timing: byte-identical outputs).",
    ),
]
WeightsOption = Annotated[
    str | None,
    typer.Option(help="Priority weights of bace/milp, e.g. aging=0.25,length=1,bandwidth=1."),
]
LookaheadOption = Annotated[
    str | None,
    typer.Option(
        help="Options of the lookahead policy, e.g. value=100,guard_h=24,horizon_h=24,slot_s=900."
    ),
]
MilpLimitOption = Annotated[
    float, typer.Option("--milp-time-limit", help="Per-epoch seconds of the milp policy.", min=0.01)
]
DumpOption = Annotated[
    Path | None,
    typer.Option("--dump-snapshots", help="Write every epoch's snapshot file into this folder."),
]


def _check_run_outputs(out_dir: Path, dump_snapshots: Path | None) -> None:
    check_output(out_dir, "--out", folder=True)
    if dump_snapshots is not None:
        check_output(dump_snapshots, "--dump-snapshots", folder=True)


@app.command()
@handled
def run(
    instance_file: InstanceArg,
    policy: Annotated[str, typer.Option(help=f"One of: {', '.join(policy_names())}.")],
    out_dir: OutOption,
    seed: SeedOption = 0,
    epoch_s: EpochOption = None,
    timing: TimingOption = True,
    dump_snapshots: DumpOption = None,
    weights: WeightsOption = None,
    milp_time_limit: MilpLimitOption = MILP_TIME_LIMIT_S,
    lookahead: LookaheadOption = None,
) -> None:
    """Simulate one policy: DIR/jobs.csv, DIR/summary.json and DIR/timeline.csv."""
    from bace_opt.app.run import RunSettings, policy_options, run_policy

    policy_entry(policy)
    _check_run_outputs(out_dir, dump_snapshots)
    instance = load_instance(instance_file)
    options = policy_options(seed, weights, milp_time_limit, lookahead)
    with progress(policy) as update:
        settings = RunSettings(seed, epoch_s, timing, dump_snapshots, update, options)
        _, summary = run_policy(instance, policy, out_dir, settings)
    out.print(summary_table([summary]))
    out.print(
        f"wrote {out_dir}/jobs.csv, summary.json, timeline.csv", markup=False, highlight=False
    )


@app.command()
@handled
def compare(
    instance_file: InstanceArg,
    policies: Annotated[str, typer.Option(help="Comma-separated policy names.")],
    out_dir: OutOption,
    seed: SeedOption = 0,
    epoch_s: EpochOption = None,
    timing: TimingOption = True,
    dump_snapshots: DumpOption = None,
    weights: WeightsOption = None,
    milp_time_limit: MilpLimitOption = MILP_TIME_LIMIT_S,
    lookahead: LookaheadOption = None,
    figures: Annotated[bool, typer.Option("--plots/--no-plots", help="Write PNG plots.")] = True,
    bound_file: Annotated[
        Path | None,
        typer.Option(
            "--bound",
            help="A `bace-opt bound` JSON of this instance: each policy's gaps to it beside "
            "its results.",
        ),
    ] = None,
) -> None:
    """The same world for each policy: a side-by-side table, DIR/summary.csv and PNG plots."""
    from bace_opt.app.run import RunSettings, compare_policies, policy_list, policy_options

    names = policy_list(policies)
    _check_run_outputs(out_dir, dump_snapshots)
    instance = load_instance(instance_file)
    bound = None
    if bound_file is not None:  # checked before any run: a bound of another world is refused
        from bace_opt.bounds.read import read_bound

        bound = read_bound(bound_file, instance)
    options = policy_options(seed, weights, milp_time_limit, lookahead)
    with progress("compare") as update:
        settings = RunSettings(seed, epoch_s, timing, dump_snapshots, update, options)
        summaries = compare_policies(instance, names, out_dir, settings, figures, bound)
    out.print(summary_table(summaries, gaps=bound is not None))
    if bound is not None:
        out.print(rows_table(f"Bounds from {bound_file} ({bound.status})", bound.rows()))
    out.print(
        f"wrote {out_dir}/summary.csv" + (" and plots" if figures else ""),
        markup=False,
        highlight=False,
    )


@app.command()
@handled
def epoch(
    snapshot_file: Annotated[Path, typer.Argument(help="Snapshot file (YAML or JSON).")],
    solver: Annotated[str, typer.Option(help="milp, greedy or both.")] = "both",
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="MILP seconds.", min=0.01)
    ] = 30.0,
    gap: Annotated[
        float, typer.Option(help="MILP relative gap in [0, 1) (0: proven optimum).", min=0.0)
    ] = 0.0,
    threads: Annotated[
        int | None, typer.Option(help="Solver threads (at most the cores).", min=1, max=CORES)
    ] = None,
    backend: Annotated[
        str, typer.Option(help="appsi_highs, highs_direct, scip or a Pyomo solver name.")
    ] = "appsi_highs",
    no_warm_start: Annotated[
        bool, typer.Option("--no-warm-start", help="Do not pass the greedy plan as MIP start.")
    ] = False,
    write_lp: Annotated[
        Path | None, typer.Option("--write-lp", help="Write the (cost-stage) model here.")
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the result as JSON.")
    ] = None,
    greedy: Annotated[
        str,
        typer.Option(
            "--greedy", help="The heuristic policy compared with (and warm-starting) the MILP."
        ),
    ] = "bace-cheapest-path",
) -> None:
    """Solve one epoch: a greedy policy's decision, the exact MILP, or both side by side."""
    from bace_opt.app.epoch import SOLVERS, greedy_problem, solve_snapshot
    from bace_opt.milp import SolveOptions

    if solver not in SOLVERS:
        raise InputError([f"--solver: must be one of {', '.join(SOLVERS)}, not '{solver}'"])
    try:
        problem = greedy_problem(greedy)
    except InputError as exc:
        raise InputError([f"--greedy: {p}" for p in exc.problems]) from None
    if problem:
        raise InputError([f"--greedy: {problem}"])
    if not 0 <= gap < 1:
        raise InputError([f"--gap: a relative gap in [0, 1), not {gap:g}"])
    for path, option in ((out_file, "--out"), (write_lp, "--write-lp")):
        if path is not None:
            check_output(path, option)
    if solver != "greedy":
        from bace_opt.milp.backends import backend_problem

        problem = backend_problem(backend)
        if problem:
            raise InputError([f"--backend: {problem}"])
    snapshot = load_snapshot(snapshot_file)
    options = SolveOptions(backend, time_limit, gap, threads, not no_warm_start)
    report = solve_snapshot(snapshot, solver, options, write_lp, greedy)
    for _, r in report.solvers():
        if r.fallback:
            err.print(f"MILP {r.status}: {r.message}; reporting the greedy plan", markup=False)
    title = f"Epoch at t={snapshot.time_s:g} s, {len(snapshot.waiting)} waiting"
    out.print(rows_table(title, report.rows()))
    if out_file is not None:
        write_json_atomic(out_file, report.to_json())


@app.command()
@handled
def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file (YAML or JSON).")],
    out_dir: OutOption,
    workers: Annotated[
        int,
        typer.Option(help="Local worker processes (1: in this process; at most the cores).", min=1),
    ] = 2,
    oversubscribe: Annotated[
        bool, typer.Option("--oversubscribe", help="Allow more workers than cores.")
    ] = False,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (tcp://host:8786); runs the cells there."),
    ] = None,
) -> None:
    """Run every cell of a sweep not yet finished in DIR: DIR/cells/*.json, DIR/results.parquet,
    DIR/results.csv and DIR/jobs.parquet. A rerun resumes; failed cells are recorded and tried
    again."""
    from bace_opt.sweeps import load_sweep, run_sweep

    check_output(out_dir, "--out", folder=True)
    if workers > CORES and not oversubscribe:
        err.print(f"--workers: {workers} capped at the {CORES} cores", markup=False)
        workers = CORES
    spec = load_sweep(sweep_file)
    with progress(f"sweep {spec.spec.name}") as update:
        outcome = run_sweep(spec, out_dir, workers, scheduler, update)
    out.print(
        f"{outcome.cells} cells: {outcome.skipped} already done, {outcome.ran} run now, "
        f"{outcome.failed} failed; wrote {out_dir}/results.parquet and results.csv",
        markup=False,
        highlight=False,
    )
    if outcome.failed:
        table = outcome.table
        for _, row in table[table.status != "ok"].head(10).iterrows():
            err.print(f"failed: {row['key'][:12]}: {row['error']}", markup=False)
        raise typer.Exit(1)


@app.command(name="report")
@handled
def report_command(
    sweep_dir: Annotated[Path, typer.Argument(help="A sweep's output folder.")],
) -> None:
    """Tables (mean and 95 % CI over seeds), PNG plots and one HTML page from a sweep's results."""
    from bace_opt.sweeps import report

    page = report(sweep_dir)
    out.print(f"wrote {page} and its tables and plots", markup=False, highlight=False)
