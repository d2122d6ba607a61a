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
from typing import Any

import pandas as pd

from bace_opt.app.generate import expand_workload
from bace_opt.io.write import write_yaml_atomic

# region name → (Skyplane region, GreenDCC price zone, GPUs, PUE); reasons in PROVENANCE.md.
REGIONS: dict[str, tuple[str, str, int, float]] = {
    "us-east-1": ("aws:us-east-1", "US-MIDA-PJM", 192, 1.15),
    "us-west-1": ("aws:us-west-1", "US-CAL-CISO", 64, 1.15),
    "eu-central-1": ("aws:eu-central-1", "DE-LU", 96, 1.15),
    "ap-northeast-1": ("aws:ap-northeast-1", "JP-TK", 96, 1.25),
    "ap-northeast-2": ("aws:ap-northeast-2", "KR", 128, 1.25),
    "ap-southeast-1": ("aws:ap-southeast-1", "SG", 96, 1.30),
}
A100 = {"name": "A100-80GB", "peak_tflops": 312.0, "power_kw": 0.4, "memory_gb": 80.0}
START_UTC = "2023-10-02T00:00:00Z"
TRACE = "philly_jobs_all_ge8gpus.csv"
WORKLOAD: dict[str, Any] = {
    "seed": 6,
    "count": 200,
    "arrivals": {
        "process": "trace",
        "csv": f"traces/{TRACE}",
        "start_row": 200,
        "time_scale": 0.25,
    },
    "durations": {"min_s": 1800.0, "max_s": 86400.0},
    "mix": [
        {"model": "gpt3-1.3b", "weight": 2, "shapes": [[4, 2], [2, 4], [8, 1]]},
        {"model": "gpt3-2.7b", "weight": 2, "shapes": [[4, 2], [8, 2], [4, 4]]},
        {"model": "gpt3-6.7b", "weight": 1, "shapes": [[4, 2], [4, 4], [8, 4]]},
        {
            "model": "llama2-7b",
            "weight": 1,
            "shapes": [[4, 2], [4, 4], [8, 4]],
            "micro_batch_size": 2,
        },
        {"model": "gpt3-13b", "weight": 1, "shapes": [[8, 4], [8, 8]]},
        {"model": "llama2-13b", "weight": 1, "shapes": [[8, 4], [8, 8]], "micro_batch_size": 2},
        {"model": "llama2-70b", "weight": 1, "shapes": [[8, 8], [16, 8]], "micro_batch_size": 1},
        {"model": "gpt3-175b", "weight": 1, "shapes": [[16, 8]], "micro_batch_size": 1},
    ],
}


def links(data: Path) -> list[dict[str, Any]]:
    """One directed link per ordered pair: median received iperf3 throughput of that direction
    (2022-01 grid), and half the mean of the pair's median ping RTTs as one-way latency."""
    grid = pd.read_csv(data / "network" / "skyplane_throughput_grid_2022-01.csv")
    rtt = pd.read_csv(data / "network" / "skyplane_latency_rtt_ms.csv")
    sky = {v[0]: k for k, v in REGIONS.items()}
    grid = grid[grid.src_region.isin(sky) & grid.dst_region.isin(sky) & grid.success]
    gbps = grid.groupby(["src_region", "dst_region"]).throughput_received.median() / 1e9
    ping = rtt[rtt.src_region.isin(sky) & rtt.dst_region.isin(sky)]
    avg_rtt = ping.groupby(["src_region", "dst_region"]).avg_rtt.median()
    out = []
    for (src, dst), value in sorted(gbps.items()):
        pair_rtt = [avg_rtt[p] for p in ((src, dst), (dst, src)) if p in avg_rtt]
        out.append(
            {
                "a": sky[src],
                "b": sky[dst],
                "gbps": round(float(value), 3),
                "latency_ms": round(float(sum(pair_rtt)) / len(pair_rtt) / 2, 2),
                "directed": True,
            }
        )
    return out


def write_prices(data: Path, folder: Path) -> None:
    table = pd.read_csv(
        data / "electricity" / "greendcc_price_hourly_2023_22regions_usd_per_mwh.csv"
    )
    folder.mkdir(parents=True, exist_ok=True)
    times = pd.to_datetime(table.utc_time, utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    for region, (_, zone, _, _) in REGIONS.items():
        frame = pd.DataFrame({"utc_time": times, "usd_per_kwh": (table[zone] / 1000).round(6)})
        frame.to_csv(folder / f"{region}.csv", index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("instances"))
    args = parser.parse_args()
    write_prices(args.data, args.out / "prices" / "geo6")
    (args.out / "traces").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.data / "gpu_traces" / TRACE, args.out / "traces" / TRACE)
    spec = {
        "name": "geo6",
        "start_utc": START_UTC,
        "mfu": 0.4,
        "max_regions": 3,
        "gpu_types": [A100],
        "regions": [
            {
                "name": name,
                "gpus": gpus,
                "gpu_type": A100["name"],
                "pue": pue,
                "price": {"series_csv": f"prices/geo6/{name}.csv"},
            }
            for name, (_, _, gpus, pue) in REGIONS.items()
        ],
        "links": links(args.data),
        "workload": WORKLOAD,
    }
    spec_path = write_yaml_atomic(args.out / "geo6-spec.yaml", spec)
    instance, drawn = expand_workload(spec_path, args.out / "geo6.yaml")
    instance["name"] = "geo6"
    write_yaml_atomic(args.out / "geo6.yaml", instance)
    print(f"wrote {args.out / 'geo6.yaml'} with {drawn} jobs and {len(spec['links'])} links")


if __name__ == "__main__":
    main()
