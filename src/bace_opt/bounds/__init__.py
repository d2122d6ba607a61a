"""Whole-run bounds (DESIGN §5b): a time-indexed LP relaxation of every schedule the simulator
can produce — ``slots`` (the time grid, price ladders) · ``paths`` (configurations per job and
their pruning) · ``data`` (columns and coefficients, no Pyomo) · ``relaxation`` (the Pyomo LP, one
``define_*`` per family) · ``solve`` (HiGHS, and the safe bound from its duals) · ``frontier``
(cost against average JCT) · ``result`` (the JSON) · ``compute`` (``bound_instance``: all of it,
with the policies' gaps)."""

from bace_opt.bounds.compute import BoundOptions, bound_instance
from bace_opt.bounds.result import BoundResult, BoundStatus

__all__ = ["BoundOptions", "BoundResult", "BoundStatus", "bound_instance"]
