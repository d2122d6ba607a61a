"""The explicit registry of named policies (DESIGN §5 names)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bace_opt.errors import InputError
from bace_opt.policies.bace import BacePipe, PriorityWeights
from bace_opt.policies.base import Policy
from bace_opt.policies.baselines import (
    CostFirst,
    CostFirstSpill,
    DelayFirst,
    FifoFirstFit,
    RandomPolicy,
    ShortestJobFirst,
)


@dataclass(frozen=True)
class PolicyOptions:
    """What a run may set on its policy: the seed, BACE-Pipe's priority weights (also used by the
    MILP's first objective) and the MILP policy's per-epoch time limit."""

    seed: int = 0
    weights: PriorityWeights = field(default_factory=PriorityWeights)
    milp_time_limit_s: float = 5.0


PolicyFactory = Callable[[PolicyOptions], Policy]
"""Builds a fresh policy for one run."""


def _bace(
    name: str, prioritize: bool = True, bandwidth: bool = True, cost_min: bool = True
) -> PolicyFactory:
    return lambda o: BacePipe(name, prioritize, bandwidth, cost_min, o.weights)


def _milp(o: PolicyOptions) -> Policy:
    # Imported here: Pyomo costs ~0.4 s and ~35 MiB, which runs of the greedy policies skip.
    from bace_opt.milp import SolveOptions
    from bace_opt.policies.milp_policy import MilpPolicy

    return MilpPolicy(
        options=SolveOptions(time_limit_s=o.milp_time_limit_s),
        greedy=BacePipe.cheapest_path(o.weights),
    )


POLICIES: dict[str, PolicyFactory] = {
    "delay-first": lambda o: DelayFirst(),
    "cost-first": lambda o: CostFirst(),
    "cost-first-spill": lambda o: CostFirstSpill(),
    "sjf": lambda o: ShortestJobFirst(),
    "fifo-firstfit": lambda o: FifoFirstFit(),
    "random": lambda o: RandomPolicy(seed=o.seed),
    "bace": _bace("bace"),
    "bace-no-priority": _bace("bace-no-priority", prioritize=False),
    "bace-no-pathfinder": _bace("bace-no-pathfinder", bandwidth=False),
    "bace-no-costmin": _bace("bace-no-costmin", cost_min=False),
    "bace-cheapest-path": lambda o: BacePipe.cheapest_path(o.weights),
    "milp": _milp,
}

BASELINES = ("delay-first", "cost-first", "cost-first-spill", "sjf", "fifo-firstfit", "random")
ABLATIONS = ("bace-no-priority", "bace-no-pathfinder", "bace-no-costmin", "bace-cheapest-path")


def policy_names() -> list[str]:
    return sorted(POLICIES)


def make_policy(name: str, seed: int = 0, options: PolicyOptions | None = None) -> Policy:
    """A fresh policy by name (raises ``InputError`` naming the known ones); ``options`` wins over
    ``seed`` when given."""
    factory = POLICIES.get(name)
    if factory is None:
        raise InputError(
            [f"--policy: unknown policy '{name}' (known: {', '.join(policy_names())})"]
        )
    return factory(options or PolicyOptions(seed=seed))


def parse_weights(text: str) -> PriorityWeights:
    """``aging=0.25,length=1,bandwidth=1`` (any subset) → ``PriorityWeights``."""
    known = {"aging": "aging_per_hour", "length": "length", "bandwidth": "bandwidth"}
    values: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, raw = part.partition("=")
        if key.strip() not in known:
            raise InputError(
                [f"--weights: unknown weight '{key.strip()}' (known: aging, length, bandwidth)"]
            )
        try:
            value = float(raw)
        except ValueError:
            raise InputError([f"--weights: {key.strip()} must be a number, not '{raw}'"]) from None
        if not value >= 0 or value == float("inf"):
            raise InputError([f"--weights: {key.strip()} must be a finite number ≥ 0"])
        values[known[key.strip()]] = value
    return PriorityWeights(**values)
