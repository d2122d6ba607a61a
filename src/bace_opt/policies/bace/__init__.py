"""BACE-Pipe: dynamic prioritizer, bandwidth-aware pathfinder, cost-minimizing allocator."""

from bace_opt.policies.bace.policy import BacePipe
from bace_opt.policies.bace.prioritizer import Prioritizer, PriorityWeights

__all__ = ["BacePipe", "Prioritizer", "PriorityWeights"]
