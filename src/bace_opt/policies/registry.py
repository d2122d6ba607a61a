"""The explicit registry of named policies (DESIGN §5 names)."""

from __future__ import annotations

from collections.abc import Callable

from bace_opt.errors import InputError
from bace_opt.policies.bace import BacePipe
from bace_opt.policies.base import Policy
from bace_opt.policies.baselines import (
    CostFirst,
    CostFirstSpill,
    DelayFirst,
    FifoFirstFit,
    RandomPolicy,
    ShortestJobFirst,
)
from bace_opt.policies.milp_policy import MilpPolicy

PolicyFactory = Callable[[int], Policy]
"""Builds a fresh policy for one run from the run's seed."""

POLICIES: dict[str, PolicyFactory] = {
    "delay-first": lambda seed: DelayFirst(),
    "cost-first": lambda seed: CostFirst(),
    "cost-first-spill": lambda seed: CostFirstSpill(),
    "sjf": lambda seed: ShortestJobFirst(),
    "fifo-firstfit": lambda seed: FifoFirstFit(),
    "random": lambda seed: RandomPolicy(seed=seed),
    "bace": lambda seed: BacePipe(),
    "bace-no-priority": lambda seed: BacePipe(name="bace-no-priority", prioritize=False),
    "bace-no-pathfinder": lambda seed: BacePipe(name="bace-no-pathfinder", bandwidth=False),
    "bace-no-costmin": lambda seed: BacePipe(name="bace-no-costmin", cost_min=False),
    "milp": lambda seed: MilpPolicy(),
}

BASELINES = ("delay-first", "cost-first", "cost-first-spill", "sjf", "fifo-firstfit", "random")
ABLATIONS = ("bace-no-priority", "bace-no-pathfinder", "bace-no-costmin")


def policy_names() -> list[str]:
    return sorted(POLICIES)


def make_policy(name: str, seed: int = 0) -> Policy:
    """A fresh policy by name (raises ``InputError`` naming the known ones)."""
    factory = POLICIES.get(name)
    if factory is None:
        raise InputError(
            [f"--policy: unknown policy '{name}' (known: {', '.join(policy_names())})"]
        )
    return factory(seed)
