"""Scheduling policies: a ``Policy`` protocol, the one greedy epoch loop, BACE-Pipe and the
baselines made of parts, the exact ``milp`` policy, and the registry that names them all."""

import sys
import types

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


class _CallablePackage(types.ModuleType):
    """``bo.policies()`` lists the names (the Python surface promises it), while
    ``bace_opt.policies`` stays this package: importing it makes it the package attribute of
    that name, so the attribute itself must be callable."""

    def __call__(self) -> list[str]:
        return list(policy_names())


sys.modules[__name__].__class__ = _CallablePackage
