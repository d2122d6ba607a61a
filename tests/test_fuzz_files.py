"""Mangled instance files never produce a traceback: exit 0 or 2, problems on stderr."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bace_opt.cli import app
from tests.test_validate import base_doc

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
VALID_TEXT = yaml.safe_dump(base_doc(), sort_keys=False)

junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def assert_clean_exit(runner: CliRunner, path: Path) -> None:
    result = runner.invoke(app, ["validate", str(path)])
    assert "Traceback" not in result.output + result.stderr
    assert result.exit_code in (0, 2), (result.exit_code, result.output, result.stderr)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 2:
        assert result.stderr.strip(), "a rejected file must say why"


@SETTINGS
@given(data=st.data())
def test_structural_mangling(data: st.DataObject, tmp_path: Path) -> None:
    doc = copy.deepcopy(base_doc())
    paths = _paths(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        parent: Any = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if data.draw(st.booleans()):
                parent[path[-1]] = data.draw(junk)
            elif isinstance(parent, dict):
                del parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue
    target = tmp_path / "mangled.yaml"
    target.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    assert_clean_exit(CliRunner(), target)


@SETTINGS
@given(
    cut=st.integers(0, len(VALID_TEXT)),
    length=st.integers(0, 40),
    insert=st.text(alphabet=":-[]{}!&*#|>'\"\n\t 0123456789abc,.", max_size=10),
)
def test_textual_mangling(cut: int, length: int, insert: str, tmp_path: Path) -> None:
    text = VALID_TEXT[:cut] + insert + VALID_TEXT[cut + length :]
    target = tmp_path / "mangled.yaml"
    target.write_text(text)
    assert_clean_exit(CliRunner(), target)
