"""The cost stage's LP relaxation, solved on its own before the MILP: a dual bound early.

At 200 jobs × 16 × 10, HiGHS's MIP spends seconds in presolve before its root LP gives a bound,
and a solve stopped there (or killed at the user's deadline) has no bound at all. The same LP,
solved by dual simplex on ``matrix.epoch_matrix``'s arrays, takes under a second
there (docs/benchmarks.md). Its optimum bounds every plan of the cost stage from below: the LP is
the stage's model with integrality dropped, with the admission floor and the x bounds the stage
has — every plan of the stage is a point of it, so none costs less. (A model with ``extra``
families gets no such bound: ``cost_stage``.) A solve that does not reach ``optimal`` within
its limit gives no bound.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping

import numpy as np

from bace_opt.milp.matrix import EpochMatrix
from bace_opt.milp.solver import _scheduler, quiet_highs

log = logging.getLogger(__name__)


def cost_lp_bound(
    matrix: EpochMatrix,
    floor: float,
    x_bounds: Mapping[str, tuple[float, float]],
    limit_s: float,
    threads: int | None = None,
) -> float | None:
    """min cost (model units) of the LP relaxation with Σ w x ≥ ``floor`` and each admission
    x[j] within ``x_bounds[j]``; None unless HiGHS proves the LP's optimum within ``limit_s``.
    The last optimum found is kept for the same ``matrix`` object and arguments: the shortcut
    (``milp.shortcut``) solves the LP the model path then asks for again when the start's cost
    did not meet it (a second at 200 jobs × 16 × 10)."""
    key = (floor, tuple(sorted(x_bounds.items())))
    if _LAST_OPTIMUM and _LAST_OPTIMUM[0][0]() is matrix and _LAST_OPTIMUM[0][1] == key:
        return _LAST_OPTIMUM[0][2]
    found = _solve(matrix, floor, x_bounds, limit_s, threads)
    if found is not None:
        _LAST_OPTIMUM[:] = [(weakref.ref(matrix), key, found)]
    return found


_LAST_OPTIMUM: list[tuple[weakref.ref[EpochMatrix], tuple[object, ...], float]] = []


def _solve(
    matrix: EpochMatrix,
    floor: float,
    x_bounds: Mapping[str, tuple[float, float]],
    limit_s: float,
    threads: int | None,
) -> float | None:
    import highspy

    if limit_s <= 0:
        return None
    lower, upper = matrix.col_lower.astype(float), matrix.col_upper.astype(float)
    for k, (family, index) in enumerate(matrix.columns):
        if family == "x" and str(index[0]) in x_bounds:  # x's index: (job,)
            lower[k], upper[k] = x_bounds[str(index[0])]
    rows = len(matrix.row_lower)
    x = np.flatnonzero(matrix.admission)
    highs = quiet_highs()
    lp = highspy.HighsLp()
    lp.num_row_, lp.num_col_ = rows + 1, len(matrix.columns)
    lp.col_cost_ = matrix.cost
    lp.col_lower_, lp.col_upper_ = lower, upper
    lp.row_lower_ = np.append(matrix.row_lower, floor)
    lp.row_upper_ = np.append(matrix.row_upper, np.inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.append(matrix.a_start, matrix.a_start[-1] + len(x))
    lp.a_matrix_.index_ = np.append(matrix.a_index, x.astype(matrix.a_index.dtype))
    lp.a_matrix_.value_ = np.append(matrix.a_value, matrix.admission[x])
    if highs.passModel(lp) != highspy.HighsStatus.kOk:
        return None
    _scheduler().match(threads)
    settings: dict[str, float | str] = {"time_limit": limit_s, "solver": "simplex"}
    if threads:
        settings["threads"] = threads
    for key, value in settings.items():
        highs.setOptionValue(key, value)
    highs.run()
    status = highs.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        log.debug("cost LP: %s, no bound", highs.modelStatusToString(status))
        return None
    return float(highs.getInfo().objective_function_value)
