"""Reservations (EASY backfilling) in BACE-Pipe: a big job behind a stream of small ones starts at
its reservation under ``bace`` and starves under ``bace-no-reservation``; over random worlds, what
an epoch starts never delays the reserved job (given the expected ends)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from bace_opt.core.world import Snapshot
from bace_opt.io.read import parse_instance
from bace_opt.policies import make_policy
from bace_opt.policies.bace import BacePipe
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


def _snapshots(instance: Any) -> list[Snapshot]:
    seen: list[Snapshot] = []
    simulate(instance, make_policy("bace"), SimulationOptions(on_snapshot=seen.append))
    return [s for s in seen if s.waiting]


def _eager() -> BacePipe:
    """``bace`` without patience: the first job that cannot start is reserved for at once (more
    reservations per random world to check)."""
    return BacePipe("bace-eager", reserving=True)


@pytest.mark.parametrize("make", [_eager, lambda: make_policy("bace")], ids=["eager", "bace"])
@settings(max_examples=40, deadline=None)
@given(doc=world_docs(max_jobs=12, sizes=(8, 16)))
def test_what_starts_never_delays_the_reserved_job(
    make: Callable[[], object], doc: dict[str, Any]
) -> None:
    """At every epoch of a run: decide with reservations; if a job was reserved for, play the
    running jobs' and the plan's expected ends forward to the reserved start — the reserved
    placement must fit there, with its bandwidth."""
    for k, job in enumerate(doc["jobs"]):  # a burst: the queue builds up, so jobs get reserved for
        job["arrival_s"] = 10.0 * k
    instance = build(doc)
    for snapshot in _snapshots(instance):
        policy = make()
        assert isinstance(policy, BacePipe)
        plan = policy.decide(snapshot)
        reservation = policy.last_reservation
        if reservation is None:
            continue
        assert reservation.start_s >= snapshot.time_s - 1e-9
        assert reservation.job not in {p.job for p in plan}
        ledger = Ledger.of(snapshot)
        waiting = {j.name: j for j in snapshot.waiting}
        pending = [Release.of_running(instance, run) for run in snapshot.running]
        for placement in plan:
            job = waiting[placement.job]
            demand = ledger.demand(job, placement)
            ledger.take(demand)
            pending.append(Release(expected_end(instance, job, placement, snapshot.time_s), demand))
        for release in pending:
            if release.end_s <= reservation.start_s + 1e-6:
                ledger.release(release.demand)
        reserved = waiting[reservation.job]
        demand = ledger.demand(reserved, reservation.placement)
        assert not ledger.shortfall(demand, True), "a backfilled job took what it reserved"


def test_reservations_keep_every_job_finishing_once_and_feasible() -> None:
    instance = parse_instance(starving_world(), Path("."))
    result = simulate(instance, make_policy("bace"))
    assert sorted(r.name for r in result.records) == sorted(j.name for j in instance.jobs)
    assert all(r.end_s is not None and r.stall_s == 0.0 for r in result.records)
