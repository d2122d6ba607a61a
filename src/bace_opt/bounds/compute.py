"""``bace-opt bound``'s work: build the relaxation, solve it for average JCT, for cost and along
the frontier, simulate the policies asked for and put each beside the bounds.

Order of the solves: JCT (then again with the completion caps that JCT optimum allows, for a
tighter safe bound) by interior point, cost by the dual simplex, then the frontier from the
loosest budget down, each warm from the one before. The time limit covers building and solving;
the policies' simulations and the hindsight schedule's are not counted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bace_opt.bounds.data import RelaxationData, relaxation_data
from bace_opt.bounds.frontier import Anchors, FrontierPoint, apply_caps, grid, solve_points
from bace_opt.bounds.relaxation import build_relaxation, completion_at, mean_arrival_s
from bace_opt.bounds.result import BoundResult, BoundStatus, PolicyGap
from bace_opt.bounds.solve import METHODS, LpSolver, LpStatus, Session
from bace_opt.core.world import Instance
from bace_opt.errors import InputError

log = logging.getLogger(__name__)

CAP_ROOM = 1e-6
"""Relative room above the JCT LP's optimum for the completion caps of its second solve."""
WIDE = 1e-3
"""When the cost LP's solution is within this share of the JCT bound (the cheapest schedule is also
about the fastest), the frontier's grid reaches to twice the JCT bound or the slowest policy
instead, so that it still has its points (each then the total cost bound)."""
CLOSE_ENOUGH = 1e-4
"""The second JCT solve (a smaller box, hence a tighter safe bound) is skipped when the first's
safe bound is within this share of the average JCT of its optimum."""


@dataclass(frozen=True)
class BoundOptions:
    slot_s: float = 3600.0
    """Length of the fine slots (s)."""
    time_limit_s: float = 600.0
    """Seconds for building and solving the relaxation, all solves together."""
    frontier_points: int = 10
    """Budgets on the frontier's grid (the policies' JCTs come on top)."""
    hindsight: bool = True
    """Build the hindsight schedule from the JCT LP's solution (``bounds.hindsight``)."""
    method: str = "auto"
    """HiGHS's LP algorithm: ``auto`` (simplex for the JCT and cost LPs, interior point for the
    frontier), ``ipm`` (no crossover), ``simplex`` or ``pdlp``."""

    def problems(self) -> list[str]:
        out = []
        if not self.slot_s > 0:
            out.append(f"--slot-s: must be > 0, not {self.slot_s:g}")
        if not self.time_limit_s > 0:
            out.append(f"--time-limit: must be > 0, not {self.time_limit_s:g}")
        if self.frontier_points < 2:
            out.append(f"frontier points: at least 2, not {self.frontier_points}")
        if self.method != "auto" and self.method not in METHODS:
            choices = ", ".join(["auto", *METHODS])
            out.append(f"--lp-method: one of {choices}, not '{self.method}'")
        return out


def unrunnable(data: RelaxationData) -> list[str]:
    return [
        f"jobs[{i}] ({jp.job.name}): no placement can ever run it (no region, or no path of "
        "regions joined by routes both ways, holds its stages)"
        for i, jp in enumerate(data.jobs)
        if not jp.configs
    ]


def jct_bound(
    run: Session, data: RelaxationData, trivial: float
) -> tuple[float, float | None, tuple[float, ...] | None]:
    """The safe JCT bound, the JCT LP's optimum and its solution's shares (None if it did not
    finish)."""
    offset = mean_arrival_s(data)
    first = run.solve("jct", "jct", cold=True)
    if first is None or first.primal is None:
        bound = None if first is None or first.bound is None else first.bound - offset
        return max(trivial, bound if bound is not None else trivial), None, None
    optimum = first.primal - offset
    if first.bound is not None and first.primal - first.bound <= CLOSE_ENOUGH * abs(optimum):
        return max(trivial, first.bound - offset), optimum, first.shares
    apply_caps(run.solver, data, optimum * (1 + CAP_ROOM))
    second = run.solve("jct", "jct")
    bounds = [b.bound for b in (first, second) if b is not None and b.bound is not None]
    apply_caps(run.solver, data, data.jct_cap_s)
    return max([trivial, *(b - offset for b in bounds)]), optimum, first.shares


def _hindsight(
    data: RelaxationData, shares: tuple[float, ...] | None, csv_path: Path | None
) -> tuple[dict[str, Any] | None, str | None]:
    """The hindsight block (its ``jobs.csv`` written to ``csv_path`` when given), or why not."""
    from bace_opt.bounds.hindsight import hindsight_schedule
    from bace_opt.io.write import write_text_atomic

    if shares is None:
        return None, "no hindsight schedule: the JCT LP gave no solution"
    tic = time.perf_counter()
    found = hindsight_schedule(data, shares)
    if found is None:
        return None, "no hindsight schedule: no variant ran every job"
    if csv_path is not None:
        write_text_atomic(csv_path, found.csv)
    block = found.to_json(str(csv_path) if csv_path is not None else None)
    block["time_s"] = time.perf_counter() - tic
    return block, None


def cost_bound(run: Session, data: RelaxationData) -> tuple[float | None, float | None]:
    """The safe total cost bound and the average JCT of the cost LP's solution."""
    answer = run.solve("cost", "cost", cold=True)
    if answer is None or answer.bound is None:
        return None, None
    reached = None
    if answer.shares is not None:
        done = completion_at(data, list(answer.shares))
        reached = sum(done) / len(done) - mean_arrival_s(data)
    return answer.bound, reached


def simulate_policies(instance: Instance, names: Sequence[str]) -> list[dict[str, Any]]:
    """Each policy's ``summary.json`` content, default options, no timing fields."""
    from bace_opt.policies.registry import PolicyOptions
    from bace_opt.report.files import simulated

    return [simulated(instance, name, PolicyOptions(), timing=False)[1] for name in names]


def bound_provenance(
    instance: Instance, options: BoundOptions, names: Sequence[str]
) -> dict[str, Any]:
    from bace_opt.policies.registry import PolicyOptions
    from bace_opt.report import provenance as made

    return made.provenance(
        instance=made.source(instance),
        bound={
            "slot_s": options.slot_s,
            "time_limit_s": options.time_limit_s,
            "frontier_points": options.frontier_points,
            "lp_method": options.method,
            "hindsight": options.hindsight,
        },
        policies=[made.policy(n, PolicyOptions(), instance.epoch_s) for n in names] or None,
        solver=made.solver("appsi_highs"),
    )


def bound_instance(
    instance: Instance,
    options: BoundOptions | None = None,
    policies: Sequence[str] = (),
    hindsight_csv: Path | None = None,
) -> BoundResult:
    """Lower bounds on average JCT and total cost over every schedule of ``instance`` that runs
    every job, the cost–JCT frontier, each named policy's gaps to them, and (unless
    ``options.hindsight`` is off) the hindsight schedule, its ``jobs.csv`` written to
    ``hindsight_csv`` when given."""
    options = options or BoundOptions()
    problems = options.problems()
    if problems:
        raise InputError(problems)
    started = time.monotonic()
    tic = time.perf_counter()
    data = relaxation_data(instance, options.slot_s)
    problems = unrunnable(data)
    if problems:
        raise InputError(problems)
    model = build_relaxation(data)
    build_s = time.perf_counter() - tic
    solver = LpSolver(model)
    run = Session(solver, started + options.time_limit_s, options.method)
    trivial = sum(jp.min_run_s for jp in data.jobs) / data.n_jobs
    jct_lower, jct_optimum, jct_shares = jct_bound(run, data, trivial)
    cost_lower, reached = (None, None)
    messages = []
    if data.cost_bounded:
        cost_lower, reached = cost_bound(run, data)
    else:
        messages.append(
            "no cost bound: a region's price stays negative forever, and this relaxation cannot "
            "bound how long GPUs are held there"
        )
    simulating = time.monotonic()
    summaries = simulate_policies(instance, policies)
    hindsight = None
    if options.hindsight:
        hindsight, why = _hindsight(data, jct_shares, hindsight_csv)
        if why is not None:
            messages.append(why)
    run.deadline += time.monotonic() - simulating  # the time limit is for the LPs
    frontier: list[FrontierPoint] = []
    if cost_lower is not None and jct_optimum is not None and reached is not None:
        policy_jcts = [s["avg_jct_s"] for s in summaries if s["jobs_never_ran"] == 0]
        upper = reached if reached > jct_lower * (1 + WIDE) else max([2 * jct_lower, *policy_jcts])
        budgets = grid(jct_lower, upper, options.frontier_points) + policy_jcts
        anchors = Anchors(jct_lower, jct_optimum, cost_lower, reached)
        frontier = solve_points(run, data, anchors, budgets)
        run.stopped |= any(p.status == LpStatus.TIME_LIMIT for p in frontier)
    points = [(p.avg_jct_s, p.cost_lower_usd) for p in frontier]
    gaps = tuple(
        PolicyGap.of(name, s, points, jct_lower, cost_lower)
        for name, s in zip(policies, summaries, strict=True)
    )
    for g in gaps:
        if g.comparable and g.avg_jct_s is not None and g.avg_jct_s < jct_lower * (1 - 1e-9):
            messages.append(f"{g.name} beats the JCT bound: a bug in the bound or the simulator")
    if run.stopped:
        messages.append("stopped at the time limit: the numbers given are valid, some are missing")
    size = solver.size()
    relaxation = {
        "rows": size.rows,
        "columns": size.columns,
        "nonzeros": size.nonzeros,
        "jct_optimum_s": jct_optimum,
        "cost_reached_at_avg_jct_s": reached,
        "slots": data.grid.count,
        "fine_slots": data.grid.fine,
        "start_s": data.grid.starts[0],
        "main_slots": data.grid.main,
        "main_end_s": data.grid.starts[data.grid.main],
        "overflow_start_s": data.grid.starts[data.grid.overflow],
        "paths": sum(jp.paths for jp in data.jobs),
        "paths_kept": sum(jp.kept for jp in data.jobs),
        "configurations": sum(len(jp.configs) for jp in data.jobs),
        "build_s": build_s,
        "handover_s": solver.handover_s,
        "solve_s": run.solve_s,
        "solves": run.solves,
    }
    return BoundResult(
        avg_jct_lower_s=jct_lower,
        total_cost_lower_usd=cost_lower,
        frontier=tuple(frontier),
        status=BoundStatus.TIME_LIMIT if run.stopped else BoundStatus.OPTIMAL,
        slot_s=options.slot_s,
        time_s=time.monotonic() - started,
        message="; ".join(messages),
        trivial_jct_lower_s=trivial,
        relaxation=relaxation,
        policies=gaps,
        provenance=bound_provenance(instance, options, policies),
        hindsight=hindsight,
    )
