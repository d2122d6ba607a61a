"""What a caller asks of the epoch MILP (``SolveOptions``) and what it gets back (``SolveResult``).

No solver and no Pyomo here: callers read results without importing the solving machinery, and the
solver module maps whatever its backend says onto these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bace_opt.core.placement import Placement

DIRECT_BACKEND = "highs_direct"
"""HiGHS fed arrays built from the data (``direct``), not Pyomo's appsi hand-over."""


class Status(StrEnum):
    """How a solve ended, in our terms; the solver's own word is ``SolveResult.termination``."""

    OPTIMAL = "optimal"
    """Proven: both stages closed their gaps."""
    WITHIN_GAP = "within_gap"
    """Stopped at the requested ``mip_gap`` > 0: good to that gap, not proven optimal."""
    TIME_LIMIT = "time_limit"
    INFEASIBLE = "infeasible"
    ERROR = "error"


@dataclass(frozen=True)
class SolveOptions:
    solver: str = "appsi_highs"
    time_limit_s: float = 10.0
    mip_gap: float = 0.0
    """Relative gap at which a solve counts as done; 0 (with absolute gap 0) proves the exact
    optimum — HiGHS's own defaults (1e-4 relative, 1e-6 absolute) would let stage 1 stop on an
    admission whose weight is a hair below the best, which is not the lexicographic optimum."""
    threads: int | None = None
    warm_start: bool = True
    isolated: bool = True
    """Build and solve in a child process the caller stops at ``time_limit_s`` (+ a second) after
    ``solve_epoch`` was called, and at once on Ctrl-C (``isolate``). False solves in this process
    — for debugging and quick tests: the build and HiGHS's hand-over then run past the limit."""


@dataclass(frozen=True)
class CostBound:
    """A bound on the cost stage found before the solve (``count_bound``'s relaxation, solved
    for the MIP start): every plan admitting at least ``floor`` of priority weight costs at least
    ``cost_usd``. The solve uses it wherever its cost stage's floor is at least ``floor``."""

    floor: float
    cost_usd: float


@dataclass(frozen=True, kw_only=True)
class SolveResult:
    """What the two solves found. ``plan`` is empty when nothing was found (see ``message``).

    Costs come in two units on purpose: ``objective_usd`` in dollars for people, ``model_objective``
    and ``bound`` in the written model's units (dollars × ``objective_scale``), which is what the
    solver saw and what a re-solve of the LP file reproduces."""

    status: Status
    termination: str = ""
    """The solver's own termination condition of the last stage run ("optimal", "maxTimeLimit",
    "interrupted", ...); "" when no solve got that far."""
    plan: dict[str, Placement] = field(default_factory=dict)
    objective_usd: float | None = None
    """Stage 2's epoch cost in $ (None without a solution)."""
    model_objective: float | None = None
    """Stage 2's objective as the written model states it: the epoch cost × ``objective_scale``."""
    bound: float | None = None
    """Stage 2's best (dual) bound on the cost, in model units."""
    weight: float | None = None
    """Stage 1's Σ w x."""
    weight_bound: float | None = None
    """Stage 1's best bound on Σ w x."""
    objective_scale: float = 1.0
    """Model cost = cost in $ × this power of ten (see ``build.cost_scale``)."""
    build_s: float = 0.0
    """Wall-clock seconds to gather the data and build the Pyomo model."""
    solve_s: float = 0.0
    """Wall-clock seconds of both stages."""
    start_s: float = 0.0
    """Wall-clock seconds the caller spent on the MIP start before ``solve_epoch``, inside the
    time limit (``policies.mip_start.solve_from_start``); 0 when the start was not timed so."""
    message: str = ""

    @property
    def has_solution(self) -> bool:
        return self.model_objective is not None

    @property
    def usable(self) -> bool:
        """A plan the caller may apply: proven optimal, or the incumbent at the time limit. A
        time limit reached before any solution (objective None) is not usable: fall back."""
        usable = (Status.OPTIMAL, Status.WITHIN_GAP, Status.TIME_LIMIT)
        return self.status in usable and self.has_solution

    @property
    def gap(self) -> float | None:
        """Relative distance of the cost from its dual bound (0 when proven optimal); None without
        both, or when the cost is not positive (a relative gap means nothing there)."""
        objective, bound = self.model_objective, self.bound
        if objective is None or bound is None or objective <= 0:
            return None
        return (objective - bound) / objective

    @property
    def cost_bound_usd(self) -> float | None:
        """The dual bound on the epoch cost in $."""
        return None if self.bound is None else self.bound / self.objective_scale
