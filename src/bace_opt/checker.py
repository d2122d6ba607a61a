"""An independent check of any epoch plan: feasibility and objective recomputed from DESIGN §2–§3.

It imports nothing from ``milp/``, ``resources/`` or the policies: only the formulas of DESIGN §2
(``formulas.job``: t_c, need, D₀, the memory rule) and the routes of the region graph. What a
placement implies — its slowest type, its crossings' latency and link loads, its run time and
cost — it recomputes here on its own, from the routes and the price integral, so a mistake in
``formulas.placement`` or in the MILP's coefficients shows up as a difference. The tests hold the
MILP's objective, the greedy allocator's cost and this module's numbers equal.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bace_opt.core.placement import Placement
from bace_opt.core.prices import HOUR_S
from bace_opt.core.world import Snapshot
from bace_opt.formulas import job as jobf

REL_TOL = 1e-9


@dataclass(frozen=True)
class PlanCheck:
    """The plan's problems (empty when feasible), Σ weights admitted, and its epoch cost ($)."""

    problems: tuple[str, ...]
    weight: float
    cost_usd: float

    @property
    def feasible(self) -> bool:
        return not self.problems


def check_plan(
    snapshot: Snapshot,
    plan: Iterable[Placement],
    weights: Mapping[str, float],
    bandwidth: bool = True,
) -> PlanCheck:
    """Check every constraint of the epoch and recompute Σ w and the epoch cost of ``plan``."""
    instance = snapshot.instance
    net = instance.network
    jobs = {j.name: j for j in snapshot.waiting}
    used_gpus: dict[str, int] = {}
    load: dict[tuple[str, str], float] = {}
    problems: list[str] = []
    weight = cost = 0.0
    seen: set[str] = set()
    for p in plan:
        job = jobs.get(p.job)
        where = f"job {p.job}"
        if job is None or p.job in seen:
            problems.append(f"{where}: not waiting, or placed twice")
            continue
        seen.add(p.job)
        regions = [b.region for b in p.blocks]
        if sum(b.stages for b in p.blocks) != job.stages or min(b.stages for b in p.blocks) < 1:
            problems.append(f"{where}: blocks do not hold exactly its {job.stages} stages")
        if len(set(regions)) != len(regions) or len(regions) > instance.max_regions:
            problems.append(f"{where}: regions repeat or exceed max_regions")
        unknown = sorted(set(regions) - set(instance.region))
        if unknown:  # e.g. a start from elsewhere: a problem to report, not a crash
            problems.append(f"{where}: no region {unknown[0]} in the instance")
            continue
        gpu_types = [instance.region[r].gpu_type for r in regions]
        if not all(jobf.fits(job, g) for g in gpu_types):
            problems.append(f"{where}: a stage does not fit GPU memory")
        for b in p.blocks:
            used_gpus[b.region] = used_gpus.get(b.region, 0) + b.stages * job.gpus_per_stage
        peak = min(g.peak_tflops for g in gpu_types)
        t_c = jobf.stage_time(instance, job, peak)
        need = jobf.need_gbps(instance, job, peak)
        latency = 0.0
        for up, down in itertools.pairwise(regions):
            forward, backward = net.route(up, down), net.route(down, up)
            if forward is None or backward is None:
                problems.append(f"{where}: no route both ways between {up} and {down}")
                continue
            latency += net.route_latency_s(up, down) + net.route_latency_s(down, up)
            for d in (*forward, *backward):
                load[d] = load.get(d, 0.0) + need
        compute = jobf.compute_time_s(job, t_c)
        run = compute + job.iterations * latency
        t0 = snapshot.time_s
        for b in p.blocks:
            region = instance.region[b.region]
            mean = (
                region.price.integral(t0, t0 + compute) / compute
                if compute > 0
                else region.price.price_at(t0)
            )
            gpus = b.stages * job.gpus_per_stage
            cost += gpus * region.gpu_type.power_kw * region.pue * run * mean / HOUR_S
        weight += weights.get(p.job, 0.0)
    for name, gpus in sorted(used_gpus.items()):
        if gpus > snapshot.free_gpus[name]:
            problems.append(f"region {name}: {gpus} GPUs placed, {snapshot.free_gpus[name]} free")
    if bandwidth:
        for d, gbps in sorted(load.items()):
            room = snapshot.residual_gbps[d]
            if gbps > room * (1 + REL_TOL) + 1e-9:
                problems.append(
                    f"link {d[0]}>{d[1]}: {gbps:.6g} Gbit/s placed, {room:.6g} residual"
                )
    return PlanCheck(tuple(problems), weight, cost)
