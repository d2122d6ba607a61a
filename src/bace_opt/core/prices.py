"""Electricity price profiles and the exact integral of price over any interval.

Times are seconds since the instance's ``start_utc``; prices are $/kWh. Every profile is
piecewise constant, so integrals are exact sums (no sampling): across hour boundaries, across the
wrap of a daily profile, and past either end of a series (which holds its first value before its
start and its last value after its end).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

HOUR_S = 3600.0
DAY_S = 86400.0


class PriceProfile(Protocol):
    """A region's electricity price over time."""

    def price_at(self, t: float) -> float:
        """Price in $/kWh at instance time ``t`` (seconds)."""
        ...

    def integral(self, t0: float, t1: float) -> float:
        """∫ price dt over [t0, t1], in $/kWh · seconds (exact)."""
        ...

    def range(self) -> tuple[float, float]:
        """Lowest and highest price the profile can take."""
        ...


@dataclass(frozen=True)
class ConstantPrice:
    """One price at all times."""

    usd_per_kwh: float

    def price_at(self, t: float) -> float:
        return self.usd_per_kwh

    def integral(self, t0: float, t1: float) -> float:
        return self.usd_per_kwh * (t1 - t0)

    def range(self) -> tuple[float, float]:
        return (self.usd_per_kwh, self.usd_per_kwh)


@dataclass(frozen=True)
class HourlyUtcPrice:
    """A daily profile: 24 prices indexed by the UTC hour, repeated every day.

    ``offset_s`` is the time of day (UTC, seconds) of the instance's ``start_utc``, so instance
    time t falls at time of day ``(t + offset_s) mod 86400``.
    """

    usd_per_kwh: tuple[float, ...]
    offset_s: float = 0.0
    _cum: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.usd_per_kwh) != 24:
            raise ValueError("hourly_utc needs 24 prices")
        cum = [0.0]
        for p in self.usd_per_kwh:
            cum.append(cum[-1] + p * HOUR_S)
        object.__setattr__(self, "_cum", tuple(cum))

    def price_at(self, t: float) -> float:
        hour = int(((t + self.offset_s) % DAY_S) // HOUR_S)
        return self.usd_per_kwh[hour]

    def _antiderivative(self, x: float) -> float:
        """∫ price from a UTC midnight to x seconds later."""
        days = math.floor(x / DAY_S)
        rem = x - days * DAY_S
        hour = min(int(rem // HOUR_S), 23)
        within = self._cum[hour] + self.usd_per_kwh[hour] * (rem - hour * HOUR_S)
        return days * self._cum[24] + within

    def integral(self, t0: float, t1: float) -> float:
        return self._antiderivative(t1 + self.offset_s) - self._antiderivative(t0 + self.offset_s)

    def range(self) -> tuple[float, float]:
        return (min(self.usd_per_kwh), max(self.usd_per_kwh))


@dataclass(frozen=True, eq=False)
class SeriesPrice:
    """A price series: ``usd_per_kwh[k]`` holds from ``times_s[k]`` until the next time.

    Before the first time the first value holds, after the last time the last value holds (DESIGN
    §4: a series holds its last value past its end).
    """

    times_s: npt.NDArray[np.float64]
    usd_per_kwh: npt.NDArray[np.float64]
    source: str = ""
    _cum: npt.NDArray[np.float64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.times_s) == 0 or len(self.times_s) != len(self.usd_per_kwh):
            raise ValueError("a price series needs equally many times and prices, at least one")
        if np.any(np.diff(self.times_s) <= 0):
            raise ValueError("price series times must increase strictly")
        steps = np.diff(self.times_s) * self.usd_per_kwh[:-1]
        object.__setattr__(self, "_cum", np.concatenate(([0.0], np.cumsum(steps))))

    @classmethod
    def from_utc(
        cls, times: list[datetime], usd_per_kwh: list[float], start: datetime, source: str = ""
    ) -> SeriesPrice:
        """Build from absolute UTC times, re-expressed as seconds since ``start``."""
        rel = np.array([(t - start).total_seconds() for t in times], dtype=np.float64)
        return cls(rel, np.asarray(usd_per_kwh, dtype=np.float64), source)

    def _index(self, t: float) -> int:
        return max(int(np.searchsorted(self.times_s, t, side="right")) - 1, 0)

    def price_at(self, t: float) -> float:
        return float(self.usd_per_kwh[self._index(t)])

    def _antiderivative(self, t: float) -> float:
        k = self._index(t)
        return float(self._cum[k] + self.usd_per_kwh[k] * (t - self.times_s[k]))

    def integral(self, t0: float, t1: float) -> float:
        return self._antiderivative(t1) - self._antiderivative(t0)

    def range(self) -> tuple[float, float]:
        return (float(self.usd_per_kwh.min()), float(self.usd_per_kwh.max()))
