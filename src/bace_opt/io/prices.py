"""Electricity prices from a file: a constant, a daily ``hourly_utc`` profile, or an hourly
``series_csv`` time series (columns ``utc_time,usd_per_kwh``, path relative to the instance file).
A problem comes back as one line naming the field, so it joins the file's other problems."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from bace_opt.core.prices import ConstantPrice, HourlyUtcPrice, PriceProfile, SeriesPrice
from bace_opt.io.schema import HourlyUtcPriceSpec, SeriesCsvPriceSpec

MAX_CSV_BYTES = 64 * 1024 * 1024


def read_price_series(spec: SeriesCsvPriceSpec, base_dir: Path, where: str, start: Any) -> Any:
    """A ``SeriesPrice`` from a CSV, or a problem line."""
    path = (base_dir / spec.series_csv).resolve()
    if not path.is_file():
        return f"{where}: file not found: {spec.series_csv}"
    if path.stat().st_size > MAX_CSV_BYTES:
        return f"{where}: {spec.series_csv} is larger than {MAX_CSV_BYTES} bytes"
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        return f"{where}: cannot read {spec.series_csv} as CSV ({str(exc).splitlines()[0]})"
    missing = {"utc_time", "usd_per_kwh"} - set(table.columns)
    if missing:
        return (
            f"{where}: {spec.series_csv} needs columns utc_time,usd_per_kwh; "
            f"missing {', '.join(sorted(missing))} (has {', '.join(map(str, table.columns))})"
        )
    if table.empty:
        return f"{where}: {spec.series_csv} has no rows"
    times = pd.to_datetime(table["utc_time"], utc=True, format="ISO8601", errors="coerce")
    if times.isna().any():
        row = int(times.isna().to_numpy().argmax())
        value = table["utc_time"].iloc[row]
        return f"{where}: {spec.series_csv} row {row + 2}: utc_time {value!r} is not ISO-8601"
    prices = pd.to_numeric(table["usd_per_kwh"], errors="coerce")
    bad = prices.isna() | ~prices.map(lambda v: math.isfinite(v) if pd.notna(v) else False)
    if bad.any():
        row = int(bad.to_numpy().argmax()) + 2
        return f"{where}: {spec.series_csv} row {row}: usd_per_kwh is not a number"
    if not times.is_monotonic_increasing or times.duplicated().any():
        return f"{where}: {spec.series_csv} utc_time must increase strictly"
    return SeriesPrice.from_utc(
        list(times.dt.to_pydatetime()), prices.tolist(), start, source=str(path)
    )


def price_profile(spec: Any, base_dir: Path, where: str, start: Any) -> PriceProfile | str:
    if isinstance(spec, HourlyUtcPriceSpec):
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        return HourlyUtcPrice(tuple(spec.hourly_utc), (start - midnight).total_seconds())
    if isinstance(spec, SeriesCsvPriceSpec):
        result: PriceProfile | str = read_price_series(spec, base_dir, where, start)
        return result
    return ConstantPrice(float(spec))
