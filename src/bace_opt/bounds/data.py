"""Index sets and coefficients of the whole-run relaxation (no Pyomo here): the grid, every job's
configurations, the columns (job, configuration, slot) and the price rungs (region, slot, price).

A column x[j, c, s] is the fraction of job j's work done on configuration c during slot s; it
exists from the slot of the job's arrival on. A rung z[r, s, ℓ] is GPU-seconds held in region r
during slot s at price level ℓ of the slot's ladder, at most the GPUs that can be held there
(``gpus_r`` and what has arrived) times the seconds the slot spends at that price.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bace_opt.bounds.slots import Grid, build_grid, ladders
from bace_opt.core.network import Direction
from bace_opt.core.world import Instance
from bace_opt.formulas.energy import energy_kwh
from bace_opt.resources.configurations import JobPaths, ShapeKey, Skeleton, job_paths

LINK_SLACK = 1e-9
"""Relative room on link capacity: the simulator's max-min sharing accepts loads up to capacity
× (1 + 1e-12) (``sim.sharing.REL_EPS``); the LP allows a little more, never less."""


@dataclass(frozen=True)
class Rung:
    """GPU-seconds in ``region`` during ``slot`` at ``price`` ($/kWh): at most ``upper``."""

    region: str
    slot: int
    price: float
    usd_per_gpu_s: float
    upper: float


@dataclass(frozen=True)
class RelaxationData:
    instance: Instance
    grid: Grid
    jobs: tuple[JobPaths, ...]
    columns: tuple[tuple[int, int, int], ...]
    """(job index, configuration index, slot) of every x column."""
    rungs: tuple[Rung, ...]
    directions: tuple[Direction, ...]
    """Link directions some configuration loads."""
    cost_bounded: bool
    """False when a region's price stays negative forever (the overflow slot): then holding GPUs
    there has no cost bound in this relaxation, and no cost bound is given."""
    jct_cap_s: float
    """X: every C_j − a_j is capped at N · X (valid: such a schedule's average is above X, and
    X is above every bound the LP can give)."""

    @property
    def n_jobs(self) -> int:
        return len(self.jobs)

    def busy_start(self, j: int, s: int) -> float:
        """The earliest work of job j in slot s: its start or the arrival."""
        return max(self.grid.starts[s], self.jobs[j].job.arrival_s)

    def available_s(self, j: int, s: int) -> float:
        """Seconds of slot s after job j's arrival (inf in the overflow slot)."""
        return self.grid.ends[s] - self.busy_start(j, s)

    def row_scale(self, s: int) -> float:
        """Seconds slot s's rows are divided by: its length, ``slot_s`` for the overflow."""
        length = self.grid.length(s)
        return length if math.isfinite(length) else self.grid.slot_s


def fine_end_s(instance: Instance, jobs: tuple[JobPaths, ...]) -> float:
    """Where the fine slots end: the last arrival, plus every job's least GPU-seconds spread over
    all GPUs, plus the longest least run time — when a fluid schedule would surely be done. Any
    value is valid (the overflow slot takes what comes later); this one puts the slots where a
    good schedule works."""
    gpus = sum(r.gpus for r in instance.regions)
    last = max(j.job.arrival_s for j in jobs)
    return last + sum(j.min_gpu_s for j in jobs) / gpus + max(j.min_run_s for j in jobs)


def _rungs(instance: Instance, grid: Grid, jobs: tuple[JobPaths, ...]) -> tuple[list[Rung], bool]:
    work = {r.name: 0.0 for r in instance.regions}
    for jp in jobs:
        most: dict[str, float] = {}
        for c in jp.configs:
            for region, gpu_s in zip(c.regions, c.gpu_s, strict=True):
                most[region] = max(most.get(region, 0.0), gpu_s)
        for region, gpu_s in most.items():
            work[region] += gpu_s
    out, bounded = [], True
    arrivals = sorted((jp.job.arrival_s, jp.job.total_gpus) for jp in jobs)
    for (name, s), ladder in ladders(instance, grid).items():
        place = instance.region[name]
        arrived = sum(g for a, g in arrivals if a < grid.ends[s])
        held = min(place.gpus, arrived)
        rate = energy_kwh(1, place.gpu_type.power_kw, place.pue, 1.0)
        for price, seconds in ladder:
            upper = held * seconds
            if price >= 0:
                upper = min(upper, work[name])
            elif math.isinf(upper):
                bounded, upper = False, work[name]
            out.append(Rung(name, s, price, rate * price, upper))
    return out, bounded


def relaxation_data(instance: Instance, slot_s: float) -> RelaxationData:
    """The relaxation's sets and coefficients for ``instance`` with fine slots of ``slot_s``."""
    memo: dict[ShapeKey, tuple[tuple[Skeleton, ...], int]] = {}
    jobs = tuple(job_paths(instance, job, memo) for job in instance.jobs)
    grid = build_grid(instance, slot_s, fine_end_s(instance, jobs))
    columns = tuple(
        (j, c, s)
        for j, jp in enumerate(jobs)
        for s in range(grid.slot_of(jp.job.arrival_s), grid.count)
        for c in range(len(jp.configs))
    )
    rungs, bounded = _rungs(instance, grid, jobs)
    directions = sorted({d for jp in jobs for c in jp.configs for d, _ in c.gbit})
    span = grid.starts[grid.overflow] - grid.starts[0]
    cap = span + sum(max(c.run_s for c in jp.configs) for jp in jobs)
    return RelaxationData(
        instance, grid, jobs, columns, tuple(rungs), tuple(directions), bounded, cap
    )
