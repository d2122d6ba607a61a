"""Set every variable of the model from a plan, so the plan is a complete MIP start.

Used for the greedy BACE-Pipe plan (stage 1) and for the stage-1 answer (stage 2). E, rho, P and L
take the values the constraints force on them for that plan, so the start is feasible as given; a
pipeline whose first region comes after its last is loaded as its mirror image, the orientation
the model keeps (``build.add_mirror_order``: same resources, same cost).
"""

from __future__ import annotations

from dataclasses import replace

import pyomo.environ as pyo

from bace_opt.core.placement import Placement
from bace_opt.milp.data import EpochData, JobData, mirror_symmetric


def oriented(data: EpochData, job: JobData, placement: Placement) -> Placement:
    """``placement``, or its mirror image where the model keeps that one instead."""
    if len(placement.blocks) < 2:
        return placement
    first, last = placement.blocks[0].region, placement.blocks[-1].region
    if data.region_index(first) < data.region_index(last) or not mirror_symmetric(job, data):
        return placement
    return replace(placement, blocks=tuple(reversed(placement.blocks)))


def apply_plan(m: pyo.ConcreteModel, data: EpochData, placements: dict[str, Placement]) -> bool:
    """Load ``placements`` into the variables (everything else zero). False when a placement does
    not fit the model's index sets (then the caller should not warm start)."""
    for var in m.component_data_objects(pyo.Var, descend_into=True):
        var.set_value(0, skip_validation=True)
    for job in data.jobs:
        placement = placements.get(job.name)
        if placement is None or job.blocks == 0:
            continue
        if len(placement.blocks) > job.blocks or any(
            b.region not in job.regions for b in placement.blocks
        ):
            return False
        placement = oriented(data, job, placement)
        m.x[job.name].set_value(1)
        for k, block in enumerate(placement.blocks, start=1):
            m.y[job.name, k, block.region].set_value(1)
            m.n[job.name, k, block.region].set_value(block.stages)
        slowest = min(
            (data.region_type[b.region] for b in placement.blocks),
            key=lambda t: (data.type_peak[t], t),
        )
        rate = (
            pyo.value(m.COST_SCALE)
            * job.width
            * sum(job.rate[(b.region, slowest)] * b.stages for b in placement.blocks)
        )
        if len(job.types) > 1:
            m.theta[job.name, slowest].set_value(1)
            m.E[job.name, slowest].set_value(rate)
        elif job.name in m.RATED:
            m.rho[job.name].set_value(rate)
        for k, (a, b) in enumerate(placement.crossings, start=1):
            if (a, b) not in job.pair_latency_s:
                return False
            m.z[job.name, k, a, b].set_value(1)
            m.P[job.name, k].set_value(job.pair_latency_s[(a, b)] * rate)
            if len(job.types) > 1:
                for d, uses in data.pair_uses[(a, b)].items():
                    current = m.L[job.name, *d].value or 0.0
                    m.L[job.name, *d].set_value(current + job.need_gbps[slowest] * uses)
    return True
