"""What is in an instance: the rows behind ``bace-opt info``, as plain data (no printing)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bace_opt.core.network import direction_key
from bace_opt.core.world import Instance, Job, Snapshot
from bace_opt.formulas import job as jobf

Row = dict[str, str | int | float]


@dataclass(frozen=True)
class Description:
    """Tables describing an instance, each a list of rows with the same keys."""

    headline: str
    regions: list[Row]
    links: list[Row]
    job_mix: list[Row]
    running: list[Row] = field(default_factory=list)
    """A snapshot's running jobs, soonest expected end first; past ``RUNNING_ROWS`` of them, the
    first ones and a last row counting the rest."""


RUNNING_ROWS = 20


def _running_rows(snapshot: Snapshot) -> list[Row]:
    runs = sorted(snapshot.running, key=lambda r: (r.end_s, r.name))
    rows: list[Row] = [
        {
            "job": r.name,
            "placement": r.placement.describe(),
            "gpus": sum(r.gpus_by_region().values()),
            "start_h": round(r.start_s / 3600, 3),
            "expected_end_h": round(r.end_s / 3600, 3),
        }
        for r in runs[:RUNNING_ROWS]
    ]
    if len(runs) > RUNNING_ROWS:
        rest = runs[RUNNING_ROWS:]
        gpus = sum(sum(r.gpus_by_region().values()) for r in rest)
        last = round(rest[-1].end_s / 3600, 3)
        rows.append(
            {
                "job": f"... {len(rest)} more",
                "placement": "",
                "gpus": gpus,
                "start_h": round(min(r.start_s for r in rest) / 3600, 3),
                "expected_end_h": last,
            }
        )
    return rows


def _mix_key(job: Job) -> tuple[str, int, int, int, int, int]:
    return (
        job.model.name,
        job.stages,
        job.gpus_per_stage,
        job.micro_batches,
        job.micro_batch_size,
        job.seq_len,
    )


def describe(world: Instance | Snapshot) -> Description:
    """Regions (GPUs, type, PUE, price range), link directions, and the job mix with the
    bandwidth each job shape needs on each GPU type present."""
    snapshot = world if isinstance(world, Snapshot) else None
    instance = world.instance if isinstance(world, Snapshot) else world
    held = snapshot.held_gpus() if snapshot else {}
    regions: list[Row] = []
    for r in instance.regions:
        low, high = r.price.range()
        row: Row = {
            "region": r.name,
            "gpus": r.gpus,
            "gpu_type": r.gpu_type.name,
            "pue": r.pue,
            "price_min": round(low, 4),
            "price_max": round(high, 4),
        }
        if snapshot:
            row["free_gpus"] = snapshot.free_gpus[r.name]
            if snapshot.running:
                row["running_gpus"] = held.get(r.name, 0)
        regions.append(row)
    links: list[Row] = []
    network = instance.network
    for direction in network.directions:
        row = {
            "direction": direction_key(direction),
            "gbps": round(network.capacity[direction], 3),
            "latency_ms": round(network.latency_s(direction) * 1000, 2),
        }
        if snapshot:
            row["residual_gbps"] = round(snapshot.residual_gbps[direction], 3)
        links.append(row)
    jobs = snapshot.waiting if snapshot else instance.jobs
    counts = Counter(_mix_key(j) for j in jobs)
    first: dict[tuple[str, int, int, int, int, int], Job] = {}
    for job in jobs:
        first.setdefault(_mix_key(job), job)
    gpu_types = sorted({r.gpu_type for r in instance.regions}, key=lambda g: g.name)
    job_mix: list[Row] = []
    for shape in sorted(counts):
        job = first[shape]
        row = {
            "model": shape[0],
            "S": shape[1],
            "g": shape[2],
            "M": shape[3],
            "b": shape[4],
            "L": shape[5],
            "jobs": counts[shape],
        }
        for gpu in gpu_types:
            row[f"need@{gpu.name}"] = round(jobf.need_gbps(instance, job, gpu.peak_tflops), 3)
        job_mix.append(row)
    kind = "snapshot" if snapshot else "instance"
    total_gpus = sum(r.gpus for r in instance.regions)
    span = max((j.arrival_s for j in jobs), default=0.0)
    headline = (
        f"{kind} {instance.name}: {len(instance.regions)} regions ({total_gpus} GPUs), "
        f"{len(network.directions)} link directions, {len(jobs)} jobs"
        + (f" arriving over {span / 3600:.1f} h" if jobs else "")
        + (f", epoch at t={snapshot.time_s:g} s" if snapshot else "")
        + (_running_headline(snapshot) if snapshot and snapshot.running else "")
    )
    running = _running_rows(snapshot) if snapshot else []
    return Description(headline, regions, links, job_mix, running)


def _running_headline(snapshot: Snapshot) -> str:
    nxt = min(snapshot.running, key=lambda r: (r.end_s, r.name))
    return (
        f", {len(snapshot.running)} running (first to end: {nxt.name} at {nxt.end_s / 3600:.2f} h)"
    )
