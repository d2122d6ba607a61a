"""BACE-Pipe's bandwidth-aware pathfinder: every feasible region sequence for a job.

A *path* is a sequence of distinct regions, at most ``max_regions`` long, whose consecutive regions
have routes both ways. Which paths exist is fixed by the instance, so they are enumerated once and
kept as index arrays (one array per length). What changes from job to job and placement to
placement — free GPUs and residual bandwidth — is applied to all paths at once with numpy:

- *capacity*: every region of the path holds a whole stage (free GPUs ≥ g) and together they hold
  all S stages, at least one per region;
- *bandwidth*: every crossing's route, forward and backward, has the job's ``need_gbps`` (for the
  path's slowest GPU type) of residual on each link direction.

Residual per region pair is computed once per change of the ledger — one numpy pass over the pair
→ link-direction incidence built with the paths — and shared by every job that is checked against
it (work reused across jobs with equal — or any — need).
"""

from __future__ import annotations

import functools
import itertools
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bace_opt.core.network import Direction
from bace_opt.core.world import Instance, Job
from bace_opt.formulas import job as jobf
from bace_opt.formulas.placement import crossing_latency_s, crossing_link_uses
from bace_opt.policies.lineup import FitShape, fit_shape
from bace_opt.resources.ledger import Ledger

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PathSet:
    """Paths of one length k: region indices (n, k), crossing latency Σ (n,) — the DESIGN
    ``Σ latency`` term, per crossing the mean of its two routes — and slowest peak TFLOPS (n,)."""

    regions: IntArray
    latency_s: FloatArray
    peak_tflops: FloatArray

    def __len__(self) -> int:
        return len(self.regions)

    @property
    def arrays(self) -> tuple[npt.NDArray[np.generic], ...]:
        return (self.regions, self.latency_s, self.peak_tflops)

    @functools.cached_property
    def peaks(self) -> tuple[tuple[float, npt.NDArray[np.bool_]], ...]:
        """Each distinct slowest peak TFLOPS, ascending, with the mask of its paths."""
        return tuple(
            (float(peak), self.peak_tflops == peak) for peak in np.unique(self.peak_tflops)
        )

    def subset(self, mask: npt.NDArray[np.bool_]) -> PathSet:
        return PathSet(self.regions[mask], self.latency_s[mask], self.peak_tflops[mask])


_LAST_INDEX: list[tuple[weakref.ref[Instance], PathIndex]] = []


def shared_index(instance: Instance) -> PathIndex:
    """``PathIndex.build(instance)``, shared by every pathfinder on the same instance: the MIP
    start makes five new greedy policies per epoch, and each built the index again (0.4 s of a
    whole geo6 run with exact epochs, session 15). The last instance's index is kept, held by
    a weak reference to the instance: a new instance gets its own."""
    last = _LAST_INDEX
    if last and last[0][0]() is instance:
        return last[0][1]
    index = PathIndex.build(instance)
    last[:] = [(weakref.ref(instance), index)]
    return index


@dataclass(frozen=True)
class PathIndex:
    """All structurally possible paths of an instance, by length, and which link directions a
    crossing between each ordered region pair loads (its forward and backward routes)."""

    names: tuple[str, ...]
    by_length: tuple[PathSet, ...]
    directions: tuple[Direction, ...]
    """Every link direction, in the order of the arrays below."""
    pair_rows: IntArray
    """Flat pair index i · n + j of each (pair, direction) entry."""
    pair_dirs: IntArray
    """Index into ``directions`` of each entry."""
    pair_uses: FloatArray
    """How often the pair's two routes use that direction (a direction used twice counts half)."""
    linked: npt.NDArray[np.bool_]
    """(n, n): routes exist both ways between regions i ≠ j."""
    capacity: FloatArray
    """Gbit/s of each direction in ``directions`` on an idle network."""

    @classmethod
    def build(cls, instance: Instance) -> PathIndex:
        names = tuple(r.name for r in instance.regions)
        peak = np.array([r.gpu_type.peak_tflops for r in instance.regions])
        net = instance.network
        n = len(names)
        directions = tuple(net.capacity)
        position = {d: k for k, d in enumerate(directions)}
        linked = np.zeros((n, n), dtype=bool)
        latency = np.zeros((n, n))
        rows, dirs, uses = [], [], []
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                pair = crossing_link_uses(net, a, b) if i != j else None
                if pair is None:
                    continue
                linked[i, j] = True
                latency[i, j] = crossing_latency_s(instance, a, b)
                for d, k in pair.items():
                    rows.append(i * n + j)
                    dirs.append(position[d])
                    uses.append(float(k))
        sets = []
        for k in range(1, min(instance.max_regions, n) + 1):
            paths = [
                p
                for p in itertools.permutations(range(n), k)
                if all(linked[a, b] for a, b in itertools.pairwise(p))
            ]
            arr = np.array(paths, dtype=np.int64).reshape(len(paths), k)
            lat = latency[arr[:, :-1], arr[:, 1:]].sum(axis=1) if k > 1 else np.zeros(len(arr))
            sets.append(PathSet(arr, lat, peak[arr].min(axis=1)))
        return cls(
            names,
            tuple(sets),
            directions,
            np.array(rows, dtype=np.int64),
            np.array(dirs, dtype=np.int64),
            np.array(uses),
            linked,
            np.array([net.capacity[d] for d in directions], dtype=float),
        )

    def bottleneck(self, residual: Mapping[Direction, float]) -> FloatArray:
        """Gbit/s a crossing between each ordered region pair can get: the least residual over the
        link directions of its forward and backward routes (0 where there is no route)."""
        free = np.fromiter((residual[d] for d in self.directions), float, len(self.directions))
        return self._least(free)

    @functools.cached_property
    def idle(self) -> FloatArray:
        """``bottleneck`` of an idle network, every link direction at full capacity."""
        return self._least(self.capacity)

    def _least(self, free: FloatArray) -> FloatArray:
        n = len(self.names)
        out = np.full(n * n, np.inf)
        np.minimum.at(out, self.pair_rows, free[self.pair_dirs] / self.pair_uses)
        out[~self.linked.ravel()] = 0.0
        return out.reshape(n, n)


def feasible_paths(
    index: PathIndex,
    instance: Instance,
    job: Job,
    slots: IntArray,
    usable: npt.NDArray[np.bool_],
    bottleneck: FloatArray | None,
) -> list[PathSet]:
    """The paths on which ``job`` fits now: capacity always, bandwidth when ``bottleneck`` (per
    region pair, from ``PathIndex.bottleneck``) is given; ``slots[r]`` = whole stages region r
    holds."""
    out = []
    for paths in index.by_length:
        k = paths.regions.shape[1]
        if k > job.stages or len(paths) == 0:
            continue
        held = slots[paths.regions]
        ok = (held >= 1).all(axis=1) & (held.sum(axis=1) >= job.stages)
        ok &= usable[paths.regions].all(axis=1)
        if bottleneck is not None and k > 1:
            need = jobf.need_gbps(instance, job, paths.peak_tflops)
            links = bottleneck[paths.regions[:, :-1], paths.regions[:, 1:]].min(axis=1)
            ok &= links >= need * (1 - 1e-12)
        if ok.any():
            out.append(paths.subset(ok))
    return out


@dataclass(frozen=True)
class Candidates:
    """Where a job fits now: the feasible paths by length (fewest regions first), and per region
    the whole stages its free GPUs hold and whether its GPU type holds a stage in memory."""

    paths: list[PathSet]
    slots: IntArray
    usable: npt.NDArray[np.bool_]

    @classmethod
    def frozen(
        cls, paths: list[PathSet], slots: IntArray, usable: npt.NDArray[np.bool_]
    ) -> Candidates:
        """Candidates whose arrays are read-only (they are shared through the caches)."""
        for array in (slots, usable, *(a for p in paths for a in p.arrays)):
            array.flags.writeable = False
        return cls(paths, slots, usable)

    def __bool__(self) -> bool:
        return any(len(p) for p in self.paths)

    @property
    def fewest(self) -> PathSet | None:
        """The feasible paths over the fewest regions."""
        return next((p for p in self.paths if len(p)), None)


CACHE_ENTRIES = 4096
"""Candidate sets a pathfinder remembers before it starts over (a few hundred bytes each)."""


@dataclass
class Pathfinder:
    """BACE-Pipe's pathfinder; ``bandwidth=False`` is the ablation that ignores links.

    Keeps the instance's ``PathIndex``, within one ``decide`` the pair bottleneck of the ledger's
    link reservations (recomputed only after a placement with crossings), and the candidate paths
    it found by all they depend on: the job's ``fit_shape``, the whole stages each region's free
    GPUs hold, and the pair bottleneck. In a long queue many jobs of one shape are checked
    against the same resources (every one a split would wait for): each check after the first
    is a lookup. The arrays of a ``Candidates`` it returns are shared: read, never write them."""

    bandwidth: bool = True
    _index: PathIndex | None = field(default=None, repr=False)
    _indexed: Instance | None = field(default=None, repr=False)
    _bottleneck: tuple[PathIndex, Ledger, int, FloatArray] | None = field(default=None, repr=False)
    _found: dict[tuple[object, ...], Candidates] = field(
        default_factory=dict, repr=False, compare=False
    )
    _idle: dict[FitShape, Candidates] = field(default_factory=dict, repr=False, compare=False)
    _recent: tuple[Ledger, int, dict[FitShape, Candidates]] | None = field(default=None, repr=False)
    """The candidates of each shape on the ledger as it is now (``Ledger.version``)."""

    def index(self, instance: Instance) -> PathIndex:
        """The instance's structural paths, built on first use (``shared_index``)."""
        if self._index is None or self._indexed is not instance:
            self._index, self._indexed = shared_index(instance), instance
            self._found, self._idle, self._recent = {}, {}, None
        return self._index

    def _pair_bottleneck(self, index: PathIndex, ledger: Ledger) -> FloatArray | None:
        if not self.bandwidth:
            return None
        cached = self._bottleneck
        key = (index, ledger, ledger.links_version)
        if (
            cached is None
            or cached[0] is not index
            or cached[1] is not ledger
            or cached[2] != key[2]
        ):
            cached = (*key, index.bottleneck(ledger.residual))
            self._bottleneck = cached
        return cached[3]

    def candidates(self, instance: Instance, job: Job, ledger: Ledger) -> Candidates:
        """The paths on which ``job`` fits the ledger's resources now."""
        index = self.index(instance)
        shape = fit_shape(job)
        recent = self._recent
        if recent is None or recent[0] is not ledger or recent[1] != ledger.version:
            recent = self._recent = (ledger, ledger.version, {})
        found = recent[2].get(shape)
        if found is None:
            found = recent[2][shape] = self._find(index, instance, job, ledger)
        return found

    def _find(self, index: PathIndex, instance: Instance, job: Job, ledger: Ledger) -> Candidates:
        width = job.gpus_per_stage
        held = tuple(ledger.free[n] // width for n in index.names)
        bottleneck = self._pair_bottleneck(index, ledger)
        key = (fit_shape(job), held, None if bottleneck is None else bottleneck.tobytes())
        found = self._found.get(key)
        if found is None:
            if len(self._found) >= CACHE_ENTRIES:
                self._found.clear()
            slots = np.array(held, dtype=np.int64)
            usable = np.array([jobf.fits(job, r.gpu_type) for r in instance.regions])
            paths = feasible_paths(index, instance, job, slots, usable, bottleneck)
            found = self._found[key] = Candidates.frozen(paths, slots, usable)
        return found

    def idle_candidates(
        self, instance: Instance, job: Job, usable: npt.NDArray[np.bool_]
    ) -> Candidates:
        """The paths on which ``job`` fits an empty world: every GPU free, every link idle
        (``usable`` is the job's, from its ``candidates``)."""
        index = self.index(instance)
        shape = fit_shape(job)
        found = self._idle.get(shape)
        if found is None:
            bottleneck = index.idle if self.bandwidth else None
            gpus = np.array([r.gpus for r in instance.regions], dtype=np.int64)
            slots = gpus // job.gpus_per_stage
            paths = feasible_paths(index, instance, job, slots, usable, bottleneck)
            found = self._idle[shape] = Candidates.frozen(paths, slots, usable)
        return found
