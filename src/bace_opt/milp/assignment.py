"""The least-cost assignment of jobs to regions, each job whole in one region (or, where asked,
split by stages over a few): a generalized assignment problem (GAP), a small MILP for HiGHS.

Why: the cost stage of a large epoch has its admission fixed by the knapsack
(``capacity.fixed_admission``), and what is left is mostly *where* each admitted job runs. On the
shipped snapshots its LP relaxation is attained by whole-region placements (at 200 jobs × 16 × 10
the GAP's LP value equals the cost stage's LP bound to 1e-9), and the GAP with its
jobs × regions binaries solves in well under a second, where the full model's branch-and-bound
had not improved a greedy start after 60 s. ``policies.mip_start`` turns the assignment into a
MIP start; the MILP still proves (or bounds) the optimum over every placement, splits included.

Where the free GPUs are packed so tight that not every job fits whole (200x16x10-seed1: 1,304 of
1,306 GPUs), a job may instead be split: its S stages over at most K of its regions, n_r stages in
region r, at the per-stage share of its whole cost there plus ``SPLIT_MARKUP`` (a split's latency
makes it dearer; the markup keeps the whole placements wherever they fit). Those prices are
estimates, and bandwidth is not modeled beyond pairs of regions the links cannot carry a job
between (``apart``): ``policies.mip_start`` orders each split's regions along a path the links
carry, prices it exactly, and falls back to the cheapest-path greedy where no order fits.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bace_opt.milp.solver import _scheduler, quiet_highs

log = logging.getLogger(__name__)

ASSIGNMENT_LIMIT_S = 2.0
"""Seconds HiGHS may spend on the assignment; past it, its best assignment so far is used."""

SPLIT_LIMIT_S = 5.0
"""The same for the split-aware assignment, with its link rows far harder to find a first
answer for: on 100x16x10 seeds 0-2 it reached the capacity bound's weight at 5 s on every run
measured, at 2 s on one seed in three (docs/benchmarks.md, session 14)."""

SPLIT_GAP = 2e-3
"""The relative gap at which the split-aware assignment stops. Its split prices are estimates
(``SPLIT_MARKUP``), so proving its own optimum to 1e-6 buys nothing the cost stage keeps: at
2e-3 it stops at the root in 1.5-3.4 s on 100x16x10 and 200x16x10-seed1, where 1e-6 took
2.3-4.8 s, and the starts it gives cost the same to within 0.1 % (session 15)."""


SPLIT_MARKUP = 0.05
"""A split's estimated cost over the per-stage share of the whole cost in the same regions."""


@dataclass(frozen=True)
class Option:
    """Job ``job`` whole in ``region`` costs ``cost_usd``."""

    job: int
    region: int
    cost_usd: float
    whole: bool = True
    """The job fits whole in the region (False: only some of its stages do, for a split)."""


@dataclass(frozen=True)
class Assignment:
    whole: dict[int, int]
    """The region of each job placed whole."""
    split: dict[int, dict[int, int]]
    """Stages per region of each job split."""


class _Program:
    """A MILP's columns and rows, gathered as triplets and handed to HiGHS column-wise."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.upper: list[float] = []
        self.lower_row: list[float] = []
        self.upper_row: list[float] = []
        self.entries: list[tuple[int, int, float]] = []

    def column(self, cost: float, upper: float) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        return len(self.cost) - 1

    def row(self, terms: Sequence[tuple[int, float]], lower: float, upper: float) -> None:
        row = len(self.lower_row)
        self.lower_row.append(lower)
        self.upper_row.append(upper)
        self.entries.extend((row, col, value) for col, value in terms)

    def solve(
        self, limit_s: float, fixable: Sequence[int] = (), gap: float = 1e-6
    ) -> np.ndarray | None:
        """The integer optimum's column values (within relative ``gap``; every column is
        integer), or None. With
        ``fixable`` columns (binaries), the LP relaxation is solved first and those it puts at 1
        are fixed there for the MILP (a dive: far quicker to a good answer where the LP is
        nearly integral); when that finds nothing, the MILP runs again with them free."""
        import highspy

        n = len(self.cost)
        rows, cols, values = (np.array(v) for v in zip(*self.entries, strict=True))
        order = np.lexsort((rows, cols))
        highs = quiet_highs()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, len(self.lower_row)
        lp.col_cost_ = np.array(self.cost)
        lp.col_lower_, lp.col_upper_ = np.zeros(n), np.array(self.upper)
        lp.row_lower_, lp.row_upper_ = np.array(self.lower_row), np.array(self.upper_row)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=n))])
        lp.a_matrix_.index_ = rows[order].astype(np.int32)
        lp.a_matrix_.value_ = values[order].astype(float)
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n
        highs.passModel(lp)
        _scheduler().match(1)  # one thread: the start is the same on every machine
        deadline = time.monotonic() + limit_s
        for key, value in {"threads": 1, "mip_rel_gap": gap}.items():
            highs.setOptionValue(key, value)
        fixed: list[int] = []
        if fixable:
            highs.setOptionValue("solve_relaxation", True)
            highs.setOptionValue("time_limit", limit_s)
            highs.run()
            highs.setOptionValue("solve_relaxation", False)
            relaxed = highs.getSolution()
            if relaxed.value_valid:
                at_zero = np.asarray(relaxed.col_value)[list(fixable)] < 1e-6
                fixed = [c for c, zero in zip(fixable, at_zero, strict=True) if zero]
            if fixed:
                zeros = np.zeros(len(fixed))
                highs.changeColsBounds(len(fixed), np.array(fixed, dtype=np.int32), zeros, zeros)
        solution = self._run(highs, deadline)
        if solution is None and fixed:
            lower, upper = np.zeros(len(fixed)), np.ones(len(fixed))
            highs.changeColsBounds(len(fixed), np.array(fixed, dtype=np.int32), lower, upper)
            solution = self._run(highs, deadline)
        return solution

    @staticmethod
    def _run(highs: Any, deadline: float) -> np.ndarray | None:
        highs.setOptionValue("time_limit", max(deadline - time.monotonic(), 0.01))
        highs.run()
        solution = highs.getSolution()
        if not solution.value_valid:
            log.debug("no assignment (%s)", highs.modelStatusToString(highs.getModelStatus()))
            return None
        return np.round(np.asarray(solution.col_value))


@dataclass(frozen=True)
class Splitting:
    """How jobs may split: each job's (stages, most regions) in ``shapes``; in ``crossings[j]``
    the pairs of regions (a < b) the links can carry one crossing of job j between, each with
    the Gbit/s it loads on each link direction; ``residual`` Gbit/s per direction. A split never
    spans a pair missing from ``crossings[j]``, and the pairs a split spans load the links at
    most to their residual — every pair counted, so a path through them fits whichever of them
    it makes adjacent."""

    shapes: Sequence[tuple[int, int]]
    crossings: Mapping[int, Mapping[tuple[int, int], Mapping[Hashable, float]]]
    residual: Mapping[Hashable, float]


def least_cost_assignment(
    options: Sequence[Option],
    gpus: Sequence[int],
    free: Sequence[int],
    splitting: Splitting | None = None,
    limit_s: float = ASSIGNMENT_LIMIT_S,
) -> Assignment | None:
    """min Σ cost over the ``options``: every job placed once, each region's jobs within its
    ``free`` GPUs (job j holds ``gpus[j]``). Whole only, unless ``splitting`` is given: then a
    job may split (``SPLIT_MARKUP``) as it allows.
    None when no assignment exists, or none was found within ``limit_s``."""
    p = _Program()
    whole = {k: p.column(o.cost_usd, 1) for k, o in enumerate(options) if o.whole}
    in_job: dict[int, list[tuple[int, float]]] = {j: [] for j in range(len(gpus))}
    in_region: dict[int, list[tuple[int, float]]] = {r: [] for r in range(len(free))}
    for k, z in whole.items():
        in_job[options[k].job].append((z, 1.0))
        in_region[options[k].region].append((z, float(gpus[options[k].job])))
    stage_columns: list[tuple[int, int, int]] = []  # (job, region, its n column)
    spans: list[tuple[int, int, Mapping[Hashable, float]]] = []  # (v_a, v_b, the pair's load)
    for j, (stages, most) in enumerate(splitting.shapes if splitting else []):
        mine = [o for o in options if o.job == j]
        if not mine or stages < 2 or most < 2:
            continue
        u = p.column(0.0, 1)
        in_job[j].append((u, 1.0))
        counts = []
        used: dict[int, int] = {}
        for o in mine:
            share = o.cost_usd / stages * (1.0 + SPLIT_MARKUP * (1 if o.cost_usd >= 0 else -1))
            n, v = p.column(share, stages - 1), p.column(0.0, 1)
            p.row([(n, 1.0), (v, -float(stages - 1))], -np.inf, 0.0)  # n > 0 only where v
            in_region[o.region].append((n, float(gpus[j] // stages)))
            counts.append((n, v))
            used[o.region] = v
            stage_columns.append((j, o.region, n))
        carried = splitting.crossings.get(j, {}) if splitting else {}
        for a, b in itertools.combinations(sorted(used), 2):
            if (a, b) in carried:
                spans.append((used[a], used[b], carried[a, b]))
            else:
                p.row([(used[a], 1.0), (used[b], 1.0)], -np.inf, 1.0)
        p.row([(n, 1.0) for n, _ in counts] + [(u, -float(stages))], 0.0, 0.0)
        p.row([(v, 1.0) for _, v in counts] + [(u, -float(most))], -np.inf, 0.0)
    if splitting is not None:
        _link_rows(p, spans, splitting.residual)
    for terms in in_job.values():
        p.row(terms, 1.0, 1.0)
    for r, terms in in_region.items():
        if terms:
            p.row(terms, -np.inf, float(free[r]))
    if not p.entries or any(not terms for terms in in_job.values()):
        return None
    if splitting is None:
        values = p.solve(limit_s)
    else:
        values = p.solve(limit_s, list(whole.values()), SPLIT_GAP)
    if values is None:
        return None
    placed = {options[k].job: options[k].region for k, z in whole.items() if values[z] > 0.5}
    split: dict[int, dict[int, int]] = {}
    for j, region, n in stage_columns:
        if values[n] > 0.5:
            split.setdefault(j, {})[region] = int(values[n])
    return Assignment(placed, split)


def _link_rows(
    p: _Program,
    spans: Sequence[tuple[int, int, Mapping[Hashable, float]]],
    residual: Mapping[Hashable, float],
) -> None:
    """Σ over the spanned pairs of their load ≤ the residual, for each link direction the pairs
    could overload (elsewhere the row could never bind): a pair is spanned (y = 1) when both its
    regions are used, y ≥ v_a + v_b − 1."""
    offered: dict[Hashable, float] = {}
    for _, _, load in spans:
        for link, gbps in load.items():
            offered[link] = offered.get(link, 0.0) + gbps
    tight = {link for link, total in offered.items() if total > residual[link]}
    spanned: dict[int, int] = {}
    terms: dict[Hashable, list[tuple[int, float]]] = {link: [] for link in tight}
    for k, (va, vb, load) in enumerate(spans):
        for link, gbps in load.items():
            if link in tight:
                if k not in spanned:
                    spanned[k] = y = p.column(0.0, 1)
                    p.row([(va, 1.0), (vb, 1.0), (y, -1.0)], -np.inf, 1.0)
                terms[link].append((spanned[k], gbps))
    for link, row in terms.items():
        p.row(row, -np.inf, residual[link])
