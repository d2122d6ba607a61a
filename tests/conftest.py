"""Shared fixtures: the repository's folders and a CLI runner that keeps stderr apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
