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

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from bace_opt.core.placement import Block, Placement
from bace_opt.core.world import Instance, Job
from bace_opt.formulas import job as jobf
from bace_opt.formulas.energy import gpu_second_rate, steady_rates
from bace_opt.policies.bace.held import HeldSplit, SplitClass, split_class
from bace_opt.policies.bace.pathfinder import Candidates, FloatArray, IntArray, Pathfinder, PathSet
from bace_opt.policies.greedy import Epoch, Wait

TIE_REL = 1e-9
Steady = tuple[list[float], list[float], list[float]]


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
    n, k = regions.shape
    held, price = slots[regions], rate[regions]
    order = np.argsort(price, axis=1, kind="stable")
    rows = np.arange(n)[:, None]
    extra = held[rows, order] - 1
    before = np.cumsum(extra, axis=1) - extra
    take = np.minimum(np.maximum(job.stages - k - before, 0), extra)
    stages = np.empty_like(take)
    stages[rows, order] = 1 + take
    return stages, (stages * price).sum(axis=1)


def cheapest(
    instance: Instance,
    job: Job,
    candidates: list[PathSet],
    slots: IntArray,
    time_s: float,
    names: tuple[str, ...],
    rates: dict[float, FloatArray] | None = None,
) -> Allocation | None:
    """The least-cost placement over all candidate paths (None when there are none); ``rates``
    (``gpu_second_price`` by peak) may be shared by calls for the same job and time."""
    rates = {} if rates is None else rates
    rows = []
    for paths in candidates:
        cost = np.empty(len(paths))
        stages = np.empty(paths.regions.shape, dtype=np.int64)
        for peak, mask in paths.peaks:
            if peak not in rates:
                rates[peak] = gpu_second_price(instance, job, time_s, peak)
            s, fill = _fill(job, paths.regions[mask], slots, rates[peak])
            t_c = jobf.stage_time(instance, job, peak)
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
        self, epoch: Epoch, job: Job, found: Candidates, pathfinder: Pathfinder
    ) -> Placement | Wait: ...


@dataclass(frozen=True)
class CheapestPath:
    """The paper-literal allocator (policy ``bace-cheapest-path``): the cheapest placement over
    all feasible paths, whatever its crossings. Per epoch it pursues the exact MILP's objective
    (admit what fits now, at least cost), so it is the greedy the MILP is compared with,
    warm-started by and falls back to."""

    def choose(
        self, epoch: Epoch, job: Job, found: Candidates, pathfinder: Pathfinder
    ) -> Placement | Wait:
        names = pathfinder.index(epoch.instance).names
        best = cheapest(epoch.instance, job, found.paths, found.slots, epoch.time_s, names)
        return best.placement if best else Wait.NO_FIT


@dataclass(frozen=True)
class FirstFeasible:
    """The ablation without cost-min (``bace-no-costmin``): the first feasible path."""

    def choose(
        self, epoch: Epoch, job: Job, found: Candidates, pathfinder: Pathfinder
    ) -> Placement | Wait:
        names = pathfinder.index(epoch.instance).names
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

    A refusal is remembered (``held.HeldSplit``): on the same candidate paths later, the job
    waits without the two allocator passes while a bound proves the exact check would refuse it
    again.
    """

    split_budget: float = DEFAULT_SPLIT_BUDGET
    _held: dict[str, HeldSplit] = field(default_factory=dict, compare=False, repr=False)
    """Each waiting job's last exact refusal."""
    _held_class: dict[SplitClass, HeldSplit] = field(
        default_factory=dict, compare=False, repr=False
    )
    """Each split class's last exact refusal."""
    _steady: list[tuple[Instance, float, Steady | None]] = field(
        default_factory=list, compare=False, repr=False
    )
    """``steady_rates`` at the last time asked."""

    def _steady_rates(self, instance: Instance, time_s: float) -> Steady | None:
        if not self._steady or self._steady[0][0] is not instance or self._steady[0][1] != time_s:
            self._steady[:] = [(instance, time_s, steady_rates(instance.regions, time_s))]
        return self._steady[0][2]

    def choose(
        self, epoch: Epoch, job: Job, found: Candidates, pathfinder: Pathfinder
    ) -> Placement | Wait:
        instance, time_s = epoch.instance, epoch.time_s
        rates: dict[float, FloatArray] = {}
        klass = split_class(job)
        known = [
            held
            for held in (self._held.get(job.name), self._held_class.get(klass))
            if held is not None and held.found is found
        ]
        for held in known:
            steady = self._steady_rates(instance, time_s)
            if steady is not None:
                moved = held.moved_steady(instance, job, steady)
            else:
                for peak in held.rates:
                    if peak not in rates:
                        rates[peak] = gpu_second_price(instance, job, time_s, peak)
                moved = held.moved(rates)
            if held.still_held(moved, self.split_budget):
                return Wait.HELD
        names = pathfinder.index(instance).names
        fewest = found.fewest
        assert fewest is not None  # the caller asks only when the job fits somewhere
        allocation = cheapest(instance, job, [fewest], found.slots, time_s, names, rates)
        assert allocation is not None
        if not allocation.placement.crossings:
            self._held.pop(job.name, None)
            return allocation.placement
        idle = pathfinder.idle_candidates(instance, job, found.usable)
        empty, ideal = idle.fewest, None
        if empty is not None:
            ideal = cheapest(instance, job, [empty], idle.slots, time_s, names, rates)
        if ideal is None or allocation.cost_usd > (1.0 + self.split_budget) * ideal.cost_usd:
            against = None if ideal is None or empty is None else (ideal.cost_usd, empty)
            held = HeldSplit.of(instance, job, found, rates, allocation.cost_usd, against)
            self._held[job.name] = self._held_class[klass] = held
            return Wait.HELD
        self._held.pop(job.name, None)
        return allocation.placement
