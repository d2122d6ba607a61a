"""What ``make_geo6.py`` and ``make_geo10.py`` share: a world's links from Skyplane's measurements,
its regions' hourly prices from GreenDCC's, and the spec and instance files written from them.

A world is a table ``region name → (Skyplane region, GreenDCC price zone, GPUs, PUE)``; the reasons
for each number are in ``instances/PROVENANCE.md``. Deterministic: a rerun reproduces the files byte
for byte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from bace_opt.app.generate import expand_workload
from bace_opt.io.write import write_yaml_atomic

Regions = dict[str, tuple[str, str, int, float]]
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
"""geo6's trace-driven workload (the Philly jobs with ≥ 8 GPUs); geo10 paces it for its GPUs."""


def links(data: Path, regions: Regions, tier: str | None = None) -> list[dict[str, Any]]:
    """One directed link per ordered pair: median received iperf3 throughput of that direction
    (2022-01 grid), and half the mean of the pair's median ping RTTs as one-way latency; with
    ``tier``, only measurements with that network tier at both ends (GCP's)."""
    grid = pd.read_csv(data / "network" / "skyplane_throughput_grid_2022-01.csv")
    rtt = pd.read_csv(data / "network" / "skyplane_latency_rtt_ms.csv")
    sky = {v[0]: k for k, v in regions.items()}

    def ours(frame: pd.DataFrame) -> pd.Series:
        ends = frame.src_region.isin(sky) & frame.dst_region.isin(sky)
        if tier is None:
            return ends
        return ends & (frame.src_tier == tier) & (frame.dst_tier == tier)

    grid = grid[ours(grid) & grid.success]
    gbps = grid.groupby(["src_region", "dst_region"]).throughput_received.median() / 1e9
    avg_rtt = rtt[ours(rtt)].groupby(["src_region", "dst_region"]).avg_rtt.median()
    measured = {
        (sky[str(s)], sky[str(d)]): (str(s), str(d), float(v)) for (s, d), v in gbps.items()
    }
    out = []
    for (a, b), (src, dst, value) in sorted(measured.items()):
        pair_rtt = [float(avg_rtt[p]) for p in ((src, dst), (dst, src)) if p in avg_rtt]
        out.append(
            {
                "a": a,
                "b": b,
                "gbps": round(value, 3),
                "latency_ms": round(sum(pair_rtt) / len(pair_rtt) / 2, 2),
                "directed": True,
            }
        )
    expected = len(regions) * (len(regions) - 1)
    if len(out) != expected:
        raise SystemExit(f"{len(out)} measured directions, expected {expected}")
    return out


def write_prices(data: Path, folder: Path, regions: Regions) -> None:
    """``folder/<region>.csv``: the 2023 hourly wholesale price of the region's grid zone, USD/MWh
    → $/kWh."""
    table = pd.read_csv(
        data / "electricity" / "greendcc_price_hourly_2023_22regions_usd_per_mwh.csv"
    )
    folder.mkdir(parents=True, exist_ok=True)
    times = pd.to_datetime(table.utc_time, utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    for region, (_, zone, _, _) in regions.items():
        frame = pd.DataFrame({"utc_time": times, "usd_per_kwh": (table[zone] / 1000).round(6)})
        frame.to_csv(folder / f"{region}.csv", index=False)


def write_world(
    out: Path, name: str, regions: Regions, links_: list[dict[str, Any]], workload: dict[str, Any]
) -> None:
    """``out/<name>-spec.yaml`` (regions, links, prices, workload spec) and ``out/<name>.yaml``
    (the workload drawn into explicit jobs, as ``bace-opt generate`` does)."""
    spec = {
        "name": name,
        "start_utc": START_UTC,
        "mfu": 0.4,
        "max_regions": 3,
        "gpu_types": [A100],
        "regions": [
            {
                "name": region,
                "gpus": gpus,
                "gpu_type": A100["name"],
                "pue": pue,
                "price": {"series_csv": f"prices/{name}/{region}.csv"},
            }
            for region, (_, _, gpus, pue) in regions.items()
        ],
        "links": links_,
        "workload": workload,
    }
    spec_path = write_yaml_atomic(out / f"{name}-spec.yaml", spec)
    instance, drawn = expand_workload(spec_path, out / f"{name}.yaml")
    instance["name"] = name
    write_yaml_atomic(out / f"{name}.yaml", instance)
    print(f"wrote {out / f'{name}.yaml'} with {drawn} jobs and {len(links_)} links")
