"""The MIP start of an exact epoch: among the greedy plan, a weight-per-GPU admission, the
capacity bound's job set placed greedily (``packed_plans``) and that set at its least-cost
assignment to regions (``assigned_plan``), the most priority weight, then the least epoch cost.

The MILP's first objective is the priority weight admitted, Σ w. BACE-Pipe tries jobs in
decreasing w, which is right for the order they should start in but not for how much weight fits:
a heavy job that takes a third of the GPUs can shut out four lighter ones worth more together.
Trying the jobs in decreasing weight per GPU (w / (S · g), the knapsack order), with the same
pathfinder and the paper-literal cheapest-path allocator, is the classic cure. Measured on
200x16x10-seed0 (docs/benchmarks.md, session 11): BACE-Pipe's plan admits 44.38 of an optimum of
53.99, the weight-per-GPU plan 53.95, in 0.17 s; HiGHS, started from the first, had not found
better after 36 s. The start only seeds the solver: what the MILP answers is still its own
proven or bounded optimum, and never less weight than either plan.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from bace_opt.core.placement import Block, Placement
from bace_opt.core.world import Instance, Job, Snapshot
from bace_opt.formulas import job as jobf
from bace_opt.formulas.placement import epoch_cost
from bace_opt.milp import SolveOptions, SolveResult, solve_epoch
from bace_opt.milp.assignment import (
    ASSIGNMENT_LIMIT_S,
    SPLIT_LIMIT_S,
    Option,
    Splitting,
    least_cost_assignment,
)
from bace_opt.milp.capacity import reach_floor, reaches
from bace_opt.milp.count_bound import count_bound
from bace_opt.milp.data import (
    admission_fixing,
    blocks_of,
    capacity_bound,
    cost_scale,
    epoch_data,
    job_room,
    snapshot_capacity_bound,
)
from bace_opt.milp.result import CostBound
from bace_opt.policies.bace import BacePipe
from bace_opt.policies.bace.allocator import CheapestPath
from bace_opt.policies.lineup import KeyedOrder
from bace_opt.resources.demand import Demand
from bace_opt.resources.feasibility import resource_problems
from bace_opt.resources.ledger import Ledger


def weight_per_gpu_plan(snapshot: Snapshot, weights: Mapping[str, float]) -> list[Placement]:
    """The greedy admission in decreasing ``weights[job] / GPUs`` (ties by name): bandwidth-aware,
    cheapest feasible path per job, backfilling, as ``bace-cheapest-path``."""

    def key(_: Instance, job: Job) -> tuple[float, str]:
        return -weights[job.name] / job.total_gpus, job.name

    # A new policy per epoch: the order's lines are keyed by the weights of this epoch.
    policy = BacePipe("weight-per-gpu", ordering=KeyedOrder(key), allocator=CheapestPath())
    return list(policy.decide(snapshot))


def packed_plans(snapshot: Snapshot, weights: Mapping[str, float]) -> list[list[Placement]]:
    """The capacity bound's job set (``milp.capacity``) placed by the same greedy, the set first:
    largest first (first-fit decreasing, the bin-packing order), by weight per GPU, and by
    decreasing energy S · g · D (the jobs a cheap region saves most on go first). When one
    admits the whole set, its weight is the bound: stage 1 is then proven without a solve."""
    chosen = set(snapshot_capacity_bound(snapshot, weights).chosen)
    if not chosen:
        return []

    def largest(_: Instance, job: Job) -> tuple[bool, int, str]:
        return job.name not in chosen, -job.total_gpus, job.name

    def densest(_: Instance, job: Job) -> tuple[bool, float, str]:
        return job.name not in chosen, -weights[job.name] / job.total_gpus, job.name

    def dearest(instance: Instance, job: Job) -> tuple[bool, float, str]:
        energy = job.total_gpus * jobf.reference_run_time_s(instance, job)
        return job.name not in chosen, -energy, job.name

    policies = [
        BacePipe("packed", ordering=KeyedOrder(key), allocator=CheapestPath())
        for key in (largest, densest, dearest)
    ]
    return [list(policy.decide(snapshot)) for policy in policies]


def assigned_plan(
    snapshot: Snapshot,
    weights: Mapping[str, float],
    limit_s: float = ASSIGNMENT_LIMIT_S + SPLIT_LIMIT_S,
) -> list[Placement]:
    """``_assigned``'s plan."""
    return _assigned(snapshot, weights, limit_s)[0]


def _assigned(
    snapshot: Snapshot, weights: Mapping[str, float], limit_s: float
) -> tuple[list[Placement], bool]:
    """The capacity bound's job set at the least total epoch cost with each job whole in one
    region, or split where the GPUs are too tightly packed for all to go whole
    (``milp.assignment``). A split job takes the assignment's stage counts, its regions in the
    cheapest order the links carry (``_split_placement``); a split job no order carries, then
    the rest of the waiting jobs, are placed by the cheapest-path greedy (largest first) into
    what is left. Empty when the assignment finds nothing within ``limit_s`` (HiGHS's time;
    each of the two assignments also within its own limit). And whether the whole-only
    assignment found one: every job of the set whole."""
    deadline = time.monotonic() + limit_s
    chosen = snapshot_capacity_bound(snapshot, weights).chosen
    instance, free = snapshot.instance, dict(snapshot.free_gpus)
    jobs = sorted((j for j in snapshot.waiting if j.name in chosen), key=lambda j: j.name)
    names = [r.name for r in instance.regions]
    options = [
        Option(
            k,
            names.index(r.name),
            epoch_cost(instance, job, _whole(job, r.name), snapshot.time_s),
            whole=job.total_gpus <= free.get(r.name, 0),
        )
        for k, job in enumerate(jobs)
        for r in jobf.usable_regions(instance, job)
        if job.gpus_per_stage <= free.get(r.name, 0)
    ]
    gpus = [j.total_gpus for j in jobs]
    room = [free.get(r, 0) for r in names]
    # Whole only first (a second at 200 jobs); the split-aware model is larger and slower.
    found = least_cost_assignment(options, gpus, room, limit_s=min(ASSIGNMENT_LIMIT_S, limit_s))
    left = deadline - time.monotonic()
    all_whole = found is not None
    if found is None and left > 0:
        splitting = _splitting(snapshot, jobs, names)
        found = least_cost_assignment(options, gpus, room, splitting, min(SPLIT_LIMIT_S, left))
    if not jobs or found is None:
        return [], all_whole
    whole = {jobs[k].name: names[region] for k, region in found.whole.items()}
    split = {
        jobs[k].name: {names[r]: n for r, n in counts.items()} for k, counts in found.split.items()
    }
    return placed_plan(snapshot, whole, split), all_whole


def placed_plan(
    snapshot: Snapshot, whole: Mapping[str, str], split: Mapping[str, Mapping[str, int]]
) -> list[Placement]:
    """Each job of ``whole`` in its region, each of ``split`` with those stage counts in the
    cheapest order the links carry (``_split_placement``; largest job first); a split job no
    order carries, then the rest of the waiting jobs, placed by the cheapest-path greedy
    (largest first) into what is left."""
    jobs = {j.name: j for j in snapshot.waiting}
    ledger = Ledger.of(snapshot)
    plan = []
    for name, region in whole.items():
        plan.append(_whole(jobs[name], region))
        ledger.take(ledger.demand(jobs[name], plan[-1]))
    for name in sorted(split, key=lambda name: (-jobs[name].total_gpus, name)):
        placement = _split_placement(snapshot, jobs[name], split[name], ledger)
        if placement is not None:
            plan.append(placement)
            ledger.take(ledger.demand(jobs[name], placement))
    placed = {p.job for p in plan}

    def largest(_: Instance, job: Job) -> tuple[bool, int, str]:
        return job.name not in split, -job.total_gpus, job.name

    rest = replace(
        snapshot,
        waiting=tuple(j for j in snapshot.waiting if j.name not in placed),
        free_gpus=dict(ledger.free),
        residual_gbps=dict(ledger.residual),
    )
    greedy = BacePipe("assigned", ordering=KeyedOrder(largest), allocator=CheapestPath())
    return plan + list(greedy.decide(rest))


COUNT_LIMIT_S = 10.0
"""Seconds HiGHS may spend on the stage-count relaxation (``milp.count_bound``) for the start.
On 100x16x10 and 200x16x10 it proved its optimum (at ``COUNT_GAP``) within 5 s on three seeds
of six and in 11 s on a fourth (docs/benchmarks.md, session 16)."""

COUNT_LEAST_S = 1.0
"""The relaxation is not started with less of the start's time left: building it takes
0.15–0.3 s at 60–200 jobs, and in the rest HiGHS would find nothing."""

COUNT_GAP = 1e-3
"""Relative gap at which the relaxation stops: its solution only seeds the start."""


def counted_plan(
    snapshot: Snapshot, weights: Mapping[str, float], limit_s: float = COUNT_LIMIT_S
) -> tuple[list[Placement], CostBound | None]:
    """The stage-count relaxation's solution for the capacity bound's weight, placed
    (``placed_plan``), and the cost bound it proves; ([], None) where it has none (a negative
    rate, or no packing of that weight)."""
    deadline = time.monotonic() + limit_s
    data = epoch_data(snapshot, dict(weights))
    capacity = capacity_bound(data).weight
    floor = reach_floor(capacity)  # its bound: for every plan that reaches the capacity bound
    scale = cost_scale(data)
    fixed = admission_fixing(data, floor)
    left = deadline - time.monotonic()
    counted = count_bound(data, scale, floor, fixed, left, threads=1, gap=COUNT_GAP)
    if counted is None:
        return [], None
    bound = CostBound(floor, counted.bound / scale)
    if not counted.stages:
        return [], bound
    whole = {name: next(iter(c)) for name, c in counted.stages.items() if len(c) == 1}
    split = {name: c for name, c in counted.stages.items() if len(c) > 1}
    return placed_plan(snapshot, whole, split), bound


def _splitting(snapshot: Snapshot, jobs: Sequence[Job], names: Sequence[str]) -> Splitting:
    """How each job may split: its stages and most blocks, and per pair of its usable regions
    that the links' residual bandwidth can carry one crossing of it between, the Gbit/s that
    crossing loads on each link direction (at the pair's slowest GPU: a longer path's slower
    stage only needs less)."""
    instance, residual = snapshot.instance, snapshot.residual_gbps
    crossings: dict[int, dict[tuple[int, int], dict[Hashable, float]]] = {}
    for k, job in enumerate(jobs):
        usable = sorted(names.index(r.name) for r in jobf.usable_regions(instance, job))
        for a, b in itertools.combinations(usable, 2):
            crossing = Placement(job.name, (Block(names[a], 1), Block(names[b], 1)))
            demand = Demand.of(instance, job, crossing)
            if demand.uses and not resource_problems(demand, demand.gpus, residual):
                load: dict[Hashable, float] = {
                    d: times * demand.need_gbps for d, times in demand.uses.items()
                }
                crossings.setdefault(k, {})[a, b] = load
    shapes = [(j.stages, blocks_of(snapshot, j, job_room(snapshot, j))) for j in jobs]
    links: dict[Hashable, float] = {d: gbps for d, gbps in residual.items()}
    return Splitting(shapes, crossings, links)


def _split_placement(
    snapshot: Snapshot, job: Job, counts: Mapping[str, int], ledger: Ledger
) -> Placement | None:
    """``job`` with ``counts[r]`` stages in each region r, the regions in the cheapest order
    whose crossings the links' residual bandwidth carries (ties: the first order in name order);
    None when no order fits. A split has at most ``max_regions`` blocks, so at most 4! orders."""
    best: tuple[float, Placement] | None = None
    for order in itertools.permutations(sorted(counts)):
        placement = Placement(job.name, tuple(Block(r, counts[r]) for r in order))
        problems, _ = ledger.problems(job, placement, check_bandwidth=True)
        if problems:
            continue
        cost = epoch_cost(snapshot.instance, job, placement, snapshot.time_s)
        if best is None or cost < best[0]:
            best = cost, placement
    return None if best is None else best[1]


def _whole(job: Job, region: str) -> Placement:
    return Placement(job.name, (Block(region, job.stages),))


def mip_start(
    snapshot: Snapshot,
    weights: Mapping[str, float],
    greedy: Mapping[str, Placement],
    limit_s: float = ASSIGNMENT_LIMIT_S + SPLIT_LIMIT_S + COUNT_LIMIT_S,
) -> dict[str, Placement]:
    """The start admitting the most weight among ``greedy``, the weight-per-GPU plan, the
    packed plans, the assigned plan and the counted plan (their HiGHS time within ``limit_s``);
    among those admitting it (up to rounding: the same weights summed in another order must not
    decide), the cheapest — with the capacity bound met, the start is where the cost stage
    begins. On a tie in both, the earlier in that list (``greedy`` first)."""
    return start_and_bound(snapshot, weights, greedy, limit_s)[0]


def start_and_bound(
    snapshot: Snapshot,
    weights: Mapping[str, float],
    greedy: Mapping[str, Placement],
    limit_s: float = ASSIGNMENT_LIMIT_S + SPLIT_LIMIT_S + COUNT_LIMIT_S,
) -> tuple[dict[str, Placement], CostBound | None]:
    """``mip_start``'s start, and the cost bound the counted plan's relaxation proved. The
    relaxation runs only where not every job of the capacity bound's set fits whole."""
    deadline = time.monotonic() + limit_s
    assigned, all_whole = _assigned(snapshot, weights, limit_s)
    plans = [weight_per_gpu_plan(snapshot, weights), *packed_plans(snapshot, weights), assigned]
    # Where every job of the set fits whole, the cost stage's LP is all but integral and the
    # relaxation, whose gain is in packing, adds little (docs/benchmarks.md, session 16).
    left = min(COUNT_LIMIT_S, deadline - time.monotonic())
    skip = all_whole or left < COUNT_LEAST_S
    counted, bound = ([], None) if skip else counted_plan(snapshot, weights, left)
    candidates = [dict(greedy)] + [{p.job: p for p in plan} for plan in [*plans, counted]]
    admitted = [sum(weights[name] for name in plan) for plan in candidates]
    most = max(admitted)
    best = [c for c, w in zip(candidates, admitted, strict=True) if reaches(w, most)]
    return min(best, key=lambda plan: _cost(snapshot, plan)), bound


START_SHARE = 0.4
"""The most of an epoch's time limit the start's assignments may take: at 10 s the MILP keeps
6 s for its build, the capacity bound, the cost stage's LP bound and its search."""


def solve_from_start(
    snapshot: Snapshot,
    weights: dict[str, float],
    greedy: Mapping[str, Placement],
    options: SolveOptions,
    write_lp: Path | None = None,
) -> SolveResult:
    """``solve_epoch`` from ``mip_start``, the start's time inside ``options.time_limit_s`` (the
    limit is a wall-clock promise for the whole decision; ``start_s`` says what the start took)."""
    started = time.monotonic()
    start, bound = start_and_bound(snapshot, weights, greedy, START_SHARE * options.time_limit_s)
    start_s = time.monotonic() - started
    result = solve_epoch(snapshot, weights, options, start, write_lp, started, bound)
    return replace(result, start_s=start_s)


def _cost(snapshot: Snapshot, plan: Mapping[str, Placement]) -> float:
    """The plan's epoch cost in $ (DESIGN §3, as the MILP and the checker count it)."""
    instance, jobs = snapshot.instance, {j.name: j for j in snapshot.waiting}
    return sum(
        epoch_cost(instance, jobs[name], placement, snapshot.time_s)
        for name, placement in plan.items()
    )
