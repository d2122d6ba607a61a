"""The explicit registry of named policies (DESIGN §5 names)."""

from __future__ import annotations

from collections.abc import Callable

from bace_opt.errors import InputError
from bace_opt.policies.base import Policy
from bace_opt.policies.baselines import (
    CostFirst,
    CostFirstSpill,
    DelayFirst,
    FifoFirstFit,
    RandomPolicy,
    ShortestJobFirst,
)

PolicyFactory = Callable[[int], Policy]
"""Builds a fresh policy for one run from the run's seed."""

POLICIES: dict[str, PolicyFactory] = {
    "delay-first": lambda seed: DelayFirst(),
    "cost-first": lambda seed: CostFirst(),
    "cost-first-spill": lambda seed: CostFirstSpill(),
    "sjf": lambda seed: ShortestJobFirst(),
    "fifo-firstfit": lambda seed: FifoFirstFit(),
    "random": lambda seed: RandomPolicy(seed=seed),
}

BASELINES = ("delay-first", "cost-first", "cost-first-spill", "sjf", "fifo-firstfit", "random")


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
