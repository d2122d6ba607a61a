"""HiGHS without Pyomo's hand-over (backend ``highs_direct``): the model goes to highspy as arrays
(``matrix``) in one ``passModel`` call, instead of appsi's ``set_instance``, which walks every
Pyomo constraint (7–11 s at 200 × 16 × 10 and 60 × 8 × 20, where HiGHS then had no time left).

The Pyomo model stays what the procedure works on: ``lexicographic`` switches its objectives and
floor, ``warmstart`` loads the MIP start into its variables and ``extract`` reads the answer from
them; this backend only moves numbers between those variables and HiGHS's columns. Statuses,
termination words ("optimal", "maxTimeLimit", "interrupted", ...), the watchdog, the objective
check and the cold re-solve after a bad MIP start are ``solver``'s, with the same meaning.

A model with components ``build`` does not make (an ``extra`` family) cannot be read from data:
it is handed over through appsi instead (``HighsBackend``), with a log line saying so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyomo.environ as pyo

from bace_opt.milp.build import COST_FAMILIES
from bace_opt.milp.data import EpochData, trivial_bounds
from bace_opt.milp.matrix import EpochMatrix, epoch_matrix
from bace_opt.milp.result import SolveOptions, Status
from bace_opt.milp.solver import (
    HIGHS_SETTINGS,
    HighsBackend,
    SolveFailure,
    StageOutcome,
    _active_value,
    _appsi_status,
    _disagree,
    _scheduler,
    _watchdog,
    quiet_highs,
)

log = logging.getLogger(__name__)

STANDARD_COMPONENTS = frozenset(
    (
        *("first_block", "contiguous_blocks", "region_once", "block_nonempty", "block_room"),
        *("all_stages", "gpu_capacity", "transition_from", "transition_to", "one_transition"),
        *("one_slowest", "no_slower_block", "slowest_used", "link_capacity", "link_load"),
        "mirror_order",
        *("stage_cost", "latency_cost", "stage_rate", "cost_floor", "admission_floor"),
        *("admission", "cost"),
        *("x", "y", "n", "z", "theta", "E", "P", "L", "rho"),
    )
)
"""The constraints, variables and objectives ``build.build_model`` makes (without ``extra``)."""

TERMINATION = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnboundedOrInfeasible": "infeasibleOrUnbounded",
    "kUnbounded": "unbounded",
    "kTimeLimit": "maxTimeLimit",
    "kIterationLimit": "maxIterations",
    "kSolutionLimit": "maxIterations",
    "kInterrupt": "interrupted",
    "kObjectiveBound": "objectiveLimit",
    "kObjectiveTarget": "objectiveLimit",
}
"""HiGHS's model status in the words appsi uses (so ``termination`` reads the same whichever
backend ran); anything else is "unknown" (or "error" for HiGHS's own errors)."""
ERRORS = ("kLoadError", "kModelError", "kPresolveError", "kSolveError", "kPostsolveError")


def _termination(status: Any) -> str:
    name = str(status.name)
    return "error" if name in ERRORS else TERMINATION.get(name, "unknown")


def built_only(m: pyo.ConcreteModel) -> bool:
    """No component of an ``extra`` family in the model (one might change its objective)."""
    kinds = (pyo.Constraint, pyo.Var, pyo.Objective)
    names = {c.local_name for c in m.component_objects(kinds, descend_into=True)}
    return names <= STANDARD_COMPONENTS


def _standard(m: pyo.ConcreteModel, matrix: EpochMatrix) -> bool:
    """The model is exactly what ``build`` makes from the data: ``built_only``, and every
    family as long as the matrix's."""
    if not built_only(m):
        return False
    return all(len(getattr(m, name)) == rows for name, rows in matrix.families.items())


class DirectHighsBackend:
    """HiGHS through highspy's arrays; falls back to ``HighsBackend`` for a non-standard model."""

    def __init__(
        self, options: SolveOptions, data: EpochData, matrix: EpochMatrix | None = None
    ) -> None:
        _scheduler().match(options.threads)
        self._options = options
        self._data = data
        self._settings: dict[str, Any] = {**HIGHS_SETTINGS, "mip_rel_gap": options.mip_gap}
        if options.threads:
            self._settings["threads"] = options.threads
        self._highs: Any = None
        self._vars: list[Any] = []
        self._admits = np.zeros(0, dtype=np.int32)
        """The x columns: their bounds follow the model's at each stage."""
        self._matrix: EpochMatrix | None = None
        self._built = matrix
        """``epoch_matrix(data)`` if the caller has it already."""
        self._floor_row: int | None = None
        self._rows = 0
        self._appsi: HighsBackend | None = None
        self.on_incumbent: Callable[[float, float], None] | None = None
        """As ``HighsBackend.on_incumbent``: each improving MIP solution, loaded first."""
        self.on_bound: Callable[[float], None] | None = None
        """As ``HighsBackend.on_bound``: the MIP's dual bound as the solve goes."""

    @property
    def matrix(self) -> EpochMatrix | None:
        """The arrays HiGHS holds (None when the model went over via appsi)."""
        return self._matrix

    def attach(self, m: pyo.ConcreteModel) -> None:
        matrix = self._built or epoch_matrix(self._data)
        if not _standard(m, matrix):
            log.info("the model has constraints build does not make; handing it over via appsi")
            self._appsi = HighsBackend(self._options)
            self._appsi.attach(m)
            return
        self._matrix = matrix
        self._vars = [getattr(m, name)[index] for name, index in matrix.columns]
        self._admits = np.array(
            [k for k, (name, _) in enumerate(matrix.columns) if name == "x"], dtype=np.int32
        )
        self._highs = self._open(matrix, with_cost=all(getattr(m, f).active for f in COST_FAMILIES))

    def _open(self, matrix: EpochMatrix, with_cost: bool = True) -> Any:
        """A HiGHS holding the matrix; without the cost families' rows (the last ones) when
        ``with_cost`` is false — ``_objective`` adds them when the cost stage begins."""
        import highspy

        highs = quiet_highs()
        rows = matrix.shape[0] if with_cost else matrix.admission_rows
        end = int(matrix.a_start[rows])
        lp = highspy.HighsLp()
        lp.num_row_, lp.num_col_ = rows, matrix.shape[1]
        lp.col_cost_ = matrix.admission
        lp.col_lower_, lp.col_upper_ = matrix.col_lower, matrix.col_upper
        lp.row_lower_, lp.row_upper_ = matrix.row_lower[:rows], matrix.row_upper[:rows]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_row_, lp.a_matrix_.num_col_ = rows, matrix.shape[1]
        lp.a_matrix_.start_ = matrix.a_start[: rows + 1]
        lp.a_matrix_.index_ = matrix.a_index[:end]
        lp.a_matrix_.value_ = matrix.a_value[:end]
        lp.integrality_ = [highspy.HighsVarType(int(v)) for v in matrix.integrality]
        if highs.passModel(lp) != highspy.HighsStatus.kOk:
            raise SolveFailure(Status.ERROR, "HiGHS did not accept the model (passModel)")
        for key, value in self._settings.items():
            highs.setOptionValue(key, value)
        self._floor_row = None
        self._rows = rows
        return highs

    def _add_cost_rows(self) -> None:
        """The cost families' rows, held back from the admission stage."""
        matrix = self._matrix
        assert matrix is not None
        first, total = self._rows, matrix.shape[0]
        if first == total:
            return
        begin, end = int(matrix.a_start[first]), int(matrix.a_start[total])
        starts = (matrix.a_start[first:total] - begin).astype(np.int32)
        self._highs.addRows(
            total - first,
            matrix.row_lower[first:],
            matrix.row_upper[first:],
            end - begin,
            starts,
            matrix.a_index[begin:end],
            matrix.a_value[begin:end],
        )
        self._rows = total

    def solve(self, m: pyo.ConcreteModel, limit: float) -> StageOutcome:
        if self._appsi is not None:
            self._appsi.on_incumbent, self._appsi.on_bound = self.on_incumbent, self.on_bound
            return self._appsi.solve(m, limit)
        self._objective(m)
        return self._stage(m, limit, self._options.warm_start)

    def _objective(self, m: pyo.ConcreteModel) -> None:
        """Point HiGHS at the model's active objective, and its admission floor if active."""
        import highspy

        assert self._matrix is not None
        stage_one = bool(m.admission.active)
        costs = self._matrix.admission if stage_one else self._matrix.cost
        sense = highspy.ObjSense.kMaximize if stage_one else highspy.ObjSense.kMinimize
        self._highs.changeObjectiveSense(sense)
        cols = np.arange(len(costs), dtype=np.int32)
        self._highs.changeColsCost(len(costs), cols, costs)
        # x's bounds as the model has them (the cost stage fixes some: ``lexicographic``).
        x_lower = np.array([self._vars[k].lb for k in self._admits], dtype=float)
        x_upper = np.array([self._vars[k].ub for k in self._admits], dtype=float)
        self._highs.changeColsBounds(len(self._admits), self._admits, x_lower, x_upper)
        if not stage_one:
            self._add_cost_rows()
        floor = m.admission_floor
        if floor is None or not floor.active:
            return
        lower = float(pyo.value(m.floor))
        if self._floor_row is None:
            x = np.flatnonzero(self._matrix.admission).astype(np.int32)
            self._highs.addRow(lower, np.inf, len(x), x, self._matrix.admission[x])
            self._floor_row = self._rows
        else:
            self._highs.changeRowBounds(self._floor_row, lower, np.inf)

    def _start(self) -> None:
        """The variables' values (the MIP start ``warmstart`` loaded) as HiGHS's solution."""
        import highspy

        values = np.fromiter((v.value or 0.0 for v in self._vars), float, len(self._vars))
        solution = highspy.HighsSolution()
        solution.col_value = values
        solution.value_valid = True
        solution.dual_valid = False
        self._highs.setSolution(solution)

    def _improving(self, values: Any, objective: float, bound: float) -> None:
        if self.on_incumbent is None:
            return
        for var, value in zip(self._vars, values, strict=True):
            var.set_value(value, skip_validation=True)
        self.on_incumbent(objective, bound)

    def _load(self) -> None:
        values = self._highs.getSolution().col_value
        for var, value in zip(self._vars, values, strict=True):
            var.set_value(value, skip_validation=True)

    def _stage(self, m: pyo.ConcreteModel, limit: float, warm: bool) -> StageOutcome:
        limit = max(limit, 0.01)
        started = time.perf_counter()
        deadline = started + limit
        highs = self._highs
        highs.setOptionValue("time_limit", limit)
        if warm:
            self._start()
        with _watchdog(highs, limit, self._improving, self.on_bound) as fired:
            highs.run()
        elapsed = time.perf_counter() - started
        termination = _termination(highs.getModelStatus())
        valid = bool(highs.getSolution().value_valid)
        info = highs.getInfo()
        if termination != "optimal" and (fired or termination in ("interrupted", "unknown")):
            # Seen at 100–200 × 16 × 10: a stage ending "interrupted" in MIP presolve before its
            # limit, with no watchdog fired; its incumbent is a time-limit answer, not an error.
            if fired:
                log.warning(
                    "HiGHS ran past its %.2f s limit; the watchdog stopped it at %.2f s",
                    limit,
                    fired[0],
                )
            else:
                log.warning(
                    "HiGHS stopped (%s) after %.2f s of its %.2f s limit",
                    termination,
                    elapsed,
                    limit,
                )
            return self._interrupted(m, termination, valid, info)
        found = termination == "optimal" or (
            termination in ("maxTimeLimit", "maxIterations", "objectiveLimit") and valid
        )
        status = _appsi_status(termination, found)
        self._load()
        reported = info.objective_function_value
        actual = _active_value(m)
        if _disagree(actual, reported):
            if warm:
                log.warning(
                    "HiGHS reported objective %g, its solution evaluates to %g; "
                    "solving again without the MIP start",
                    reported,
                    actual,
                )
                assert self._matrix is not None
                self._highs = self._open(self._matrix)  # a fresh HiGHS, without the start
                self._objective(m)
                return self._stage(m, deadline - time.perf_counter(), warm=False)
            raise SolveFailure(
                Status.ERROR,
                f"solver reported objective {reported:g}, but its solution evaluates to {actual:g}",
                termination,
            )
        bound = reported if info.mip_node_count == -1 else self._finite(m, info)
        return StageOutcome(status, termination, actual, bound)

    def _interrupted(
        self, m: pyo.ConcreteModel, termination: str, valid: bool, info: Any
    ) -> StageOutcome:
        """A stage the watchdog stopped (or that ended "unknown" at its limit): the incumbent if
        HiGHS holds one (objective re-checked) and the MIP dual bound (``solver._interrupted``)."""
        if not valid:
            raise SolveFailure(
                Status.TIME_LIMIT,
                "stopped at the time limit before any solution was found",
                termination,
            )
        self._load()
        actual = _active_value(m)
        if _disagree(actual, info.objective_function_value):
            raise SolveFailure(
                Status.ERROR,
                "the interrupted solve's incumbent does not evaluate right",
                termination,
            )
        return StageOutcome(Status.TIME_LIMIT, termination, actual, self._finite(m, info))

    def _finite(self, m: pyo.ConcreteModel, info: Any) -> float:
        """HiGHS's dual bound, or the trivial one when it has none yet (stopped in presolve):
        ``data.trivial_bounds``."""
        bound = float(info.mip_dual_bound)
        if np.isfinite(bound):
            return bound
        weight, cost = trivial_bounds(self._data)
        return weight if m.admission.active else cost
