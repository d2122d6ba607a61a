"""A smoke test of every benchmark, for a test to call (tests/ is not this folder's to edit):

    import sys; sys.path.insert(0, "benchmarks"); import smoke; smoke.smoke()

Runs each spec's quick variant (tiny sizes: every measurement path, fresh processes and pools
included) into a temporary folder and checks that its CSV and JSON were written with a row each.
About 30–40 s on the project's 2-core VM. Why it exists: the full benchmarks take minutes to
hours, so nothing else would notice a package change that breaks one until someone reruns it.
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from registry import BENCHMARKS
from run import run_benchmark


def smoke() -> None:
    tic = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bace-bench-smoke-") as tmp:
        for name in BENCHMARKS:
            # one folder per spec: sim-speed and bace-speed share their file stem
            outcome = run_benchmark(name, quick=True, out=Path(tmp) / name)
            with outcome.csv.open(newline="") as handle:
                rows = list(csv.DictReader(handle))
            document = json.loads(outcome.json.read_text())
            assert rows, f"{name}: no row in {outcome.csv}"
            assert len(document["rows"]) == len(rows), f"{name}: CSV and JSON rows differ"
            assert document["benchmark"] == name and document["quick"] is True
            assert document["spec"]["name"] == name
            assert {"cpus", "python", "packages"} <= set(document["machine"])
            assert "sha" in document["commit"]
            assert all(int(r["repeats"]) >= 1 for r in rows), f"{name}: no repeats column"
    print(f"smoke: {len(BENCHMARKS)} benchmarks in {time.perf_counter() - tic:.1f} s")


if __name__ == "__main__":
    smoke()
