"""The capacity bound on the admission: a 0-1 knapsack of the waiting jobs into the free GPUs.

Theorem (docs/model.md "The capacity bound"): in every feasible plan of an epoch, the admitted
jobs satisfy Σ_j S_j · g_j ≤ Σ_r free_r — each admitted job holds all its S_j stages of g_j GPUs,
each on free GPUs of some region — and each admitted job is *placeable*: its K_j roomiest usable
regions hold its S_j stages. So the most priority weight a set of placeable jobs can have within
Σ_r free_r GPUs bounds stage 1 (max Σ w x) from above. The knapsack forgets links, region
borders and memory; on the shipped snapshots it still equals the proven optimum wherever one is
known (docs/benchmarks.md): an epoch's admission is a packing of GPUs first, a placement second.

Solved exactly by dynamic programming over GPU counts (in units of the sizes' common divisor):
O(jobs × GPUs) additions, a millisecond at 200 jobs × 1,700 GPUs. Larger than ``DP_CELLS`` it
falls back to the knapsack's LP relaxation (the fractional bound), weaker but still valid.
A set attaining the bound comes with it: ``policies.mip_start`` places it greedily, and when that
plan admits the bound's weight, stage 1 is proven without a MILP solve (``lexicographic``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

DP_CELLS = 50_000_000
"""Largest jobs × (GPUs + 1) table solved exactly (50 MB of booleans for the chosen set)."""


@dataclass(frozen=True)
class CapacityBound:
    weight: float
    """An upper bound on Σ w over any admissible set (the knapsack's optimum when ``exact``)."""
    chosen: tuple[str, ...]
    """Jobs of a set whose weight is ``weight`` (``exact`` only; otherwise empty)."""
    exact: bool
    """The knapsack was solved to optimality (False: its LP relaxation, beyond ``DP_CELLS``)."""


@dataclass(frozen=True)
class Item:
    """One placeable job as the knapsack sees it."""

    name: str
    weight: float
    gpus: int
    """S · g: the GPUs the job holds wherever it is placed."""


def placeable(stages: int, blocks: int, room: Mapping[str, int]) -> bool:
    """Whether the ``blocks`` regions with the most ``room`` (stages each holds) hold ``stages``:
    a job failing this has no placement at all, so it is in no admitted set."""
    most = sorted(room.values(), reverse=True)[:blocks]
    return blocks > 0 and sum(most) >= stages


def knapsack_bound(items: Sequence[Item], capacity: int) -> CapacityBound:
    """max Σ w over subsets of ``items`` within ``capacity`` GPUs, and a subset attaining it."""
    useful = [i for i in items if i.weight > 0 and i.gpus <= capacity]
    if sum(i.gpus for i in useful) <= capacity:  # everything fits: no packing question
        return CapacityBound(sum(i.weight for i in useful), tuple(i.name for i in useful), True)
    unit = math.gcd(*(i.gpus for i in useful))
    sizes = [i.gpus // unit for i in useful]
    room = capacity // unit
    if len(useful) * (room + 1) > DP_CELLS:
        return _fractional(useful, capacity)
    best = np.zeros(room + 1)  # best[c]: the most weight within c units, items so far
    took = np.zeros((len(useful), room + 1), dtype=bool)
    for k, (item, size) in enumerate(zip(useful, sizes, strict=True)):
        with_item = best[: room + 1 - size] + item.weight  # a copy: each item is taken once
        better = with_item > best[size:]
        took[k, size:] = better
        best[size:] = np.where(better, with_item, best[size:])
    chosen, left = [], room
    for k in range(len(useful) - 1, -1, -1):
        if took[k, left]:
            chosen.append(useful[k].name)
            left -= sizes[k]
    return CapacityBound(float(best[room]), tuple(reversed(chosen)), True)


def _fractional(items: Sequence[Item], capacity: int) -> CapacityBound:
    """The LP relaxation: items by weight per GPU, the last one taken in part."""
    total, left = 0.0, float(capacity)
    for item in sorted(items, key=lambda i: (-i.weight / i.gpus, i.name)):
        take = min(1.0, left / item.gpus)
        total += take * item.weight
        left -= take * item.gpus
        if left <= 0:
            break
    return CapacityBound(total, (), False)


def reaches(weight: float, bound: float) -> bool:
    """``weight`` meets ``bound`` up to summation order (the same weights added in another order
    differ by rounding): with the bound met, the admission is proven optimal."""
    return weight >= reach_floor(bound)


def reach_floor(bound: float) -> float:
    """The least weight that ``reaches`` ``bound``."""
    return bound - 1e-9 * max(1.0, abs(bound))


FIXING_CELLS = 5_000_000
"""Largest jobs × (GPUs + 1) table ``fixed_admission`` builds (two float tables: 80 MB)."""


@dataclass(frozen=True)
class FixedAdmission:
    """Jobs every plan admitting at least a floor of weight must admit (``admit``) or leave out
    (``leave``): the cost stage may fix their x without losing any of its feasible plans."""

    admit: frozenset[str]
    leave: frozenset[str]


def fixed_admission(items: Sequence[Item], capacity: int, floor: float) -> FixedAdmission:
    """The knapsack's verdict on each item once Σ w ≥ ``floor`` is required (docs/model.md
    "Fixing the admission"): an item is admitted by every such set when the best set without it
    is lighter than ``floor``, and left out when the best set with it is.

    Both come from one pass each way (``before[k]``: the best of items before k within c units;
    ``after[k]``: of items from k on), so the best set without item k within C units is
    max_c before[k][c] + after[k+1][C − c]: O(items × GPUs) in all. Rounding is kept on the safe
    side (a verdict needs a margin of 1e-9 relative), and beyond ``FIXING_CELLS`` nothing is
    fixed."""
    nothing = FixedAdmission(frozenset(), frozenset())
    useful = [i for i in items if i.gpus <= capacity]
    too_big = frozenset(i.name for i in items if i.gpus > capacity)
    if not useful:
        return FixedAdmission(frozenset(), too_big)
    unit = math.gcd(*(i.gpus for i in useful))
    sizes = [i.gpus // unit for i in useful]
    room = capacity // unit
    if (len(useful) + 1) * (room + 1) > FIXING_CELLS:
        return nothing
    weights = [max(0.0, i.weight) for i in useful]  # a set need not take a non-positive item
    before = _running_best(weights, sizes, room)
    after = _running_best(weights[::-1], sizes[::-1], room)[::-1]
    margin = 1e-9 * max(1.0, abs(floor))
    admit, leave = set(), set(too_big)
    for k, item in enumerate(useful):
        without = float(np.max(before[k] + after[k + 1][::-1]))
        if without < floor - margin:
            admit.add(item.name)
        left = room - sizes[k]
        with_item = weights[k] + float(np.max(before[k][: left + 1] + after[k + 1][left::-1]))
        if with_item < floor - margin:
            leave.add(item.name)
    if admit & leave:  # only when no set reaches ``floor``: the caller's floor is wrong
        return nothing
    return FixedAdmission(frozenset(admit), frozenset(leave))


def _running_best(weights: Sequence[float], sizes: Sequence[int], room: int) -> np.ndarray:
    """Row k: the most weight of the first k items within c units, for c = 0..room."""
    best = np.zeros((len(weights) + 1, room + 1))
    for k, (weight, size) in enumerate(zip(weights, sizes, strict=True)):
        best[k + 1] = best[k]
        if size <= room:
            best[k + 1, size:] = np.maximum(best[k, size:], best[k, : room + 1 - size] + weight)
    return best
