"""The MIP start of an exact epoch: among the greedy plan, a weight-per-GPU admission and the
capacity bound's job set placed greedily (``packed_plans``), the most priority weight, then the
least epoch cost.

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

from collections.abc import Mapping

from bace_opt.core.placement import Placement
from bace_opt.core.world import Instance, Job, Snapshot
from bace_opt.formulas.placement import epoch_cost
from bace_opt.milp.capacity import reaches
from bace_opt.milp.data import snapshot_capacity_bound
from bace_opt.policies.bace import BacePipe
from bace_opt.policies.bace.allocator import CheapestPath
from bace_opt.policies.lineup import KeyedOrder


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
    largest first (first-fit decreasing, the bin-packing order) and by weight per GPU. When one
    admits the whole set, its weight is the bound: stage 1 is then proven without a solve."""
    chosen = set(snapshot_capacity_bound(snapshot, weights).chosen)
    if not chosen:
        return []

    def largest(_: Instance, job: Job) -> tuple[bool, int, str]:
        return job.name not in chosen, -job.total_gpus, job.name

    def densest(_: Instance, job: Job) -> tuple[bool, float, str]:
        return job.name not in chosen, -weights[job.name] / job.total_gpus, job.name

    policies = [
        BacePipe("packed", ordering=KeyedOrder(key), allocator=CheapestPath())
        for key in (largest, densest)
    ]
    return [list(policy.decide(snapshot)) for policy in policies]


def mip_start(
    snapshot: Snapshot, weights: Mapping[str, float], greedy: Mapping[str, Placement]
) -> dict[str, Placement]:
    """The start admitting the most weight among ``greedy``, the weight-per-GPU plan and the
    packed plans; among those admitting it (up to rounding: the same weights summed in another
    order must not decide), the cheapest — with the capacity bound met, the start is where the
    cost stage begins. On a tie in both, the earlier in that list (``greedy`` first)."""
    candidates = [dict(greedy)] + [
        {p.job: p for p in plan}
        for plan in [weight_per_gpu_plan(snapshot, weights), *packed_plans(snapshot, weights)]
    ]
    admitted = [sum(weights[name] for name in plan) for plan in candidates]
    most = max(admitted)
    best = [c for c, w in zip(candidates, admitted, strict=True) if reaches(w, most)]
    return min(best, key=lambda plan: _cost(snapshot, plan))


def _cost(snapshot: Snapshot, plan: Mapping[str, Placement]) -> float:
    """The plan's epoch cost in $ (DESIGN §3, as the MILP and the checker count it)."""
    instance, jobs = snapshot.instance, {j.name: j for j in snapshot.waiting}
    return sum(
        epoch_cost(instance, jobs[name], placement, snapshot.time_s)
        for name, placement in plan.items()
    )
