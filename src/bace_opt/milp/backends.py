"""Which Pyomo solvers can be used on this machine: asked before any work, so an unavailable
``--backend`` is a usage error that lists the ones that are (the solving itself is ``solver``'s)."""

from __future__ import annotations

import logging
from importlib import metadata

import pyomo.environ as pyo

from bace_opt.milp.scip import SCIP_BACKENDS, scip_available, scip_version

MIP_SOLVERS = (
    "appsi_highs",
    "highs",
    "highs_direct",
    "scip",
    "gurobi",
    "gurobi_direct",
    "cplex",
    "cbc",
    "glpk",
)
"""Solvers offered by name when a backend is not available (those installed here are listed):
``highs_direct`` is HiGHS fed arrays (``direct``), ``scip`` is SCIP through pyscipopt (``scip``),
the others are Pyomo solver names."""
HIGHS = ("highs_direct", "appsi_highs", "highs")
PACKAGES = {**dict.fromkeys(SCIP_BACKENDS, "pyscipopt"), **dict.fromkeys(HIGHS, "highspy")}
"""The PyPI package that brings a backend, for the message when it is missing."""


def _installed(name: str) -> bool:
    if name in HIGHS:
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True
    if name in SCIP_BACKENDS:
        try:
            return scip_available()
        except Exception:
            return False
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
    if name in PACKAGES:
        return f"{name} is not available here (pip install {PACKAGES[name]}); available: {usable}"
    if name in set(pyo.SolverFactory):
        return f"{name} is not available here (not installed?); available: {usable}"
    return f"{name} is not a Pyomo solver name; available: {usable}"


def backend_version(name: str) -> str | None:
    """The version of the solver behind the Pyomo name ``name`` (e.g. ``1.16.0`` for HiGHS), or
    None when it cannot be told. HiGHS is asked through its package's metadata: constructing a
    ``highspy.Highs`` just to ask prints its banner. SCIP's is the library's (not pyscipopt's)."""
    if name in SCIP_BACKENDS:
        return scip_version()
    if name in HIGHS:
        try:
            return metadata.version("highspy")
        except metadata.PackageNotFoundError:
            return None
    if not _installed(name):
        return None
    try:
        version = pyo.SolverFactory(name).version()
    except Exception:
        return None
    if isinstance(version, tuple):
        return ".".join(str(part) for part in version)
    return None if version is None else str(version)
