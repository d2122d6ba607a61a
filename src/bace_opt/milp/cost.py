"""The epoch-cost families of the MILP (``build``): what a placement costs, linearized exactly.

``stage_cost`` (E[j,t], for a job with several candidate types), ``latency_cost`` (P[j,k], the
cost the latency of transition k adds), ``stage_rate`` (rho[j], the stage-cost rate of a
single-type job that may cross) and ``cost_floor``. They only bound E, P and rho from below, and
nothing bounds those from above, so they cut no admission (``COST_FAMILIES``: off in the admission
stage).

Prices may be negative (markets have negative hours), so a rate may be: E, P and rho then have
negative lower bounds (``data``: Ř, P̌), a latency row's big-M grows by −P̌, and ``cost_floor``
keeps an unused E or P at 0 (E[j,t] ≥ Ř_t · θ[j,t], P[j,k] ≥ P̌ · Σ z[j,k,·]). With no negative
rate none of this is there: the model is the one it was before negative rates were handled.
"""

from __future__ import annotations

import pyomo.environ as pyo

from bace_opt.milp.data import EpochData, JobData, rated, single_type

COST_FAMILIES = ("stage_cost", "latency_cost", "stage_rate", "cost_floor")
"""Constraint families that only define cost variables (E, P, rho): off in the admission stage."""


def _stage_cost_rate(m: pyo.ConcreteModel, job: JobData, gpu_type: str) -> pyo.Expression:
    """scale · g · Σ_{k,r} n[j,k,r] · rate[r, t]: $ per second of run time if t is the slowest
    type, in the model's cost unit (``COST_SCALE``)."""
    scale = pyo.value(m.COST_SCALE)
    return (
        scale
        * job.width
        * sum(
            job.rate[(r, gpu_type)] * m.n[job.name, k, r]
            for k in range(1, job.blocks + 1)
            for r in job.regions
        )
    )


def add_epoch_cost(m: pyo.ConcreteModel, data: EpochData) -> None:
    """cost_j = Σ_t D₀_t · E[j,t] + Σ_k P[j,k] with E[j,t] ≥ g Σ n · rate_t − Ē_t (1 − θ[j,t])
    (E = g Σ n · rate for a single candidate type) and, for every allowed pair a→b,
    P[j,k] ≥ I·lat_ab · (stage rate − Ē (1 − z[j,k,a,b])): the latency of the transition actually
    taken, times the job's stage-cost rate.

    A single-type job's stage rate is the variable ``rho[j]``, tied to g Σ n · rate by one
    equality (``stage_rate``), so each latency row has three terms instead of the K·R of the
    rate written out (the same polyhedron: rho is that sum)."""
    m.stage_cost = pyo.ConstraintList()
    m.latency_cost = pyo.ConstraintList()
    m.stage_rate = pyo.ConstraintList()
    m.cost_floor = pyo.ConstraintList()
    floors = []
    scale = pyo.value(m.COST_SCALE)
    cost = {}
    for j in data.jobs:
        if j.blocks == 0:
            continue
        if single_type(j):
            t = j.types[0]
            written = _stage_cost_rate(m, j, t)
            compute = j.compute_s[t] * written
            rate = m.rho[j.name] if rated(j) else written
        else:
            for t in j.types:
                bound = scale * j.stage_cost_bound(t)
                m.stage_cost.add(
                    m.E[j.name, t] >= _stage_cost_rate(m, j, t) - bound * (1 - m.theta[j.name, t])
                )
                if j.stage_cost_floor(t) < 0:
                    floor = scale * j.stage_cost_floor(t)
                    floors.append(m.E[j.name, t] >= floor * m.theta[j.name, t])
            rate = sum(m.E[j.name, t] for t in j.types)
            compute = sum(j.compute_s[t] * m.E[j.name, t] for t in j.types)
        bound = scale * j.stage_cost_bound()
        low = scale * j.latency_cost_floor()
        for k in range(1, j.blocks):
            for a, b in j.pairs:
                lat = j.pair_latency_s[(a, b)]
                m.latency_cost.add(
                    m.P[j.name, k] >= lat * rate - (lat * bound - low) * (1 - m.z[j.name, k, a, b])
                )
            if low < 0:
                used = sum(m.z[j.name, k, a, b] for a, b in j.pairs)
                floors.append(m.P[j.name, k] >= low * used)
        cost[j.name] = compute + sum(m.P[j.name, k] for k in range(1, j.blocks))
    by_name = {j.name: j for j in data.jobs}
    for name in m.RATED:
        job = by_name[name]
        m.stage_rate.add(m.rho[name] == _stage_cost_rate(m, job, job.types[0]))
    for row in floors:
        m.cost_floor.add(row)
    m.job_cost = pyo.Expression(m.JOBS, rule=lambda m, j: cost[j])


def set_cost_families(m: pyo.ConcreteModel, active: bool) -> None:
    """Switch the cost-defining families on (cost stage) or off (admission stage)."""
    for name in COST_FAMILIES:
        family = getattr(m, name)
        if active:
            family.activate()
        else:
            family.deactivate()
