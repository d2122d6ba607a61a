"""Atomic writers: a file appears complete or not at all.

Each writer writes a temporary file in the target's directory, flushes it to disk, then renames it
over the target (``os.replace`` is atomic on POSIX and Windows), so an interrupted run never leaves
a half-written file that looks complete.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()
"""What ``open`` would give a new file; ``mkstemp`` alone would leave it private (0600)."""


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (parents created as needed)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


@contextmanager
def replace_atomic(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_json_atomic(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON with sorted keys (byte-identical for equal data)."""
    return write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


class _CompactDumper(yaml.SafeDumper):
    """Block style for structure, flow style for flat records (a job, a link, a price list), so a
    200-job instance stays readable: one line per job."""


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.Node:
    flat = all(_is_scalar(v) for v in data.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flat)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flat = bool(data) and all(_is_scalar(v) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


_CompactDumper.add_representer(dict, _represent_dict)
_CompactDumper.add_representer(list, _represent_list)


def write_yaml_atomic(path: str | Path, data: Any) -> Path:
    """Write ``data`` as YAML, keys in the order given, flat records one per line."""
    text = yaml.dump(data, Dumper=_CompactDumper, sort_keys=False, width=200)
    return write_text_atomic(path, text)
