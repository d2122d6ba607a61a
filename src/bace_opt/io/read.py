"""Read instance and snapshot files (YAML or JSON) into the domain model of ``core``.

Reading is strict and reports every problem at once, one line each, starting with the field path
(``regions[0].gpus: …``), so ``bace-opt validate`` can show a person all of them before any work is
done. Order of checks: the document (size, syntax; here) → the shape (``schema``) → the rules that
relate fields (``rules``, with prices from ``prices``) → the derived objects (``build``).
"""

from __future__ import annotations

import json
import shlex
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from bace_opt.core.world import Instance, Snapshot
from bace_opt.errors import InputError
from bace_opt.io.build import build_instance, build_snapshot
from bace_opt.io.files import file_problem, os_reason
from bace_opt.io.schema import (
    PRICE_TAGS,
    InstanceFile,
    PoissonArrivals,
    SnapshotFile,
    TraceArrivals,
)
from bace_opt.io.suggest import did_you_mean, keys_at
from bace_opt.io.yamlload import load_yaml

MAX_FILE_BYTES = 32 * 1024 * 1024
SNAPSHOT_KEYS = frozenset(SnapshotFile.model_fields) - frozenset(InstanceFile.model_fields)
"""The keys an epoch's state adds to an instance (``time_s``, ``free_gpus``, ...)."""
UNION_TAGS = {
    "price": PRICE_TAGS,
    "arrivals": frozenset(
        p
        for a in (PoissonArrivals, TraceArrivals)
        for p in get_args(a.model_fields["process"].annotation)
    ),
}
"""Tags pydantic puts into error paths after these keys (``price.hourly_utc``,
``arrivals.poisson``): the union member it tried, not a key of the file."""


class _JsonObject(dict[str, Any]):
    """A JSON object that remembers the keys it was given more than once."""

    duplicates: tuple[str, ...] = ()


def _json_object(pairs: list[tuple[str, Any]]) -> _JsonObject:
    obj = _JsonObject(pairs)
    if len(obj) < len(pairs):
        counts = Counter(key for key, _ in pairs)
        obj.duplicates = tuple(key for key, n in counts.items() for _ in range(n - 1))
    return obj


def _json_duplicates(doc: Any) -> list[str]:
    problems: list[str] = []
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(doc, ())]
    while stack:
        value, at = stack.pop()
        if isinstance(value, _JsonObject):
            problems += [f"{field_path((*at, k))}: duplicate key" for k in value.duplicates]
            stack.extend((v, (*at, k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, (*at, i)) for i, v in enumerate(value))
    return sorted(problems)


def _load_json(text: str) -> Any:
    """Standard JSON only: ``NaN``/``Infinity`` stay the strings they are spelled as, so the schema
    refuses them with their field path."""
    doc = json.loads(text, object_pairs_hook=_json_object, parse_constant=str)
    duplicates = _json_duplicates(doc)
    if duplicates:
        raise InputError(duplicates)
    return doc


def read_document(path: Path) -> dict[str, Any]:
    """Parse a YAML or JSON file into a mapping, with a safe loader and a size limit; duplicate
    keys are refused (YAML and JSON would silently keep the last one)."""
    where = path.name or str(path)
    problem = file_problem(path, MAX_FILE_BYTES)
    if problem:
        shown = path.absolute() if problem == "file not found" else where
        raise InputError([f"{shown}: {problem}"])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([f"{where}: cannot read file as UTF-8 text ({os_reason(exc)})"]) from None
    if not text.strip():
        raise InputError([f"{where}: file is empty"])
    try:
        if path.suffix.lower() == ".json":
            doc = _load_json(text)
        else:
            doc, duplicates = load_yaml(text, field_path)
            if duplicates:
                raise InputError(duplicates)
    except json.JSONDecodeError as exc:
        raise InputError([f"{where}: JSON syntax error at line {exc.lineno}: {exc.msg}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError([f"{where}: YAML syntax error{at}: {problem}"]) from None
    except RecursionError:
        raise InputError([f"{where}: document is nested too deeply"]) from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise InputError([f"{where}: {str(exc).splitlines()[0]}"]) from None
    if doc is None:
        raise InputError([f"{where}: file is empty"])
    if not isinstance(doc, dict):
        raise InputError([f"{where}: expected a mapping of fields, got {type(doc).__name__}"])
    return dict(doc)


def field_path(loc: Iterable[int | str]) -> str:
    """``('regions', 0, 'price', 'hourly_utc', 'hourly_utc')`` → ``regions[0].price.hourly_utc``."""
    out = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(previous, str) and part in UNION_TAGS.get(previous, ()):
            pass  # a union tag, not a field of the file
        else:
            out += f".{part}" if out else str(part)
        previous = part
    return out or "(file)"


def shape_problems(
    exc: ValidationError, model: type[BaseModel], skip: Collection[tuple[str, str]] = ()
) -> list[str]:
    """One line per schema error of a ``model`` document, field path first; an unknown key says
    which key was probably meant (``regions[0].gpu: unknown key; did you mean 'gpus'?``).
    ``skip`` holds ``(error type, top-level key)`` pairs a caller reports in its own words."""
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) == 1 and (err["type"], loc[0]) in skip:
            continue
        if err["type"] == "extra_forbidden" and loc and isinstance(loc[-1], str):
            hint = did_you_mean(loc[-1], keys_at(model, loc[:-1]))
            problems.append(f"{field_path(loc)}: unknown key{hint}")
        else:
            problems.append(f"{field_path(loc)}: {err['msg']}")
    return problems


def _command_path(source: str) -> str:
    """The file as a command line would name it (quoted only where a shell needs it)."""
    return shlex.quote(source) if source else "FILE"


def _snapshot_as_instance(doc: Mapping[str, Any], source: str) -> str:
    keys = ", ".join(k for k in doc if k in SNAPSHOT_KEYS)
    return (
        f"{keys}: this file is an epoch snapshot, not an instance; "
        f"solve it with 'bace-opt epoch {_command_path(source)}'"
    )


def _instance_as_snapshot(source: str) -> str:
    return (
        "time_s: missing, so this file is an instance, not an epoch snapshot; "
        f"'bace-opt run {_command_path(source)} --policy bace --out DIR --dump-snapshots DIR2' "
        "writes one snapshot per epoch into DIR2, or add 'time_s: SECONDS' "
        "(and optionally free_gpus, residual_gbps) to a copy of it"
    )


def is_snapshot_document(doc: Mapping[str, Any]) -> bool:
    """A snapshot is an instance with the epoch's state (``time_s`` and friends) added."""
    return bool(SNAPSHOT_KEYS & doc.keys())


def parse_instance(
    doc: Mapping[str, Any], base_dir: Path, source: str = "", data_root: Path | None = None
) -> Instance:
    """Check a parsed instance document; data paths in it are relative to ``base_dir`` and must
    stay inside it, or inside ``data_root`` when given (``io.files``). A snapshot handed in is
    refused in one line that says to use ``bace-opt epoch``."""
    try:
        spec = InstanceFile.model_validate(doc)
    except ValidationError as exc:
        if not is_snapshot_document(doc):
            raise InputError(shape_problems(exc, InstanceFile)) from None
        own = {("extra_forbidden", key) for key in SNAPSHOT_KEYS}
        problems = [_snapshot_as_instance(doc, source), *shape_problems(exc, InstanceFile, own)]
        raise InputError(problems) from None
    return build_instance(spec, base_dir, source, data_root)


def parse_snapshot(
    doc: Mapping[str, Any], base_dir: Path, source: str = "", data_root: Path | None = None
) -> Snapshot:
    """Check a parsed snapshot document (``parse_instance``'s rules, and the epoch's state). An
    instance handed in is refused in one line that says how to make snapshots of it."""
    try:
        spec = SnapshotFile.model_validate(doc)
    except ValidationError as exc:
        if is_snapshot_document(doc):
            raise InputError(shape_problems(exc, SnapshotFile)) from None
        own = {("missing", "time_s")}
        problems = [_instance_as_snapshot(source), *shape_problems(exc, SnapshotFile, own)]
        raise InputError(problems) from None
    return build_snapshot(spec, base_dir, source, data_root)


def load_instance(path: str | Path, data_root: Path | None = None) -> Instance:
    """Read and check an instance file (raises ``InputError`` listing every problem)."""
    path = Path(path)
    return parse_instance(read_document(path), path.parent, str(path), data_root)


def load_snapshot(path: str | Path, data_root: Path | None = None) -> Snapshot:
    """Read and check a snapshot file (raises ``InputError`` listing every problem)."""
    path = Path(path)
    return parse_snapshot(read_document(path), path.parent, str(path), data_root)


def load_any(path: str | Path, data_root: Path | None = None) -> Instance | Snapshot:
    """Read an instance or a snapshot file, whichever it is."""
    path = Path(path)
    doc = read_document(path)
    if is_snapshot_document(doc):
        return parse_snapshot(doc, path.parent, str(path), data_root)
    return parse_instance(doc, path.parent, str(path), data_root)
