"""Cells of ``formulations``: which exact formulation of the epoch MILP to ship — the block model
of ``bace_opt.milp.build`` against a per-stage assignment model, on the same snapshot, solver and
lexicographic procedure.

*Block* (shipped): ``y[j,k,r]`` block k of job j in region r, integer stage counts ``n[j,k,r]``,
transitions ``z[j,k,a,b]`` between consecutive blocks — K = max_regions blocks per job.
*Per-stage*: ``a[j,s,r]`` stage s of job j in region r; block starts ``e[j,s,r] ≥ a[j,s,r] −
a[j,s−1,r]`` with Σ_s e ≤ 1 per region (contiguous blocks, each region once) and Σ e ≤ K;
crossings ``c[j,s,a,b] ≥ a[j,s,a] + a[j,s+1,b] − 1`` (pairs without routes both ways forbidden);
the latency cost ``Q[j,s,a,b] ≥ I·lat_ab·(R_j − R̄(1 − c))`` with R_j = g Σ rate_r a[j,s,r]. Both
are exact (single GPU type; every snapshot here has one), so both must reach the same optimum.

Both are solved the same way: HiGHS (appsi), no MIP start, stage 1 max Σ w x, then stage 2 min
cost with Σ w x ≥ stage 1's optimum; each stage gets the time limit. The solver is called
directly (not through ``bace_opt.milp``) so that both models see exactly the same procedure.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

import pyomo.environ as pyo
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs

from bace_opt.io.read import load_snapshot
from bace_opt.milp.build import LINK_MARGIN_GBPS, add_cost_scale, build_model
from bace_opt.milp.data import EpochData
from bace_opt.milp.data import epoch_data as make_data
from bace_opt.policies.bace import Prioritizer
from registry import Spec


def build_per_stage(data: EpochData) -> pyo.ConcreteModel:
    """The per-stage assignment model (single GPU type), with the block model's objectives."""
    m = pyo.ConcreteModel(name="per_stage")
    add_cost_scale(m, data)
    scale = pyo.value(m.COST_SCALE)
    jobs = [j for j in data.jobs if j.blocks > 0]
    if any(len(j.types) > 1 for j in jobs):
        raise ValueError("the per-stage benchmark model handles one GPU type only")
    m.JOBS = pyo.Set(initialize=[j.name for j in jobs], ordered=True)
    m.STAGE_REGION = pyo.Set(
        dimen=3,
        initialize=[
            (j.name, s, r) for j in jobs for s in range(1, j.stages + 1) for r in j.regions
        ],
    )
    m.CROSSING = pyo.Set(
        dimen=4,
        initialize=[
            (j.name, s, a, b) for j in jobs for s in range(1, j.stages) for a, b in j.pairs
        ],
    )
    m.x = pyo.Var(m.JOBS, domain=pyo.Binary)
    m.a = pyo.Var(m.STAGE_REGION, domain=pyo.Binary)
    m.e = pyo.Var(m.STAGE_REGION, domain=pyo.NonNegativeReals, bounds=(0, 1))
    m.c = pyo.Var(m.CROSSING, domain=pyo.NonNegativeReals, bounds=(0, 1))
    m.Q = pyo.Var(m.CROSSING, domain=pyo.NonNegativeReals)
    m.rules = pyo.ConstraintList()
    add = m.rules.add
    cost = {}
    for j in jobs:
        name, t = j.name, j.types[0]
        stages = range(1, j.stages + 1)
        for s in stages:
            add(sum(m.a[name, s, r] for r in j.regions) == m.x[name])
            for r in j.regions:
                previous = m.a[name, s - 1, r] if s > 1 else 0
                add(m.e[name, s, r] >= m.a[name, s, r] - previous)
        for r in j.regions:
            add(sum(m.e[name, s, r] for s in stages) <= 1)
            add(sum(m.a[name, s, r] for s in stages) <= j.max_stages[r])
        add(sum(m.e[name, s, r] for s in stages for r in j.regions) <= j.blocks)
        allowed = set(j.pairs)
        for s in range(1, j.stages):
            for p in j.regions:
                for q in j.regions:
                    if p == q:
                        continue
                    if (p, q) in allowed:
                        add(m.c[name, s, p, q] >= m.a[name, s, p] + m.a[name, s + 1, q] - 1)
                    else:
                        add(m.a[name, s, p] + m.a[name, s + 1, q] <= 1)
        rate = (
            scale
            * j.width
            * sum(j.rate[(r, t)] * m.a[name, s, r] for s in stages for r in j.regions)
        )
        bound = scale * j.stage_cost_bound()
        for s in range(1, j.stages):
            for p, q in j.pairs:
                lat = j.pair_latency_s[(p, q)]
                add(m.Q[name, s, p, q] >= lat * rate - lat * bound * (1 - m.c[name, s, p, q]))
        cost[name] = j.compute_s[t] * rate + sum(
            m.Q[name, s, p, q] for s in range(1, j.stages) for p, q in j.pairs
        )
    for r in data.regions:
        terms = [
            j.width * m.a[j.name, s, r]
            for j in jobs
            if r in j.regions
            for s in range(1, j.stages + 1)
        ]
        if terms:
            add(sum(terms) <= data.free_gpus[r])
    for d in data.directions:
        terms = [
            j.need_gbps[j.types[0]] * data.pair_uses[p][d] * m.c[j.name, s, *p]
            for j in jobs
            for s in range(1, j.stages)
            for p in j.pairs
            if data.pair_uses[p][d]
        ]
        if terms:
            add(sum(terms) <= data.residual_gbps[d] - LINK_MARGIN_GBPS)
    weight = {j.name: j.weight for j in jobs}
    admitted = sum(weight[n] * m.x[n] for n in m.JOBS)
    m.admission = pyo.Objective(expr=admitted, sense=pyo.maximize)
    m.cost = pyo.Objective(expr=sum(cost.values()), sense=pyo.minimize)
    m.cost.deactivate()
    m.floor = pyo.Param(mutable=True, initialize=0.0)
    m.admission_floor = pyo.Constraint(expr=admitted >= m.floor)
    m.admission_floor.deactivate()
    return m


def solve_two_stages(m: pyo.ConcreteModel, limit: float, threads: int) -> dict[str, Any]:
    """Stage 1 max Σ w x, stage 2 min cost under the floor; each stage ``limit`` seconds."""
    opt = Highs()
    opt.config.load_solution = False
    opt.config.mip_gap = 0.0
    opt.config.time_limit = limit
    opt.highs_options.update({"mip_abs_gap": 0.0, "threads": threads})
    tic = time.perf_counter()
    opt.set_instance(m)
    statuses, values = [], []
    for stage in (1, 2):
        results = opt.solve(m)
        tc = results.termination_condition
        statuses.append("optimal" if tc == TerminationCondition.optimal else tc.name)
        if results.best_feasible_objective is None:
            return {"status": "/".join(statuses), "solve_s": time.perf_counter() - tic}
        results.solution_loader.load_vars()
        values.append(results.best_feasible_objective)
        if stage == 1:
            m.floor.set_value(values[0] - 1e-7 * max(1.0, abs(values[0])))
            m.admission_floor.activate()
            m.admission.deactivate()
            m.cost.activate()
    return {
        "status": "/".join(statuses),
        "solve_s": time.perf_counter() - tic,
        "weight": values[0],
        "cost_usd": values[1] / pyo.value(m.COST_SCALE),
    }


def size(m: pyo.ConcreteModel) -> tuple[int, int]:
    variables = sum(1 for _ in m.component_data_objects(pyo.Var))
    constraints = sum(1 for _ in m.component_data_objects(pyo.Constraint, active=None))
    return variables, constraints


BUILDERS = {"block": build_model, "per-stage": build_per_stage}


@functools.lru_cache(maxsize=4)
def _data(path: str) -> EpochData:
    """The snapshot's MILP data, shared by its formulations (loading it is not timed)."""
    snapshot = load_snapshot(path)
    return make_data(snapshot, Prioritizer().weights_of(snapshot))


def formulation(path: str, formulation: str, time_limit_s: float, threads: int) -> dict[str, Any]:
    """One formulation of one snapshot: model size, build time (Pyomo), the two-stage solve."""
    data = _data(path)
    tic = time.perf_counter()
    model = BUILDERS[formulation](data)
    build_s = time.perf_counter() - tic
    variables, constraints = size(model)
    return {
        "snapshot": Path(path).stem,
        "formulation": formulation,
        "variables": variables,
        "constraints": constraints,
        "build_s": build_s,
        **solve_two_stages(model, time_limit_s, threads),
    }


def compare(spec: Spec, rows: list[dict[str, Any]]) -> None:
    """Per snapshot, each formulation's optimum: weight and cost must agree (the cost to 1e-6
    relative, the stage-2 floor's slack)."""
    by_snapshot: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_snapshot.setdefault(r["snapshot"], {})[r["formulation"]] = r
    names = list(dict.fromkeys(r["formulation"] for r in rows))
    print("\n" + f"{'snapshot':<18} " + " ".join(f"{n + ' w / $':>24}" for n in names) + "  same")
    for snapshot, found in by_snapshot.items():
        values = [(found[n].get("weight"), found[n].get("cost_usd")) for n in names if n in found]
        text = " ".join(f"{'–':>24}" if w is None else f"{w:>13.6f} / {c:>8.4f}" for w, c in values)
        solved = [(w, c) for w, c in values if w is not None and c is not None]
        same = len(solved) == len(names) and all(
            abs(w - solved[0][0]) <= 1e-7 * max(1.0, abs(w))
            and abs(c - solved[0][1]) <= 1e-6 * max(1.0, abs(c))
            for w, c in solved
        )
        print(f"{snapshot:<18} {text}  {'yes' if same else 'NO'}")
