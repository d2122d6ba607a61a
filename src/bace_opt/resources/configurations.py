"""Every way a job can run, as the relaxation's *configurations*: a path of regions and a vertex
of its stage-count polytope, with the run time, GPU-seconds per region and Gbit per link direction
one run on it takes.

A path ``p = (r₁ … r_k)``, 1 ≤ k ≤ min(max_regions, S), visits distinct regions that hold a stage
in memory and have room for one, with a route both ways between consecutive regions. Given p, the
slowest GPU type and so the run time ``D_p = I · ((M + S − 1) · t_c(slowest) + Σ_crossings round
trip)`` do not depend on the stage counts n (1 ≤ n_r ≤ u_r = min(S, gpus_r // g), Σ n_r = S),
which enter linearly: g · n_r · D_p GPU-seconds in r. That polytope (a box cut by one sum) is
integral, so every count vector is a convex combination of its vertices and the vertices are the
only counts the LP needs (``count_vertices``).

Pruned, without losing validity (docs: "Paths and their pruning"):

- *reversal*: ``p`` reversed loads the same link directions the same number of times (a crossing
  between a and b uses the route a→b and the route b→a whichever way the pipeline runs), has the
  same latency, slowest type and count polytope: one orientation is kept;
- *whole regions*: a path whose every region could hold the whole job is dropped, because each
  of its configurations uses at least the resources of a convex combination of the whole-region
  configurations (weights n_r / S; each runs no longer than D_p and moves no bits);
- *dominance*: of two paths through the same regions, one whose latency and every link load are
  no larger than the other's drops the other.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

from bace_opt.core.network import Direction
from bace_opt.core.world import GpuType, Instance, Job
from bace_opt.formulas import job as jobf
from bace_opt.formulas.placement import crossing_latency_s, crossing_link_uses


def count_vertices(upper: tuple[int, ...], total: int) -> tuple[tuple[int, ...], ...]:
    """Vertices of ``{n ∈ ℝ^k : 1 ≤ n_i ≤ upper_i, Σ n = total}`` (all integral): the points with
    k − 1 coordinates at a bound and the last one within its bounds."""
    k = len(upper)
    if k > total or sum(upper) < total:
        return ()
    found: set[tuple[int, ...]] = set()
    for free in range(k):
        others = [i for i in range(k) if i != free]
        for at_upper in itertools.product((False, True), repeat=k - 1):
            n = [0] * k
            for i, up in zip(others, at_upper, strict=True):
                n[i] = upper[i] if up else 1
            n[free] = total - sum(n[i] for i in others)
            if 1 <= n[free] <= upper[free]:
                found.add(tuple(n))
    return tuple(sorted(found))


@dataclass(frozen=True)
class Skeleton:
    """A path for one job shape: what does not depend on the job's length."""

    regions: tuple[str, ...]
    slowest: GpuType
    latency_s: float
    """Σ over crossings of the mean one-way latency (``jobf.run_time_s`` doubles it)."""
    uses: tuple[tuple[Direction, int], ...]
    """How many times the pipeline loads each link direction (forward and backward routes)."""
    vertices: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Config:
    """One configuration of a job: path, stage counts, and what one run on it takes."""

    regions: tuple[str, ...]
    stages: tuple[int, ...]
    run_s: float
    """D: the run time when every crossing gets its need (its least)."""
    gpu_s: tuple[float, ...]
    """GPU-seconds held in each region of ``regions`` over a run of D: g · n_r · D."""
    gbit: tuple[tuple[Direction, float], ...]
    """Gbit/s × s every link direction must give one run, however slow: uses × need × D₀."""

    def describe(self) -> str:
        return ">".join(f"{r}:{n}" for r, n in zip(self.regions, self.stages, strict=True))


@dataclass(frozen=True)
class JobPaths:
    """A job's configurations after pruning, and how many paths were looked at."""

    job: Job
    configs: tuple[Config, ...]
    paths: int
    """Ordered paths that can hold the job (both orientations counted)."""
    kept: int
    """Paths left after pruning."""

    @property
    def min_run_s(self) -> float:
        return min(c.run_s for c in self.configs)

    @property
    def min_gpu_s(self) -> float:
        return min(sum(c.gpu_s) for c in self.configs)


def _dominates(a: Skeleton, b: Skeleton) -> bool:
    """``a`` no worse than ``b`` on latency and on every link direction (same regions)."""
    uses_b = dict(b.uses)
    return a.latency_s <= b.latency_s and all(n <= uses_b.get(d, 0) for d, n in a.uses)


def skeletons(instance: Instance, job: Job) -> tuple[tuple[Skeleton, ...], int]:
    """The kept paths of ``job``'s shape, and how many ordered paths could hold it at all."""
    usable = [
        r for r in instance.regions if jobf.fits(job, r.gpu_type) and r.gpus >= job.gpus_per_stage
    ]
    upper = {r.name: min(job.stages, r.gpus // job.gpus_per_stage) for r in usable}
    order = {r.name: i for i, r in enumerate(usable)}
    net = instance.network
    kept: list[Skeleton] = []
    total = 0
    for k in range(1, min(instance.max_regions, job.stages, len(usable)) + 1):
        for path in itertools.permutations([r.name for r in usable], k):
            pairs = list(itertools.pairwise(path))
            loads = [crossing_link_uses(net, a, b) for a, b in pairs]
            vertices = count_vertices(tuple(upper[r] for r in path), job.stages)
            if any(u is None for u in loads) or not vertices:
                continue
            total += 1
            if [order[r] for r in path[::-1]] < [order[r] for r in path]:
                continue  # the other orientation is kept
            if k > 1 and all(upper[r] == job.stages for r in path):
                continue  # dominated by the whole-region configurations
            uses: Counter[Direction] = Counter()
            for u in loads:
                uses.update(u or {})
            latency = tuple(crossing_latency_s(instance, a, b) for a, b in pairs)
            slowest = min(
                (instance.region[r].gpu_type for r in path), key=lambda g: (g.peak_tflops, g.name)
            )
            kept.append(
                Skeleton(path, slowest, sum(latency), tuple(sorted(uses.items())), vertices)
            )
    return _undominated(kept), total


def _undominated(found: list[Skeleton]) -> tuple[Skeleton, ...]:
    """``found`` without the paths another path through the same regions dominates (of equal
    ones, the first is kept)."""
    out = []
    for i, s in enumerate(found):
        beaten = any(
            j != i
            and set(t.regions) == set(s.regions)
            and _dominates(t, s)
            and (j < i or not _dominates(s, t))
            for j, t in enumerate(found)
        )
        if not beaten:
            out.append(s)
    return tuple(out)


def configurations(instance: Instance, job: Job, paths: tuple[Skeleton, ...]) -> list[Config]:
    """Each kept path's vertices as configurations of ``job``: run time D from the formulas of
    DESIGN §2 (``formulas.job``), GPU-seconds g · n_r · D, and per link direction its uses × the
    Gbit one use carries over a run at whatever pace: need × D₀ = 8 · A · (M + S − 1) · I / 1e9
    (a crossing at rate bw ≤ need takes tau = 8A / bw per step, so bw · tau = 8A whatever bw is,
    and the latency only adds time, never bits)."""
    out = []
    for path in paths:
        t_c = jobf.stage_time(instance, job, path.slowest.peak_tflops)
        run = jobf.run_time_s(job, t_c, path.latency_s)
        per_use = jobf.need_gbps(instance, job, path.slowest.peak_tflops) * jobf.compute_time_s(
            job, t_c
        )
        gbit = tuple((d, n * per_use) for d, n in path.uses)
        for stages in path.vertices:
            gpu_s = tuple(job.gpus_per_stage * n * run for n in stages)
            out.append(Config(path.regions, stages, run, gpu_s, gbit))
    return out


ShapeKey = tuple[object, ...]


def job_paths(
    instance: Instance, job: Job, memo: dict[ShapeKey, tuple[tuple[Skeleton, ...], int]]
) -> JobPaths:
    """The job's configurations; paths are found once per job shape (``memo``)."""
    key: ShapeKey = (job.model.params, job.stages, job.gpus_per_stage)
    if key not in memo:
        memo[key] = skeletons(instance, job)
    paths, total = memo[key]
    return JobPaths(job, tuple(configurations(instance, job, paths)), total, len(paths))
