"""Every benchmark spec still runs: its quick variant, through the one runner (``benchmarks/``)."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_every_benchmark_runs_its_quick_variant() -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import smoke  # type: ignore[import-not-found]

        smoke.smoke()
    finally:
        sys.path.remove(str(BENCHMARKS))
