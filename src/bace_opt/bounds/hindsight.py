"""The hindsight schedule (DESIGN §5b): a feasible schedule of the whole run made from the JCT LP's
solution, the upper end of ``bound ≤ optimum ≤ hindsight``.

From the LP's shares x[j, c, s]: each job's *order key* (its α-point, the time by which a share α
of its work is done, work in a slot dated from the slot's start or the arrival and done at the
configuration's own pace; or its LP completion time C_j) and its *LP placements* (configurations
by their share, largest first). ``HindsightPolicy`` walks the waiting jobs in key order at every
epoch and starts each on the first LP placement that fits now, else where BACE-Pipe's pathfinder
and allocator put it (the greedy machinery, reused), else leaves it waiting; then, by ``mode``,
later jobs may still start (backfill), or the walk stops there (strict), or it also stops at a job
not yet arrived, so that GPUs idle for it (list scheduling in LP order over all jobs).

Each variant (order × mode) is run by the real simulator, which checks every placement (GPUs,
links: the policy is bandwidth-aware) and raises on an infeasible one; the best run that finishes
every job (least average JCT, then cost) is improved by local search (``improve``), and its
``jobs.csv`` replayed as a fixed plan (``ReplayPolicy``), which must give the same file.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bace_opt.bounds.data import RelaxationData
from bace_opt.bounds.relaxation import completion_at
from bace_opt.core.placement import Block, Placement, Plan
from bace_opt.core.world import Instance, Job, Snapshot
from bace_opt.policies.bace import BacePipe
from bace_opt.policies.greedy import Wait
from bace_opt.report.columns import JOB_COLUMNS
from bace_opt.report.files import csv_text, job_row
from bace_opt.resources.configurations import Config
from bace_opt.resources.ledger import Ledger
from bace_opt.sim import SimulationOptions, SimulationResult, simulate
from bace_opt.sim.records import JobRecord

ALPHA = 0.5  # the α of the α-point order
BACKFILL, STRICT, LIST = "backfill", "strict", "list"
MODES = (BACKFILL, STRICT, LIST)
SHARE_FLOOR = 1e-6  # a configuration with less of a job's work is not one of its LP placements
Score = tuple[int, float, float]
"""Jobs never run, average JCT, total cost: less is better, in that order."""


class ReplayError(RuntimeError):
    """The replay of a hindsight schedule did not reproduce it (a bug)."""


def placement_of(job: Job, config: Config) -> Placement:
    blocks = tuple(Block(r, n) for r, n in zip(config.regions, config.stages, strict=True))
    return Placement(job.name, blocks)


def alpha_points(data: RelaxationData, shares: Sequence[float], alpha: float) -> list[float]:
    """Per job, the time by which a share ``alpha`` of its work is done in the LP's solution:
    slot by slot from ``max(t_s, a_j)``, each configuration's share taking ``D_c · x`` seconds."""
    per_slot: list[dict[int, list[float]]] = [{} for _ in range(data.n_jobs)]
    for (j, c, s), x in zip(data.columns, shares, strict=True):
        if x > 0:
            cell = per_slot[j].setdefault(s, [0.0, 0.0])
            cell[0] += x
            cell[1] += x * data.jobs[j].configs[c].run_s
    out = []
    for j, slots in enumerate(per_slot):
        total = sum(w for w, _ in slots.values()) or 1.0
        goal, done, at = alpha * total, 0.0, data.jobs[j].job.arrival_s
        for s in sorted(slots):
            work, seconds = slots[s]
            at = data.busy_start(j, s)
            if done + work >= goal:
                at += seconds * (goal - done) / work
                break
            done += work
            at += seconds
        out.append(at)
    return out


@dataclass(frozen=True)
class LpOrder:
    """What the hindsight policy takes from the LP: an order key and LP placements per job."""

    method: str
    key: Mapping[str, float]
    placements: Mapping[str, tuple[Placement, ...]]


def lp_orders(data: RelaxationData, shares: Sequence[float]) -> list[LpOrder]:
    """The α-point order and the LP completion order, with each job's LP placements."""
    weight: list[dict[int, float]] = [{} for _ in range(data.n_jobs)]
    for (j, c, _), x in zip(data.columns, shares, strict=True):
        weight[j][c] = weight[j].get(c, 0.0) + x
    placements = {}
    for j, jp in enumerate(data.jobs):
        ranked = sorted(weight[j].items(), key=lambda kv: (-kv[1], kv[0]))
        placements[jp.job.name] = tuple(
            placement_of(jp.job, jp.configs[c]) for c, w in ranked if w >= SHARE_FLOOR
        )
    names = [jp.job.name for jp in data.jobs]
    keys = {
        f"alpha-point {ALPHA:g}": alpha_points(data, shares, ALPHA),
        "LP completion": completion_at(data, list(shares)),
    }
    return [
        LpOrder(method, dict(zip(names, values, strict=True)), placements)
        for method, values in keys.items()
    ]


@dataclass
class HindsightPolicy:
    """Starts waiting jobs in the LP's order, each on its LP placements when one fits now, else
    where BACE-Pipe would put it (Policy protocol; bandwidth-aware, so nothing stalls). ``mode``:
    ``BACKFILL`` tries every waiting job; ``STRICT`` stops at the first waiting job that does not
    start; ``LIST`` also stops at a job not yet arrived (GPUs may idle for it)."""

    lp: LpOrder
    mode: str = BACKFILL
    instance: Instance | None = None  # LIST needs the arrival times of jobs not yet arrived
    name: str = "hindsight"
    bandwidth_aware: bool = True
    stats: dict[str, int] = field(default_factory=dict)
    fallback: BacePipe = field(default_factory=lambda: BacePipe("hindsight-fallback"))

    def __post_init__(self) -> None:
        jobs = self.instance.jobs if self.instance is not None else ()
        self._arrival = {j.name: j.arrival_s for j in jobs}
        self._all = sorted(self._arrival, key=lambda n: (self.lp.key[n], n))

    def _place(self, snapshot: Snapshot, job: Job, ledger: Ledger) -> Placement | None:
        for placement in self.lp.placements.get(job.name, ()):
            if not ledger.problems(job, placement, self.bandwidth_aware)[0]:
                return placement
        if job.total_gpus > ledger.free_total:
            return None
        chosen = self.fallback.place(snapshot, job, ledger)
        if isinstance(chosen, Wait) or ledger.problems(job, chosen, self.bandwidth_aware)[0]:
            return None
        return chosen

    def decide(self, snapshot: Snapshot) -> Plan:
        ledger = Ledger.of(snapshot)
        waiting: dict[str, Job | None] = {j.name: j for j in snapshot.waiting}
        if self.mode == LIST:  # every job in order, arrived or not: a later one never overtakes
            t, names = snapshot.time_s, self._all
            order = [waiting.get(n) for n in names if n in waiting or self._arrival[n] > t]
        else:
            order = [waiting[n] for n in sorted(waiting, key=lambda n: (self.lp.key[n], n))]
        chosen = []
        for job in order:
            placement = None if job is None else self._place(snapshot, job, ledger)
            if job is None or placement is None:
                if self.mode != BACKFILL:
                    break
                continue
            ledger.take(ledger.demand(job, placement))
            chosen.append(placement)
        return Plan(tuple(chosen))


@dataclass
class ReplayPolicy:
    """A fixed plan: each job started at its given time on its given placement."""

    plan: Mapping[str, tuple[float, Placement]]
    name: str = "hindsight-replay"
    bandwidth_aware: bool = True
    stats: dict[str, int] = field(default_factory=dict)

    def decide(self, snapshot: Snapshot) -> Plan:
        due = []
        for job in snapshot.waiting:
            start, placement = self.plan[job.name]
            if start < snapshot.time_s:
                raise ReplayError(f"{job.name}: due at {start!r}, no epoch then")
            if start == snapshot.time_s:
                due.append(placement)
        return Plan(tuple(due))


def parse_jobs_csv(text: str) -> dict[str, tuple[float, Placement]]:
    """The fixed plan a ``jobs.csv`` holds (every job must have run)."""
    plan = {}
    for row in csv.DictReader(io.StringIO(text)):
        if not row["start_s"]:
            raise ReplayError(f"{row['name']}: never ran")
        plan[row["name"]] = (float(row["start_s"]), Placement.parse(row["name"], row["placement"]))
    return plan


def _ranks(key: Mapping[str, float]) -> dict[str, float]:
    """The same order as ``key``, as ranks 0, 1, … (ties broken by name, as the policy does)."""
    ranked = sorted(key, key=lambda n: (key[n], n))
    return {n: float(i) for i, n in enumerate(ranked)}


def _score(result: SimulationResult) -> Score:
    done = result.records
    return sum(not r.finished for r in done), average_jct(done), sum(r.cost_usd for r in done)


def average_jct(records: Sequence[JobRecord]) -> float:
    """Over the finished jobs (inf when none finished)."""
    done = [r.jct_s for r in records if r.jct_s is not None]
    return sum(done) / len(done) if done else float("inf")


@dataclass(frozen=True)
class Hindsight:
    """The kept schedule: its records, its ``jobs.csv`` text and the variants tried."""

    method: str
    result: SimulationResult
    csv: str
    variants: tuple[dict[str, Any], ...]

    def to_json(self, jobs_csv: str | None) -> dict[str, Any]:
        missing, jct, cost = _score(self.result)
        return {
            "avg_jct_s": jct,
            "total_cost_usd": cost,
            "jobs_csv": jobs_csv,
            "jobs_finished": len(self.result.records) - missing,
            "method": self.method,
            "replayed": True,
            "variants": list(self.variants),
        }


def replay(instance: Instance, text: str) -> SimulationResult:
    """Simulate the fixed plan of ``text`` (a ``jobs.csv``); raises if the simulator refuses it."""
    plan = parse_jobs_csv(text)
    return simulate(instance, ReplayPolicy(plan), SimulationOptions(timing=False))


def _variant(order: str, mode: str, score: Score) -> dict[str, Any]:
    jct, cost = (score[1], score[2]) if score[0] == 0 else (None, None)
    return {"order": order, "mode": mode, "jobs_never_ran": score[0], "avg_jct_s": jct} | {
        "total_cost_usd": cost
    }


def _run(instance: Instance, lp: LpOrder, mode: str) -> tuple[Score, SimulationResult]:
    result = simulate(
        instance, HindsightPolicy(lp, mode, instance), SimulationOptions(timing=False)
    )
    return _score(result), result


JUMPS = 3  # how many jobs ahead of (or holding GPUs for) a job that waited its moves look at


def _moves(data: RelaxationData, lp: LpOrder, run: SimulationResult) -> list[LpOrder]:
    """The neighbours of an order, for the jobs that waited first (longest wait first): the job
    just before a job ahead of it that started while it waited, or on another LP placement or its
    fastest configuration first, or a job holding GPUs then so; then adjacent jobs swapped."""
    start = {r.name: r.start_s for r in run.records if r.start_s is not None}
    waited = sorted((r for r in run.records if r.wait_s), key=lambda r: (-(r.wait_s or 0), r.name))
    jobs = {jp.job.name: jp for jp in data.jobs}
    out = []

    def place(name: str) -> None:
        jp, have = jobs[name], lp.placements.get(name, ())
        fastest = placement_of(jp.job, min(jp.configs, key=lambda c: (c.run_s, c.describe())))
        for other in (*have[1:], fastest):
            if not have or other != have[0]:
                tried = (other, *(p for p in have if p != other))
                out.append(LpOrder(lp.method, lp.key, {**lp.placements, name: tried}))

    for r in waited:
        key, began = lp.key[r.name], start.get(r.name, float("inf"))
        ahead = [n for n, t in start.items() if r.arrival_s <= t < began and lp.key[n] < key]
        for n in sorted(ahead, key=lambda n: (-start[n], n))[:JUMPS]:
            out.append(
                LpOrder(lp.method, _ranks({**lp.key, r.name: lp.key[n] - 0.5}), lp.placements)
            )
        place(r.name)
        held = [x for x in run.records if x.end_s and x.end_s > r.arrival_s and x.name in start]
        for x in sorted(held, key=lambda x: (-(x.end_s or 0), x.name))[:JUMPS]:
            if start[x.name] < began:
                place(x.name)  # a job holding GPUs while r waited, placed elsewhere
    ranked = sorted(lp.key, key=lambda n: (lp.key[n], n))
    for a, b in itertools.pairwise(ranked):
        out.append(LpOrder(lp.method, {**lp.key, a: lp.key[b], b: lp.key[a]}, lp.placements))
    for name in ranked:
        place(name)
    return out


def improve(
    data: RelaxationData, lp: LpOrder, mode: str, start: tuple[Score, SimulationResult], budget: int
) -> tuple[LpOrder, Score, SimulationResult, int]:
    """First-improvement local search over ``_moves``, each neighbour simulated, at most ``budget``
    simulations (a count: deterministic): for 3/4 of them only moves that shorten the average JCT
    are taken, then cheaper ones too. The best order, its score and run, simulations made."""
    (score, run), used = start, 0
    for width, limit in ((2, budget * 3 // 4), (3, budget)):
        improved = True
        while improved and used < limit:
            improved = False
            for candidate in _moves(data, lp, run):
                if used >= limit:
                    break
                used += 1
                got, result = _run(data.instance, candidate, mode)
                if got[:width] < score[:width]:
                    lp, score, run, improved = candidate, got, result, True
                    break
    return lp, score, run, used


IMPROVE_EVALUATIONS = 400  # simulations the local search may make (a count: deterministic)


def hindsight_schedule(
    data: RelaxationData, shares: Sequence[float], evaluations: int = IMPROVE_EVALUATIONS
) -> Hindsight | None:
    """The best variant's schedule, improved by local search, replayed and checked; None when no
    variant runs every job."""
    instance = data.instance
    best: tuple[Score, LpOrder, str, SimulationResult] | None = None
    variants: list[dict[str, Any]] = []
    for lp in lp_orders(data, shares):
        lp = LpOrder(lp.method, _ranks(lp.key), lp.placements)
        for mode in MODES:
            score, result = _run(instance, lp, mode)
            variants.append(_variant(lp.method, mode, score))
            if score[0] == 0 and (best is None or score < best[0]):
                best = (score, lp, mode, result)
    if best is None:
        return None
    score, lp, mode, result = best
    lp, improved, result, used = improve(data, lp, mode, (score, result), evaluations)
    variants.append(_variant(f"{lp.method}, then {used} local search steps", mode, improved))
    text = csv_text(JOB_COLUMNS, (job_row(r) for r in result.records))
    again = replay(instance, text)
    if csv_text(JOB_COLUMNS, (job_row(r) for r in again.records)) != text:
        raise ReplayError("the replayed hindsight schedule differs from the one simulated")
    method = (
        f"list scheduling in the JCT LP's {lp.method} order ({mode} mode): each job on its LP "
        "configurations when one fits, else BACE-Pipe's placement; the best (avg JCT, then cost) "
        "of alpha-point and LP-completion orders in modes backfill, strict and list, then local "
        "search (a job that waited moved ahead, adjacent swaps, other first placements; "
        f"{used} simulations); replayed by the simulator as a fixed plan"
    )
    return Hindsight(method, result, text, tuple(variants))
