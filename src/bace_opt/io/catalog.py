"""What ships with the package: the model catalog (one YAML profile per LLM in the repository's
``models/`` folder) and the example instances (``instances/``, with the price series and traces
they name).

In a wheel the folders ship as ``bace_opt/catalog`` and ``bace_opt/examples``; in a source checkout
(editable install) they are read from ``models/`` and ``instances/`` at the repository root, so
there is one copy of every file.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from bace_opt.io.schema import ModelSpec


def _shipped(packaged: str, in_checkout: str) -> Path:
    folder = Path(str(resources.files("bace_opt"))) / packaged
    if folder.is_dir():
        return folder
    return Path(__file__).resolve().parents[3] / in_checkout


@cache
def catalog_dir() -> Path:
    """Where the shipped model profiles live."""
    return _shipped("catalog", "models")


@cache
def examples_dir() -> Path:
    """Where the shipped example instances live (``bace-opt example`` copies them out)."""
    return _shipped("examples", "instances")


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
