"""Invariants of every policy over random worlds (hypothesis), and an independent replay of
max-min link sharing that must reproduce every bandwidth-unaware run's finish times."""

from __future__ import annotations

import itertools
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings

from bace_opt.core.world import Instance
from bace_opt.policies import make_policy
from bace_opt.policies.registry import names_with
from bace_opt.sim import simulate
from bace_opt.sim.records import JobRecord
from tests.worlds import build, fits_with_bandwidth, world_docs

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


def blocks(record: JobRecord) -> list[tuple[str, int]]:
    return [(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in record.placement.split(">")]


def peak_use(instance: Instance, records: list[JobRecord]) -> dict[str, int]:
    """Most GPUs in use at once per region, by a sweep over starts and ends."""
    jobs = {j.name: j for j in instance.jobs}
    events: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for r in records:
        if r.start_s is None or r.end_s is None:
            continue
        for region, stages in blocks(r):
            gpus = stages * jobs[r.name].gpus_per_stage
            events[region] += [(r.start_s, gpus), (r.end_s, -gpus)]
    peak = {}
    for region, items in events.items():
        level = top = 0
        for _, delta in sorted(items, key=lambda e: (e[0], e[1])):  # ends before starts
            level += delta
            top = max(top, level)
        peak[region] = top
    return peak


def fits_one_region(instance: Instance, name: str) -> bool:
    job = next(j for j in instance.jobs if j.name == name)
    return any(r.gpus // job.gpus_per_stage >= job.stages for r in instance.regions)


def ideal_run_time(instance: Instance, record: JobRecord) -> float:
    job = next(j for j in instance.jobs if j.name == record.name)
    placed = blocks(record)
    peak = min(instance.region[r].gpu_type.peak_tflops for r, _ in placed)
    t_c = (
        6
        * job.model.params
        * job.micro_batch_size
        * job.seq_len
        / job.stages
        / (job.gpus_per_stage * peak * 1e12 * instance.mfu)
    )
    lat = sum(
        2 * instance.network.latency_s((a, b)) for (a, _), (b, _) in itertools.pairwise(placed)
    )
    return job.iterations * ((job.micro_batches + job.stages - 1) * t_c + lat)


@pytest.mark.parametrize("policy", [*names_with("baseline"), "bace", *names_with("ablation")])
@SETTINGS
@given(doc=world_docs())
def test_invariants(policy: str, doc: dict) -> None:
    instance = build(doc)
    result = simulate(instance, make_policy(policy, seed=3))
    records = result.records
    assert sorted(r.name for r in records) == sorted(j.name for j in instance.jobs)
    for region, top in peak_use(instance, records).items():
        assert top <= instance.region[region].gpus, f"{region} over capacity"
    aware = make_policy(policy).bandwidth_aware
    jobs = {j.name: j for j in instance.jobs}
    for r in records:
        if policy == "cost-first" and not fits_one_region(instance, r.name):
            assert not r.finished  # rigid allocation: a job no single region holds never runs
            continue
        if aware and not fits_with_bandwidth(instance, jobs[r.name]):
            assert not r.finished  # no link will ever carry its crossings at their need
            continue
        assert r.finished, f"{r.name} never ran under {policy}: {r.status}"
        assert r.jct_s == pytest.approx(r.end_s - r.arrival_s)
        ideal = ideal_run_time(instance, r)
        assert r.end_s - r.start_s >= ideal * (1 - 1e-9)
        assert r.stall_s == pytest.approx(r.end_s - r.start_s - ideal, rel=1e-6, abs=1e-6)
        if make_policy(policy).bandwidth_aware:
            assert r.stall_s == 0.0


def replay_finish_times(instance: Instance, records: list[JobRecord]) -> dict[str, float]:
    """Given when and where each job started, integrate progress under max-min fair sharing —
    written from DESIGN §2 with no simulator code (full-mesh worlds: a crossing a→b loads the
    direct link both ways)."""
    jobs = {j.name: j for j in instance.jobs}
    cap = {(k.a, k.b): k.gbps for k in instance.links}
    cap |= {(k.b, k.a): k.gbps for k in instance.links}
    info = {}
    for r in records:
        job, placed = jobs[r.name], blocks(r)
        peak = min(instance.region[g].gpu_type.peak_tflops for g, _ in placed)
        t_c = (
            6
            * job.model.params
            * job.micro_batch_size
            * job.seq_len
            / job.stages
            / (job.gpus_per_stage * peak * 1e12 * instance.mfu)
        )
        act = job.micro_batch_size * job.seq_len * job.model.hidden * instance.bytes_per_element
        hops = [(a, b) for (a, _), (b, _) in itertools.pairwise(placed)]
        links = [d for a, b in hops for d in ((a, b), (b, a))]
        lat = sum(2 * cap_lat for cap_lat in (instance.network.latency_s(h) for h in hops))
        info[r.name] = dict(
            t_c=t_c,
            act=act,
            need=8 * act / t_c / 1e9,
            links=links,
            lat=lat,
            left=float(job.iterations),
            start=r.start_s,
            job=job,
        )

    def rates(active: list[str]) -> dict[str, float]:
        rate, frozen, room = {}, set(), dict(cap)
        flows = [n for n in active if info[n]["links"]]
        while len(frozen) < len(flows):
            live = [n for n in flows if n not in frozen]
            shares = {}
            for d in room:
                users = sum(info[n]["links"].count(d) for n in live)
                if users:
                    shares[d] = room[d] / users
            level = min(
                [min(shares.values(), default=float("inf"))] + [info[n]["need"] for n in live]
            )
            for n in live:
                if info[n]["need"] <= level or any(
                    shares.get(d) == level for d in info[n]["links"]
                ):
                    rate[n] = level
                    frozen.add(n)
                    for d in info[n]["links"]:
                        room[d] -= level
        return rate

    def t_iter(name: str, rate: float | None) -> float:
        i = info[name]
        tau = i["t_c"] if rate is None else max(i["t_c"], 8 * i["act"] / (rate * 1e9))
        return (i["job"].micro_batches + i["job"].stages - 1) * tau + i["lat"]

    t, finished, active = 0.0, {}, []
    pending = sorted(info, key=lambda n: info[n]["start"])
    while pending or active:
        r = rates(active)
        pace = {n: t_iter(n, r.get(n)) for n in active}
        next_end = min((t + info[n]["left"] * pace[n] for n in active), default=float("inf"))
        next_start = info[pending[0]]["start"] if pending else float("inf")
        t_next = min(next_end, next_start)
        for n in active:
            info[n]["left"] -= (t_next - t) / pace[n]
        t = t_next
        for n in [n for n in active if info[n]["left"] <= 1e-9 * info[n]["job"].iterations]:
            active.remove(n)
            finished[n] = t
        while pending and info[pending[0]]["start"] <= t:
            active.append(pending.pop(0))
    return finished


@pytest.mark.parametrize(
    "policy", ["delay-first", "cost-first-spill", "fifo-firstfit", "random", "bace-no-pathfinder"]
)
@SETTINGS
@given(doc=world_docs(max_jobs=8, sizes=(8, 16), min_regions_per_job=2))
def test_slowed_run_times_match_max_min_sharing(policy: str, doc: dict) -> None:
    instance = build(doc)
    records = [r for r in simulate(instance, make_policy(policy, seed=1)).records if r.finished]
    replayed = replay_finish_times(instance, records)
    for r in records:
        assert r.end_s == pytest.approx(replayed[r.name], rel=1e-7, abs=1e-6), r.name
