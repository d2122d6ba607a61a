"""The only module of ``bounds`` that talks to a solver: HiGHS through Pyomo's persistent
``appsi_highs``, one objective at a time, and a *safe* lower bound read back from HiGHS.

The bound is never the solver's objective value. It is the Lagrangian value of HiGHS's row duals y
over the LP's box: for min cᵀx, L ≤ Ax ≤ U, l ≤ x ≤ u and any y,

    cᵀx = yᵀAx + (c − Aᵀy)ᵀx ≥ Σ_i min(y_i L_i, y_i U_i) + Σ_j min(d_j l_j, d_j u_j),  d = c − Aᵀy,

for every feasible x (a y_i whose sign would meet an infinite row side is set to 0 first). Every
column of the relaxation has finite bounds, so this holds for *any* y — an optimal one gives the
optimum, an interrupted solve's gives a weaker but still valid number — and it does not trust the
solver's tolerances: the sums are recomputed here, and a margin for our own rounding (1e-9 of the
sum of the magnitudes involved) is taken off.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pyomo.environ as pyo

log = logging.getLogger(__name__)

ROUNDING = 1e-9
"""Relative margin taken off a recomputed bound for the float rounding of its sums."""


METHODS: dict[str, dict[str, Any]] = {
    "ipm": {"solver": "ipm", "run_crossover": "off"},
    "simplex": {"solver": "simplex"},
    "pdlp": {"solver": "pdlp"},
}
"""HiGHS's LP algorithms. Interior point without crossover gives its duals approximately (that
costs the safe bound a little, never its validity)."""
AUTO = {"jct": "ipm", "cost": "simplex", "frontier": "simplex"}
"""``auto``: the algorithm per kind of solve. Measured (docs/bounds.md, "Measurements"): on the
240-job overloaded world the JCT LP took 137 s by interior point, where the dual simplex had not
finished after 120 s; the cost LP 17–21 s by the dual simplex, cold (interior point stalled on
geo6's); each frontier point 10–20 s by the dual simplex warm from the point before (loosest budget
first), against 145 s by interior point."""


def method_for(choice: str, role: str) -> str:
    """The algorithm for a solve of ``role`` (jct, cost, frontier) under ``--lp-method``."""
    return AUTO[role] if choice == "auto" else choice


class LpStatus(StrEnum):
    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"
    INFEASIBLE = "infeasible"
    ERROR = "error"


TERMINATION = {
    "optimal": LpStatus.OPTIMAL,
    "maxTimeLimit": LpStatus.TIME_LIMIT,
    "maxIterations": LpStatus.TIME_LIMIT,
    "interrupted": LpStatus.TIME_LIMIT,
    "infeasible": LpStatus.INFEASIBLE,
}


@dataclass(frozen=True)
class LpAnswer:
    """One solve: our status, the solver's word, the objective of its final point (optimal
    solves), the safe bound (None when none could be proven) and the column values ``x``."""

    status: LpStatus
    termination: str
    primal: float | None
    bound: float | None
    time_s: float
    shares: tuple[float, ...] | None = None


@dataclass(frozen=True)
class LpSize:
    rows: int
    columns: int
    nonzeros: int


def lagrangian_bound(lp: Any, row_dual: Any) -> float | None:
    """The safe bound above for a HiGHS ``HighsLp`` (minimizing) and row duals (None: −inf)."""
    y = np.asarray(row_dual, dtype=float)
    lower, upper = np.asarray(lp.row_lower_, float), np.asarray(lp.row_upper_, float)
    y = np.where((y > 0) & ~np.isfinite(lower), 0.0, y)
    y = np.where((y < 0) & ~np.isfinite(upper), 0.0, y)
    a = lp.a_matrix_
    start = np.asarray(a.start_, dtype=np.int64)
    index = np.asarray(a.index_, dtype=np.int64)
    value = np.asarray(a.value_, dtype=float)
    n_col = lp.num_col_
    outer = np.repeat(np.arange(len(start) - 1), np.diff(start))
    colwise = str(a.format_).endswith("kColwise")
    col, row = (outer, index) if colwise else (index, outer)
    aty = np.bincount(col, weights=value * y[row], minlength=n_col)
    abs_aty = np.bincount(col, weights=np.abs(value * y[row]), minlength=n_col)
    d = np.asarray(lp.col_cost_, float) - aty
    lo, hi = np.asarray(lp.col_lower_, float), np.asarray(lp.col_upper_, float)
    side = np.where(d > 0, lo, np.where(d < 0, hi, 0.0))
    if not np.all(np.isfinite(side[d != 0])):
        return None
    col_terms = np.where(d != 0, d * side, 0.0)
    row_side = np.where(y > 0, lower, np.where(y < 0, upper, 0.0))
    row_terms = np.where(y != 0, y * row_side, 0.0)
    finite_lo = np.nan_to_num(lo, posinf=0.0, neginf=0.0)
    finite_hi = np.nan_to_num(hi, posinf=0.0, neginf=0.0)
    reach = np.maximum(np.abs(finite_lo), np.abs(finite_hi))
    size = np.abs(row_terms).sum() + np.abs(col_terms).sum() + float(abs_aty @ reach)
    total = float(row_terms.sum() + col_terms.sum()) + float(lp.offset_)
    margin: float = ROUNDING * (float(size) + abs(float(lp.offset_)))
    return total - margin


class LpSolver:
    """A persistent HiGHS holding the relaxation; ``solve`` switches the active objective."""

    def __init__(self, model: pyo.ConcreteModel) -> None:
        from pyomo.contrib.appsi.solvers import Highs

        self.model = model
        self._opt = Highs()
        if not self._opt.available():
            raise RuntimeError("solver appsi_highs is not available (install highspy)")
        self._opt.config.load_solution = False
        self._closed = [False] * len(model.x)
        tic = time.perf_counter()
        self._opt.set_instance(model)
        self.handover_s = time.perf_counter() - tic

    @property
    def _highs(self) -> Any:
        return self._opt._solver_model

    def size(self) -> LpSize:
        highs = self._highs
        return LpSize(highs.getNumRow(), highs.getNumCol(), highs.getNumNz())

    def solve(
        self, objective: str, time_limit_s: float, method: str = "simplex", cold: bool = False
    ) -> LpAnswer:
        """Minimize ``objective`` (``jct`` or ``cost``) within ``time_limit_s`` seconds with HiGHS's
        ``method``; ``cold`` drops the basis of the solve before (a simplex warm start from another
        objective's optimum was 20× slower than a cold start on geo6). An interior-point solve
        that ends without an answer is tried again by the simplex in the time left."""
        started = time.perf_counter()
        answer = self._solve(objective, time_limit_s, method, cold)
        if answer.status == LpStatus.ERROR and method != "simplex":
            why = answer.termination
            log.info("HiGHS %s ended with %s; solving again by the simplex", method, why)
            left = time_limit_s - (time.perf_counter() - started)
            if left > 0:
                answer = self._solve(objective, left, "simplex", True)
        return LpAnswer(
            answer.status,
            answer.termination,
            answer.primal,
            answer.bound,
            time.perf_counter() - started,
            answer.shares,
        )

    def _solve(self, objective: str, time_limit_s: float, method: str, cold: bool) -> LpAnswer:
        m = self.model
        for name in ("jct", "cost"):
            getattr(m, name).activate() if name == objective else getattr(m, name).deactivate()
        self._opt.highs_options.update(METHODS[method])
        # HiGHS's time limit is on its clock summed over every run of this instance
        self._opt.config.time_limit = self._highs.getRunTime() + max(time_limit_s, 0.01)
        if cold:
            self._highs.clearSolver()
        tic = time.perf_counter()
        results = self._opt.solve(m)
        elapsed = time.perf_counter() - tic
        termination = results.termination_condition.name
        status = TERMINATION.get(termination, LpStatus.ERROR)
        if termination == "unknown" and elapsed >= time_limit_s:
            status = LpStatus.TIME_LIMIT
        if status == LpStatus.INFEASIBLE:
            return LpAnswer(status, termination, None, None, elapsed)
        highs = self._highs
        solution = highs.getSolution()
        bound = lagrangian_bound(highs.getLp(), solution.row_dual) if solution.dual_valid else None
        if status != LpStatus.OPTIMAL:
            log.info("HiGHS stopped (%s) after %.1f s; safe bound %s", termination, elapsed, bound)
            return LpAnswer(status, termination, None, bound, elapsed)
        results.solution_loader.load_vars()
        primal = float(pyo.value(getattr(m, objective)))
        shares = tuple(float(v) for v in m.x.extract_values().values())
        if bound is not None and bound > primal + 1e-6 * max(1.0, abs(primal)):
            log.warning("safe bound %g above the primal objective %g", bound, primal)
        return LpAnswer(status, termination, primal, bound, elapsed, shares)

    def cap_completions(self, caps: list[float], closed: list[bool]) -> None:
        """Upper bounds on every C_j (in job order), and the columns fixed at 0 (``closed``, in
        column order; only those whose state changes are touched)."""
        m = self.model
        for j, cap in enumerate(caps):
            m.C[j].setub(cap)
        for k, shut in enumerate(closed):
            if shut != self._closed[k]:
                m.x[k].setub(0.0 if shut else 1.0)
        self._closed = list(closed)

    def set_budget(self, avg_jct_s: float | None) -> None:
        """Cap the average JCT at ``avg_jct_s`` (None: no cap)."""
        m = self.model
        if avg_jct_s is None:
            m.budget.deactivate()
        else:
            m.J.set_value(avg_jct_s)
            m.budget.activate()


@dataclass
class Session:
    """The solves of one ``bound`` run under one deadline (``time.monotonic`` seconds)."""

    solver: LpSolver
    deadline: float
    method: str
    """``--lp-method``: ``auto`` or one of ``METHODS``."""
    solve_s: float = 0.0
    solves: int = 0
    stopped: bool = False
    """Some solve was cut short or never started for lack of time."""

    def solve(self, objective: str, role: str, cold: bool = False) -> LpAnswer | None:
        """One solve of ``role`` (jct, cost, frontier) in the time left (None: none left)."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.stopped = True
            return None
        method = method_for(self.method, role)
        answer = self.solver.solve(objective, left, method, cold)
        log.info(
            "%s LP (%s): %s after %.1f s, bound %s",
            role,
            method,
            answer.termination,
            answer.time_s,
            answer.bound,
        )
        self.solve_s += answer.time_s
        self.solves += 1
        if answer.status == LpStatus.TIME_LIMIT:
            self.stopped = True
        if answer.status == LpStatus.ERROR:
            raise RuntimeError(f"HiGHS ended with {answer.termination}")
        return answer
