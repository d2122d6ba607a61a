"""Reservations (EASY backfilling, and conservative at a depth above 1) in BACE-Pipe: a big job
behind a stream of small ones starts at its reservation under ``bace`` and starves under
``bace-no-reservation``; over random worlds, what an epoch starts never delays a reserved job, nor
does a later reservation (given the expected ends)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from bace_opt.core.placement import Placement
from bace_opt.core.world import Running, Snapshot
from bace_opt.io.read import parse_instance
from bace_opt.policies import make_policy
from bace_opt.policies.bace import ArrivalOrder, BacePipe
from bace_opt.policies.reservation import expected_end
from bace_opt.resources.demand import Release
from bace_opt.resources.ledger import Ledger
from bace_opt.sim import SimulationOptions, simulate
from tests.worlds import build, world_docs


def _job(name: str, arrival_s: float, stages: int, iterations: int) -> dict[str, Any]:
    return {
        "name": name,
        "arrival_s": arrival_s,
        "model": "gpt3-1.3b",
        "stages": stages,
        "gpus_per_stage": 1,
        "iterations": iterations,
        "micro_batches": 8,
        "micro_batch_size": 2,
        "seq_len": 2048,
    }


def starving_world() -> dict[str, Any]:
    """One 8-GPU region. A 4-GPU job runs from t=0; an 8-GPU job arrives at 30 s; from 60 s a
    4-GPU job arrives every minute, each longer than the first. Without a reservation every GPU
    freed goes to the next small job (the big one never finds 8 free until the stream ends);
    with one, the big job starts as soon as the small jobs running when it was reserved for
    have ended (482.4 s)."""
    jobs = [_job("s00", 0, 4, 300), _job("big", 30, 8, 100)]
    jobs += [_job(f"s{k:02d}", 60 * k, 4, 600) for k in range(1, 13)]
    return {
        "name": "starve",
        "max_regions": 1,
        "gpu_types": [{"name": "A100", "peak_tflops": 312, "power_kw": 0.4, "memory_gb": 80}],
        "regions": [{"name": "solo", "gpus": 8, "gpu_type": "A100", "pue": 1.2, "price": 0.1}],
        "links": [],
        "jobs": jobs,
    }


def test_a_big_job_starts_at_its_reservation_and_starves_without() -> None:
    instance = parse_instance(starving_world(), Path("."))
    starts = {}
    for policy in ("bace", "bace-no-reservation"):
        records = {r.name: r for r in simulate(instance, make_policy(policy)).records}
        starts[policy] = records
    bace = starts["bace"]
    # its patience (its ideal run time, 48 s) runs out while s00 and s01 hold the region; it is
    # reserved for at s00's end and starts when s01 ends: no later small job jumps ahead
    assert bace["big"].start_s == bace["s01"].end_s
    assert bace["s01"].end_s is not None and abs(bace["s01"].end_s - 482.4) < 1e-6
    later = [bace[f"s{k:02d}"].start_s for k in range(2, 13)]
    assert all(s is not None and s >= bace["big"].start_s for s in later)
    starved = starts["bace-no-reservation"]
    small_starts = [r.start_s for n, r in starved.items() if n != "big"]
    assert starved["big"].start_s is not None
    assert all(s is not None and s < starved["big"].start_s for s in small_starts)
    assert starved["big"].wait_s is not None and starved["big"].wait_s > 10 * 181.2


def _snapshots(instance: Any, policy: Any = None) -> list[Snapshot]:
    seen: list[Snapshot] = []
    policy = policy or make_policy("bace")
    simulate(instance, policy, SimulationOptions(on_snapshot=seen.append))
    return [s for s in seen if s.waiting]


def _eager(depth: int = 1) -> BacePipe:
    """``bace`` without patience: the first job that cannot start is reserved for at once (more
    reservations per random world to check)."""
    return BacePipe("bace-eager", reserving=True, reservation_depth=depth)


def _deep(depth: int) -> BacePipe:
    policy = make_policy("bace")
    assert isinstance(policy, BacePipe)
    return replace(policy, reservation_depth=depth)


MAKERS = [
    _eager,
    lambda: make_policy("bace"),
    lambda: _eager(3),
    lambda: _deep(3),
    lambda: _eager(50),
]


@pytest.mark.parametrize("make", MAKERS, ids=["eager", "bace", "eager-3", "bace-3", "eager-50"])
@settings(max_examples=40, deadline=None)
@given(doc=world_docs(max_jobs=20, sizes=(8, 16)))
def test_what_starts_never_delays_the_reserved_job(
    make: Callable[[], object], doc: dict[str, Any]
) -> None:
    """At every epoch of a run: decide with reservations; for each job reserved for, play the
    running jobs' and the plan's expected ends forward to its reserved start, with the other
    reservations holding what they hold then — its placement must fit there, with its
    bandwidth (at depth 1 there is one reservation and no other holds)."""
    for k, job in enumerate(doc["jobs"]):  # a burst: the queue builds up, so jobs get reserved for
        job["arrival_s"] = 10.0 * k
    instance = build(doc)
    for snapshot in _snapshots(instance, make()):  # its own run
        policy = make()
        assert isinstance(policy, BacePipe)
        plan = policy.decide(snapshot)
        reservations = policy.last_reservations
        assert len(reservations) <= policy.reservation_depth
        assert policy.last_reservation is (reservations[0] if reservations else None)
        waiting = {j.name: j for j in snapshot.waiting}
        planned = {p.job for p in plan}
        now = Ledger.of(snapshot)
        pending = [Release.of_running(instance, run) for run in snapshot.running]
        for placement in plan:
            job = waiting[placement.job]
            demand = now.demand(job, placement)
            now.take(demand)
            pending.append(Release(expected_end(instance, job, placement, snapshot.time_s), demand))
        assert len({r.job for r in reservations}) == len(reservations)
        for reservation in reservations:
            assert reservation.start_s >= snapshot.time_s - 1e-9
            assert reservation.job not in planned
            ledger = now.copy()
            for release in pending:
                if release.end_s <= reservation.start_s + 1e-6:
                    ledger.release(release.demand)
            for other in reservations:
                if other is not reservation and other.start_s <= reservation.start_s < other.end_s:
                    ledger.take(ledger.demand(waiting[other.job], other.placement))
            demand = ledger.demand(waiting[reservation.job], reservation.placement)
            assert not ledger.shortfall(demand, True), "a backfilled job or a hold took its room"


def test_a_job_started_is_booked_into_every_reservation_it_runs_across() -> None:
    """One 8-GPU region, 6 GPUs held until t=100. ``big6`` is reserved for at 100 (2 GPUs spare
    then); ``big7`` at ``big6``'s end (1 spare). Two long 1-GPU jobs could start now: at depth 1
    both do (``big6`` leaves 2); at depth 2 the first takes ``big7``'s one spare GPU, so the
    second waits — or it would delay ``big7``."""
    world = starving_world()
    world["jobs"] = [
        _job("big6", 0, 6, 100),
        _job("big7", 1, 7, 100),
        _job("long1", 2, 1, 100_000),
        _job("long2", 3, 1, 100_000),
    ]
    instance = parse_instance(world, Path("."))
    held = Running("held", Placement.parse("held", "solo:6"), 0.0, 100.0)
    snapshot = Snapshot(instance, 10.0, instance.jobs, {"solo": 2}, {}, (held,))
    started = {}
    for depth in (1, 2):
        policy = BacePipe("eager", reserving=True, reservation_depth=depth, ordering=ArrivalOrder())
        started[depth] = [p.job for p in policy.decide(snapshot)]
        made = [(r.job, r.start_s) for r in policy.last_reservations]
        assert made[0] == ("big6", 100.0)
        assert [job for job, _ in made] == ["big6", "big7"][:depth]
        if depth == 2:  # big7 waits for big6's hold to end, not for the release at 100
            assert made[1][1] == policy.last_reservations[0].end_s > 100.0
    assert started == {1: ["long1", "long2"], 2: ["long1"]}


def test_reservations_keep_every_job_finishing_once_and_feasible() -> None:
    instance = parse_instance(starving_world(), Path("."))
    result = simulate(instance, make_policy("bace"))
    assert sorted(r.name for r in result.records) == sorted(j.name for j in instance.jobs)
    assert all(r.end_s is not None and r.stall_s == 0.0 for r in result.records)
