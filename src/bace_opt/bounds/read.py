"""A ``bace-opt bound`` JSON read back for ``compare --bound F.json`` (DESIGN §5b): checked to be a
bound file, and a bound of the very world being compared, then put beside each policy's run by the
rules ``bound --policies`` uses (``result.PolicyGap``, ``result.frontier_cost_at``), so the two
commands give the same gaps for the same run.

A bound speaks only of the world it was computed for: its ``provenance`` records the instance
file's SHA-256 and those of the price series it read, and a file whose hashes differ from the
instance's is refused (exit status 2) rather than giving gaps to another world's bounds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from bace_opt.bounds.result import BoundStatus, PolicyGap
from bace_opt.core.world import Instance
from bace_opt.errors import InputError
from bace_opt.io.read import read_document
from bace_opt.report.provenance import file_sha256, source

FRONTIER_KEYS: tuple[str, str] = ("avg_jct_s", "cost_lower_usd")
HINDSIGHT_KEYS: tuple[str, str] = ("avg_jct_s", "total_cost_usd")


@dataclass(frozen=True)
class BoundFile:
    """What ``compare`` needs of a bound file."""

    path: Path
    sha256: str
    """Of the bound file itself, recorded beside each policy's gaps."""
    status: str
    avg_jct_lower_s: float | None
    total_cost_lower_usd: float | None
    frontier: tuple[tuple[float, float], ...]
    """``(avg_jct_s, cost_lower_usd)`` per point, as in the file."""
    hindsight: tuple[float, float] | None
    """The hindsight schedule's average JCT and cost, when the file has one."""

    def gaps(self, summary: Mapping[str, Any]) -> dict[str, Any]:
        """The ``bound`` block of a policy's ``summary.json``: the bounds, the frontier at its
        average JCT and its three gaps (None unless it finished every job)."""
        gap = PolicyGap.of(
            str(summary.get("policy")),
            summary,
            self.frontier,
            self.avg_jct_lower_s,
            self.total_cost_lower_usd,
        ).to_json()
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "status": self.status,
            "comparable": gap["comparable"],
            "jct_lower_s": self.avg_jct_lower_s,
            "total_cost_lower_usd": self.total_cost_lower_usd,
            "frontier_cost_lower_usd": gap["frontier_cost_lower_usd"],
            "jct_gap": gap["jct_gap"],
            "cost_gap": gap["cost_gap"],
            "cost_gap_total": gap["cost_gap_total"],
        }

    def rows(self) -> list[dict[str, str | int | float]]:
        """The terminal table of the bounds themselves: the lower bounds, the hindsight schedule."""

        def text(value: float | None, digits: int = 6) -> str:
            return "–" if value is None else f"{value:.{digits}g}"

        def hours(seconds: float | None) -> float | None:
            return None if seconds is None else seconds / 3600

        rows: list[dict[str, str | int | float]] = [
            {
                "what": "lower bound",
                "avg JCT h": text(hours(self.avg_jct_lower_s)),
                "cost $": text(self.total_cost_lower_usd),
            }
        ]
        if self.hindsight is not None:
            jct, cost = self.hindsight
            rows.append(
                {"what": "hindsight schedule", "avg JCT h": text(hours(jct)), "cost $": text(cost)}
            )
        return rows


def _number(value: Any) -> TypeGuard[float]:
    """A finite JSON number (``true`` is not one, though Python counts it as an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _bound_or_null(doc: Mapping[str, Any], key: str, problems: list[str]) -> float | None:
    value = doc[key]
    if value is None:
        return None
    if not _number(value):
        problems.append(f"{key}: a number or null, not {value!r:.40}")
        return None
    return float(value)


def _pair(value: Any, keys: tuple[str, str]) -> tuple[float, float] | None:
    """The two numbers ``value`` holds under ``keys``, or None when it does not."""
    if not isinstance(value, dict):
        return None
    first, second = value.get(keys[0]), value.get(keys[1])
    if not (_number(first) and _number(second)):
        return None
    return float(first), float(second)


def _frontier(value: Any, problems: list[str]) -> tuple[tuple[float, float], ...]:
    if not isinstance(value, list):
        problems.append("frontier: a list of {avg_jct_s, cost_lower_usd}")
        return ()
    points = []
    for i, point in enumerate(value):
        pair = _pair(point, FRONTIER_KEYS)
        if pair is None:
            problems.append(f"frontier[{i}]: numbers avg_jct_s and cost_lower_usd")
            continue
        points.append(pair)
    return tuple(points)


def _hindsight(value: Any, problems: list[str]) -> tuple[float, float] | None:
    if value is None:
        return None
    pair = _pair(value, HINDSIGHT_KEYS)
    if pair is None:
        problems.append("hindsight: numbers avg_jct_s and total_cost_usd")
    return pair


def _recorded(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """The bound file's ``provenance.instance`` (empty when it is missing or not a mapping)."""
    made = doc.get("provenance")
    instance = made.get("instance") if isinstance(made, dict) else None
    return instance if isinstance(instance, dict) else {}


def _same_world(doc: Mapping[str, Any], instance: Instance) -> list[str]:
    """Why the bound is not one of ``instance`` (its file, then its price series), or nothing."""
    recorded = _recorded(doc)
    theirs = recorded.get("sha256")
    if not isinstance(theirs, str):
        return ["provenance.instance.sha256: missing, so the bound cannot be tied to an instance"]
    ours = source(instance)
    if ours["sha256"] is None:
        return [f"the instance has no file to check the bound's sha256 {theirs} against"]
    if theirs != ours["sha256"]:
        return [
            f"a bound of another instance: provenance.instance.sha256 is {theirs}, but "
            f"{instance.source} has sha256 {ours['sha256']}; run bace-opt bound on it"
        ]
    data = recorded.get("data")  # by hash, not path: the bound may have run from another folder
    now = sorted(map(str, ours["data"].values()))
    if isinstance(data, dict) and sorted(map(str, data.values())) != now:
        return [
            "provenance.instance.data: the price series differ from those the bound was "
            "computed with (a series edited since); run bace-opt bound again"
        ]
    return []


def read_bound(path: Path, instance: Instance, option: str = "--bound") -> BoundFile:
    """The bound file at ``path``, checked against ``instance``; ``InputError`` with one line per
    problem, each led by ``option`` and the file's name."""
    where = f"{option}: {path.name or path}"
    try:
        doc = read_document(path)
    except InputError as exc:
        raise InputError([f"{option}: {p}" for p in exc.problems]) from None
    if "avg_jct_lower_s" not in doc or "total_cost_lower_usd" not in doc:
        missing = "avg_jct_lower_s" if "avg_jct_lower_s" not in doc else "total_cost_lower_usd"
        raise InputError([f"{where}: not a bound file (no {missing})"])
    problems: list[str] = []
    jct = _bound_or_null(doc, "avg_jct_lower_s", problems)
    cost = _bound_or_null(doc, "total_cost_lower_usd", problems)
    if jct is not None and jct <= 0:
        problems.append(f"avg_jct_lower_s: must be > 0, not {jct:g}")
    frontier = _frontier(doc.get("frontier"), problems)
    hindsight = _hindsight(doc.get("hindsight"), problems)
    status = doc.get("status")
    if status not in {str(s) for s in BoundStatus}:
        problems.append(f"status: one of {', '.join(BoundStatus)}, not {status!r:.40}")
    problems += _same_world(doc, instance)
    if problems:
        raise InputError([f"{where}: {p}" for p in problems])
    return BoundFile(path, file_sha256(path) or "", str(status), jct, cost, frontier, hindsight)
