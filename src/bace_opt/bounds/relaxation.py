"""The whole-run relaxation as a Pyomo LP: one ``define_*`` function per family, so this module
reads like the formulation's table of contents (the proof that every simulator schedule maps to a
feasible point no better than itself is in the docs, "The validity proof").

Sets: ``X`` columns k = (j, c, s) of ``data.columns``; ``Z`` price rungs q; ``JOBS``.
Variables: ``x[k]`` ∈ [0, 1] the share of job j's work done on configuration c in slot s;
``z[q]`` ∈ [0, upper_q / scale_s] GPU-seconds (in units of the slot's row scale) held at rung q's
price; ``C[j]`` job j's completion time, in [a_j + D_min,j, a_j + N · X].
Objectives (one active at a time): ``jct`` = Σ_j C_j / N (the mean arrival is subtracted
outside: avg JCT = Σ (C_j − a_j) / N), ``cost`` = Σ_q price_q · z_q (in $).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyomo.environ as pyo

from bace_opt.bounds.data import LINK_SLACK, RelaxationData

Terms = list[tuple[int, float]]
"""(column, coefficient) pairs of one row."""


def _linear(var: pyo.Var, terms: Iterable[tuple[int, float]]) -> pyo.Expression:
    return pyo.quicksum(coef * var[k] for k, coef in terms)


def define_variables(m: pyo.ConcreteModel, data: RelaxationData) -> None:
    m.X = pyo.RangeSet(0, len(data.columns) - 1)
    m.Z = pyo.RangeSet(0, len(data.rungs) - 1)
    m.JOBS = pyo.RangeSet(0, data.n_jobs - 1)
    m.x = pyo.Var(m.X, bounds=(0.0, 1.0))

    def z_bounds(_: pyo.ConcreteModel, q: int) -> tuple[float, float]:
        rung = data.rungs[q]
        return 0.0, rung.upper / data.row_scale(rung.slot)

    m.z = pyo.Var(m.Z, bounds=z_bounds)

    def c_bounds(_: pyo.ConcreteModel, j: int) -> tuple[float, float]:
        jp = data.jobs[j]
        a = jp.job.arrival_s
        return a + jp.min_run_s, a + data.n_jobs * data.jct_cap_s

    m.C = pyo.Var(m.JOBS, bounds=c_bounds)


def define_once(m: pyo.ConcreteModel, data: RelaxationData) -> None:
    """Σ_{c,s} x[j,c,s] = 1: the simulator runs every job to its end exactly once (a schedule that
    leaves a job unrun is not one this bound speaks of)."""
    terms: defaultdict[int, Terms] = defaultdict(list)
    for k, (j, _, _) in enumerate(data.columns):
        terms[j].append((k, 1.0))
    m.once = pyo.Constraint(m.JOBS, rule=lambda m, j: _linear(m.x, terms[j]) == 1.0)


def define_availability(m: pyo.ConcreteModel, data: RelaxationData) -> None:
    """Σ_c D_c · x[j,c,s] ≤ seconds of slot s after a_j (finite slots; each row ÷ the slot's
    length): the work of job j progresses at rate ≤ 1 / D_c, stalls only slow it."""
    terms: defaultdict[tuple[int, int], Terms] = defaultdict(list)
    for k, (j, c, s) in enumerate(data.columns):
        if s != data.grid.overflow:
            terms[(j, s)].append((k, data.jobs[j].configs[c].run_s / data.row_scale(s)))
    keys = sorted(terms)

    def rule(m: pyo.ConcreteModel, i: int) -> object:
        j, s = keys[i]
        return _linear(m.x, terms[keys[i]]) <= data.available_s(j, s) / data.row_scale(s)

    m.AVAIL = pyo.RangeSet(0, len(keys) - 1)
    m.availability = pyo.Constraint(m.AVAIL, rule=rule)


def define_capacity(m: pyo.ConcreteModel, data: RelaxationData) -> None:
    """Σ_ℓ z[r,s,ℓ] ≥ Σ_{j,c} g · n_{c,r} · D_c · x[j,c,s] (each row ÷ the slot's scale): a running
    job holds its GPUs for its whole wall time, at least its work time; the rungs' bounds make
    this the GPU capacity of r in s, and their prices the cost of holding them."""
    terms: defaultdict[tuple[str, int], Terms] = defaultdict(list)
    for k, (j, c, s) in enumerate(data.columns):
        config = data.jobs[j].configs[c]
        for region, gpu_s in zip(config.regions, config.gpu_s, strict=True):
            terms[(region, s)].append((k, gpu_s / data.row_scale(s)))
    held: defaultdict[tuple[str, int], Terms] = defaultdict(list)
    for q, rung in enumerate(data.rungs):
        held[(rung.region, rung.slot)].append((q, 1.0))
    keys = sorted(set(terms) | set(held))

    def rule(m: pyo.ConcreteModel, i: int) -> object:
        key = keys[i]
        return _linear(m.z, held[key]) - _linear(m.x, terms[key]) >= 0.0

    m.CAPACITY = pyo.RangeSet(0, len(keys) - 1)
    m.capacity = pyo.Constraint(m.CAPACITY, rule=rule)


def define_links(m: pyo.ConcreteModel, data: RelaxationData) -> None:
    """Σ_{j,c} uses_{c,e} · need · D₀ · x[j,c,s] ≤ capacity_e · length_s (finite slots, ÷ the
    length): the Gbit a job's crossings must be given for its work, however slow it runs."""
    capacity = data.instance.network.capacity
    terms: defaultdict[tuple[tuple[str, str], int], Terms] = defaultdict(list)
    for k, (j, c, s) in enumerate(data.columns):
        if s == data.grid.overflow:
            continue
        for d, gbit in data.jobs[j].configs[c].gbit:
            terms[(d, s)].append((k, gbit / data.row_scale(s)))
    keys = sorted(terms)

    def rule(m: pyo.ConcreteModel, i: int) -> object:
        d, s = keys[i]
        limit = capacity[d] * (1 + LINK_SLACK) * data.grid.length(s) / data.row_scale(s)
        return _linear(m.x, terms[keys[i]]) <= limit

    m.LINKS = pyo.RangeSet(0, len(keys) - 1)
    m.links = pyo.Constraint(m.LINKS, rule=rule)


def define_completion(m: pyo.ConcreteModel, data: RelaxationData) -> None:
    """C_j ≥ Σ x[j,c,s] · (max(t_s, a_j) + D_c / 2) (mean busy time + half the run) and
    C_j ≥ a_j + Σ x[j,c,s] · D_c (a non-preemptive run started at or after arrival)."""
    busy: defaultdict[int, Terms] = defaultdict(list)
    run: defaultdict[int, Terms] = defaultdict(list)
    for k, (j, c, s) in enumerate(data.columns):
        d = data.jobs[j].configs[c].run_s
        busy[j].append((k, data.busy_start(j, s) + d / 2))
        run[j].append((k, d))
    m.mean_busy = pyo.Constraint(m.JOBS, rule=lambda m, j: m.C[j] >= _linear(m.x, busy[j]))
    m.run_time = pyo.Constraint(
        m.JOBS,
        rule=lambda m, j: m.C[j] >= data.jobs[j].job.arrival_s + _linear(m.x, run[j]),
    )


def define_budget(m: pyo.ConcreteModel, data: RelaxationData) -> None:
    """Σ_j C_j / N ≤ J + Σ_j a_j / N: the average JCT at most ``m.J`` (the frontier; off until
    a frontier point is solved)."""
    n = data.n_jobs
    m.J = pyo.Param(mutable=True, initialize=data.jct_cap_s)
    m.budget = pyo.Constraint(expr=sum(m.C[j] for j in m.JOBS) / n <= m.J + mean_arrival_s(data))
    m.budget.deactivate()


def define_objectives(m: pyo.ConcreteModel, data: RelaxationData) -> None:
    n = data.n_jobs
    m.jct = pyo.Objective(expr=sum(m.C[j] for j in m.JOBS) / n)
    scaled = [
        (q, rung.usd_per_gpu_s * data.row_scale(rung.slot)) for q, rung in enumerate(data.rungs)
    ]
    m.cost = pyo.Objective(expr=_linear(m.z, scaled))
    m.cost.deactivate()


def build_relaxation(data: RelaxationData) -> pyo.ConcreteModel:
    """The LP, objective ``jct`` active, the budget off."""
    m = pyo.ConcreteModel(name="whole-run relaxation")
    for define in (
        define_variables,
        define_once,
        define_availability,
        define_capacity,
        define_links,
        define_completion,
        define_budget,
        define_objectives,
    ):
        define(m, data)
    return m


def mean_arrival_s(data: RelaxationData) -> float:
    return sum(jp.job.arrival_s for jp in data.jobs) / data.n_jobs


def completion_at(data: RelaxationData, shares: list[float]) -> list[float]:
    """The least C_j the completion rows allow for the column values ``shares``."""
    busy = [0.0] * data.n_jobs
    run = [jp.job.arrival_s for jp in data.jobs]
    for (j, c, s), x in zip(data.columns, shares, strict=True):
        d = data.jobs[j].configs[c].run_s
        busy[j] += x * (data.busy_start(j, s) + d / 2)
        run[j] += x * d
    return [max(b, r) for b, r in zip(busy, run, strict=True)]
