"""Exact integrals of price over time: constant, hourly by UTC hour, hourly series."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from bace_opt.core.prices import ConstantPrice, HourlyUtcPrice, SeriesPrice
from bace_opt.formulas.energy import energy_cost_usd, energy_kwh, mean_price

HOURLY = tuple(float(h) for h in range(24))  # price h $/kWh in UTC hour h


def test_constant() -> None:
    price = ConstantPrice(0.1)
    assert price.integral(100.0, 3700.0) == pytest.approx(360.0)
    # 8 GPUs × 0.4 kW × PUE 1.2 for 2 h = 7.68 kWh; at 0.1 $/kWh = 0.768 $
    assert energy_kwh(8, 0.4, 1.2, 7200.0) == pytest.approx(7.68)
    assert energy_cost_usd(price, 8, 0.4, 1.2, 0.0, 7200.0) == pytest.approx(0.768)


def test_hourly_across_hour_boundary() -> None:
    price = HourlyUtcPrice(HOURLY)
    # 01:30 → 03:15: 0.5 h at 1, 1 h at 2, 0.25 h at 3 = 0.5 + 2 + 0.75 = 3.25 $·h/kWh
    assert price.integral(5400.0, 11700.0) == pytest.approx(3.25 * 3600)


def test_hourly_day_wrap_and_offset() -> None:
    # start_utc at 22:00, so instance t=0 is hour 22; 22:00 → 02:00 next day = 22 + 23 + 0 + 1
    price = HourlyUtcPrice(HOURLY, offset_s=22 * 3600.0)
    assert price.price_at(0.0) == 22.0
    assert price.price_at(2.5 * 3600) == 0.0
    assert price.integral(0.0, 4 * 3600.0) == pytest.approx(46.0 * 3600)
    # two whole days plus one hour: 2 · 276 + 22 = 574 $·h/kWh
    assert price.integral(0.0, 49 * 3600.0) == pytest.approx(574.0 * 3600)


def test_hourly_mean_price() -> None:
    price = HourlyUtcPrice(HOURLY)
    assert mean_price(price, 3600.0, 3 * 3600.0) == pytest.approx(1.5)
    assert mean_price(price, 7200.0, 7200.0) == 2.0


def test_series_inside_before_and_after() -> None:
    start = datetime(2023, 1, 1, tzinfo=UTC)
    times = [datetime(2023, 1, 1, h, tzinfo=UTC) for h in (1, 2, 3)]
    price = SeriesPrice.from_utc(times, [10.0, 20.0, 30.0], start)
    # before the first time the first value holds: 00:00 → 01:00 at 10
    assert price.integral(0.0, 3600.0) == pytest.approx(10.0 * 3600)
    # 01:30 → 02:30: 0.5 h at 10 + 0.5 h at 20 = 15
    assert price.integral(5400.0, 9000.0) == pytest.approx(15.0 * 3600)
    # past the end the last value holds: 03:00 → 05:00 at 30
    assert price.integral(3 * 3600.0, 5 * 3600.0) == pytest.approx(60.0 * 3600)
    assert price.price_at(1e9) == 30.0
    assert price.range() == (10.0, 30.0)


def test_series_integral_is_additive() -> None:
    rng = np.random.default_rng(3)
    times = np.arange(0.0, 48 * 3600.0, 3600.0)
    price = SeriesPrice(times, rng.uniform(-0.05, 0.3, size=len(times)))
    a, b, c = -5000.0, 12345.6, 200000.0
    assert price.integral(a, c) == pytest.approx(price.integral(a, b) + price.integral(b, c))


def test_series_rejects_unsorted_times() -> None:
    with pytest.raises(ValueError, match="increase"):
        SeriesPrice(np.array([0.0, 0.0]), np.array([1.0, 2.0]))
