"""The MIP start of an exact epoch: the greedy plan, or a second greedy admission where it admits
more priority weight.

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


def mip_start(
    snapshot: Snapshot, weights: Mapping[str, float], greedy: Mapping[str, Placement]
) -> dict[str, Placement]:
    """``greedy``, or the weight-per-GPU plan when it admits more weight (by more than rounding:
    two sums of the same weights in another order must not flip the choice)."""
    dense = {p.job: p for p in weight_per_gpu_plan(snapshot, weights)}

    def admitted(plan: Mapping[str, Placement]) -> float:
        return sum(weights[name] for name in plan)

    more, base = admitted(dense), admitted(greedy)
    return dense if more > base + 1e-9 * max(1.0, abs(base)) else dict(greedy)
