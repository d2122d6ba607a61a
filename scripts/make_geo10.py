"""Derive the shipped instance ``instances/geo10.yaml`` (ten GCP regions) from the real measurements
in ../shared/data, the way ``make_geo6.py`` derives geo6's six AWS regions.

Run from the repository root: ``python scripts/make_geo10.py [--data ../shared/data]``. It writes

- ``instances/prices/geo10/<region>.csv``: the 2023 hourly wholesale price of each region's grid
  zone (GreenDCC), USD/MWh → $/kWh;
- ``instances/geo10-spec.yaml``: regions, links (Skyplane, GCP premium tier), prices and geo6's
  trace-driven workload spec, paced for geo10's GPUs;
- ``instances/geo10.yaml``: the same with the workload drawn into explicit jobs
  (``bace-opt generate instances/geo10-spec.yaml --out instances/geo10.yaml`` does the same).

It uses geo6's trace copy (``instances/traces/``, written by ``make_geo6.py``). Deterministic: a
rerun reproduces the files byte for byte. Every number's origin is in ``instances/PROVENANCE.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from geo_world import WORKLOAD, Regions, links, write_prices, write_world

# region name → (Skyplane region, GreenDCC price zone, GPUs, PUE); reasons in PROVENANCE.md.
REGIONS: Regions = {
    "us-east4": ("gcp:us-east4-a", "US-MIDA-PJM", 96, 1.10),
    "northamerica-northeast2": ("gcp:northamerica-northeast2-a", "CA-ON", 96, 1.10),
    "southamerica-east1": ("gcp:southamerica-east1-a", "BR-SP", 96, 1.20),
    "europe-west3": ("gcp:europe-west3-a", "DE-LU", 96, 1.10),
    "europe-west6": ("gcp:europe-west6-a", "CH", 96, 1.10),
    "asia-northeast1": ("gcp:asia-northeast1-a", "JP-TK", 96, 1.20),
    "asia-northeast3": ("gcp:asia-northeast3-a", "KR", 96, 1.20),
    "asia-southeast1": ("gcp:asia-southeast1-a", "SG", 96, 1.25),
    "asia-south1": ("gcp:asia-south1-a", "IN-WE", 96, 1.25),
    "australia-southeast1": ("gcp:australia-southeast1-a", "AU-NSW", 96, 1.20),
}
TIER = "PREMIUM"
"""GCP's default network tier (Google's backbone); Skyplane also measured the STANDARD tier."""
TIME_SCALE = 0.175
"""geo6's 0.25 × 672 / 960 GPUs: the same trace window at the same offered load per GPU."""
SEED = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("instances"))
    args = parser.parse_args()
    trace = Path(WORKLOAD["arrivals"]["csv"])
    if not (args.out / trace).exists():
        raise SystemExit(f"{args.out / trace} is missing: run scripts/make_geo6.py first")
    write_prices(args.data, args.out / "prices" / "geo10", REGIONS)
    workload = WORKLOAD | {"seed": SEED}
    workload["arrivals"] = WORKLOAD["arrivals"] | {"time_scale": TIME_SCALE}
    write_world(args.out, "geo10", REGIONS, links(args.data, REGIONS, tier=TIER), workload)


if __name__ == "__main__":
    main()
