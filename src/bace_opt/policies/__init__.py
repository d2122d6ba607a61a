"""Scheduling policies: a ``Policy`` protocol and an explicit registry of the named policies."""

from bace_opt.policies.base import Policy
from bace_opt.policies.registry import POLICIES, PolicyOptions, make_policy, policy_names

__all__ = ["POLICIES", "Policy", "PolicyOptions", "make_policy", "policy_names"]
