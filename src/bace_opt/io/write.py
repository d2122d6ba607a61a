"""Atomic writers: a file appears complete or not at all.

Each writer writes a temporary file in the target's directory, flushes it to disk, then renames it
over the target (``os.replace`` is atomic on POSIX and Windows), so an interrupted run never leaves
a half-written file that looks complete. A folder of results is staged the same way
(``staged_folder``).

What a target may be: a new file, or an existing regular file (replaced). A symbolic link is
followed, so the file it names is replaced and the link stays. Anything else that exists there —
a directory, a FIFO, a device such as ``/dev/null`` — is refused (``OutputError``) rather than
turned into a regular file; ``check_output`` says so before any work is done.
"""

from __future__ import annotations

import filecmp
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from bace_opt.errors import InputError
from bace_opt.io.files import file_problem, os_reason


class OutputError(InputError):
    """An output path that cannot be written (the CLI: exit 2, before any work)."""


def output_problem(path: Path, *, folder: bool = False) -> str | None:
    """Why results cannot be written at ``path`` (a file, or a folder with ``folder``), or None."""
    if str(path) in ("", "."):
        return "an empty path is not a place for results; name a file or folder"
    try:
        exists = path.exists()
    except (OSError, ValueError) as exc:
        return f"{path}: {os_reason(exc)}"
    if folder:
        if exists and not path.is_dir():
            return f"{path}: exists and is not a folder"
        return None
    if exists:
        problem = file_problem(path, max_bytes=2**63)
        if problem:
            return f"{path}: {problem}; refusing to replace it"
    parent = _real(path).parent
    if parent.exists() and not parent.is_dir():
        return f"{path}: {parent} is not a folder"
    return None


def check_output(path: Path, option: str, *, folder: bool = False) -> None:
    """Raise ``OutputError`` naming ``option`` if results cannot be written at ``path``."""
    problem = output_problem(path, folder=folder)
    if problem:
        raise OutputError([f"{option}: {problem}"])


def _real(path: Path) -> Path:
    """The path a write goes to: a symbolic link's target, else the path itself."""
    return path.resolve() if path.is_symlink() else path


def _target(path: str | Path) -> Path:
    target = Path(path)
    problem = output_problem(target)
    if problem:
        raise OutputError([problem])
    target = _real(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()
"""What ``open`` would give a new file; ``mkstemp`` alone would leave it private (0600)."""


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (parents created as needed)."""
    target = _target(path)
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
    target = _target(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def finite_json(data: Any) -> Any:
    """``data`` with every non-finite float (inf, nan) as None: standard JSON has no Infinity or
    NaN, and each such value sits beside a status that says why it is missing."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: finite_json(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [finite_json(v) for v in data]
    return data


def json_text(data: Any) -> str:
    """Indented standard JSON with sorted keys (byte-identical for equal data)."""
    return json.dumps(finite_json(data), indent=2, sort_keys=True, allow_nan=False) + "\n"


def write_json_atomic(path: str | Path, data: Any) -> Path:
    """Write ``data`` as ``json_text`` atomically."""
    return write_text_atomic(path, json_text(data))


@contextmanager
def staged_folder(folder: Path) -> Iterator[Path]:
    """Yield a fresh staging folder inside ``folder``; on success its entries replace those of
    the same names in ``folder``, on failure it is removed. A killed run thus leaves the last
    complete results as they were, beside a ``.staging-*`` folder that is visibly unfinished."""
    check_output(folder, "--out", folder=True)
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
    try:
        yield staging
        for entry in sorted(staging.iterdir()):
            destination = folder / entry.name
            if destination.is_dir() and not destination.is_symlink():
                shutil.rmtree(destination)
            os.replace(entry, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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


def carry_data_file(source: Path, folder: Path, subdir: str) -> str:
    """The path, relative to ``folder``, by which a file written in ``folder`` names ``source``.

    A data path may not leave its file's folder (``io.files``), so a source outside ``folder`` is
    copied (atomically, once: an identical copy is reused) into ``folder/subdir/`` and the copy is
    named; the output then stands alone wherever it is moved."""
    source, home = source.resolve(), folder.resolve()
    if source.is_relative_to(home):
        return source.relative_to(home).as_posix()
    target = home / subdir / source.name
    stem, n = target.stem, 1
    while target.exists() and not filecmp.cmp(target, source, shallow=False):
        n += 1
        target = target.with_name(f"{stem}-{n}{source.suffix}")
    if not target.exists():
        with replace_atomic(target) as tmp:
            shutil.copyfile(source, tmp)
    return target.relative_to(home).as_posix()
