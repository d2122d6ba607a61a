"""Suggestions ("did you mean …?"): the closest known name to a misspelt one, for problem lines
that say what to do (unknown keys of a file, unknown policy names, unknown ``--weights``).

A name counts as close at ``difflib``'s similarity ratio ≥ 0.6, its default; a misspelt key
(``epoch`` for ``epoch_s``, ``gpu`` for ``gpus``) clears that easily, an unrelated word does not,
so no suggestion is better than a wrong one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag

CUTOFF = 0.6
"""``difflib.get_close_matches``' default similarity."""

SHORT_LIST = 8
"""At most this many allowed names are listed when none is close."""


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice most like ``name`` (ties: the first in sorted order), or None if none is close.
    Case is ignored for the comparison (``Epoch_S`` → ``epoch_s``)."""
    options = sorted(set(choices))
    by_folded = {c.casefold(): c for c in reversed(options)}
    found = difflib.get_close_matches(name.casefold(), list(by_folded), n=1, cutoff=CUTOFF)
    return by_folded[found[0]] if found else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'epoch_s'?"``; without a close choice ``"; allowed: a, b"`` when there are
    at most ``SHORT_LIST`` choices; else ``""``."""
    options = sorted(set(choices))
    best = closest(name, options)
    if best is not None:
        return f"; did you mean '{best}'?"
    if 0 < len(options) <= SHORT_LIST:
        return f"; allowed: {', '.join(options)}"
    return ""


def _members(annotation: Any) -> Iterator[tuple[Any, tuple[str, ...]]]:
    """The types an annotation may take, Annotated and unions unwrapped, each with its union
    tags (``Tag("hourly_utc")``)."""
    if get_origin(annotation) is Annotated:
        inner, *metadata = get_args(annotation)
        tags = tuple(m.tag for m in metadata if isinstance(m, Tag))
        for member, more in _members(inner):
            yield member, tags + more
    elif get_origin(annotation) in (Union, UnionType):
        for arg in get_args(annotation):
            yield from _members(arg)
    else:
        yield annotation, ()


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def _step(current: list[Any], part: int | str) -> list[Any]:
    """The types found one step further along an error location."""
    members = [m for c in current for m in _members(c)]
    if isinstance(part, str) and any(part in tags for _, tags in members):
        return [kind for kind, _ in members]  # a union tag: every member's keys stay possible
    found: list[Any] = []
    for kind, _ in members:
        origin, args = get_origin(kind), get_args(kind)
        if isinstance(part, int) and origin in (list, tuple) and args:
            found.append(args[0])
        elif isinstance(part, str) and _is_model(kind) and part in kind.model_fields:
            found.append(kind.model_fields[part].annotation)
        elif isinstance(part, str) and origin is dict and len(args) == 2:
            found.append(args[1])
    # Nothing matched: a discriminator's value (``arrivals.poisson``), not a field; stay.
    return found or [kind for kind, _ in members]


def keys_at(model: type[BaseModel], at: Sequence[int | str]) -> list[str]:
    """The keys a file may give at location ``at`` of ``model``'s document (every member's, where
    the location is a union), sorted; ``[]`` where no mapping of fields is expected."""
    current: list[Any] = [model]
    for part in at:
        current = _step(current, part)
    keys = {
        k for c in current for kind, _ in _members(c) if _is_model(kind) for k in kind.model_fields
    }
    return sorted(keys)
