"""Scheduling policies: a ``Policy`` protocol, the one greedy epoch loop, BACE-Pipe and the
baselines made of parts, the exact ``milp`` policy, and the registry that names them all."""

from bace_opt.policies.base import Policy
from bace_opt.policies.registry import (
    POLICIES,
    PolicyEntry,
    PolicyOptions,
    make_policy,
    policy_entry,
    policy_names,
)

__all__ = [
    "POLICIES",
    "Policy",
    "PolicyEntry",
    "PolicyOptions",
    "make_policy",
    "policy_entry",
    "policy_names",
]
