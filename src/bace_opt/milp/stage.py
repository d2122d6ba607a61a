"""What every backend shares: the ``Backend`` protocol, one stage's answer (``StageOutcome``), the
failure that carries our status (``SolveFailure``) and the check of a solver's objective against
the model's own evaluation. No solver is named here: ``solver.open_backend`` picks one, and each
backend module (``solver`` for HiGHS and Pyomo's factory, ``direct``, ``scip``) builds on these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pyomo.environ as pyo

from bace_opt.milp.result import Status

OBJECTIVE_CHECK = 1e-6
"""Relative disagreement between the solver's objective and the model's objective evaluated at
the solver's solution above which the answer is not trusted."""


@dataclass(frozen=True)
class StageOutcome:
    """One stage's answer; the solution is loaded into the model's variables."""

    status: Status
    termination: str
    objective: float
    """The active objective evaluated at the loaded solution (model units)."""
    bound: float | None
    """The solver's dual bound on it, when it reports one."""


class SolveFailure(Exception):
    """A stage ended without a usable answer; carries our status and the solver's word."""

    def __init__(self, status: Status, message: str, termination: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.termination = termination


class Backend(Protocol):
    def attach(self, m: pyo.ConcreteModel) -> None:
        """Hand the model to the solver now (so later time limits are the solver's own)."""

    def solve(self, m: pyo.ConcreteModel, limit: float) -> StageOutcome:
        """Solve for the active objective within ``limit`` seconds."""


def active_value(m: pyo.ConcreteModel) -> float:
    """The active objective at the variables' current values."""
    value: float = pyo.value(next(m.component_data_objects(pyo.Objective, active=True)))
    return value


def disagree(actual: float, reported: float) -> bool:
    """``reported`` is off ``actual`` by more than ``OBJECTIVE_CHECK`` (relative, at least 1)."""
    return abs(actual - reported) > OBJECTIVE_CHECK * max(1.0, abs(actual))
