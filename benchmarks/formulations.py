"""Which exact formulation of the epoch MILP to ship: the block model of ``bace_opt.milp.build``
against a per-stage assignment model, on the same snapshots, solver and lexicographic procedure.

    .venv/bin/python benchmarks/formulations.py                       # suite below, 60 s per stage
    .venv/bin/python benchmarks/formulations.py --snapshots benchmarks/snapshots/10x4x6-*.yaml

*Block* (shipped): ``y[j,k,r]`` block k of job j in region r, integer stage counts ``n[j,k,r]``,
transitions ``z[j,k,a,b]`` between consecutive blocks — K = max_regions blocks per job.
*Per-stage*: ``a[j,s,r]`` stage s of job j in region r; block starts ``e[j,s,r] ≥ a[j,s,r] −
a[j,s−1,r]`` with Σ_s e ≤ 1 per region (contiguous blocks, each region once) and Σ e ≤ K;
crossings ``c[j,s,a,b] ≥ a[j,s,a] + a[j,s+1,b] − 1`` (pairs without routes both ways forbidden);
the latency cost ``Q[j,s,a,b] ≥ I·lat_ab·(R_j − R̄(1 − c))`` with R_j = g Σ rate_r a[j,s,r]. Both
are exact (single GPU type; every snapshot here has one), so both must reach the same optimum.

Both are solved the same way: HiGHS (appsi), no MIP start, one thread, stage 1 max Σ w x, then
stage 2 min cost with Σ w x ≥ stage 1's optimum; each stage gets ``--time-limit`` seconds. Reports
model size, build time (Pyomo), solve time, status and the two objectives; writes
``benchmarks/results/formulations.csv``/``.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyomo.environ as pyo
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs

from bace_opt.io.read import load_snapshot
from bace_opt.milp.build import LINK_MARGIN_GBPS, add_cost_scale, build_model
from bace_opt.milp.data import EpochData
from bace_opt.milp.data import epoch_data as make_data
from bace_opt.policies.bace import Prioritizer

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "results"
SUITE = ["10x4x6-seed*.yaml", "30x8x6-seed*.yaml", "60x16x6-seed*.yaml", "geo6-*.yaml"]


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


def solve_two_stages(m: pyo.ConcreteModel, limit: float) -> dict[str, Any]:
    """Stage 1 max Σ w x, stage 2 min cost under the floor; each stage ``limit`` seconds."""
    opt = Highs()
    opt.config.load_solution = False
    opt.config.mip_gap = 0.0
    opt.config.time_limit = limit
    opt.highs_options.update({"mip_abs_gap": 0.0, "threads": 1})
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


def run(path: Path, limit: float) -> list[dict[str, Any]]:
    snapshot = load_snapshot(path)
    data = make_data(snapshot, Prioritizer().weights_of(snapshot))
    rows = []
    for name, builder in (("block", build_model), ("per-stage", build_per_stage)):
        tic = time.perf_counter()
        model = builder(data)
        build_s = time.perf_counter() - tic
        variables, constraints = size(model)
        rows.append(
            {
                "snapshot": path.stem,
                "formulation": name,
                "variables": variables,
                "constraints": constraints,
                "build_s": build_s,
                **solve_two_stages(model, limit),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--snapshots", type=Path, nargs="+")
    parser.add_argument("--time-limit", type=float, default=60.0, help="Seconds per stage.")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    folder = ROOT / "benchmarks" / "snapshots"
    paths = args.snapshots or [p for pattern in SUITE for p in sorted(folder.glob(pattern))]
    rows, nan = [], float("nan")
    for path in paths:
        for row in run(path, args.time_limit):
            rows.append(row)
            print(
                f"{row['snapshot']:>18} {row['formulation']:>9} {row['variables']:>7} vars "
                f"{row['constraints']:>7} cons  build {row['build_s']:6.2f} s  "
                f"solve {row['solve_s']:6.2f} s  {row['status']:>17}  "
                f"w {row.get('weight', nan):.6f}  $ {row.get('cost_usd', nan):.4f}",
                flush=True,
            )
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "formulations.csv", index=False)
    (args.out / "formulations.json").write_text(json.dumps(rows, indent=2))
    both = table.pivot_table(index="snapshot", columns="formulation", values=["weight", "cost_usd"])
    print(both.round(6).to_string())


if __name__ == "__main__":
    sys.exit(main())
