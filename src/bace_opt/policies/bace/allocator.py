"""BACE-Pipe's cost-minimizing allocator: on each feasible path, contiguous stage blocks with the
most stages where electricity is cheapest; the cheapest path wins.

On a fixed path the run time D is fixed (its crossings' latency and its slowest GPU type), so the
epoch cost of DESIGN §3, ``Σ_blocks stages · g · power · PUE · D · p̄_r``, is ``g · D`` times a
linear function of the stage counts. Minimizing it with at least one stage per region and at most
the free stages of each is a fractional-knapsack: give every region one stage, then fill the rest
cheapest-region-first — exact, and vectorized over all paths at once. p̄_r is the region's mean
price over the job's expected run [t, t + D₀], so time-varying prices count as the job will meet
them. Ties (within 1e-9 relative) go to fewer crossings, then lower latency, then region order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bace_opt.core.placement import Block, Placement
from bace_opt.core.world import Instance, Job, Snapshot
from bace_opt.formulas import job as jobf
from bace_opt.formulas.energy import gpu_second_rate
from bace_opt.policies.bace.pathfinder import Candidates, FloatArray, IntArray, Pathfinder, PathSet
from bace_opt.policies.greedy import Wait

TIE_REL = 1e-9


@dataclass(frozen=True)
class Allocation:
    """The chosen placement and the epoch cost the allocator computed for it."""

    placement: Placement
    cost_usd: float


def gpu_second_price(instance: Instance, job: Job, time_s: float, peak_tflops: float) -> FloatArray:
    """$ per GPU-second in each region (power · PUE · p̄_r), p̄ over the run [t, t + D₀] that the
    job has when its slowest stage runs at ``peak_tflops``."""
    compute_s = jobf.compute_time_s(job, jobf.stage_time(instance, job, peak_tflops))
    return np.array([gpu_second_rate(r, time_s, time_s + compute_s) for r in instance.regions])


def _fill(
    job: Job, regions: IntArray, slots: IntArray, rate: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Stages per block (n, k) in path order and Σ stages · rate (n,), cheapest regions first."""
    k = regions.shape[1]
    held, price = slots[regions], rate[regions]
    order = np.argsort(price, axis=1, kind="stable")
    extra = np.take_along_axis(held, order, axis=1) - 1
    before = np.cumsum(extra, axis=1) - extra
    take = np.clip(job.stages - k - before, 0, extra)
    stages = np.empty_like(take)
    np.put_along_axis(stages, order, 1 + take, axis=1)
    return stages, (stages * price).sum(axis=1)


def cheapest(
    instance: Instance,
    job: Job,
    candidates: list[PathSet],
    slots: IntArray,
    time_s: float,
    names: tuple[str, ...],
) -> Allocation | None:
    """The least-cost placement over all candidate paths (None when there are none)."""
    rates: dict[float, FloatArray] = {}
    rows = []
    for paths in candidates:
        cost = np.empty(len(paths))
        stages = np.empty(paths.regions.shape, dtype=np.int64)
        for peak in np.unique(paths.peak_tflops):
            mask = paths.peak_tflops == peak
            if float(peak) not in rates:
                rates[float(peak)] = gpu_second_price(instance, job, time_s, float(peak))
            s, fill = _fill(job, paths.regions[mask], slots, rates[float(peak)])
            t_c = jobf.stage_time(instance, job, float(peak))
            run = jobf.run_time_s(job, t_c, paths.latency_s[mask])
            cost[mask] = job.gpus_per_stage * run * fill
            stages[mask] = s
        rows.append((paths, stages, cost))
    if not rows:
        return None
    best = min(float(cost.min()) for _, _, cost in rows)
    tied = []
    for paths, stages, cost in rows:
        for i in np.flatnonzero(cost <= best + abs(best) * TIE_REL + 1e-15):
            key = (paths.regions.shape[1], float(paths.latency_s[i]), tuple(paths.regions[i]))
            tied.append((key, paths.regions[i], stages[i], float(cost[i])))
    _, regions, stages, best_cost = min(tied, key=lambda t: t[0])
    blocks = tuple(Block(names[r], int(s)) for r, s in zip(regions, stages, strict=True))
    return Allocation(Placement(job.name, blocks), best_cost)


def first_feasible(
    job: Job, candidates: list[PathSet], slots: IntArray, names: tuple[str, ...]
) -> Placement | None:
    """The ablation without cost-min: the first feasible path (fewest regions, then region order),
    each region taking as many stages as it holds while leaving one for each later region."""
    for paths in candidates:
        if len(paths):
            regions = paths.regions[0]
            blocks, left = [], job.stages
            for i, r in enumerate(regions):
                take = min(int(slots[r]), left - (len(regions) - i - 1))
                blocks.append(Block(names[r], take))
                left -= take
            return Placement(job.name, tuple(blocks))
    return None


class Allocator(Protocol):
    """Chooses a job's placement among the paths where it fits now, or says why it waits."""

    def choose(
        self, snapshot: Snapshot, job: Job, found: Candidates, pathfinder: Pathfinder
    ) -> Placement | Wait: ...


@dataclass(frozen=True)
class CheapestPath:
    """The paper-literal allocator (policy ``bace-cheapest-path``): the cheapest placement over
    all feasible paths, whatever its crossings. Per epoch it pursues the exact MILP's objective
    (admit what fits now, at least cost), so it is the greedy the MILP is compared with,
    warm-started by and falls back to."""

    def choose(
        self, snapshot: Snapshot, job: Job, found: Candidates, pathfinder: Pathfinder
    ) -> Placement | Wait:
        names = pathfinder.index(snapshot.instance).names
        best = cheapest(snapshot.instance, job, found.paths, found.slots, snapshot.time_s, names)
        return best.placement if best else Wait.NO_FIT


@dataclass(frozen=True)
class FirstFeasible:
    """The ablation without cost-min (``bace-no-costmin``): the first feasible path."""

    def choose(
        self, snapshot: Snapshot, job: Job, found: Candidates, pathfinder: Pathfinder
    ) -> Placement | Wait:
        names = pathfinder.index(snapshot.instance).names
        return first_feasible(job, found.paths, found.slots, names) or Wait.NO_FIT


DEFAULT_SPLIT_BUDGET = 0.1
"""Measured on geo6 and geo6-half (8 seeds, ``benchmarks/run.py split-budget``): 0, 0.05, 0.1 and
0.2 all keep BACE-Pipe at or below cost-first on JCT and cost at every sweep point; 0.1 lets a
split cost up to a tenth more than the job's ideal placement — about one crossing's latency
overhead for a typical geo6 job (0.5–23 % of its run time, median 3.4 %)."""


@dataclass(frozen=True)
class WholeElseSplit:
    """Crossings as a last resort (policy ``bace``'s allocator).

    A job that some region holds whole now runs whole, in the cheapest such region. Only a job no
    region holds whole now is split — over the fewest regions that hold it, cheapest first — and
    only when that costs at most ``1 + split_budget`` times the job's *ideal* epoch cost (its
    cheapest placement in an empty world at the same hour); otherwise it waits (``Wait.HELD``).
    Why: on geo6 the paper-literal rule split jobs to save on their own bill, but every split also
    stretches the run by its latency and takes the last free GPUs of the cheap regions, which the
    next whole jobs then miss — over a run that cost more than it saved (docs/benchmarks.md).
    """

    split_budget: float = DEFAULT_SPLIT_BUDGET

    def choose(
        self, snapshot: Snapshot, job: Job, found: Candidates, pathfinder: Pathfinder
    ) -> Placement | Wait:
        instance = snapshot.instance
        names = pathfinder.index(instance).names
        fewest = found.fewest
        assert fewest is not None  # the caller asks only when the job fits somewhere
        allocation = cheapest(instance, job, [fewest], found.slots, snapshot.time_s, names)
        assert allocation is not None
        if not allocation.placement.crossings:
            return allocation.placement
        ideal = self._ideal(snapshot, job, found, pathfinder)
        if ideal is None or allocation.cost_usd > (1.0 + self.split_budget) * ideal.cost_usd:
            return Wait.HELD
        return allocation.placement

    def _ideal(
        self, snapshot: Snapshot, job: Job, found: Candidates, pathfinder: Pathfinder
    ) -> Allocation | None:
        """The job's cheapest placement over the fewest regions in an empty world at the
        snapshot's hour."""
        instance = snapshot.instance
        empty = pathfinder.idle_candidates(instance, job, found.usable)
        if empty.fewest is None:
            return None
        names = pathfinder.index(instance).names
        return cheapest(instance, job, [empty.fewest], empty.slots, snapshot.time_s, names)
