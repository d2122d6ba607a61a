"""Derive the shipped instance ``instances/geo6.yaml`` from the real measurements in ../shared/data.

Run from the repository root: ``python scripts/make_geo6.py [--data ../shared/data]``. It writes

- ``instances/prices/geo6/<region>.csv``: the 2023 hourly wholesale price of each region's grid
  zone (GreenDCC), USD/MWh → $/kWh;
- ``instances/traces/philly_jobs_all_ge8gpus.csv``: the Philly jobs with ≥ 8 GPUs;
- ``instances/geo6-spec.yaml``: regions, links (Skyplane), prices and a trace-driven workload spec;
- ``instances/geo6.yaml``: the same with the workload drawn into explicit jobs
  (``bace-opt generate instances/geo6-spec.yaml --out instances/geo6.yaml`` does the same).

Every number's origin is in ``instances/PROVENANCE.md``.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from geo_world import TRACE, WORKLOAD, Regions, links, write_prices, write_world

# region name → (Skyplane region, GreenDCC price zone, GPUs, PUE); reasons in PROVENANCE.md.
REGIONS: Regions = {
    "us-east-1": ("aws:us-east-1", "US-MIDA-PJM", 192, 1.15),
    "us-west-1": ("aws:us-west-1", "US-CAL-CISO", 64, 1.15),
    "eu-central-1": ("aws:eu-central-1", "DE-LU", 96, 1.15),
    "ap-northeast-1": ("aws:ap-northeast-1", "JP-TK", 96, 1.25),
    "ap-northeast-2": ("aws:ap-northeast-2", "KR", 128, 1.25),
    "ap-southeast-1": ("aws:ap-southeast-1", "SG", 96, 1.30),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("instances"))
    args = parser.parse_args()
    write_prices(args.data, args.out / "prices" / "geo6", REGIONS)
    (args.out / "traces").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.data / "gpu_traces" / TRACE, args.out / "traces" / TRACE)
    write_world(args.out, "geo6", REGIONS, links(args.data, REGIONS), WORKLOAD)


if __name__ == "__main__":
    main()
