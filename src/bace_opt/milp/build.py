"""The epoch MILP (DESIGN §3) as a Pyomo model: one ``add_*`` function per constraint family.

Sets (UPPERCASE): ``JOBS``; ``BLOCK_REGION`` (j, k, r): block k of job j may sit in region r;
``TRANSITION`` (j, k, a, b): the boundary after block k goes from region a to region b;
``TYPE_CHOICE`` (j, t): GPU type t may be job j's slowest (only jobs with more than one candidate);
``LOAD`` (j, u, v): job j's load on link direction u→v (those jobs only).

Variables: ``x[j]`` admit; ``y[j,k,r]`` block k in region r; ``n[j,k,r]`` its stages;
``z[j,k,a,b]`` transition; ``theta[j,t]`` slowest type; ``E[j,t]`` stage-cost rate g·Σ n·rate when t
is the slowest type (else 0); ``rho[j]`` the same rate for a job with one candidate type that may
cross (``RATED``); ``P[j,k]`` cost added by the latency of transition k; ``L[j,d]`` link load.
The epoch cost of a placement, ``g · Σ_blocks n · rate_r · D`` with
``D = D₀(t*) + Σ_transitions I·lat``, is a product of path and placement; it is linearized exactly:
binary × bounded continuous by big-M, which is exact because the objective pushes E, P and L down
onto their lower bounds.

Objectives: ``admission`` = Σ w_j x_j (maximize, first), then ``cost`` = Σ_j cost_j (minimize)
under ``admission_floor``: Σ w_j x_j ≥ floor — the lexicographic order as two solves. The cost
families (``COST_FAMILIES``) only bound E, P and rho from below, which nothing bounds from above,
so they cut no admission: stage 1 is solved without them (a third of the rows and nine tenths of
the nonzeros at 200 jobs × 10 regions), stage 2 with them.
"""

from __future__ import annotations

from collections.abc import Callable

import pyomo.environ as pyo

from bace_opt.core.network import Direction
from bace_opt.milp.cost import COST_FAMILIES, add_epoch_cost, set_cost_families
from bace_opt.milp.data import (
    EpochData,
    Pair,
    cost_scale,
    mirror_symmetric,
    rated,
    single_type,
)

__all__ = ["COST_FAMILIES", "LINK_MARGIN_GBPS", "build_model", "set_cost_families"]

LINK_MARGIN_GBPS = 1e-7
"""Kept free on every link direction so a solution within the solver's feasibility tolerance is
still feasible when checked exactly (the simulator's check has no tolerance to spare)."""


def add_sets(m: pyo.ConcreteModel, data: EpochData) -> None:
    jobs = [j for j in data.jobs if j.blocks > 0]
    m.JOBS = pyo.Set(initialize=[j.name for j in jobs], ordered=True)
    m.BLOCK_REGION = pyo.Set(
        dimen=3,
        ordered=True,
        initialize=[
            (j.name, k, r) for j in jobs for k in range(1, j.blocks + 1) for r in j.regions
        ],
    )
    m.TRANSITION = pyo.Set(
        dimen=4,
        ordered=True,
        initialize=[
            (j.name, k, a, b) for j in jobs for k in range(1, j.blocks) for a, b in j.pairs
        ],
    )
    m.LATENCY_SLOT = pyo.Set(
        dimen=2, ordered=True, initialize=[(j.name, k) for j in jobs for k in range(1, j.blocks)]
    )
    m.TYPE_CHOICE = pyo.Set(
        dimen=2,
        ordered=True,
        initialize=[(j.name, t) for j in jobs if not single_type(j) for t in j.types],
    )
    m.LOAD = pyo.Set(
        dimen=3,
        ordered=True,
        initialize=[
            (j.name, *d)
            for j in jobs
            if not single_type(j) and j.blocks > 1
            for d in sorted({d for p in j.pairs for d in data.pair_uses[p]})
        ],
    )
    m.DIRECTIONS = pyo.Set(dimen=2, ordered=True, initialize=data.directions)
    m.RATED = pyo.Set(ordered=True, initialize=[j.name for j in jobs if rated(j)])


def add_variables(m: pyo.ConcreteModel, data: EpochData) -> None:
    by_name = {j.name: j for j in data.jobs}
    m.x = pyo.Var(m.JOBS, domain=pyo.Binary)
    m.y = pyo.Var(m.BLOCK_REGION, domain=pyo.Binary)
    m.n = pyo.Var(
        m.BLOCK_REGION,
        domain=pyo.NonNegativeIntegers,
        bounds=lambda _, j, k, r: (0, by_name[j].max_stages[r]),
    )
    m.z = pyo.Var(m.TRANSITION, domain=pyo.Binary)
    m.theta = pyo.Var(m.TYPE_CHOICE, domain=pyo.Binary)
    scale = cost_scale(data)  # E, P and rho are in the model's cost unit; below 0 only at
    low = {j.name: scale * j.stage_cost_floor() for j in data.jobs}  # negative prices (cost)
    m.E = pyo.Var(
        m.TYPE_CHOICE, bounds=lambda _, j, t: (scale * by_name[j].stage_cost_floor(t), None)
    )
    m.P = pyo.Var(
        m.LATENCY_SLOT, bounds=lambda _, j, k: (scale * by_name[j].latency_cost_floor(), None)
    )
    m.L = pyo.Var(m.LOAD, domain=pyo.NonNegativeReals)
    m.rho = pyo.Var(m.RATED, bounds=lambda _, j: (low[j], None))


def add_block_structure(m: pyo.ConcreteModel, data: EpochData) -> None:
    """An admitted job uses blocks 1..K' in order, one region each, each region at most once:
    Σ_r y[j,1,r] = x[j];  Σ_r y[j,k+1,r] ≤ Σ_r y[j,k,r];  Σ_k y[j,k,r] ≤ 1."""
    m.first_block = pyo.ConstraintList()
    m.contiguous_blocks = pyo.ConstraintList()
    m.region_once = pyo.ConstraintList()
    for j in data.jobs:
        if j.blocks == 0:
            continue
        used = {k: sum(m.y[j.name, k, r] for r in j.regions) for k in range(1, j.blocks + 1)}
        m.first_block.add(used[1] == m.x[j.name])
        for k in range(1, j.blocks):
            m.contiguous_blocks.add(used[k + 1] <= used[k])
        for r in j.regions:
            m.region_once.add(sum(m.y[j.name, k, r] for k in range(1, j.blocks + 1)) <= 1)


def add_stage_counts(m: pyo.ConcreteModel, data: EpochData) -> None:
    """A used block holds ≥ 1 stage and at most what the region's free GPUs hold:
    y ≤ n ≤ n̄_r · y; an admitted job places all its stages: Σ_{k,r} n = S · x."""
    by_name = {j.name: j for j in data.jobs}
    m.block_nonempty = pyo.Constraint(
        m.BLOCK_REGION, rule=lambda m, j, k, r: m.y[j, k, r] <= m.n[j, k, r]
    )
    m.block_room = pyo.Constraint(
        m.BLOCK_REGION,
        rule=lambda m, j, k, r: m.n[j, k, r] <= by_name[j].max_stages[r] * m.y[j, k, r],
    )
    m.all_stages = pyo.Constraint(
        m.JOBS,
        rule=lambda m, j: (
            sum(m.n[j, k, r] for k in range(1, by_name[j].blocks + 1) for r in by_name[j].regions)
            == by_name[j].stages * m.x[j]
        ),
    )


def add_gpu_capacity(m: pyo.ConcreteModel, data: EpochData) -> None:
    """Σ_j g_j Σ_k n[j,k,r] ≤ free_r for every region."""
    m.gpu_capacity = pyo.ConstraintList()
    for r in data.regions:
        terms = [
            j.width * m.n[j.name, k, r]
            for j in data.jobs
            for k in range(1, j.blocks + 1)
            if r in j.regions
        ]
        if terms:
            m.gpu_capacity.add(sum(terms) <= data.free_gpus[r])


def add_transitions(m: pyo.ConcreteModel, data: EpochData) -> None:
    """z[j,k,a,b] = y[j,k,a] ∧ y[j,k+1,b] over allowed pairs only, in aggregated form:
    Σ_b z[j,k,a,b] ≤ y[j,k,a] for each a, Σ_a z[j,k,a,b] ≤ y[j,k+1,b] for each b, and
    Σ_{a,b} z[j,k,·,·] = Σ_b y[j,k+1,b] — so a used block k+1 must follow block k over a pair
    with routes both ways.

    Exact: block k sits in at most one region, so with y integer at most one z of the slot can
    be 1, the one joining the two used regions. The aggregated rows imply the per-pair ones
    (z ≤ y) and are R rows per slot and side instead of one per pair (7,400 against 66,600 at
    200 jobs × 10 regions): smaller and no weaker (benchmarks.md, session 11)."""
    m.transition_from = pyo.ConstraintList()
    m.transition_to = pyo.ConstraintList()
    m.one_transition = pyo.ConstraintList()
    for j in data.jobs:
        for k in range(1, j.blocks):
            for a, outs in j.pair_groups(0):
                m.transition_from.add(sum(m.z[j.name, k, a, b] for b in outs) <= m.y[j.name, k, a])
    for j in data.jobs:
        for k in range(1, j.blocks):
            for b, ins in j.pair_groups(1):
                m.transition_to.add(sum(m.z[j.name, k, a, b] for a in ins) <= m.y[j.name, k + 1, b])
    for j in data.jobs:
        for k in range(1, j.blocks):
            m.one_transition.add(
                sum(m.z[j.name, k, a, b] for a, b in j.pairs)
                == sum(m.y[j.name, k + 1, r] for r in j.regions)
            )


def add_slowest_type(m: pyo.ConcreteModel, data: EpochData) -> None:
    """For jobs that could run on several GPU types, θ[j,t] = 1 iff t is the slowest type used:
    Σ_t θ = x; a block in region r needs θ on a type no faster than r's; some block sits on the
    chosen type."""
    m.one_slowest = pyo.ConstraintList()
    m.no_slower_block = pyo.ConstraintList()
    m.slowest_used = pyo.ConstraintList()
    for j in data.jobs:
        if single_type(j) or j.blocks == 0:
            continue
        m.one_slowest.add(sum(m.theta[j.name, t] for t in j.types) == m.x[j.name])
        for k in range(1, j.blocks + 1):
            for r in j.regions:
                peak = data.type_peak[data.region_type[r]]
                slower = [t for t in j.types if data.type_peak[t] <= peak]
                m.no_slower_block.add(m.y[j.name, k, r] <= sum(m.theta[j.name, t] for t in slower))
        for t in j.types:
            on_t = [
                m.y[j.name, k, r]
                for k in range(1, j.blocks + 1)
                for r in j.regions
                if data.region_type[r] == t
            ]
            m.slowest_used.add(sum(on_t) >= m.theta[j.name, t])


def add_link_capacity(m: pyo.ConcreteModel, data: EpochData) -> None:
    """Σ_j load_j(d) ≤ residual_d, where a job's load on d is need(t*) · Σ uses_ab(d) · z; for
    several candidate types L[j,d] ≥ need_t · Σ uses · z − M (1 − θ[j,t]) with M = need_t · uses."""
    m.link_capacity = pyo.ConstraintList()
    m.link_load = pyo.ConstraintList()
    crossings = _crossings(data)
    for d in data.directions:
        terms = []
        for j in data.jobs:
            found = crossings.get((j.name, d))
            if not found:
                continue
            crossing_uses = sum(uses * m.z[j.name, k, *p] for uses, k, p in found)
            if single_type(j):
                terms.append(j.need_gbps[j.types[0]] * crossing_uses)
                continue
            peak = max(data.pair_uses[p][d] for p in j.pairs)
            most = sum(peak for _ in range(1, j.blocks))
            for t in j.types:
                big = j.need_gbps[t] * most
                m.link_load.add(
                    m.L[j.name, *d]
                    >= j.need_gbps[t] * crossing_uses - big * (1 - m.theta[j.name, t])
                )
            terms.append(m.L[j.name, *d])
        if terms:
            m.link_capacity.add(sum(terms) <= data.residual_gbps[d] - LINK_MARGIN_GBPS)


def _crossings(data: EpochData) -> dict[tuple[str, Direction], list[tuple[int, int, Pair]]]:
    """(job, direction) → the (uses, block, pair) of each crossing that loads the direction, in
    block-then-pair order. Why: asking every direction of every crossing was 60 M lookups at 20
    regions (380 directions × 380 pairs × 7 blocks × 60 jobs), most of the model's build there;
    a pair's ``Counter`` names only the few directions it uses."""
    crossings: dict[tuple[str, Direction], list[tuple[int, int, Pair]]] = {}
    for j in data.jobs:
        for k in range(1, j.blocks):
            for p in j.pairs:
                for d, uses in data.pair_uses[p].items():
                    if uses:
                        crossings.setdefault((j.name, d), []).append((uses, k, p))
    return crossings


def add_mirror_order(m: pyo.ConcreteModel, data: EpochData) -> None:
    """A pipeline and its mirror image (blocks in reverse order) use the same GPUs, links and
    latency, so they cost the same (``data.mirror_symmetric``); the model keeps the one whose first
    region comes before its last in the instance's order (index i_r, R regions): for k = 2..K,
    Σ_r i_r y[j,1,r] + Σ_r (R − i_r) y[j,k,r] − R Σ_r y[j,k+1,r] ≤ R, which says i(first) <
    i(block k) when block k is the last and nothing otherwise. It halves the placements of every
    job that may cross without cutting any optimum: the tree no longer proves each one twice."""
    m.mirror_order = pyo.ConstraintList()
    size = len(data.regions)
    for j in data.jobs:
        if j.blocks < 2 or not mirror_symmetric(j, data):
            continue
        index = {r: data.region_index(r) for r in j.regions}
        first = sum(index[r] * m.y[j.name, 1, r] for r in j.regions if index[r])
        for k in range(2, j.blocks + 1):
            last = sum((size - index[r]) * m.y[j.name, k, r] for r in j.regions)
            after = 0
            if k < j.blocks:
                after = size * sum(m.y[j.name, k + 1, r] for r in j.regions)
            m.mirror_order.add(first + last - after <= size)


def add_cost_scale(m: pyo.ConcreteModel, data: EpochData) -> None:
    """COST_SCALE: the power of ten every cost coefficient is multiplied by (see ``cost_scale``),
    so cost variables and constraints are O(1) where the solver's tolerances are meant to act."""
    m.COST_SCALE = pyo.Param(initialize=cost_scale(data), mutable=False)


def add_objectives(m: pyo.ConcreteModel, data: EpochData) -> None:
    """First maximize Σ w x; then minimize Σ cost (scaled) under Σ w x ≥ floor (mutable)."""
    weight = {j.name: j.weight for j in data.jobs}
    admitted = sum(weight[j] * m.x[j] for j in m.JOBS) if len(m.JOBS) else 0.0
    m.admission = pyo.Objective(expr=admitted, sense=pyo.maximize)
    total = sum(m.job_cost[j] for j in m.JOBS) if len(m.JOBS) else 0.0
    m.cost = pyo.Objective(expr=total, sense=pyo.minimize)
    m.cost.deactivate()
    m.floor = pyo.Param(mutable=True, initialize=0.0)
    m.admission_floor = pyo.Constraint(expr=admitted >= m.floor) if len(m.JOBS) else None
    if m.admission_floor is not None:
        m.admission_floor.deactivate()


Extra = Callable[[pyo.ConcreteModel, EpochData], None]
"""A caller's own constraint family, added after the standard ones (see ``build_model``)."""


def build_model(data: EpochData, extra: Extra | None = None) -> pyo.ConcreteModel:
    """The complete model; read this function as the formulation's table of contents.

    ``extra(model, data)``, when given, runs last, after the objectives exist, to add constraints
    (or components) of an experiment without editing this file — PyPSA's ``extra_functionality``.
    It may use every set, variable and objective above; the two-stage solve then sees them as part
    of the model (a constraint added here binds in both stages)."""
    m = pyo.ConcreteModel(name="bace_epoch")
    add_sets(m, data)
    add_variables(m, data)
    add_block_structure(m, data)
    add_stage_counts(m, data)
    add_gpu_capacity(m, data)
    add_transitions(m, data)
    add_slowest_type(m, data)
    add_link_capacity(m, data)
    add_mirror_order(m, data)
    add_cost_scale(m, data)
    add_epoch_cost(m, data)
    add_objectives(m, data)
    if extra is not None:
        extra(m, data)
    return m
