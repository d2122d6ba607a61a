"""Any Pyomo solver by name (``--backend NAME`` for a name neither HiGHS nor SCIP): through
``SolverFactory``, one fresh solver per stage, its termination conditions read in our terms."""

from __future__ import annotations

import pyomo.environ as pyo

from bace_opt.milp.result import Status
from bace_opt.milp.stage import SolveFailure, StageOutcome, active_value

# A name not listed is an error; TIME_LIMIT holds only with an incumbent.
FACTORY_STATUS: dict[str, Status] = {
    "optimal": Status.OPTIMAL,
    "maxTimeLimit": Status.TIME_LIMIT,
    "infeasible": Status.INFEASIBLE,
    "infeasibleOrUnbounded": Status.INFEASIBLE,
}


class FactoryBackend:
    """Any Pyomo solver by name (``SolverFactory``), a fresh one per stage (a persistent one, e.g.
    ``gurobi_persistent``, is handed the model first); no dual bound."""

    def __init__(self, name: str) -> None:
        self.name = name

    def attach(self, m: pyo.ConcreteModel) -> None:
        """Nothing to hand over (each stage writes the model for the solver anew), but a solver
        that is not there fails here: the capacity and LP bounds may prove both stages without
        a solve, and a missing solver must still be an error, not a silent success."""
        opt = pyo.SolverFactory(self.name)
        if opt is None or not opt.available(exception_flag=False):
            raise SolveFailure(Status.ERROR, f"solver {self.name} is not available")

    def solve(self, m: pyo.ConcreteModel, limit: float) -> StageOutcome:
        from pyomo.opt import SolverStatus
        from pyomo.solvers.plugins.solvers.persistent_solver import PersistentSolver

        opt = pyo.SolverFactory(self.name)
        if opt is None or not opt.available(exception_flag=False):
            raise SolveFailure(Status.ERROR, f"solver {self.name} is not available")
        if "time_limit" in getattr(opt, "config", {}):
            opt.config.time_limit = limit
        if isinstance(opt, PersistentSolver):
            opt.set_instance(m)
        results = opt.solve(m, load_solutions=False)
        tc = results.solver.termination_condition
        termination = str(tc)
        status = FACTORY_STATUS.get(termination, Status.ERROR)
        if status == Status.TIME_LIMIT and len(results.solution) == 0:
            status = Status.ERROR
        if status == Status.INFEASIBLE:
            raise SolveFailure(status, f"the solver reports {tc}", termination)
        if status == Status.ERROR:
            message = f"solver ended with {tc} ({results.solver.status})"
            raise SolveFailure(status, message, termination)
        if results.solver.status not in (SolverStatus.ok, SolverStatus.warning):
            raise SolveFailure(Status.ERROR, f"solver status {results.solver.status}", termination)
        m.solutions.load_from(results)
        return StageOutcome(status, termination, active_value(m), None)
