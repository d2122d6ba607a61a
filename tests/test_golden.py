"""Outputs users see stay as they were: the quick part of ``scripts/golden.py``'s manifest.

Every policy on the small shipped instances and on geo6, through the command line with
``--no-timing``, must write byte-identical ``jobs.csv``, ``summary.json`` and ``timeline.csv``;
two quick epochs must give the same status, admitted weight and cost. The whole manifest (every
instance and snapshot, ~10 min) is ``python scripts/golden.py check``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
QUICK = {"tiny3", "hetero4", "poisson-spec", "geo6", "10x4x6-seed0", "geo6-1"}


def _golden() -> ModuleType:
    spec = importlib.util.spec_from_file_location("golden", ROOT / "scripts" / "golden.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["golden"] = module
    spec.loader.exec_module(module)
    return module


def test_quick_outputs_match_the_manifest() -> None:
    golden = _golden()
    reference = golden.load_manifest()
    now = golden.compute(QUICK, golden.POLICIES, epochs=True, workers=2)
    assert len(now["runs"]) == 4 * len(golden.POLICIES)
    assert len(now["epochs"]) == 2
    assert golden.differences(reference, now) == []


def test_differences_sees_a_changed_file() -> None:
    golden = _golden()
    reference = golden.load_manifest()
    key = next(iter(reference["runs"]))
    changed = {name: "0" * 64 for name in reference["runs"][key]}
    problems = golden.differences(reference, {"runs": {key: changed}, "epochs": {}})
    assert len(problems) == 3
