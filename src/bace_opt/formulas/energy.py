"""Energy and electricity cost of GPUs over time (DESIGN §2): facility power (board power × PUE)
integrated against a region's piecewise-constant price, exactly."""

from __future__ import annotations

import functools
import math

import numpy as np

from bace_opt.core.prices import HOUR_S, ConstantPrice, PriceProfile, SeriesPrice
from bace_opt.core.world import Region

RATE_ROUNDING = 1e-12
"""Relative rounding allowed per unit of an integral's conditioning in ``steady_rate``: ~9000
times the half-dozen roundings (ε = 1.1e-16 each) between a price and ``gpu_second_rate``."""


def mean_price(price: PriceProfile, t0: float, t1: float) -> float:
    """Mean price over [t0, t1]; the price at t0 when the interval is empty."""
    if t1 <= t0:
        return price.price_at(t0)
    return price.integral(t0, t1) / (t1 - t0)


def energy_kwh(gpus: int, power_kw: float, pue: float, seconds: float) -> float:
    """Facility energy of ``gpus`` GPUs at ``power_kw`` each for ``seconds``, PUE included."""
    return gpus * power_kw * pue * seconds / HOUR_S


def energy_cost_usd(
    price: PriceProfile, gpus: int, power_kw: float, pue: float, t0: float, t1: float
) -> float:
    """Cost of running ``gpus`` GPUs over [t0, t1]: facility power integrated against price."""
    return gpus * power_kw * pue * price.integral(t0, t1) / HOUR_S


def gpu_rate_now(region: Region, t: float) -> float:
    """``price now · PUE · power``: the $/h one GPU in ``region`` draws at the price of time ``t``
    (cost-first-spill's order of regions)."""
    return region.price.price_at(t) * region.pue * region.gpu_type.power_kw


def gpu_second_rate(region: Region, t0: float, t1: float) -> float:
    """``power · PUE · p̄ / 3600``: what one GPU in ``region`` costs per second of a run whose prices
    are averaged over [t0, t1] (the rate of the epoch cost, DESIGN §3)."""
    return region.gpu_type.power_kw * region.pue * mean_price(region.price, t0, t1) / HOUR_S


@functools.cache
def _series_tail(price: SeriesPrice) -> tuple[float, float, float]:
    """A series' last time, its last price, and Σ |Δt · price| over the series (a bound on its
    antiderivative's size at the last time)."""
    steps = np.diff(price.times_s) * price.usd_per_kwh[:-1]
    return float(price.times_s[-1]), float(price.usd_per_kwh[-1]), float(np.abs(steps).sum())


def steady_rate(region: Region, t0: float, window_s: float) -> tuple[float, float] | None:
    """``gpu_second_rate(region, t0, t0 + window_s)`` when the region's price surely holds one
    value p over that window (a constant price, or a series past its last time): ``power · PUE ·
    p / 3600`` in exact arithmetic, and a bound on how far the computed rate rounds away from it.
    None when the price may change within the window, or for another kind of profile. What it is
    for: the allocator can tell that a rate has not moved without working the integral out."""
    steady = _steady(region, t0)
    if steady is None:
        return None
    rate, per_window, rest = steady
    return rate, (per_window / window_s if window_s > 0 else math.inf) + rest


def _steady(region: Region, t0: float) -> tuple[float, float, float] | None:
    """``steady_rate`` as (rate, a, b): the rounding bound of a D-second window is a / D + b.

    The integral subtracts antiderivatives as large as ``size`` = the series' Σ |Δt · price| plus
    |p| · (t0 + D − last time) (0 for a constant price, which multiplies p by the window), and a
    half-dozen roundings of relative ε each turn it into the rate: the bound is
    ``RATE_ROUNDING · scale · (size / D + |p|)``, ``scale`` = power · PUE / 3600."""
    price = region.price
    if isinstance(price, ConstantPrice):
        p, size = price.usd_per_kwh, 0.0
    elif isinstance(price, SeriesPrice):
        last, p, steps = _series_tail(price)
        if not t0 >= last:
            return None
        size = steps + abs(p) * (t0 - last)
    else:
        return None
    scale = region.gpu_type.power_kw * region.pue / HOUR_S
    slack = RATE_ROUNDING * abs(scale)
    return scale * p, slack * size, slack * 2.0 * abs(p)


def steady_rates(
    regions: tuple[Region, ...], t0: float
) -> tuple[list[float], list[float], list[float]] | None:
    """``steady_rate`` of every region at once, as lists (rates, a, b) — the bound of a D-second
    window is a / D + b — or None if any region's price may change after ``t0``."""
    out: tuple[list[float], list[float], list[float]] = ([], [], [])
    for region in regions:
        steady = _steady(region, t0)
        if steady is None:
            return None
        for column, value in zip(out, steady, strict=True):
            column.append(value)
    return out
