"""YAML into Python objects, refusing duplicate keys, fast enough for 100k-job files.

PyYAML composes a node tree (two ``Mark`` objects and a node per scalar) before it constructs
anything; for a 100k-job instance that is ~15 s even with libyaml. Plain documents — no anchors,
aliases, explicit tags or merge keys, which is every file bace-opt writes and nearly every file a
person writes — are built here straight from libyaml's parse events, with PyYAML's own resolver
and scalar constructors, so the values are exactly ``yaml.safe_load``'s (a test holds them equal).
Anything else goes through PyYAML's composer and constructor unchanged. Either way, a key given
twice in one mapping is a problem line with its field path: YAML would silently keep the last.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml import events

Path = tuple[int | str, ...]

_BaseLoader: Any = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
STR_TAG = "tag:yaml.org,2002:str"


class _Loader(_BaseLoader):  # type: ignore[misc]
    """PyYAML's safe loader, in C when libyaml is there."""


class _NotPlain(Exception):
    """The document uses a YAML feature the event reader leaves to PyYAML."""


def _duplicate(at: Path, key: Any, line: int, where: Callable[[Path], str]) -> str:
    return f"{where((*at, str(key)))}: duplicate key (line {line})"


_NO_KEY = object()
"""An open mapping waiting for its next key."""


class _Container:
    __slots__ = ("key", "key_line", "obj", "path")

    def __init__(self, obj: dict[Any, Any] | list[Any], path: Path) -> None:
        self.obj = obj
        self.path = path
        self.key: Any = _NO_KEY
        self.key_line = 0


def _plain(loader: Any, where: Callable[[Path], str]) -> tuple[Any, list[str]]:
    """The document built from parse events, and its duplicate-key problems."""
    constructors = loader.yaml_constructors
    resolve = loader.resolve
    get = loader.get_event
    problems: list[str] = []
    stack: list[_Container] = []
    root: list[Any] = []

    def place(value: Any, line: int) -> Path | None:
        """Put ``value`` into the open container; the path it gets, or None for a key."""
        if not stack:
            root.append(value)
            return ()
        top = stack[-1]
        if isinstance(top.obj, list):
            top.obj.append(value)
            return (*top.path, len(top.obj) - 1)
        if top.key is _NO_KEY:
            if isinstance(value, dict | list):
                raise _NotPlain  # a complex key
            top.key, top.key_line = value, line
            return None
        key, top.key = top.key, _NO_KEY
        if key in top.obj:
            problems.append(_duplicate(top.path, key, top.key_line, where))
        top.obj[key] = value
        return (*top.path, str(key))

    get()  # the stream's start
    if loader.check_event(events.StreamEndEvent):
        return None, []
    get()  # the document's start
    while True:
        event = get()
        kind = type(event)
        if kind is events.ScalarEvent:
            if event.anchor is not None or event.tag not in (None, "!"):
                raise _NotPlain
            tag = resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag == STR_TAG:
                value: Any = event.value
            elif tag in constructors and not tag.endswith((":merge", ":value")):
                node = yaml.ScalarNode(tag, event.value, style=event.style)
                value = constructors[tag](loader, node)
            else:
                raise _NotPlain
            place(value, event.start_mark.line + 1)
        elif kind is events.MappingStartEvent or kind is events.SequenceStartEvent:
            if event.anchor is not None or event.tag not in (None, "!"):
                raise _NotPlain
            container: dict[Any, Any] | list[Any] = {} if kind is events.MappingStartEvent else []
            path = place(container, event.start_mark.line + 1)
            if path is None:
                raise _NotPlain
            stack.append(_Container(container, path))
        elif kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
            stack.pop()
        elif kind is events.DocumentEndEvent:
            if not isinstance(get(), events.StreamEndEvent):
                raise _NotPlain  # more than one document: PyYAML says so
            return (root[0] if root else None), sorted(problems)
        else:  # an alias
            raise _NotPlain


def _composed_duplicates(root: yaml.Node, where: Callable[[Path], str]) -> list[str]:
    problems: list[str] = []
    stack: list[tuple[yaml.Node, Path]] = [(root, ())]
    while stack:
        node, at = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else f"<{key.tag}>"
                if name in seen:
                    problems.append(_duplicate(at, name, key.start_mark.line + 1, where))
                seen.add(name)
                stack.append((value, (*at, name)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*at, i)) for i, item in enumerate(node.value))
    return sorted(problems)


def _composed(text: str, where: Callable[[Path], str]) -> tuple[Any, list[str]]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        problems = _composed_duplicates(node, where)
        return (None if problems else loader.construct_document(node)), problems
    finally:
        loader.dispose()


def load_yaml(text: str, where: Callable[[Path], str]) -> tuple[Any, list[str]]:
    """``(document, problems)``: the document ``yaml.safe_load`` would give, and one line per
    duplicate key (its field path by ``where``). Raises ``yaml.YAMLError`` on a syntax error."""
    loader = _Loader(text)
    try:
        return _plain(loader, where)
    except _NotPlain:
        pass
    finally:
        loader.dispose()
    return _composed(text, where)
