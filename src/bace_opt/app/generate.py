"""Expand an instance's ``workload:`` into explicit ``jobs:`` (``bace-opt generate``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from bace_opt.core.prices import SeriesPrice
from bace_opt.core.world import Instance
from bace_opt.errors import InputError
from bace_opt.io.documents import job_record
from bace_opt.io.read import parse_instance, read_document
from bace_opt.io.write import carry_data_file, write_text_atomic, write_yaml_atomic


def _rebase_price_paths(doc: dict[str, Any], instance: Instance, out_path: Path) -> None:
    """Keep ``series_csv`` paths naming the same data from the output's folder: a file outside
    it is copied into ``<output stem>-prices/`` beside the output (data paths may not leave
    their file's folder)."""
    for region, built in zip(doc.get("regions", []), instance.regions, strict=False):
        price = region.get("price") if isinstance(region, dict) else None
        if isinstance(price, dict) and isinstance(built.price, SeriesPrice):
            source = Path(built.price.source)
            price["series_csv"] = carry_data_file(
                source, out_path.parent, f"{out_path.stem}-prices"
            )


def expand_workload(
    spec_path: Path, out_path: Path, seed: int | None = None, count: int | None = None
) -> tuple[dict[str, Any], int]:
    """The instance document with its workload drawn into ``jobs:``, and how many were drawn.

    ``seed`` and ``count`` override the spec's. Raises ``InputError`` for a bad spec.
    """
    doc = read_document(spec_path)
    workload = doc.get("workload")
    if not isinstance(workload, dict):
        raise InputError(["workload: required: the generator spec to draw jobs from"])
    doc = copy.deepcopy(doc)
    if seed is not None:
        doc["workload"]["seed"] = seed
    if count is not None:
        doc["workload"]["count"] = count
    instance = parse_instance(doc, spec_path.parent, str(spec_path))
    given = {j.get("name") for j in doc.get("jobs", []) if isinstance(j, dict)}
    drawn = [job_record(j) for j in instance.jobs if j.name not in given]
    out = {k: v for k, v in doc.items() if k != "workload"}
    out["jobs"] = list(doc.get("jobs", [])) + drawn
    _rebase_price_paths(out, instance, out_path)
    return out, len(drawn)


def generate_instance(
    spec_path: Path, out_path: Path, seed: int | None = None, count: int | None = None
) -> int:
    """``bace-opt generate``: write the spec with its workload drawn into ``out_path`` (JSON by
    its suffix, else YAML), atomically; returns how many jobs were drawn."""
    document, drawn = expand_workload(spec_path, out_path, seed=seed, count=count)
    if out_path.suffix.lower() == ".json":
        write_text_atomic(out_path, json.dumps(document, indent=2, default=str) + "\n")
    else:
        write_yaml_atomic(out_path, document)
    return drawn
