"""Cells of ``geo10-snapshots``: geo10's real-data epochs (``worlds.geo10_epoch``) as snapshot
files. No solver is imported: writing a file needs the simulator and BACE-Pipe only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bace_opt.io.documents import snapshot_document
from bace_opt.io.write import write_yaml_atomic
from worlds import geo10_epoch


def write_snapshot(size: str, seed: int, folder: str) -> dict[str, Any]:
    """``geo10-J-WORLD`` (J waiting jobs, WORLD ``empty`` or ``half``: ``worlds.geo10_epoch``) as
    the file ``SIZE-seedN.yaml`` in ``folder``; its price series are copied to ``folder/prices``."""
    name, jobs, world = size.split("-")
    if name != "geo10":
        raise ValueError(f"size {size!r}: expected geo10-J-empty or geo10-J-half")
    path = Path(folder) / f"{size}-seed{seed}.yaml"
    snapshot = geo10_epoch(world, int(jobs), seed)
    write_yaml_atomic(path, snapshot_document(snapshot, path.parent))
    return {
        "size": size,
        "seed": seed,
        "time_h": snapshot.time_s / 3600,
        "waiting": len(snapshot.waiting),
        "free_gpus": sum(snapshot.free_gpus.values()),
        "running": len(snapshot.running),
        "link_use": snapshot.link_utilization(),
        "file": str(path),
    }
