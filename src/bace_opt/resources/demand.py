"""What a placement holds while its job runs, computed once per placement."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from bace_opt.core.network import Direction
from bace_opt.core.placement import Placement
from bace_opt.core.world import Instance, Job, Running
from bace_opt.formulas.placement import PathEstimate, estimate, link_use


@dataclass(frozen=True)
class Demand:
    """What a placement holds while its job runs: GPUs per region, and ``need_gbps`` on each link
    direction its crossings load, ``uses[d]`` times."""

    gpus: Mapping[str, int]
    uses: Counter[Direction]
    need_gbps: float

    @classmethod
    def of(
        cls, instance: Instance, job: Job, placement: Placement, est: PathEstimate | None = None
    ) -> Demand:
        uses = link_use(instance, placement)
        need = 0.0
        if uses:
            need = (est or estimate(instance, job, placement)).need_gbps
        return cls(placement.gpus_by_region(job.gpus_per_stage), uses, need)


@dataclass(frozen=True)
class Release:
    """What a running (or just started) job gives back, and when it is expected to."""

    end_s: float
    demand: Demand

    @classmethod
    def of_running(cls, instance: Instance, run: Running) -> Release:
        """A snapshot's ``running`` entry: GPUs per region from its placement, and its links'
        bandwidth when the entry says what a crossing takes (``need_gbps``); without that, links
        are not counted as freed (planning then errs late, never early)."""
        need = run.need_gbps
        uses = link_use(instance, run.placement) if need else Counter[Direction]()
        return cls(run.end_s, Demand(run.gpus_by_region(), uses, float(need or 0.0)))
