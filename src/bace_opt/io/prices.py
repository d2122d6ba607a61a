"""Electricity prices from a file: a constant, a daily ``hourly_utc`` profile, or an hourly
``series_csv`` time series (columns ``utc_time,usd_per_kwh``, path relative to the instance file
under the rules of ``io.files``).
A problem comes back as one line naming the field, so it joins the file's other problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bace_opt.core.prices import ConstantPrice, HourlyUtcPrice, PriceProfile, SeriesPrice
from bace_opt.io.files import read_data_table
from bace_opt.io.schema import MAX_PRICE_USD_PER_KWH, HourlyUtcPriceSpec, SeriesCsvPriceSpec

PRICE_COLUMNS = ("utc_time", "usd_per_kwh")


def read_price_series(
    spec: SeriesCsvPriceSpec, base_dir: Path, data_root: Path | None, where: str, start: Any
) -> Any:
    """A ``SeriesPrice`` from a CSV, or a problem line (never quoting a file that is not a price
    CSV: the header is checked before any value is shown)."""
    name = spec.series_csv
    table = read_data_table(name, base_dir, data_root, where, PRICE_COLUMNS)
    if isinstance(table, str):
        return table
    if table.empty:
        return f"{where}: {name} has no rows"
    times = pd.to_datetime(table["utc_time"], utc=True, format="ISO8601", errors="coerce")
    if times.isna().any():
        row = int(times.isna().to_numpy().argmax())
        value = str(table["utc_time"].iloc[row])[:40]
        return f"{where}: {name} row {row + 2}: utc_time {value!r} is not ISO-8601"
    prices = pd.to_numeric(table["usd_per_kwh"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(prices) | (np.abs(np.nan_to_num(prices)) > MAX_PRICE_USD_PER_KWH)
    if bad.any():
        row = int(bad.argmax()) + 2
        return (
            f"{where}: {name} row {row}: usd_per_kwh must be a number within "
            f"±{MAX_PRICE_USD_PER_KWH:g} $/kWh"
        )
    if not times.is_monotonic_increasing or times.duplicated().any():
        return f"{where}: {name} utc_time must increase strictly"
    return SeriesPrice.from_utc(
        list(times.dt.to_pydatetime()), prices.tolist(), start, source=table.attrs["source"]
    )


def price_profile(
    spec: Any, base_dir: Path, data_root: Path | None, where: str, start: Any
) -> PriceProfile | str:
    if isinstance(spec, HourlyUtcPriceSpec):
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        return HourlyUtcPrice(tuple(spec.hourly_utc), (start - midnight).total_seconds())
    if isinstance(spec, SeriesCsvPriceSpec):
        result: PriceProfile | str = read_price_series(spec, base_dir, data_root, where, start)
        return result
    return ConstantPrice(float(spec))
