"""bace-opt: schedule pipeline-parallel LLM training across cloud regions, and prove how good it is.

The package is laid out as its layers (docs/architecture.md): ``core`` (the domain), ``formulas``
(the system model's formulas, each once), ``resources`` (the ledger of free GPUs and bandwidth),
``policies`` (BACE-Pipe, the baselines, the exact ``milp`` policy and their registry), ``sim``
(the event-driven simulator), ``milp`` (the exact epoch model), ``checker`` (an independent
check), ``io`` (files in and out), ``report`` (outputs), ``app`` and ``sweeps`` (what the commands
do) and ``cli`` (the thin command line).

The Python surface (``app.api``), loaded on first use so ``import bace_opt`` stays quick::

    import bace_opt as bo
    run = bo.simulate(bo.load("instances/geo6.yaml"), "bace")
"""

from __future__ import annotations

from typing import Any

from bace_opt.version import __version__

API = ("load", "simulate", "compare", "solve_epoch", "bound", "Run")
__all__ = [*API, "policies", "__version__"]


def __getattr__(name: str) -> Any:
    """``bo.simulate`` and friends come from ``app.api``, imported on first use."""
    if name in API:
        from bace_opt.app import api

        return getattr(api, name)
    if name == "policies":  # the subpackage, callable: ``bo.policies()`` lists the names
        import bace_opt.policies

        return bace_opt.policies
    raise AttributeError(f"module 'bace_opt' has no attribute {name!r}")
