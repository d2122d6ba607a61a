"""The explicit registry of named policies (DESIGN §5 names)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from bace_opt.errors import InputError
from bace_opt.io.suggest import closest
from bace_opt.policies.bace import (
    ArrivalOrder,
    BacePipe,
    FirstFeasible,
    Pathfinder,
    Prioritizer,
    PriorityWeights,
    WholeElseSplit,
)
from bace_opt.policies.base import Policy
from bace_opt.policies.baselines import (
    CostFirst,
    CostFirstSpill,
    DelayFirst,
    FifoFirstFit,
    RandomPolicy,
    ShortestJobFirst,
)
from bace_opt.policies.lookahead import LookaheadPolicy, LookaheadSettings
from bace_opt.policies.reservation import PATIENCE_S, PATIENCE_SLOWDOWN

MILP_TIME_LIMIT_S = 5.0
"""The ``milp`` policy's default seconds per epoch (``--milp-time-limit``, sweeps' grid)."""


@dataclass(frozen=True)
class PolicyOptions:
    """What a run may set on its policy: the seed, BACE-Pipe's priority weights (also used by the
    MILP's first objective) and the MILP policy's per-epoch time limit."""

    seed: int = 0
    weights: PriorityWeights = field(default_factory=PriorityWeights)
    milp_time_limit_s: float = MILP_TIME_LIMIT_S
    lookahead: LookaheadSettings = field(default_factory=LookaheadSettings)
    """The ``lookahead`` policy's horizon and value of time (``--lookahead``)."""


PolicyFactory = Callable[[PolicyOptions], Policy]
"""Builds a fresh policy for one run."""

Role = Literal["bace", "ablation", "baseline", "exact", "planning"]


@dataclass(frozen=True)
class PolicyEntry:
    """A named policy: how to make it, and the facts callers need without making one."""

    make: PolicyFactory
    role: Role
    bandwidth_aware: bool
    """Every crossing it places gets its ``need_gbps`` (the simulator holds it to that)."""
    uses_weights: bool = False
    """Its decisions depend on the prioritizer weights (``--weights``, the sweeps' axis)."""
    uses_time_limit: bool = False
    """It solves each epoch under ``milp_time_limit_s``."""
    seeded: bool = False
    """Its decisions depend on the seed."""


def _bace(
    name: str,
    ordering: bool = True,
    bandwidth: bool = True,
    costmin: bool = True,
    reservation: bool = True,
) -> PolicyFactory:
    def make(o: PolicyOptions) -> BacePipe:
        return BacePipe(
            name,
            reserving=reservation,
            reserve_after_s=PATIENCE_S,
            reserve_after_slowdown=PATIENCE_SLOWDOWN,
            ordering=Prioritizer(o.weights) if ordering else ArrivalOrder(),
            pathfinder=Pathfinder(bandwidth),
            allocator=WholeElseSplit() if costmin else FirstFeasible(),
        )

    return make


def _milp(o: PolicyOptions) -> Policy:
    # Imported here: Pyomo costs ~0.4 s and ~35 MiB, which runs of the greedy policies skip.
    from bace_opt.milp import SolveOptions
    from bace_opt.policies.milp_policy import MilpPolicy

    return MilpPolicy(
        options=SolveOptions(time_limit_s=o.milp_time_limit_s),
        greedy=BacePipe.cheapest_path(o.weights),
        prioritizer=Prioritizer(o.weights),
    )


def _lookahead(o: PolicyOptions) -> Policy:
    bace = _bace("bace")(o)
    assert isinstance(bace, BacePipe)
    return LookaheadPolicy(
        settings=o.lookahead,
        bace=bace,
        prioritizer=Prioritizer(o.weights),
        time_limit_s=o.milp_time_limit_s,
    )


POLICIES: dict[str, PolicyEntry] = {
    "bace": PolicyEntry(_bace("bace"), "bace", True, uses_weights=True),
    "bace-no-priority": PolicyEntry(_bace("bace-no-priority", ordering=False), "ablation", True),
    "bace-no-pathfinder": PolicyEntry(
        _bace("bace-no-pathfinder", bandwidth=False), "ablation", False, uses_weights=True
    ),
    "bace-no-costmin": PolicyEntry(
        _bace("bace-no-costmin", costmin=False), "ablation", True, uses_weights=True
    ),
    "bace-no-reservation": PolicyEntry(
        _bace("bace-no-reservation", reservation=False), "ablation", True, uses_weights=True
    ),
    "bace-cheapest-path": PolicyEntry(
        lambda o: BacePipe.cheapest_path(o.weights), "ablation", True, uses_weights=True
    ),
    "milp": PolicyEntry(_milp, "exact", True, uses_weights=True, uses_time_limit=True),
    "lookahead": PolicyEntry(_lookahead, "planning", True, uses_weights=True, uses_time_limit=True),
    "delay-first": PolicyEntry(lambda o: DelayFirst(), "baseline", False),
    "cost-first": PolicyEntry(lambda o: CostFirst(), "baseline", True),
    "cost-first-spill": PolicyEntry(lambda o: CostFirstSpill(), "baseline", False),
    "sjf": PolicyEntry(lambda o: ShortestJobFirst(), "baseline", False),
    "fifo-firstfit": PolicyEntry(lambda o: FifoFirstFit(), "baseline", False),
    "random": PolicyEntry(lambda o: RandomPolicy(seed=o.seed), "baseline", False, seeded=True),
}


def unknown_policy(name: str, option: str = "--policy") -> str:
    """The problem line for an unknown policy name given to ``option``: the closest known name
    when one is close (``--policies: unknown policy 'bace-cheapest' (did you mean
    'bace-cheapest-path'?); known: ...``), and the known names."""
    known = ", ".join(policy_names())
    best = closest(name, POLICIES)
    if best is None:
        return f"{option}: unknown policy '{name}' (known: {known})"
    return f"{option}: unknown policy '{name}' (did you mean '{best}'?); known: {known}"


def policy_entry(name: str, option: str = "--policy") -> PolicyEntry:
    """The registry entry of ``name`` (raises ``InputError`` naming ``option``, the closest known
    name and the known ones)."""
    entry = POLICIES.get(name)
    if entry is None:
        raise InputError([unknown_policy(name, option)])
    return entry


def names_with(role: Role) -> list[str]:
    """The policies of one role, in registry order."""
    return [name for name, entry in POLICIES.items() if entry.role == role]


def policy_names() -> list[str]:
    return sorted(POLICIES)


def make_policy(name: str, seed: int = 0, options: PolicyOptions | None = None) -> Policy:
    """A fresh policy by name (raises ``InputError`` naming the known ones); ``options`` wins over
    ``seed`` when given."""
    return policy_entry(name).make(options or PolicyOptions(seed=seed))


MAX_WEIGHT = 1e6
"""Priority weights are relative; beyond this their products overflow nothing useful."""


def parse_weights(text: str) -> PriorityWeights:
    """``aging=0.25,length=1,bandwidth=1`` (any subset) → ``PriorityWeights``."""
    known = {"aging": "aging_per_hour", "length": "length", "bandwidth": "bandwidth"}
    values: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, equals, raw = (s.strip() for s in part.partition("="))
        if key not in known:
            best = closest(key, known)
            names = ", ".join(known)
            line = f"--weights: unknown weight '{key}' "
            line += f"(did you mean '{best}'?); known: {names}" if best else f"(known: {names})"
            raise InputError([line])
        if not equals:
            raise InputError([f"--weights: {key} needs a value, e.g. {key}=1"])
        try:
            value = float(raw)
        except ValueError:
            raise InputError([f"--weights: {key} must be a number, not '{raw}'"]) from None
        if not 0 <= value <= MAX_WEIGHT:
            raise InputError([f"--weights: {key} must be a number in [0, {MAX_WEIGHT:g}]"])
        values[known[key]] = value
    return PriorityWeights(**values)
