"""The files bace-opt reads: what they may be and, for the data files an instance names (price
series, job traces), where they may be.

A file handed to you is not trusted to pick what else on your disk gets read. So a data path is
relative to the instance file's folder and must stay inside it (symlinks followed), unless the
user widens the *data root* with ``--data-root DIR`` (or the ``BACE_OPT_DATA_ROOT`` environment
variable, which sweep workers inherit): then any path, absolute or relative, that resolves under
DIR is allowed. Every file read must be a regular file within a size limit — a FIFO would block
and a device never ends — and no problem line ever quotes a data file's content.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

DATA_ROOT_ENV = "BACE_OPT_DATA_ROOT"
MAX_DATA_BYTES = 64 * 1024 * 1024
"""Price series and job traces: 64 MiB (a year of hourly prices is about 250 kB)."""

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def os_reason(exc: BaseException) -> str:
    """A short reason for an OS-level failure on a path, without the path itself."""
    if isinstance(exc, OSError):
        if exc.errno == errno.ELOOP:
            return "too many levels of symbolic links"
        if exc.errno == errno.ENAMETOOLONG:
            return "path too long"
        return exc.strerror or type(exc).__name__
    if isinstance(exc, RuntimeError):  # Path.resolve on a symlink loop (Python 3.11)
        return "too many levels of symbolic links"
    return str(exc)


def file_problem(path: Path, max_bytes: int) -> str | None:
    """Why ``path`` cannot be read as a file of at most ``max_bytes`` (e.g. ``file not found``,
    ``is a FIFO, not a regular file``), or None."""
    if "\0" in str(path):
        return "the path contains a NUL byte"
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "file not found"
    except (OSError, ValueError) as exc:
        return f"cannot read file ({os_reason(exc)})"
    for is_kind, kind in _KINDS:
        if is_kind(info.st_mode):
            return f"is {kind}, not a regular file"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_size > max_bytes:
        return f"file is {info.st_size} bytes, more than the {max_bytes} allowed"
    return None


def data_root(given: Path | None) -> Path | None:
    """The data root the user chose (argument first, then ``BACE_OPT_DATA_ROOT``), or None."""
    if given is not None:
        return given
    env = os.environ.get(DATA_ROOT_ENV)
    return Path(env) if env else None


def locate_data_file(name: str, base_dir: Path, root: Path | None, where: str) -> Path | str:
    """The regular file a data path of an instance names, or a problem line (DESIGN §4 path rules:
    relative to ``base_dir``, inside it unless ``root`` widens it)."""
    if "\0" in name:
        return f"{where}: the path contains a NUL byte"
    chosen = data_root(root)
    relative = Path(name)
    if chosen is None and (relative.is_absolute() or ".." in relative.parts):
        return (
            f"{where}: {name} is outside the instance file's folder {base_dir.absolute()}; data "
            "paths are relative to it (use --data-root DIR to allow files under DIR)"
        )
    try:
        inside = (chosen if chosen is not None else base_dir).resolve()
        full = (base_dir / relative).resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        return f"{where}: cannot read {name} ({os_reason(exc)})"
    if not full.is_relative_to(inside):
        allowed = (
            f"--data-root {inside}"
            if chosen is not None
            else f"the instance file's folder {inside}; use --data-root DIR to allow files "
            "under DIR"
        )
        return f"{where}: {name} resolves outside {allowed} (symbolic links followed)"
    problem = file_problem(full, MAX_DATA_BYTES)
    if problem == "file not found":
        return f"{where}: file not found: {name}{_looked_for(relative, full, chosen)}"
    return f"{where}: {name}: {problem}" if problem else full


def _looked_for(relative: Path, full: Path, chosen: Path | None) -> str:
    """Where a missing data file was looked for, and what a relative path is relative to."""
    if relative.is_absolute():
        return ""
    also = f", not to --data-root {chosen}" if chosen is not None else ""
    return f" (looked for {full}: relative to the instance file's folder{also})"


def read_data_table(
    name: str, base_dir: Path, root: Path | None, where: str, columns: Sequence[str]
) -> pd.DataFrame | str:
    """The CSV a data path names, checked to have ``columns`` before anything of it is shown,
    or a problem line (``locate_data_file``'s rules first)."""
    path = locate_data_file(name, base_dir, root, where)
    if isinstance(path, str):
        return path
    wanted = ",".join(columns)
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError):
        return f"{where}: cannot read {name} as a CSV with columns {wanted}"
    missing = [c for c in columns if c not in table.columns]
    if missing:
        return f"{where}: {name} needs columns {wanted}; missing {', '.join(missing)}"
    table.attrs["source"] = str(path)
    return table
