"""BACE-Pipe: dynamic prioritizer, bandwidth-aware pathfinder, cost-minimizing allocator."""

from bace_opt.policies.bace.allocator import CheapestPath, FirstFeasible, WholeElseSplit
from bace_opt.policies.bace.pathfinder import Pathfinder
from bace_opt.policies.bace.policy import BacePipe
from bace_opt.policies.bace.prioritizer import ArrivalOrder, Prioritizer, PriorityWeights

__all__ = [
    "ArrivalOrder",
    "BacePipe",
    "CheapestPath",
    "FirstFeasible",
    "Pathfinder",
    "Prioritizer",
    "PriorityWeights",
    "WholeElseSplit",
]
