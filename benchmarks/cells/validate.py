"""Cells of ``validate-scale``: ``bace-opt validate`` on an instance file of N jobs, end to end as
a user runs it (a fresh interpreter: imports, reading, parsing, checking, the summary line). The
file is written once per size and format (setup, not timed): geo6's regions, links and hourly
price series with a seeded Poisson stream over its job mix, drawn by ``bace-opt generate``."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
FOLDER = Path(tempfile.gettempdir()) / "bace-opt-validate-scale"


def instance_file(jobs: int, fmt: str) -> Path:
    """The N-job instance in ``FOLDER`` (made once), as YAML or JSON."""
    target = FOLDER / f"geo6-{jobs}.{fmt}"
    if target.exists():
        return target
    FOLDER.mkdir(exist_ok=True)
    spec = yaml.safe_load((ROOT / "instances" / "geo6-spec.yaml").read_text())
    for region in spec["regions"]:
        price = region["price"]["series_csv"]
        region["price"]["series_csv"] = str((ROOT / "instances" / price).resolve())
    spec["workload"].update(count=jobs, arrivals={"process": "poisson", "rate_per_hour": 30.0})
    spec_path = FOLDER / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    drawn = FOLDER / f"geo6-{jobs}.yaml"
    command = [sys.executable, "-m", "bace_opt", "--data-root", str(ROOT), "generate"]
    subprocess.run([*command, str(spec_path), "--out", str(drawn)], check=True, capture_output=True)
    if fmt == "json":
        doc = yaml.load(drawn.read_text(), Loader=yaml.CSafeLoader)
        target.write_text(json.dumps(doc, default=str))
    return target


_MEASURED = (
    "import resource, sys\n"
    "from bace_opt.cli import main\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "    sys.stderr.write(f'peak-rss-kib {rss}\\n')\n"
)
"""``bace-opt`` as its console script runs, reporting its own peak RSS on the way out."""


def validate_run(jobs: int, fmt: str) -> dict[str, Any]:
    """Wall time and peak RSS of ``bace-opt validate`` on the N-job file."""
    path = instance_file(jobs, fmt)
    tic = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, "validate", str(path)], capture_output=True, text=True
    )
    wall = time.perf_counter() - tic
    if done.returncode != 0 or "ok:" not in done.stdout:
        raise RuntimeError(f"validate failed: {done.stderr.strip()[:300]}")
    rss_kib = int(done.stderr.rsplit("peak-rss-kib ", 1)[1].split()[0])
    return {
        "jobs": jobs,
        "format": fmt,
        "file_mib": path.stat().st_size / 2**20,
        "wall_s": wall,
        "peak_rss_mib": rss_kib / 1024,
    }
