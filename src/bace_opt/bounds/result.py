"""What ``bace-opt bound`` reports (DESIGN §5b), as frozen types with their JSON.

The document: ``avg_jct_lower_s``, ``total_cost_lower_usd``, ``frontier`` (``{avg_jct_s,
cost_lower_usd}``, JCT ascending), ``status``, ``method``, ``slot_s``, ``time_s``, ``message``;
what the relaxation looked like (``relaxation``); per policy asked for, its result and gaps
(``policies``); ``provenance``; ``hindsight``, a feasible schedule found with full knowledge
(``bounds.hindsight``: ``avg_jct_s``, ``total_cost_usd``, ``jobs_csv`` and how it was made), the
upper end of ``bound ≤ optimum ≤ hindsight`` — the JSON has the key only when one was built.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bace_opt.bounds.frontier import FrontierPoint

METHOD = (
    "time-indexed LP relaxation over (job, configuration, slot), mean-busy-time completion rows, "
    "price ladders per region and slot; bounds from the Lagrangian of the solver's duals"
)


class BoundStatus(StrEnum):
    OPTIMAL = "optimal"
    """Every LP solved: the bounds are the relaxation's (safe) optima."""
    TIME_LIMIT = "time_limit"
    """Some LP stopped at the time limit: what is reported is still valid, but may be weaker or
    missing (null)."""
    ERROR = "error"


def frontier_cost_at(
    points: Iterable[tuple[float, float | None]], jct_s: float, total_cost_lower_usd: float | None
) -> float | None:
    """The least cost a schedule with average JCT ``jct_s`` can have, from the frontier's points
    ``(J, c)`` (no schedule with average JCT ≤ J costs less than c) and the total cost bound.

    Only points with J ≥ ``jct_s`` speak of such a schedule (its average is ≤ J too); a point at a
    smaller J says nothing of it. Of those and the total cost bound (which holds for every
    schedule) the tightest, the largest, is taken; None when none is proven. ``bound --policies``
    (each policy's JCT is a frontier point) and ``compare --bound`` (a policy's JCT may fall
    between points) both use this one rule, so their gaps agree."""
    applicable = [c for j, c in points if c is not None and j >= jct_s]
    if total_cost_lower_usd is not None:
        applicable.append(total_cost_lower_usd)
    return max(applicable, default=None)


@dataclass(frozen=True)
class PolicyGap:
    """A policy's simulated run beside the bounds."""

    name: str
    avg_jct_s: float | None
    total_cost_usd: float | None
    jobs_finished: int
    jobs_never_ran: int
    frontier_cost_usd: float | None
    """The frontier at the policy's average JCT: no schedule that fast costs less."""
    jct_lower_s: float | None
    cost_lower_usd: float | None

    @classmethod
    def of(
        cls,
        name: str,
        summary: Any,
        frontier: Iterable[tuple[float, float | None]],
        jct_lower_s: float | None,
        cost_lower_usd: float | None,
    ) -> PolicyGap:
        """A run's ``summary.json`` content beside the bounds: the frontier (``avg_jct_s``,
        ``cost_lower_usd`` points) read at its average JCT by ``frontier_cost_at``."""
        jct = summary.get("avg_jct_s")
        at = None if jct is None else frontier_cost_at(frontier, jct, cost_lower_usd)
        return cls(
            name,
            jct,
            summary.get("total_cost_usd"),
            int(summary.get("jobs_finished", 0)),
            int(summary.get("jobs_never_ran", 0)),
            at,
            jct_lower_s,
            cost_lower_usd,
        )

    @property
    def comparable(self) -> bool:
        """Only a run that finished every job is a schedule the bounds speak of (``avg_jct_s``
        and ``total_cost_usd`` are over finished jobs)."""
        return self.jobs_never_ran == 0 and self.avg_jct_s is not None

    def to_json(self) -> dict[str, Any]:
        def ratio(value: float | None, bound: float | None) -> float | None:
            if not self.comparable or value is None or bound is None or bound <= 0:
                return None
            return value / bound

        return {
            "avg_jct_s": self.avg_jct_s,
            "total_cost_usd": self.total_cost_usd,
            "jobs_finished": self.jobs_finished,
            "jobs_never_ran": self.jobs_never_ran,
            "comparable": self.comparable,
            "frontier_cost_lower_usd": self.frontier_cost_usd if self.comparable else None,
            "jct_gap": ratio(self.avg_jct_s, self.jct_lower_s),
            "cost_gap": ratio(self.total_cost_usd, self.frontier_cost_usd),
            "cost_gap_total": ratio(self.total_cost_usd, self.cost_lower_usd),
        }


@dataclass(frozen=True)
class BoundResult:
    avg_jct_lower_s: float | None
    total_cost_lower_usd: float | None
    frontier: tuple[FrontierPoint, ...]
    status: BoundStatus
    slot_s: float
    time_s: float
    message: str
    trivial_jct_lower_s: float
    """Σ_j D_min,j / N: each job's least run time (the bound never reports less)."""
    relaxation: dict[str, Any]
    """Sizes, horizon, paths and solve times of the LP."""
    policies: tuple[PolicyGap, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)
    hindsight: dict[str, Any] | None = None
    """DESIGN §5b's ``hindsight`` block (None when it was not built)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "avg_jct_lower_s": self.avg_jct_lower_s,
            "total_cost_lower_usd": self.total_cost_lower_usd,
            "frontier": [
                {"avg_jct_s": p.avg_jct_s, "cost_lower_usd": p.cost_lower_usd}
                for p in self.frontier
                if p.cost_lower_usd is not None
            ],
            "status": str(self.status),
            "method": METHOD,
            "slot_s": self.slot_s,
            "time_s": self.time_s,
            "message": self.message,
            "trivial_jct_lower_s": self.trivial_jct_lower_s,
            "relaxation": self.relaxation,
            "provenance": self.provenance,
        }
        if self.policies:
            out["policies"] = {p.name: p.to_json() for p in self.policies}
        if self.hindsight is not None:
            out["hindsight"] = self.hindsight
        return out

    def rows(self) -> list[dict[str, str | int | float]]:
        """The terminal table: the bounds, then one line per policy."""

        def text(value: float | None, digits: int = 6) -> str:
            return "–" if value is None else f"{value:.{digits}g}"

        rows: list[dict[str, str | int | float]] = [
            {
                "what": "lower bound",
                "avg JCT h": text(_hours(self.avg_jct_lower_s)),
                "cost $": text(self.total_cost_lower_usd),
                "frontier $": "–",
                "JCT gap": "–",
                "cost gap": "–",
            }
        ]
        if self.hindsight is not None:
            h = self.hindsight
            gap = None
            if self.avg_jct_lower_s is not None and self.avg_jct_lower_s > 0:
                gap = h["avg_jct_s"] / self.avg_jct_lower_s
            rows.append(
                {
                    "what": "hindsight schedule",
                    "avg JCT h": text(_hours(h["avg_jct_s"])),
                    "cost $": text(h["total_cost_usd"]),
                    "frontier $": "–",
                    "JCT gap": text(gap, 4),
                    "cost gap": "–",
                }
            )
        for p in self.policies:
            gaps = p.to_json()
            rows.append(
                {
                    "what": p.name if p.comparable else f"{p.name} (not all jobs ran)",
                    "avg JCT h": text(_hours(p.avg_jct_s)),
                    "cost $": text(p.total_cost_usd),
                    "frontier $": text(gaps["frontier_cost_lower_usd"]),
                    "JCT gap": text(gaps["jct_gap"], 4),
                    "cost gap": text(gaps["cost_gap"], 4),
                }
            )
        return rows


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600
