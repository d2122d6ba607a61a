"""Read the plan out of a solved model: admitted jobs and their blocks in pipeline order."""

from __future__ import annotations

import pyomo.environ as pyo

from bace_opt.core.placement import Block, Placement
from bace_opt.milp.data import EpochData


def extract_plan(m: pyo.ConcreteModel, data: EpochData) -> dict[str, Placement]:
    """Placements of every admitted job (x = 1), blocks k = 1, 2, … in order."""
    plan = {}
    for job in data.jobs:
        if job.blocks == 0 or (m.x[job.name].value or 0.0) < 0.5:
            continue
        blocks = []
        for k in range(1, job.blocks + 1):
            for r in job.regions:
                if (m.y[job.name, k, r].value or 0.0) > 0.5:
                    blocks.append(Block(r, round(m.n[job.name, k, r].value or 0.0)))
        plan[job.name] = Placement(job.name, tuple(blocks))
    return plan
