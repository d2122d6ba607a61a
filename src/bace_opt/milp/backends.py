"""Which Pyomo solvers can be used on this machine: asked before any work, so an unavailable
``--backend`` is a usage error that lists the ones that are (the solving itself is ``solver``'s)."""

from __future__ import annotations

import logging

import pyomo.environ as pyo

MIP_SOLVERS = ("appsi_highs", "highs", "scip", "gurobi", "gurobi_direct", "cplex", "cbc", "glpk")
"""Solvers offered by name when a backend is not available (those installed here are listed)."""


def _installed(name: str) -> bool:
    if name in ("appsi_highs", "highs"):
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True
    if name not in set(pyo.SolverFactory):
        return False
    quiet = logging.getLogger("pyomo")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # Pyomo logs a traceback for a solver it cannot start
    try:
        return bool(pyo.SolverFactory(name).available(exception_flag=False))
    except Exception:
        return False
    finally:
        quiet.setLevel(level)


def backend_problem(name: str) -> str | None:
    """Why the Pyomo solver ``name`` cannot be used here (naming those that can), or None."""
    if _installed(name):
        return None
    usable = ", ".join(n for n in MIP_SOLVERS if n != name and _installed(n))
    if name in set(pyo.SolverFactory):
        return f"{name} is not available here (not installed?); available: {usable}"
    return f"{name} is not a Pyomo solver name; available: {usable}"
