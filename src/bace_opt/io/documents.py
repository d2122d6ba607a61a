"""Write an epoch's snapshot as a file (DESIGN §4) that ``bace-opt epoch`` and ``validate`` read
back: the instance with the waiting jobs as ``jobs``, models inline, plus the free resources and
(when any) the running jobs.
Price series from outside the folder are copied into ``folder/prices/`` (``carry_data_file``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bace_opt.core.network import direction_key
from bace_opt.core.prices import ConstantPrice, HourlyUtcPrice, PriceProfile, SeriesPrice
from bace_opt.core.world import Instance, Job, Running, Snapshot
from bace_opt.io.write import carry_data_file


def job_record(job: Job) -> dict[str, Any]:
    """A job as an instance file writes it."""
    return {
        "name": job.name,
        "arrival_s": job.arrival_s,
        "model": job.model.name,
        "stages": job.stages,
        "gpus_per_stage": job.gpus_per_stage,
        "iterations": job.iterations,
        "micro_batches": job.micro_batches,
        "micro_batch_size": job.micro_batch_size,
        "seq_len": job.seq_len,
    }


def running_record(run: Running) -> dict[str, Any]:
    """A running job as a snapshot file writes it (``gpus_per_stage`` always, though optional)."""
    return {
        "name": run.name,
        "placement": run.placement.describe(),
        "start_s": run.start_s,
        "end_s": run.end_s,
        "gpus_per_stage": run.gpus_per_stage,
        **({"need_gbps": run.need_gbps} if run.need_gbps else {}),  # only with crossings
    }


def _price(price: PriceProfile, folder: Path) -> Any:
    if isinstance(price, ConstantPrice):
        return price.usd_per_kwh
    if isinstance(price, HourlyUtcPrice):
        return {"hourly_utc": list(price.usd_per_kwh)}
    if isinstance(price, SeriesPrice) and price.source:
        return {"series_csv": carry_data_file(Path(price.source), folder, "prices")}
    raise ValueError(f"cannot write price profile {type(price).__name__} to a file")


def instance_document(instance: Instance, folder: Path) -> dict[str, Any]:
    """The instance as a file in ``folder`` would hold it, without jobs."""
    models = {j.model.name: j.model for j in instance.jobs}
    return {
        "name": instance.name,
        "start_utc": instance.start_utc.isoformat().replace("+00:00", "Z"),
        "mfu": instance.mfu,
        "bytes_per_element": instance.bytes_per_element,
        **({"epoch_s": instance.epoch_s} if instance.epoch_s else {}),
        "max_regions": instance.max_regions,
        "relays": instance.relays,
        "gpu_types": [vars(g) for g in instance.gpu_types.values()],
        "regions": [
            {
                "name": r.name,
                "gpus": r.gpus,
                "gpu_type": r.gpu_type.name,
                "pue": r.pue,
                "price": _price(r.price, folder),
            }
            for r in instance.regions
        ],
        "links": [vars(link) for link in instance.links],
        "models": [
            {k: v for k, v in vars(m).items() if v is not None and v != ""}
            for _, m in sorted(models.items())
        ],
    }


def snapshot_document(snapshot: Snapshot, folder: Path) -> dict[str, Any]:
    """The snapshot as a file in ``folder``."""
    doc = instance_document(snapshot.instance, folder)
    doc["jobs"] = [job_record(j) for j in snapshot.waiting]
    doc["time_s"] = snapshot.time_s
    doc["free_gpus"] = dict(snapshot.free_gpus)
    doc["residual_gbps"] = {direction_key(d): v for d, v in sorted(snapshot.residual_gbps.items())}
    if snapshot.running:  # left out when none run, so an idle world's snapshot stays as it was
        doc["running"] = [running_record(r) for r in snapshot.running]
    return doc
