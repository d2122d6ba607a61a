"""The model catalog: one YAML profile per LLM in the repository's ``models/`` folder.

In a wheel the folder ships as ``bace_opt/catalog``; in a source checkout (editable install) it is
read from ``models/`` at the repository root, so there is one copy of every profile.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from bace_opt.io.schema import ModelSpec


@cache
def catalog_dir() -> Path:
    """Where the shipped model profiles live."""
    packaged = Path(str(resources.files("bace_opt"))) / "catalog"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "models"


def catalog_names() -> list[str]:
    """Names of all shipped model profiles, sorted."""
    return sorted(p.stem for p in catalog_dir().glob("*.yaml"))


@cache
def catalog_model(name: str) -> ModelSpec | None:
    """The shipped profile called ``name``, or None when there is none.

    Raises ``ValueError`` when the shipped file itself is broken (a packaging bug, not user input).
    """
    path = catalog_dir() / f"{name}.yaml"
    if "/" in name or not path.is_file():
        return None
    try:
        return ModelSpec.model_validate(yaml.safe_load(path.read_text()))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ValueError(f"model catalog file {path} is broken: {exc}") from exc
