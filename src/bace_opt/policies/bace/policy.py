"""BACE-Pipe (greedy): prioritizer → pathfinder → cost-min allocator, with backfilling.

Each epoch, waiting jobs are taken in priority order; for each, the pathfinder lists the region
sequences where it fits now (GPUs and, per crossing, ``need_gbps`` both ways) and the allocator
picks the cheapest placement among them. A job that fits nowhere waits; later jobs may still start.
The three parts switch off one at a time for the ablations: FIFO order instead of priorities,
bandwidth ignored by the pathfinder, the first feasible path instead of the cheapest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bace_opt import pipeline
from bace_opt.placement import Placement, Plan
from bace_opt.policies.bace.allocator import cheapest, first_feasible
from bace_opt.policies.bace.pathfinder import (
    FloatArray,
    PathIndex,
    feasible_paths,
    pair_bottleneck,
)
from bace_opt.policies.bace.prioritizer import Prioritizer, PriorityWeights
from bace_opt.policies.base import Ledger
from bace_opt.world import Instance, Job, Snapshot

Shape = tuple[int, int, str, int, int]


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
    prioritizer: Prioritizer = field(init=False)
    _index: tuple[int, PathIndex] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.prioritizer = Prioritizer(self.weights)

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
                bottleneck = pair_bottleneck(instance, index.names, ledger.residual)
            placement = self._place(snapshot, job, ledger, index, bottleneck)
            if placement is None:
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
    ) -> Placement | None:
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
        if self.cost_min:
            allocation = cheapest(instance, job, candidates, slots, snapshot.time_s, index.names)
            placement = allocation.placement if allocation else None
        else:
            placement = first_feasible(job, candidates, slots, index.names)
        if placement is None or not ledger.fits(job, placement, self.bandwidth):
            return None  # with relays two crossings may share a link: the exact check decides
        return placement
