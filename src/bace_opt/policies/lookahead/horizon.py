"""The rolling horizon one ``lookahead`` epoch plans over: its slots, and what each region and link
direction can give in each slot once the running jobs end.

Slots start at the epoch's time ``t₀``: ``slot_s`` long for the first ``fine_h`` hours (where the
decision "start now or not" is made), then an hour long until ``horizon_h``, then one open-ended
*overflow* slot from the horizon on, with no capacity rows (what the plan cannot fit in the next
day it puts there, at the horizon's date). Free capacity grows as running jobs end: a running job
gives its GPUs back at its expected ``end_s``, and its link reservations too when its
``need_gbps`` is known (else the residual of now is assumed to hold: the plan then under-counts
later bandwidth, which only makes it start work sooner).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from bace_opt.core.network import Direction
from bace_opt.core.prices import HOUR_S
from bace_opt.core.world import Snapshot
from bace_opt.formulas.placement import crossing_link_uses

FloatArray = np.ndarray


@dataclass(frozen=True)
class HorizonShape:
    """How the horizon is cut (the ``lookahead`` options of the same names)."""

    slot_s: float = 900.0
    fine_h: float = 4.0
    horizon_h: float = 24.0


@dataclass(frozen=True)
class Horizon:
    """Slot ``s`` is ``[starts[s], ends[s])``; the last one is the overflow (``ends`` = inf)."""

    starts: FloatArray
    ends: FloatArray
    regions: tuple[str, ...]
    gpu_s: FloatArray
    """(regions, finite slots): GPU-seconds free in each region over each slot."""
    directions: tuple[Direction, ...]
    gbit: FloatArray
    """(directions, finite slots): Gbit each link direction can carry over each slot."""

    @property
    def count(self) -> int:
        return len(self.starts)

    @property
    def finite(self) -> int:
        """Slots before the overflow."""
        return len(self.starts) - 1

    @property
    def lengths(self) -> FloatArray:
        """Lengths of the finite slots."""
        lengths: FloatArray = self.ends[:-1] - self.starts[:-1]
        return lengths


def slot_starts(t0: float, shape: HorizonShape) -> FloatArray:
    """``t₀``, fine slots to ``fine_h``, hourly ones to ``horizon_h``, then the overflow's start."""
    fine_end = t0 + min(shape.fine_h, shape.horizon_h) * HOUR_S
    end = t0 + shape.horizon_h * HOUR_S
    fine = np.arange(t0, fine_end - 1e-9, shape.slot_s)
    hourly = np.arange(fine_end, end - 1e-9, HOUR_S)
    starts: FloatArray = np.concatenate([fine, hourly, [end]])
    return starts


def _released(snapshot: Snapshot) -> list[tuple[float, dict[str, int], dict[Direction, float]]]:
    """Per running job: when it ends, the GPUs it gives back, the Gbit/s it gives back."""
    network = snapshot.instance.network
    out = []
    for run in snapshot.running:
        links: dict[Direction, float] = {}
        if run.need_gbps is not None:
            for a, b in itertools.pairwise(run.placement.regions):
                for d, n in (crossing_link_uses(network, a, b) or {}).items():
                    links[d] = links.get(d, 0.0) + n * run.need_gbps
        out.append((max(run.end_s, snapshot.time_s), run.gpus_by_region(), links))
    return out


def _held_after(starts: FloatArray, ends: FloatArray, end_s: float) -> FloatArray:
    """Seconds of each slot after ``end_s``."""
    after: FloatArray = np.clip(ends - np.maximum(starts, end_s), 0.0, None)
    return after


def build_horizon(snapshot: Snapshot, shape: HorizonShape) -> Horizon:
    """The epoch's horizon and free capacity per slot."""
    starts = slot_starts(snapshot.time_s, shape)
    ends = np.append(starts[1:], math.inf)
    s0, s1 = starts[:-1], ends[:-1]
    lengths = s1 - s0
    regions = tuple(r.name for r in snapshot.instance.regions)
    row = {name: i for i, name in enumerate(regions)}
    gpu_s = np.array([snapshot.free_gpus[name] * lengths for name in regions], float)
    directions = tuple(sorted(snapshot.residual_gbps))
    col = {d: i for i, d in enumerate(directions)}
    gbit = np.array([max(snapshot.residual_gbps[d], 0.0) * lengths for d in directions], float)
    gbit = gbit.reshape(len(directions), len(lengths))
    for end_s, gpus, links in _released(snapshot):
        after = _held_after(s0, s1, end_s)
        for name, n in gpus.items():
            gpu_s[row[name]] += n * after
        for d, gbps in links.items():
            if d in col:
                gbit[col[d]] += gbps * after
    return Horizon(starts, ends, regions, gpu_s, directions, gbit)
