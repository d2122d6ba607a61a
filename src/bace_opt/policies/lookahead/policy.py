"""Policy ``lookahead`` (DESIGN §5b): at each epoch a rolling-horizon plan over the jobs that have
arrived, the running jobs' expected ends and the next day's prices; it starts only what the plan
starts now, and falls back to ``bace`` when the plan cannot be solved.

The plan (``lookahead.plan``) says, per waiting job, how much of full speed it runs at in the
first slot and when it completes. Jobs it gives work now are started in the order of their planned
completions (list scheduling in LP order, as in Hall, Schulz, Shmoys and Wein 1997), as far as
they fit; jobs it gives nothing now are held — for a cheaper hour or region, or to leave room for
jobs that finish sooner. Where a job goes is BACE-Pipe's choice (pathfinder and cost-min
allocator on what is free now), so every start passes the same exact check as ``bace``'s. The plan
covers the ``max_jobs`` waiting jobs of highest BACE-Pipe priority; in a longer queue the rest
may only backfill what the plan leaves free, in priority order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from bace_opt.core.placement import Placement, Plan
from bace_opt.core.world import Job, Snapshot
from bace_opt.policies.bace import BacePipe, Prioritizer
from bace_opt.policies.greedy import Wait
from bace_opt.policies.lookahead.horizon import HorizonShape, build_horizon
from bace_opt.policies.lookahead.plan import solve_plan
from bace_opt.resources.configurations import Config, ShapeKey, Skeleton, job_paths
from bace_opt.resources.ledger import Ledger

log = logging.getLogger(__name__)

SOME_RATE = 0.02
"""A job the plan gives less than this share now is held (the LP's float noise is far below)."""


@dataclass(frozen=True)
class LookaheadSettings:
    """The ``lookahead`` options (``--lookahead``): the horizon and what time is worth."""

    jct_usd_per_h: float = 100.0
    """What one hour of one job's completion time is worth in the plan's objective, in $; the
    default makes time come first and cost break ties (docs: "Policy lookahead")."""
    guard_h: float = 24.0
    """When ``bace`` reserves for a job that has waited this long, the epoch is ``bace``'s."""
    shape: HorizonShape = field(default_factory=HorizonShape)
    max_jobs: int = 64
    """Waiting jobs the plan covers (highest BACE-Pipe priority first)."""
    max_configs: int = 48
    """Configurations per job in the plan (least GPU-seconds first)."""


@dataclass
class LookaheadPolicy:
    """The rolling-horizon planner, with BACE-Pipe as its placer and safety net."""

    settings: LookaheadSettings
    bace: BacePipe
    prioritizer: Prioritizer
    time_limit_s: float
    name: str = "lookahead"
    bandwidth_aware: bool = True
    stats: dict[str, int] = field(
        default_factory=lambda: {
            "lookahead_solves": 0,
            "lookahead_fallbacks": 0,
            "lookahead_held": 0,
            "lookahead_guarded": 0,
        }
    )
    _memo: dict[ShapeKey, tuple[tuple[Skeleton, ...], int]] = field(
        default_factory=dict, repr=False
    )
    _configs: dict[str, tuple[Config, ...]] = field(default_factory=dict, repr=False)

    def configs(self, snapshot: Snapshot, job: Job) -> tuple[Config, ...]:
        """The job's configurations for the plan (found once per job)."""
        found = self._configs.get(job.name)
        if found is None:
            paths = job_paths(snapshot.instance, job, self._memo)
            ranked = sorted(paths.configs, key=lambda c: (sum(c.gpu_s), c.run_s))
            found = self._configs[job.name] = tuple(ranked[: self.settings.max_configs])
        return found

    def decide(self, snapshot: Snapshot) -> Plan:
        for gone in set(self._configs) - {j.name for j in snapshot.waiting}:
            del self._configs[gone]
        free = Ledger.of(snapshot).free_total
        if not any(job.total_gpus <= free for job in snapshot.waiting):
            return Plan()  # nothing can start: no plan to make
        greedy = self.bace.decide(snapshot)
        if self._starving(snapshot):
            self.stats["lookahead_guarded"] += 1
            return greedy
        weights = self.prioritizer.weights_of(snapshot)
        ranked = sorted(snapshot.waiting, key=lambda j: (-weights[j.name], j.arrival_s, j.name))
        planned = [j for j in ranked if self.configs(snapshot, j)][: self.settings.max_jobs]
        configs = [self.configs(snapshot, j) for j in planned]
        value = np.full(len(planned), self.settings.jct_usd_per_h)
        horizon = build_horizon(snapshot, self.settings.shape)
        result = solve_plan(snapshot.instance, horizon, configs, value, self.time_limit_s)
        self.stats["lookahead_solves"] += 1
        if not result.ok:
            self.stats["lookahead_fallbacks"] += 1
            log.warning("epoch at t=%s: %s; using bace's plan", snapshot.time_s, result.message)
            return greedy
        plans = dict(zip((j.name for j in planned), result.jobs, strict=True))
        now = [j for j in planned if plans[j.name].rate_now >= SOME_RATE]
        now.sort(key=lambda j: (plans[j.name].completion_h, j.arrival_s, j.name))
        rest = [j for j in ranked if j.name not in plans]
        held = sum(1 for j in planned if plans[j.name].rate_now < SOME_RATE)
        chosen = self._place(snapshot, [*now, *rest])
        self.stats["lookahead_held"] += held
        return Plan(tuple(chosen))

    def _starving(self, snapshot: Snapshot) -> bool:
        """Whether ``bace``'s plan of this epoch reserved for a job waiting ``guard_h`` or more.

        An average-JCT plan keeps putting a large job behind smaller ones while they keep
        arriving (geo6-quarter: a 160 h wait against ``bace``'s 27 h; weighting waiting jobs up
        in the plan did not cure it, and cost average JCT). ``bace`` reserves for a blocked job
        once it has waited its patience; following its epoch then lets the job through."""
        guard_s = self.settings.guard_h * 3600.0
        arrival = {j.name: j.arrival_s for j in snapshot.waiting}
        return any(snapshot.time_s - arrival[r.job] >= guard_s for r in self.bace.last_reservations)

    def _place(self, snapshot: Snapshot, jobs: list[Job]) -> list[Placement]:
        """BACE-Pipe's placement of each job in turn on what is left, checked exactly."""
        ledger = Ledger.of(snapshot)
        chosen = []
        for job in jobs:
            if job.total_gpus > ledger.free_total:
                continue
            decision = self.bace.place(snapshot, job, ledger)
            if isinstance(decision, Wait):
                continue
            demand = ledger.demand(job, decision)
            if ledger.shortfall(demand, check_bandwidth=True):
                continue
            ledger.take(demand)
            chosen.append(decision)
        return chosen
