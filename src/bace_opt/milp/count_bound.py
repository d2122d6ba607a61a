"""The cost stage's stage-count relaxation (R): a dual bound that keeps the integrality the
LP bound loses, and a solution the MIP start can place.

Why: on the big epochs the cost stage's LP bound (``relaxation``) sits 0.04–0.5 % below the best
plan, and HiGHS's tree on the full model does not move it within a minute, under any of the
settings measured (docs/benchmarks.md, session 16). The gap is packing: the LP spreads a job's
stages fractionally over regions whose free GPUs, and links, an integer plan cannot fill. R keeps
that integrality and drops what makes the full model big (blocks and their order, transitions
per block, per-type link loads): per job, how many stages sit in each region and which pairs of
its regions it crosses between, at prices no placement undercuts.

**R.** For each job j that may be admitted: x ∈ {0,1} (the stage's fixings kept), Σ w x ≥ floor;
θ[t] ∈ {0,1} (t its slowest type; Σ θ = x, for a job with several candidate types);
N[r, t] ∈ {0..max_stages[r]} (stages in r, for each candidate type t no faster than r's own;
N[r, t] ≤ max_stages[r] · θ[t]); u[r] ∈ {0,1} with u[r] ≤ Σ_t N[r, t] ≤ max_stages[r] · u[r];
Σ N = S x, Σ u ≤ K x; w[a, b, t] ∈ {0,1} for each pair of its regions and type t no faster than
either, where the links could carry a crossing at t (a route, and need_t · uses(d) ≤ residual(d)
on each of its directions), w ≤ u[a], w ≤ u[b], w ≤ θ[t], Σ w = Σ u − x. Across jobs: Σ g N ≤
free GPUs per region, and per link direction d Σ need_t · uses_ab(d) · w[a, b, t] ≤ residual(d)
− ``LINK_MARGIN_GBPS``. Objective: Σ g · D₀_t · rate[r, t] · N[r, t] + Σ ℓ_t · lat_ab · w[a, b,
t], ℓ_t = g · S · min_r rate[r, t].

**Theorem.** If every rate of the epoch is ≥ 0, R's optimum — and so any dual bound HiGHS
proves for R — is ≤ the cost of every plan of the cost stage. *Proof.* Take a plan, t* the
slowest type of a placed job's regions. Set x, θ[t*] = 1, N[r, t*] = its stages in r, u = its
regions, w[a, b, t*] = 1 for the pairs of its adjacent blocks. Its blocks are non-empty and sit
in distinct regions, at most K, and a path through them has one crossing fewer than regions:
R's job rows hold; t* is no faster than any region used, so N[r, t*] and w[a, b, t*] exist.
Each crossing loads d with need(t*) · uses(d), on top of the other jobs' load ≥ 0, within the
plan's link rows (so the crossing is one R offers, and R's link rows hold). Its cost (``cost``)
is g (D₀_{t*} + Σ lat) Σ_r N_r rate[r, t*] = Σ_r g D₀_{t*} rate[r, t*] N_r + Σ_{crossings}
lat · g Σ_r N_r rate[r, t*]; the first sum is R's N terms, and each crossing's term is ≥ lat ·
ℓ_{t*} because the rates are ≥ 0 and Σ_r N_r = S. ∎ (A negative rate breaks the last step; R
is then not solved: ``None``.)

**R+** (``exact_latency``): each crossing's latency priced exactly, y[a, b, t] ≥ lat · g ·
Σ_r (rate[r, t] − least) N[r, t] − M (1 − w[a, b, t]) on top of w's least-rate part. At a plan's
point (the proof's construction, with y at its row's value) R+'s objective is the plan's cost, so
an R+ optimum that places as a plan at the same cost is the epoch's optimum. Not in the epoch's
path (slower than R, and no better start within the start's time: docs/benchmarks.md, session
17); ``benchmarks/cells/count_relaxation.py`` measures it.

A plan R's solution describes need not exist (the block order, per-type needs, the link load of
a longer path); ``policies.mip_start`` places it as a candidate start and the model checks it.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

from bace_opt.core.network import Direction
from bace_opt.core.placement import Placement
from bace_opt.milp.build import LINK_MARGIN_GBPS
from bace_opt.milp.capacity import FixedAdmission
from bace_opt.milp.data import EpochData, JobData, Pair
from bace_opt.milp.solver import _scheduler, quiet_highs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CountBound:
    """R's answer: ``bound`` (model units, HiGHS's dual bound) ≤ every plan's cost of the
    stage; ``optimal`` whether HiGHS stopped at the gap asked for (else at the time limit)."""

    bound: float
    optimal: bool
    stages: dict[str, dict[str, int]]
    """R's best solution found: stages per region of each admitted job (empty: none found)."""


def count_bound(
    data: EpochData,
    scale: float,
    floor: float,
    fixed: FixedAdmission,
    limit_s: float,
    threads: int | None = None,
    gap: float = 0.0,
    start: Mapping[str, Placement] | None = None,
    exact_latency: bool = False,
) -> CountBound | None:
    """R built and solved by HiGHS within ``limit_s``, stopping at relative ``gap``, from the
    plan ``start`` (HiGHS's first incumbent, where R has its point): its dual bound, in the
    model's unit (costs × ``scale``), and its best solution; None where the theorem does not
    hold (a negative rate), or HiGHS has no bound or no time left."""
    import highspy

    started = time.monotonic()
    jobs = [j for j in data.jobs if j.blocks > 0 and j.name not in fixed.leave]
    if limit_s <= 0 or any(v < 0 for j in jobs for v in j.rate.values()):
        return None
    model = _Relaxation(data, scale, floor, jobs, fixed.admit, exact_latency)
    highs = quiet_highs()
    if highs.passModel(model.lp()) != highspy.HighsStatus.kOk:
        return None
    if start is not None and (values := model.point(start)) is not None:
        solution = highspy.HighsSolution()
        solution.col_value = values
        solution.value_valid = True
        highs.setSolution(solution)
    left = limit_s - (time.monotonic() - started)  # the build counts against the limit
    if left <= 0:
        return None
    _scheduler().match(threads or 1)
    settings: dict[str, float] = {
        "time_limit": left,
        "mip_rel_gap": gap,
        "mip_abs_gap": 0.0,
        "mip_feasibility_tolerance": 1e-7,  # as the epoch MILP (``solver.HIGHS_SETTINGS``)
    }
    if threads:
        settings["threads"] = threads
    for key, value in settings.items():
        highs.setOptionValue(key, value)
    tic = time.perf_counter()
    highs.run()
    status = highs.getModelStatus()
    info = highs.getInfo()
    took = time.perf_counter() - tic
    log.debug("count bound: %s in %.2f s", highs.modelStatusToString(status), took)
    optimal = status == highspy.HighsModelStatus.kOptimal
    bound = float(info.mip_dual_bound)  # at a gap > 0 "optimal" is no proof; the bound is
    if not np.isfinite(bound):
        return None
    solution = highs.getSolution()
    stages = model.stages(np.asarray(solution.col_value)) if solution.value_valid else {}
    return CountBound(bound, optimal, stages)


class _Relaxation:
    """R's columns and rows, and where each job's variables sit (to read a solution, and to
    write a plan as R's point)."""

    def __init__(
        self,
        data: EpochData,
        scale: float,
        floor: float,
        jobs: list[JobData],
        admit: Collection[str],
        exact_latency: bool,
    ) -> None:
        self.data, self.scale, self.admit, self.exact = data, scale, admit, exact_latency
        self.cost: list[float] = []
        self.upper: list[float] = []
        self.lower: list[float] = []
        self.whole: list[bool] = []
        self.rows: list[tuple[list[tuple[int, float]], float, float]] = []
        self.x: dict[str, int] = {}
        self.theta: dict[tuple[str, str], int] = {}
        self.n: dict[tuple[str, str, str], int] = {}
        self.u: dict[tuple[str, str], int] = {}
        self.w: dict[tuple[str, frozenset[str], str], int] = {}
        self.y: dict[tuple[str, frozenset[str], str], tuple[int, float]] = {}
        self.jobs = {j.name: j for j in jobs}
        in_region: dict[str, list[tuple[int, float]]] = {r: [] for r in data.regions}
        self.on_link: dict[Direction, list[tuple[int, float]]] = {}
        admission: list[tuple[int, float]] = []
        for j in jobs:
            admission.append((self._job(j, in_region), j.weight))
        self.rows.append((admission, floor, np.inf))
        for r, terms in in_region.items():
            if terms:
                self.rows.append((terms, -np.inf, float(data.free_gpus[r])))
        for d, terms in self.on_link.items():
            room = data.residual_gbps[d] - LINK_MARGIN_GBPS
            if sum(v for _, v in terms) > room:  # elsewhere the row could never bind
                self.rows.append((terms, -np.inf, room))

    def _column(self, c: float, low: float, high: float, whole: bool = True) -> int:
        self.cost.append(c)
        self.lower.append(low)
        self.upper.append(high)
        self.whole.append(whole)
        return len(self.cost) - 1

    def _job(self, j: JobData, in_region: dict[str, list[tuple[int, float]]]) -> int:
        """Job j's columns and rows; its x."""
        data, scale, rows = self.data, self.scale, self.rows
        x = self.x[j.name] = self._column(0.0, 1.0 if j.name in self.admit else 0.0, 1.0)
        in_job: list[tuple[int, float]] = [(x, -float(j.stages))]
        used: list[tuple[int, float]] = [(x, -float(j.blocks))]
        # theta[t]: t is the slowest type of the job's regions (one-hot when admitted).
        theta = {t: self._column(0.0, 0.0, 1.0) for t in j.types} if len(j.types) > 1 else {}
        self.theta.update({(j.name, t): c for t, c in theta.items()})
        if theta:
            rows.append(([(c, 1.0) for c in theta.values()] + [(x, -1.0)], 0.0, 0.0))
        for r in j.regions:
            peak = data.type_peak[data.region_type[r]]
            most = float(j.max_stages[r])
            u = self.u[(j.name, r)] = self._column(0.0, 0.0, 1.0)
            parts = []
            for t in j.types:
                if data.type_peak[t] > peak:
                    continue  # r's stages never run at a type faster than r's own
                n = self._column(scale * j.width * j.compute_s[t] * j.rate[(r, t)], 0.0, most)
                self.n[(j.name, r, t)] = n
                if theta:
                    rows.append(([(n, 1.0), (theta[t], -most)], -np.inf, 0.0))
                parts.append(n)
            # u[r] = 1 exactly where r holds stages (a block is never empty)
            rows.append(([(n, 1.0) for n in parts] + [(u, -most)], -np.inf, 0.0))
            rows.append(([(n, 1.0) for n in parts] + [(u, -1.0)], 0.0, np.inf))
            in_job.extend((n, 1.0) for n in parts)
            used.append((u, 1.0))
            in_region[r].extend((n, float(j.width)) for n in parts)
        rows.append((in_job, 0.0, 0.0))
        rows.append((used, -np.inf, 0.0))
        crossings = [(w, 1.0) for w in self._crossings(j, theta)]
        regions_used = [(self.u[(j.name, r)], -1.0) for r in j.regions]
        rows.append((crossings + regions_used + [(x, 1.0)], 0.0, 0.0))
        return x

    def _crossings(self, j: JobData, theta: dict[str, int]) -> list[int]:
        """w[a, b, t]: the plan crosses between a and b (adjacent blocks) with slowest type t
        (no faster than either region's), only where the links could carry that; a path through
        the regions used has one crossing fewer than regions. Each crossing's latency costs
        lat · g · Σ_r N[r, t] rate[r, t]: w carries its part at the least rate, g · S · least ·
        lat, and y ≥ lat · g · Σ_r N[r, t] (rate[r, t] − least) − M (1 − w) the rest, exactly."""
        data, scale, rows = self.data, self.scale, self.rows
        found = []
        for a, b in itertools.combinations(j.regions if j.blocks > 1 else (), 2):
            pair = _oriented(j, a, b)
            slowest = min(data.type_peak[data.region_type[r]] for r in (a, b))
            for t in j.types:
                need = j.need_gbps[t]
                uses = data.pair_uses.get(pair)
                if data.type_peak[t] > slowest or uses is None:
                    continue
                if any(need * n > data.residual_gbps[d] for d, n in uses.items()):
                    continue  # no plan crosses there at t: the links lack the bandwidth
                rates = {r: j.rate[(r, t)] for r in j.regions if (j.name, r, t) in self.n}
                least = min(j.rate[(r, t)] for r in j.regions)
                per = scale * j.width * j.pair_latency_s[pair]
                w = self._column(per * j.stages * least, 0.0, 1.0)
                key = (j.name, frozenset((a, b)), t)
                self.w[key] = w
                rows.append(([(w, 1.0), (self.u[(j.name, a)], -1.0)], -np.inf, 0.0))
                rows.append(([(w, 1.0), (self.u[(j.name, b)], -1.0)], -np.inf, 0.0))
                if theta:
                    rows.append(([(w, 1.0), (theta[t], -1.0)], -np.inf, 0.0))
                for d, n in uses.items():
                    self.on_link.setdefault(d, []).append((w, need * n))
                big = per * j.stages * max(v - least for v in rates.values())
                if self.exact and big > 0:
                    y = self._column(1.0, 0.0, np.inf, whole=False)
                    self.y[key] = (y, per)
                    terms = [(self.n[(j.name, r, t)], -per * (v - least)) for r, v in rates.items()]
                    rows.append(([(y, 1.0), (w, -big), *terms], -big, np.inf))
                found.append(w)
        return found

    def lp(self) -> object:
        """The model as HiGHS takes it."""
        import highspy

        rows = self.rows
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(self.cost), len(rows)
        lp.col_cost_ = np.array(self.cost)
        lp.col_lower_, lp.col_upper_ = np.array(self.lower), np.array(self.upper)
        lp.row_lower_ = np.array([low for _, low, _ in rows])
        lp.row_upper_ = np.array([high for _, _, high in rows])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.cumsum([0] + [len(terms) for terms, _, _ in rows])
        index = [c for terms, _, _ in rows for c, _ in terms]
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array([v for terms, _, _ in rows for _, v in terms])
        kinds = highspy.HighsVarType
        lp.integrality_ = [kinds.kInteger if w else kinds.kContinuous for w in self.whole]
        return lp

    def point(self, plan: Mapping[str, Placement]) -> np.ndarray | None:
        """``plan`` as R's point (the proof's construction, in the module's docstring);
        None where R has no such point (a job R leaves out, or a crossing it does not offer)."""
        data, values = self.data, np.zeros(len(self.cost))
        for name, placement in plan.items():
            j = self.jobs.get(name)
            if j is None:
                return None
            t = min(
                (data.region_type[r] for r in placement.regions), key=lambda g: data.type_peak[g]
            )
            values[self.x[name]] = 1.0
            if (name, t) in self.theta:
                values[self.theta[(name, t)]] = 1.0
            for block in placement.blocks:
                n, u = self.n.get((name, block.region, t)), self.u.get((name, block.region))
                if n is None or u is None:
                    return None
                values[n], values[u] = block.stages, 1.0
            for a, b in placement.crossings:
                key = (name, frozenset((a, b)), t)
                if key not in self.w:
                    return None
                values[self.w[key]] = 1.0
                if key in self.y:
                    y, per = self.y[key]
                    least = min(j.rate[(r, t)] for r in j.regions)
                    values[y] = sum(
                        per * (j.rate[(b.region, t)] - least) * b.stages for b in placement.blocks
                    )
        return values

    def stages(self, values: np.ndarray) -> dict[str, dict[str, int]]:
        """Stages per region of each job a solution admits."""
        found: dict[str, dict[str, int]] = {}
        for (name, r, _), n in self.n.items():
            count = int(np.rint(values[n]))
            if count > 0:
                found.setdefault(name, {})[r] = found.get(name, {}).get(r, 0) + count
        return found


def _oriented(job: JobData, a: str, b: str) -> Pair:
    """The pair as the job's latency and the link uses know it (a route exists either way)."""
    return (a, b) if (a, b) in job.pair_latency_s else (b, a)
