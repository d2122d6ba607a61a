"""``bace-opt epoch``: one snapshot solved by the greedy BACE-Pipe policy, the exact MILP, or both,
reported in the fields of DESIGN §5 (and checked by the independent checker).

The greedy here is by default BACE-Pipe with the paper-literal allocator (``bace-cheapest-path``:
the cheapest feasible path wins, no split budget). It pursues the epoch's own objective — admit what
fits now, at least cost — which is what the MILP optimizes exactly; the default policy's split
budget deliberately lets a job wait, a choice that pays off over a run but that one epoch cannot
see. ``greedy=NAME`` (``--greedy``) picks any other registered non-exact policy: its plan is then
the one compared with the MILP and passed to it as the MIP start.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from bace_opt.checker import PlanCheck, check_plan
from bace_opt.core.placement import Placement
from bace_opt.core.world import Snapshot
from bace_opt.errors import InputError
from bace_opt.milp import SolveOptions, SolveResult
from bace_opt.policies import make_policy, policy_entry, policy_names
from bace_opt.policies.bace import BacePipe, Prioritizer, PriorityWeights
from bace_opt.policies.mip_start import solve_from_start
from bace_opt.report import provenance as made

SOLVERS = ("milp", "greedy", "both")
DEFAULT_GREEDY = "bace-cheapest-path"


def greedy_problem(name: str) -> str | None:
    """Why ``name`` cannot be the epoch's greedy policy (unknown, or the MILP itself), or None."""
    if name not in policy_names():
        policy_entry(name)  # raises InputError naming the known policies
    if policy_entry(name).role == "exact":
        return f"'{name}' is the exact solver itself; give a heuristic policy"
    return None


@dataclass(frozen=True, kw_only=True)
class SolverReport:
    """One solver's decision for the epoch, re-measured by the independent checker.

    ``objective``/``bound`` are the solver's own (model units for the MILP, $ for the greedy);
    ``check`` is the checker's verdict, whose cost and weight are what the JSON reports."""

    status: str
    objective: float | None
    bound: float | None
    time_s: float
    admitted: tuple[str, ...]
    """The plan's jobs in the snapshot's waiting order."""
    placements: dict[str, str]
    weights: dict[str, float]
    check: PlanCheck
    milp: SolveResult | None = None
    """The MILP's result behind this entry (None for the greedy's): adds its fields to the JSON."""
    fallback: bool = False
    """The MILP had no usable answer; this entry holds the greedy plan."""

    @property
    def cost_usd(self) -> float:
        return self.check.cost_usd

    @property
    def weight_sum(self) -> float:
        return self.check.weight

    @property
    def message(self) -> str | None:
        return None if self.milp is None else self.milp.message

    def to_json(self) -> dict[str, Any]:
        """DESIGN §5's fields, in the order ``bace-opt epoch --out`` has always written them."""
        out: dict[str, Any] = {
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "time_s": self.time_s,
            "admitted": list(self.admitted),
            "placements": dict(self.placements),
            "cost_usd": self.cost_usd,
            "weight_sum": self.weight_sum,
            "weights": self.weights,
            "check": list(self.check.problems) or "feasible",
        }
        if self.milp is not None:
            out["build_s"] = self.milp.build_s
            if self.fallback:
                out["fallback"] = "greedy"
            else:
                out["weight_bound"] = self.milp.weight_bound
                out["objective_scale"] = self.milp.objective_scale
            out["message"] = self.milp.message
        return out


@dataclass(frozen=True)
class EpochReport:
    """The epoch's decisions by the solvers asked for (``greedy``, ``milp``; None if not asked)."""

    time_s: float
    waiting: int
    greedy: SolverReport | None = None
    milp: SolverReport | None = None
    provenance: dict[str, Any] | None = None
    """How the report was made (written last in the JSON; see ``report.provenance``)."""

    def solvers(self) -> list[tuple[str, SolverReport]]:
        """(name, report) of the solvers that ran, greedy first."""
        named = (("greedy", self.greedy), ("milp", self.milp))
        return [(name, report) for name, report in named if report is not None]

    def rows(self) -> list[dict[str, str | int | float]]:
        """One line per solver for the terminal: status, admitted, weight, cost, bound, time."""
        return [
            {
                "solver": name,
                "status": f"{r.status} → greedy" if r.fallback else r.status,
                "admitted": len(r.admitted),
                "weight": round(r.weight_sum, 6),
                "cost $": round(r.cost_usd, 6),
                "bound": "–" if r.bound is None else f"{r.bound:.6g}",
                "time s": round(r.time_s, 3),
            }
            for name, r in self.solvers()
        ]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"time_s": self.time_s, "waiting": self.waiting}
        out.update((name, report.to_json()) for name, report in self.solvers())
        if self.provenance is not None:
            out["provenance"] = self.provenance
        return out


def _report(
    snapshot: Snapshot,
    plan: dict[str, Placement],
    weights: dict[str, float],
    status: str,
    objective: float | None,
    bound: float | None,
    seconds: float,
    milp: SolveResult | None = None,
    fallback: bool = False,
) -> SolverReport:
    order = tuple(j.name for j in snapshot.waiting if j.name in plan)
    return SolverReport(
        status=status,
        objective=objective,
        bound=bound,
        time_s=seconds,
        admitted=order,
        placements={n: plan[n].describe() for n in order},
        weights=weights,
        check=check_plan(snapshot, [plan[n] for n in order], weights),
        milp=milp,
        fallback=fallback,
    )


def _provenance(
    snapshot: Snapshot, solver: str, options: SolveOptions, greedy: str
) -> dict[str, Any]:
    instance = snapshot.instance
    milp = None if solver == "greedy" else made.milp_solver(options)
    return made.provenance(
        snapshot=made.source(instance),
        greedy={"name": greedy, "weights": asdict(PriorityWeights())},
        solver=milp,
    )


def solve_snapshot(
    snapshot: Snapshot,
    solver: str,
    options: SolveOptions,
    write_lp: Path | None = None,
    greedy_name: str = DEFAULT_GREEDY,
) -> EpochReport:
    """The epoch's decision by ``solver`` (``milp``, ``greedy`` or ``both``), as DESIGN §5 names
    the fields. When the MILP fails or finds nothing, its entry carries the greedy plan, the
    status saying why, and ``fallback: greedy``. ``greedy_name`` is the heuristic compared with
    (and warm-starting) the MILP."""
    problem = greedy_problem(greedy_name)
    if problem:
        raise InputError([f"greedy: {problem}"])
    policy = make_policy(greedy_name)
    weights = Prioritizer().weights_of(snapshot)
    tic = time.perf_counter()
    greedy = {p.job: p for p in policy.decide(snapshot)}
    greedy_s = time.perf_counter() - tic
    greedy_cost = check_plan(snapshot, greedy.values(), weights).cost_usd
    greedy_report = milp_report = None
    if solver in ("greedy", "both"):
        greedy_report = _report(snapshot, greedy, weights, "heuristic", greedy_cost, None, greedy_s)
    if solver in ("milp", "both"):
        result = solve_from_start(snapshot, weights, greedy, options, write_lp)
        status = str(result.status)
        if result.usable:
            milp_report = _report(
                snapshot,
                result.plan,
                weights,
                status,
                result.model_objective,
                result.bound,
                result.start_s + result.solve_s,
                milp=result,
            )
        else:
            milp_report = _report(
                snapshot,
                greedy,
                weights,
                status,
                None,
                None,
                result.start_s + result.solve_s,
                result,
                True,
            )
    made_by = _provenance(snapshot, solver, options, greedy_name)
    waiting = len(snapshot.waiting)
    return EpochReport(snapshot.time_s, waiting, greedy_report, milp_report, made_by)


@dataclass(frozen=True)
class EpochComparison:
    """One flat row of the gap study: greedy BACE-Pipe against the exact MILP on one epoch."""

    waiting: int
    milp_status: str
    build_s: float
    solve_s: float
    greedy_s: float
    greedy_weight: float
    milp_weight: float
    weight_bound: float | None
    greedy_cost: float
    milp_cost: float
    cost_bound: float | None
    """The MILP's dual bound on the cost, in $."""
    cost_gap: float | None
    greedy_admitted: int
    milp_admitted: int
    fallback: bool
    milp_feasible: bool
    milp_message: str

    def row(self) -> dict[str, Any]:
        """The columns in the order the gap study's tables have always had them."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def compare_epoch(
    snapshot: Snapshot, options: SolveOptions, weights: PriorityWeights | None = None
) -> EpochComparison:
    """Greedy BACE-Pipe against the exact MILP on one epoch.

    Both plans are re-measured by the independent checker; ``cost_gap`` is the MILP's relative
    distance from its own dual bound on the cost (0 when proven optimal, None without a bound).
    When the MILP has no usable answer, its columns hold the greedy fallback and ``fallback`` is
    true.
    Timings are wall-clock: ``greedy_s``, ``build_s`` (Pyomo model) and ``solve_s`` (both stages).
    """
    policy = BacePipe.cheapest_path(weights)
    priority = Prioritizer(weights or PriorityWeights()).weights_of(snapshot)
    tic = time.perf_counter()
    greedy_plan = policy.decide(snapshot)
    greedy_s = time.perf_counter() - tic
    greedy = check_plan(snapshot, greedy_plan.placements, priority)
    result = solve_from_start(snapshot, priority, {p.job: p for p in greedy_plan}, options)
    fallback = not result.usable  # what a caller gets then: the greedy plan
    exact = greedy if fallback else check_plan(snapshot, result.plan.values(), priority)
    return EpochComparison(
        waiting=len(snapshot.waiting),
        milp_status=str(result.status),
        build_s=result.build_s,
        solve_s=result.solve_s,
        greedy_s=greedy_s,
        greedy_weight=greedy.weight,
        milp_weight=exact.weight,
        weight_bound=result.weight_bound,
        greedy_cost=greedy.cost_usd,
        milp_cost=exact.cost_usd,
        cost_bound=result.cost_bound_usd,
        cost_gap=result.gap,
        greedy_admitted=len(greedy_plan),
        milp_admitted=len(greedy_plan) if fallback else len(result.plan),
        fallback=fallback,
        milp_feasible=exact.feasible,
        milp_message=result.message,
    )
