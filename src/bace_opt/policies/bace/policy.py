"""BACE-Pipe (greedy): prioritizer → pathfinder → cost-min allocator, with backfilling.

Each epoch, waiting jobs are taken in priority order; for each, the pathfinder lists the region
sequences where it fits now (GPUs and, per crossing, ``need_gbps`` both ways) and the allocator
picks a placement among them. A job that fits nowhere waits; later jobs may still start. The three
parts switch off one at a time for the ablations: FIFO order instead of priorities, bandwidth
ignored by the pathfinder, the first feasible path instead of the cheapest.

*Crossings are a last resort* (``split_budget``, default 0.1). A job that some region holds whole
now runs whole, in the cheapest such region. Only a job no region holds whole now is split — over
the fewest regions that hold it, cheapest first — and only when that costs at most
``1 + split_budget`` times the job's *ideal* epoch cost (its cheapest placement in an empty world
at the same hour); otherwise it waits. Why: on geo6 the paper-literal rule ("the cheapest path
wins") split jobs to save on their own bill, but every split also stretches the run by its
latency and takes the last free GPUs of the cheap regions, which the next whole jobs then miss —
over a run that cost more than it saved (docs/benchmarks.md). ``split_budget=None`` keeps the
literal rule (policy ``bace-cheapest-path``); it is also the greedy the exact epoch MILP is
compared with and warm-started by, since both pursue the same per-epoch objective.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bace_opt import pipeline
from bace_opt.placement import Placement, Plan
from bace_opt.policies.bace.allocator import Allocation, cheapest, first_feasible
from bace_opt.policies.bace.pathfinder import (
    FloatArray,
    IntArray,
    PathIndex,
    PathSet,
    feasible_paths,
)
from bace_opt.policies.bace.prioritizer import Prioritizer, PriorityWeights
from bace_opt.policies.base import Ledger
from bace_opt.world import Instance, Job, Snapshot

Shape = tuple[int, int, str, int, int]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_SPLIT_BUDGET = 0.1
"""Measured on geo6 and geo6-half (8 seeds, benchmarks/split_budget.py): 0, 0.05, 0.1 and 0.2 all
keep BACE-Pipe at or below cost-first on JCT and cost at every sweep point; 0.1 lets a split cost
up to a tenth more than the job's ideal placement — about one crossing's latency overhead for a
typical geo6 job (0.5–23 % of its run time, median 3.4 %)."""


def _shape(job: Job) -> Shape:
    """Everything that decides where a job fits: stages, width, model, micro-batch, sequence."""
    return (job.stages, job.gpus_per_stage, job.model.name, job.micro_batch_size, job.seq_len)


@dataclass
class BacePipe:
    """The BACE-Pipe policy; the flags switch its parts off for the ablations."""

    name: str = "bace"
    prioritize: bool = True
    bandwidth: bool = True
    cost_min: bool = True
    weights: PriorityWeights = field(default_factory=PriorityWeights)
    split_budget: float | None = DEFAULT_SPLIT_BUDGET
    """How much dearer than its ideal placement a split job may run (module docstring); None:
    the cheapest path wins, whatever its crossings."""
    prioritizer: Prioritizer = field(init=False)
    _index: tuple[int, PathIndex] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.prioritizer = Prioritizer(self.weights)

    @classmethod
    def cheapest_path(cls, weights: PriorityWeights | None = None) -> BacePipe:
        """The paper-literal policy ``bace-cheapest-path``: no split budget. Per epoch it pursues
        the exact MILP's objective (admit what fits now, at least cost), so it is the greedy the
        MILP is compared with, warm-started by and falls back to."""
        return cls("bace-cheapest-path", weights=weights or PriorityWeights(), split_budget=None)

    @property
    def bandwidth_aware(self) -> bool:
        return self.bandwidth

    def paths(self, instance: Instance) -> PathIndex:
        """The instance's structural paths, built on first use."""
        if self._index is None or self._index[0] != id(instance):
            self._index = (id(instance), PathIndex.build(instance))
        return self._index[1]

    def decide(self, snapshot: Snapshot) -> Plan:
        if not snapshot.waiting:
            return Plan()
        instance = snapshot.instance
        ledger = Ledger.of(snapshot)
        smallest = min(j.total_gpus for j in snapshot.waiting)
        if ledger.free_total < smallest:
            return Plan()
        index = self.paths(instance)
        order = self.prioritizer.order(snapshot) if self.prioritize else snapshot.waiting
        bottleneck: FloatArray | None = None
        failed: set[Shape] = set()
        chosen: list[Placement] = []
        free_total = ledger.free_total
        for job in order:
            if free_total < smallest:
                break
            if job.total_gpus > free_total or _shape(job) in failed:
                continue
            if self.bandwidth and bottleneck is None:
                bottleneck = index.bottleneck(ledger.residual)
            placement, shape_fits = self._place(snapshot, job, ledger, index, bottleneck)
            if placement is None:
                if not shape_fits:
                    failed.add(_shape(job))
                continue
            ledger.take(job, placement)
            free_total -= job.total_gpus
            failed.clear()
            if placement.crossings:
                bottleneck = None
            chosen.append(placement)
        return Plan(tuple(chosen))

    def _place(
        self,
        snapshot: Snapshot,
        job: Job,
        ledger: Ledger,
        index: PathIndex,
        bottleneck: FloatArray | None,
    ) -> tuple[Placement | None, bool]:
        """The job's placement now, or None; and whether a placement of its shape fits now.
        False lets later jobs of the same shape be skipped this epoch; a split refused for its
        cost is not that (the budget depends on micro-batches and run length, not the shape)."""
        instance = snapshot.instance
        free = np.array([ledger.free[n] for n in index.names], dtype=np.int64)
        slots = free // job.gpus_per_stage
        usable = np.array(
            [
                pipeline.fits_memory(
                    job.model.params, job.stages, job.gpus_per_stage, r.gpu_type.memory_gb
                )
                for r in instance.regions
            ]
        )
        candidates = feasible_paths(index, instance, job, slots, usable, bottleneck)
        if not any(len(paths) for paths in candidates):
            return None, False
        if not self.cost_min:
            placement = first_feasible(job, candidates, slots, index.names)
        elif self.split_budget is None:
            allocation = cheapest(instance, job, candidates, slots, snapshot.time_s, index.names)
            placement = allocation.placement if allocation else None
        else:
            placement = self._whole_else_split(snapshot, job, candidates, slots, usable, index)
            if placement is None:
                return None, True  # over budget: waits, but its shape fits
        if placement is None or not ledger.fits(job, placement, self.bandwidth):
            return None, False  # with relays two crossings may share a link: the exact check
        return placement, True

    def _whole_else_split(
        self,
        snapshot: Snapshot,
        job: Job,
        candidates: list[PathSet],
        slots: IntArray,
        usable: BoolArray,
        index: PathIndex,
    ) -> Placement | None:
        """The cheapest placement over the fewest regions that hold the job now (``candidates``
        has some); a split only within ``split_budget`` of the job's ideal cost (module
        docstring)."""
        fewest = next(paths for paths in candidates if len(paths))
        allocation = cheapest(snapshot.instance, job, [fewest], slots, snapshot.time_s, index.names)
        assert allocation is not None and self.split_budget is not None
        if not allocation.placement.crossings:
            return allocation.placement
        ideal = self._ideal(snapshot, job, usable, index)
        if ideal is None or allocation.cost_usd > (1.0 + self.split_budget) * ideal.cost_usd:
            return None
        return allocation.placement

    def _ideal(
        self, snapshot: Snapshot, job: Job, usable: BoolArray, index: PathIndex
    ) -> Allocation | None:
        """The job's cheapest placement over the fewest regions in an empty world (every GPU
        free, every link idle) at the snapshot's hour."""
        instance = snapshot.instance
        bottleneck = index.idle if self.bandwidth else None
        slots = np.array([r.gpus for r in instance.regions], dtype=np.int64) // job.gpus_per_stage
        paths = feasible_paths(index, instance, job, slots, usable, bottleneck)
        fewest = next((p for p in paths if len(p)), None)
        if fewest is None:
            return None
        return cheapest(instance, job, [fewest], slots, snapshot.time_s, index.names)
