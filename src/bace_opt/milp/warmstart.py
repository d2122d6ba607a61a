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
from bace_opt.milp.data import EpochData, JobData, mirror_symmetric, rated, single_type
from bace_opt.milp.rows import Key


def oriented(data: EpochData, job: JobData, placement: Placement) -> Placement:
    """``placement``, or its mirror image where the model keeps that one instead."""
    if len(placement.blocks) < 2:
        return placement
    first, last = placement.blocks[0].region, placement.blocks[-1].region
    if data.region_index(first) < data.region_index(last) or not mirror_symmetric(job, data):
        return placement
    return replace(placement, blocks=tuple(reversed(placement.blocks)))


def plan_values(
    data: EpochData, placements: dict[str, Placement], scale: float
) -> dict[Key, float] | None:
    """The model's variables (``(family, index)``, as ``matrix`` names its columns) set from
    ``placements``, at cost scale ``scale``; the rest are zero. None when a placement does not
    fit the model's index sets."""
    values: dict[Key, float] = {}
    for job in data.jobs:
        placement = placements.get(job.name)
        if placement is None or job.blocks == 0:
            continue
        if len(placement.blocks) > job.blocks or any(
            b.region not in job.regions for b in placement.blocks
        ):
            return None
        placement = oriented(data, job, placement)
        values["x", (job.name,)] = 1
        for k, block in enumerate(placement.blocks, start=1):
            values["y", (job.name, k, block.region)] = 1
            values["n", (job.name, k, block.region)] = block.stages
        slowest = min(
            (data.region_type[b.region] for b in placement.blocks),
            key=lambda t: (data.type_peak[t], t),
        )
        rate = (
            scale
            * job.width
            * sum(job.rate[(b.region, slowest)] * b.stages for b in placement.blocks)
        )
        if not single_type(job):
            values["theta", (job.name, slowest)] = 1
            values["E", (job.name, slowest)] = rate
        elif rated(job):
            values["rho", (job.name,)] = rate
        for k, (a, b) in enumerate(placement.crossings, start=1):
            if (a, b) not in job.pair_latency_s:
                return None
            values["z", (job.name, k, a, b)] = 1
            values["P", (job.name, k)] = job.pair_latency_s[(a, b)] * rate
            if not single_type(job):
                for d, uses in data.pair_uses[(a, b)].items():
                    load = values.get(("L", (job.name, *d)), 0.0)
                    values["L", (job.name, *d)] = load + job.need_gbps[slowest] * uses
    return values


def apply_plan(m: pyo.ConcreteModel, data: EpochData, placements: dict[str, Placement]) -> bool:
    """Load ``placements`` into the variables (``plan_values``; everything else zero). False
    when a placement does not fit the model's index sets (then the caller should not warm
    start)."""
    for var in m.component_data_objects(pyo.Var, descend_into=True):
        var.set_value(0, skip_validation=True)
    values = plan_values(data, placements, pyo.value(m.COST_SCALE))
    if values is None:
        return False
    for (family, index), value in values.items():
        getattr(m, family)[index if len(index) > 1 else index[0]].set_value(value)
    return True
