"""SCIP as backend ``scip``: Pyomo's ``scip_persistent`` interface, which drives the SCIP library
inside the ``pyscipopt`` wheel (``pip install pyscipopt``; no ``scip`` executable is needed:
Pyomo's own solver name ``scip`` is its shell plugin, which runs one, and ``--backend scip`` is
not that).

The model is handed over once (``attach``); stage 2 reaches SCIP as Pyomo's change list (the
objective swapped, the floor switched on), and SCIP solves it again from the start, given the
stage-1 admission as MIP start. The MIP start is complete — every column SCIP has, continuous ones
too (``warmstart.apply_plan`` sets them all) — so SCIP checks it before presolve and holds it as
incumbent at once: Pyomo's own ``warmstart_discrete_vars`` passes the integers only, and SCIP's
completion of such a partial start was seen to miss a short limit, leaving an empty incumbent
below the greedy plan. It is passed when ``warm_start`` is set and every variable has a value.
SCIP solves in one thread: ``threads`` is not passed on.

SCIP's own status is the termination we report: ``optimal`` (or ``gaplimit``, reached only at a
``mip_gap`` > 0, which ``lexicographic`` does not call optimal), ``timelimit`` with an incumbent
(a time limit, never optimal), ``infeasible``/``inforunbd``; anything else is an error, and
``userinterrupt`` — SCIP catches Ctrl-C while it runs — is raised as ``KeyboardInterrupt``.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import pyomo.environ as pyo

from bace_opt.milp.result import SolveOptions, Status
from bace_opt.milp.stage import SolveFailure, StageOutcome, active_value, disagree

log = logging.getLogger(__name__)

SCIP_BACKENDS = ("scip", "scip_persistent", "scip_direct")
"""The ``SolveOptions.solver`` (``--backend``) names of this backend: ``scip``, and Pyomo's own
names for its pyscipopt interfaces, which through ``SolverFactory`` would run without the settings
below (and could hang, see ``SCIP_PARAMETERS``)."""
SCIP_STATUS: dict[str, Status] = {
    "optimal": Status.OPTIMAL,
    "gaplimit": Status.OPTIMAL,
    "timelimit": Status.TIME_LIMIT,
    "infeasible": Status.INFEASIBLE,
    "inforunbd": Status.INFEASIBLE,
}
"""SCIP's statuses in our terms; TIME_LIMIT only with an incumbent, a status not listed is an
error."""
SCIP_PARAMETERS: dict[str, float] = {
    "numerics/feastol": 1e-7,
    "presolving/domcol/maxrounds": 0,
    "display/verblevel": 0,
}
"""SCIP's settings besides the limits and gaps:

- ``numerics/feastol`` 1e-7 (SCIP's default is 1e-6) is HiGHS's primal feasibility tolerance. At
  the default, a solution may undercut cost rows and the objective row Pyomo's interface adds (a
  column bounded by the objective expression) by 1e-6 each: seen as a reported objective off its
  own solution's by more than ``stage.OBJECTIVE_CHECK``.
- ``presolving/domcol/maxrounds`` 0: SCIP's dominated-column presolver, at that feastol, cut off
  the optimum of a two-job, three-region cost stage (``tests/test_milp.py``
  ``KNOWN_SCIP_MISS``): its LP file read by pyscipopt alone is "infeasible" with presolve on,
  solves to HiGHS's optimum with it off, with domcol alone off, or at feastol 1e-6; through the
  model SCIP answered "optimal" at 3.2 × the optimal cost (session 17; SCIP 10 in pyscipopt 6.3).
  Switching one presolver off only removes reductions: no answer can become wrong.
- ``display/verblevel`` 0, not for quiet but to finish: Pyomo reads SCIP's output through a pipe
  (``capture_output``) on a Python thread, while pyscipopt's ``optimize`` keeps the GIL. Once the
  log outgrows the pipe (64 KiB), SCIP blocks on its next line and the solve never returns (seen:
  30 × 8 × 6's stage 2, stuck past its limit until the solver process was killed)."""
_UPDATED = {
    "auto_updates": dict.fromkeys(
        (
            *("check_for_new_or_removed_constraints", "check_for_new_or_removed_objectives"),
            *("update_constraints", "update_vars", "update_parameters"),
            *("update_named_expressions", "update_objectives"),
        ),
        False,
    )
}
"""``solve``'s options once ``update`` has run: its own search for changes (0.4 s at 200 jobs ×
16 regions) would find none."""


def scip_available() -> bool:
    """pyscipopt imports, and Pyomo's interface accepts its version."""
    from pyomo.contrib.solver.solvers.scip.scip_persistent import ScipPersistent

    return bool(ScipPersistent().available())


def scip_version() -> str | None:
    """The SCIP library's version (``10.0.2``; pyscipopt's own is another number), or None."""
    try:
        import pyscipopt
    except ImportError:
        return None
    model = pyscipopt.Model()
    return f"{model.getMajorVersion()}.{model.getMinorVersion()}.{model.getTechVersion()}"


def scip_status(termination: str, found: bool) -> Status:
    """Our status for SCIP's ``termination``; raises unless a solution is there to load."""
    if termination == "userinterrupt":
        raise KeyboardInterrupt
    status = SCIP_STATUS.get(termination, Status.ERROR)
    if status == Status.OPTIMAL or (status == Status.TIME_LIMIT and found):
        return status
    if status == Status.INFEASIBLE:
        raise SolveFailure(status, f"the solver reports {termination}", termination)
    if status == Status.TIME_LIMIT:
        message = "time limit reached before any solution was found"
        raise SolveFailure(Status.TIME_LIMIT, message, termination)
    raise SolveFailure(Status.ERROR, f"solver ended with {termination}", termination)


def _add_start(opt: Any, m: pyo.ConcreteModel) -> bool:
    """Hand SCIP the variables' values as one complete solution (after ``update``: the ``solve``
    that follows then changes nothing and keeps it). False when a variable has no value. Reaches
    into the interface's maps: SCIP's columns for variables, mutable parameters (fixed columns)
    and the objective (a column bounded by the objective expression)."""
    if any(v.value is None for v in m.component_data_objects(pyo.Var)):
        return False
    scip = opt._solver_model
    sol = scip.createSol()
    for var, column in opt._pyomo_var_to_solver_var_map.items():
        sol[column] = var.value
    for param, column in opt._pyomo_param_to_solver_param_map.items():
        sol[column] = param.value
    if opt._obj_var is not None and opt._objective is not None:
        sol[opt._obj_var] = pyo.value(opt._objective)
    scip.addSol(sol)
    return True


class ScipBackend:
    """SCIP through Pyomo's persistent interface; the dual bound is SCIP's."""

    def __init__(self, options: SolveOptions) -> None:
        from pyomo.contrib.solver.solvers.scip.scip_persistent import ScipPersistent

        opt = ScipPersistent()
        if not opt.available():
            raise SolveFailure(Status.ERROR, "solver scip is not available (install pyscipopt)")
        if options.threads is not None and options.threads > 1:
            log.info("SCIP solves in one thread; threads=%d is not passed on", options.threads)
        opt.config.load_solutions = False
        opt.config.raise_exception_on_nonoptimal_result = False
        opt.config.rel_gap = options.mip_gap
        opt.config.abs_gap = 0.0
        opt.config.solver_options = dict(SCIP_PARAMETERS)
        self._opt: Any = opt
        self._warm_start = options.warm_start

    def attach(self, m: pyo.ConcreteModel) -> None:
        self._opt.set_instance(m)

    def solve(self, m: pyo.ConcreteModel, limit: float) -> StageOutcome:
        """Pyomo's pending changes and the MIP start first, then SCIP gets what is left of
        ``limit`` as its own time limit."""
        started = time.perf_counter()
        opt = self._opt
        opt.update()
        if self._warm_start and not _add_start(opt, m):
            log.debug("no MIP start: a variable has no value")
        opt.config.time_limit = max(limit - (time.perf_counter() - started), 0.01)
        results = opt.solve(m, **_UPDATED)
        termination = str(opt._solver_model.getStatus())
        reported = results.incumbent_objective
        status = scip_status(termination, reported is not None)
        results.solution_loader.load_vars()
        actual = active_value(m)
        if reported is None or disagree(actual, reported):
            raise SolveFailure(
                Status.ERROR,
                f"solver reported objective {reported}, but its solution evaluates to {actual:g}",
                termination,
            )
        bound = results.objective_bound
        return StageOutcome(
            status, termination, actual, None if bound is None or math.isinf(bound) else bound
        )
