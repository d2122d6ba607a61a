"""Energy and electricity cost of GPUs over time (DESIGN §2): facility power (board power × PUE)
integrated against a region's piecewise-constant price, exactly."""

from __future__ import annotations

from bace_opt.core.prices import HOUR_S, PriceProfile
from bace_opt.core.world import Region


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
