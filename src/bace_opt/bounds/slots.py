"""The relaxation's time grid and what each region's price does inside each slot.

Slots, in instance seconds: *main* slots from ``t_0`` (the slot boundary at or before the first
arrival) to the main horizon — ``slot_s`` long until the last arrival, then growing with the time
since it (``GROWTH``) — then *coarse* slots that double in length until the last time any price
series changes, then one *overflow* slot ``[t_T, ∞)``. Boundaries fall on the
UTC hours of ``start_utc`` when ``slot_s`` divides an hour or is a whole number of hours, so a fine
slot of an hour sees one price of an hourly profile or series. The overflow slot makes the
relaxation valid for a schedule of any length; the slot lengths only decide how tight it is.

A *price ladder* says how much of a slot is spent at each price: ``((p₁, s₁), (p₂, s₂), …)``,
cheapest first, seconds summing to the slot's length (``inf`` in the overflow slot where a price
holds forever). GPUs held in a region during a slot cost at least the cheapest hours' prices
filled first: the relaxation's cost is exact for where the work sits, whatever the slot length.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from bace_opt.core.prices import (
    DAY_S,
    HOUR_S,
    ConstantPrice,
    HourlyUtcPrice,
    PriceProfile,
    SeriesPrice,
)
from bace_opt.core.world import Instance

GROWTH = 0.1
"""After the last arrival, a main slot is about this share of the time since the last arrival long
(in whole ``slot_s``): in an overloaded world, whose jobs all wait long after the last arrival, the
slots stay few while dating work at a slot's start loses about this share of a completion time."""

Ladder = tuple[tuple[float, float], ...]
"""(price $/kWh, seconds at that price) within one slot, cheapest first."""


@dataclass(frozen=True)
class Grid:
    """Slot ``s`` is ``[starts[s], ends[s])``; the last slot is the overflow, ending at ``inf``."""

    starts: tuple[float, ...]
    ends: tuple[float, ...]
    slot_s: float
    fine: int
    """How many leading slots are ``slot_s`` long."""
    main: int
    """How many slots come before the coarse ones (the main horizon)."""

    @property
    def count(self) -> int:
        return len(self.starts)

    @property
    def overflow(self) -> int:
        """Index of the overflow slot (the last)."""
        return len(self.starts) - 1

    def length(self, s: int) -> float:
        return self.ends[s] - self.starts[s]

    def slot_of(self, t: float) -> int:
        """The slot that holds time ``t`` (``t`` ≥ ``starts[0]``)."""
        return min(int(np.searchsorted(self.ends, t, side="right")), self.overflow)


def hour_offset_s(instance: Instance) -> float:
    """Seconds past the UTC hour at time 0 (``start_utc``)."""
    start = instance.start_utc
    return (start.minute * 60 + start.second + start.microsecond / 1e6) % HOUR_S


def anchor_s(instance: Instance, slot_s: float) -> float:
    """A time that is a slot boundary: a UTC hour when ``slot_s`` divides an hour or is a whole
    number of hours, else time 0."""
    ratio = HOUR_S / slot_s
    aligned = abs(ratio - round(ratio)) < 1e-9 or abs(1 / ratio - round(1 / ratio)) < 1e-9
    return -hour_offset_s(instance) if aligned else 0.0


def price_end_s(instance: Instance) -> float:
    """The last time any region's price changes (−inf if none does after a fixed point: constant
    and daily profiles never settle, and the overflow slot covers them)."""
    series = [r.price for r in instance.regions if isinstance(r.price, SeriesPrice)]
    ends = [float(p.times_s[-1]) for p in series]
    return max(ends, default=-math.inf)


def build_grid(
    instance: Instance, slot_s: float, fine_end_s: float, growth: float = GROWTH
) -> Grid:
    """Main slots from the boundary at or before the first arrival until ``fine_end_s`` (at
    least one): ``slot_s`` long until the last arrival, then ``slot_s`` times ⌊``growth`` · (time
    since the last arrival) / ``slot_s``⌋ (at least once), so that dating work at a slot's start
    costs at most about ``growth`` of the time a job has waited since the last arrival; then
    coarse slots doubling (2, 4, 8, … × the last length) until the last price change; then the
    overflow slot."""
    first = min(j.arrival_s for j in instance.jobs)
    last = max(j.arrival_s for j in instance.jobs)
    anchor = anchor_s(instance, slot_s)
    t0 = anchor + math.floor((first - anchor) / slot_s) * slot_s
    if t0 > first:  # float noise of the division
        t0 -= slot_s
    starts: list[float] = []
    t, steps = t0, 1
    while not starts or t < fine_end_s:
        starts.append(t)
        steps = max(1, math.floor(growth * (t - last) / slot_s)) if t > last else 1
        t = t0 + (round((t - t0) / slot_s) + steps) * slot_s
    ends = [*starts[1:], t]
    main = len(starts)
    fine = next(
        (k for k, (a, b) in enumerate(zip(starts, ends, strict=True)) if b - a > slot_s * 1.5),
        len(starts),
    )
    length, settled = 2 * (ends[-1] - starts[-1]), price_end_s(instance)
    while ends[-1] < settled:
        starts.append(ends[-1])
        ends.append(ends[-1] + length)
        length *= 2
    starts.append(ends[-1])
    ends.append(math.inf)
    return Grid(tuple(starts), tuple(ends), slot_s, fine, main)


def _merge(pieces: list[tuple[float, float]]) -> Ladder:
    seconds: dict[float, float] = defaultdict(float)
    for price, span in pieces:
        if span > 0:
            seconds[price] += span
    return tuple(sorted(seconds.items()))


def _hourly(price: HourlyUtcPrice, t0: float, t1: float) -> Ladder:
    if math.isinf(t1):
        return _merge([(p, math.inf) for p in price.usd_per_kwh])
    pieces: list[tuple[float, float]] = []
    days = math.floor((t1 - t0) / DAY_S)
    if days:
        pieces += [(p, days * HOUR_S) for p in price.usd_per_kwh]
        t0 += days * DAY_S
    t = t0
    while t < t1:
        into_hour = (t + price.offset_s) % HOUR_S
        step = min(HOUR_S - into_hour, t1 - t)
        pieces.append((price.price_at(t), step))
        t += step
    return _merge(pieces)


def _series(price: SeriesPrice, t0: float, t1: float) -> Ladder:
    times, values = price.times_s, price.usd_per_kwh
    k0 = max(int(np.searchsorted(times, t0, side="right")) - 1, 0)
    k1 = len(times) - 1 if math.isinf(t1) else max(int(np.searchsorted(times, t1)) - 1, 0)
    seg_start = times[k0 : k1 + 1].astype(float)
    if k0 == 0:
        seg_start[0] = -math.inf  # the first value also holds before the first time
    seg_end = np.append(times[k0 + 1 : k1 + 1], math.inf).astype(float)
    spans = np.minimum(seg_end, t1) - np.maximum(seg_start, t0)
    return _merge(list(zip(values[k0 : k1 + 1].tolist(), spans.tolist(), strict=True)))


def price_ladder(price: PriceProfile, t0: float, t1: float) -> Ladder:
    """Seconds of ``[t0, t1)`` spent at each price (``t1`` may be ``inf``)."""
    if isinstance(price, ConstantPrice):
        return ((price.usd_per_kwh, t1 - t0),)
    if isinstance(price, HourlyUtcPrice):
        return _hourly(price, t0, t1)
    if isinstance(price, SeriesPrice):
        return _series(price, t0, t1)
    raise TypeError(f"no price ladder for {type(price).__name__}")


def ladders(instance: Instance, grid: Grid) -> dict[tuple[str, int], Ladder]:
    """Every region's price ladder in every slot."""
    return {
        (r.name, s): price_ladder(r.price, grid.starts[s], grid.ends[s])
        for r in instance.regions
        for s in range(grid.count)
    }
