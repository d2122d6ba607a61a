"""The simulator at scale, held to the schedules it made before: the greedy loop that merges one
line per fit shape (``policies.greedy``, the queue followed as a log) against the loop it
replaced (one list in the policy's order, every waiting job, every epoch), the cached and bounded
allocator checks against fresh exact ones, and the parts in between against naive versions."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pytest
import yaml

from bace_opt.core.placement import Plan
from bace_opt.core.prices import ConstantPrice, SeriesPrice
from bace_opt.core.world import Instance, Job, Region, Snapshot
from bace_opt.formulas.energy import gpu_second_rate, steady_rate
from bace_opt.io.read import parse_instance
from bace_opt.policies import make_policy
from bace_opt.policies.bace import BacePipe, Pathfinder, Prioritizer, WholeElseSplit
from bace_opt.policies.bace.pathfinder import Candidates
from bace_opt.policies.baselines import RandomPolicy, ShortestJobFirst, sjf_key
from bace_opt.policies.greedy import Epoch, GreedyPolicy, Wait, fit_shape
from bace_opt.policies.lineup import ArrivalTable, KeyedOrder, LiveEpoch, WaitingLog
from bace_opt.policies.registry import names_with
from bace_opt.policies.reservation import Booking
from bace_opt.resources.ledger import Ledger
from bace_opt.sim import SimulationOptions, simulate
from tests.conftest import INSTANCES

GREEDY = [n for role in ("bace", "ablation", "baseline") for n in names_with(role)]
"""Every registered greedy policy (all but ``milp``)."""


def stream(jobs: int, start_utc: str | None = None, constant: bool = False) -> Instance:
    """geo6-spec's world with ``jobs`` Poisson arrivals at 1.5 times what its GPUs serve: the
    queue grows all run. ``start_utc`` moves the run against the price series (which ends on
    2023-12-31); ``constant`` gives every region a constant price instead."""
    doc: dict[str, Any] = yaml.safe_load((INSTANCES / "geo6-spec.yaml").read_text())
    doc["workload"].update(
        count=jobs, arrivals={"process": "poisson", "rate_per_hour": 4.15}, seed=3
    )
    if start_utc:
        doc["start_utc"] = start_utc
    if constant:
        for k, region in enumerate(doc["regions"]):
            region["price"] = 0.05 + 0.03 * k
    return parse_instance(doc, INSTANCES)


# -- the loop it replaced ------------------------------------------------------------------------


def old_order(policy: GreedyPolicy, snapshot: Snapshot) -> list[Job]:
    """The orders as they were written: one sorted list per epoch."""
    waiting = list(snapshot.waiting)
    if isinstance(policy, ShortestJobFirst):
        return sorted(waiting, key=lambda j: sjf_key(snapshot.instance, j))
    if isinstance(policy, RandomPolicy):
        return [waiting[i] for i in policy.rng.permutation(len(waiting))]
    if isinstance(policy, BacePipe) and isinstance(policy.ordering, Prioritizer):
        prioritizer, w = policy.ordering, policy.ordering.weights
        utilization = snapshot.link_utilization()
        weight = {}
        for job in waiting:
            t = prioritizer.traits(snapshot.instance, job)
            wait_h = max(snapshot.time_s - job.arrival_s, 0.0) / 3600.0
            length = (1.0 + t.compute_h) ** w.length
            hunger = 1.0 + w.bandwidth * utilization * t.bandwidth_ratio
            weight[job.name] = (1.0 + w.aging_per_hour * wait_h) / (length * hunger)
        return sorted(waiting, key=lambda j: (-weight[j.name], j.arrival_s, j.name))
    return waiting


@dataclass
class FullScan:
    """The greedy loop before lines: every waiting job in one list, every epoch (a plain
    ``Policy``, so the simulator hands it snapshots)."""

    inner: GreedyPolicy
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def bandwidth_aware(self) -> bool:
        return self.inner.bandwidth_aware

    def decide(self, snapshot: Snapshot) -> Plan:
        p = self.inner
        if not snapshot.waiting:
            return Plan()
        ledger = Ledger.of(snapshot)
        free = ledger.free_total
        smallest = min(job.total_gpus for job in snapshot.waiting)
        chosen = []
        failed: set[Any] = set()
        booking = None
        if p.reserving:
            patience = (p.reserve_after_s, p.reserve_after_slowdown)
            booking = Booking(snapshot, ledger, p.bandwidth_aware, *patience, p.reservation_depth)
        for job in old_order(p, snapshot) if free >= smallest else ():
            if free < smallest:
                break
            if p.never_fits(snapshot.instance, job):
                continue
            shape = fit_shape(job)
            if shape in failed and not p.strict:
                continue
            too_big = job.total_gpus > free
            if too_big and not p.strict and not (booking is not None and booking.open):
                continue  # the lines skip a job too big for what is free, unless reserving
            decision: Any = Wait.NO_FIT
            if not too_big:
                decision = p.place(snapshot, job, ledger)
            if not isinstance(decision, Wait):
                demand = ledger.demand(job, decision)
                if not ledger.shortfall(demand, p.bandwidth_aware):
                    if booking is not None and booking.reservation is not None:
                        admitted = booking.admit(job, decision, demand, p.place)
                        if admitted is None:
                            booking.reserve_for(job, p.place, p.could_place)
                            continue
                        decision, demand = admitted
                    ledger.take(demand)
                    if booking is not None:
                        booking.started(job, decision, demand)
                    failed.clear()
                    free -= job.total_gpus
                    chosen.append(decision)
                    continue
                decision = Wait.NO_FIT
            if booking is not None:
                booking.reserve_for(job, p.place, p.could_place)
            if p.strict:
                break
            if decision is Wait.NO_FIT and p.shape_decides_fit:
                failed.add(shape)
        return Plan(tuple(chosen))


class Uncached(Pathfinder):
    """The pathfinder without its candidate caches."""

    def candidates(self, instance: Instance, job: Job, ledger: Ledger) -> Candidates:
        self._found.clear()
        return super().candidates(instance, job, ledger)

    def idle_candidates(self, instance: Instance, job: Job, usable: Any) -> Candidates:
        self._idle.clear()
        return super().idle_candidates(instance, job, usable)


@dataclass(frozen=True)
class Unbounded(WholeElseSplit):
    """The allocator without its remembered refusals: the exact check every time."""

    def choose(self, epoch: Epoch, job: Job, found: Candidates, pathfinder: Pathfinder) -> Any:
        self._held.clear()
        self._held_class.clear()
        return super().choose(epoch, job, found, pathfinder)


def reference(name: str) -> FullScan:
    """The policy ``name`` with the loop, pathfinder and allocator as they were."""
    policy = make_policy(name)
    assert isinstance(policy, GreedyPolicy)
    if isinstance(policy, BacePipe):
        policy.pathfinder = Uncached(policy.pathfinder.bandwidth)
        if isinstance(policy.allocator, WholeElseSplit):
            policy.allocator = Unbounded(policy.allocator.split_budget)
    return FullScan(policy)


def outputs(instance: Instance, policy: Any) -> tuple[Any, ...]:
    result = simulate(instance, policy, SimulationOptions(timing=False))
    return result.records, result.totals, result.timeline


@pytest.fixture(scope="module")
def overloaded() -> Instance:
    return stream(260)


@pytest.mark.parametrize("name", GREEDY)
def test_every_greedy_policy_schedules_as_the_full_scan_did(
    name: str, overloaded: Instance
) -> None:
    assert outputs(overloaded, make_policy(name)) == outputs(overloaded, reference(name))


@pytest.mark.parametrize(
    ("start_utc", "constant"),
    [("2023-12-30T00:00:00Z", False), ("2024-03-01T00:00:00Z", False), (None, True)],
    ids=["across-the-series-end", "past-the-series-end", "constant-prices"],
)
def test_bace_waits_as_the_exact_check_did_when_prices_stop_moving(
    start_utc: str | None, constant: bool
) -> None:
    """Past a series' end and under constant prices the allocator's refusals are bounded
    without the integrals (``steady_rate``); they must still be the exact check's."""
    instance = stream(220, start_utc, constant)
    for name in ("bace", "bace-no-pathfinder"):
        assert outputs(instance, make_policy(name)) == outputs(instance, reference(name))


def test_a_snapshot_is_decided_as_the_full_scan_did(overloaded: Instance) -> None:
    """``decide(snapshot)`` (``bace-opt epoch``, the MILP's greedy) makes its own log."""
    snapshots: list[Snapshot] = []
    simulate(
        overloaded, make_policy("fifo-firstfit"), SimulationOptions(on_snapshot=snapshots.append)
    )
    busiest = (
        sorted(snapshots, key=lambda s: -len(s.waiting))[:3] + snapshots[:: len(snapshots) // 5]
    )
    for name in GREEDY:
        for snapshot in busiest:
            assert make_policy(name).decide(snapshot) == reference(name).decide(snapshot), name


# -- the parts -----------------------------------------------------------------------------------


def test_prioritizer_weights_and_order_are_the_scalar_formula(overloaded: Instance) -> None:
    """Vectorized weights are the one-job formula to the bit; equal weights and arrivals order
    by name."""
    jobs = list(overloaded.jobs[:60])
    twins = [replace(jobs[0], name=f"twin-{c}") for c in "dbca"]
    waiting = tuple(jobs + twins)
    free = {r.name: r.gpus // 2 for r in overloaded.regions}
    residual = {d: c * 0.4 for d, c in overloaded.network.capacity.items()}
    snapshot = Snapshot(overloaded, 90_000.0, waiting, free, residual)
    reference_order = old_order(BacePipe(), snapshot)
    prioritizer = Prioritizer()
    assert [j.name for j in prioritizer.order(snapshot)] == [j.name for j in reference_order]
    weights = prioritizer.weights_of(snapshot)
    expected = {}
    for job in waiting:
        t = prioritizer.traits(overloaded, job)
        wait_h = max(snapshot.time_s - job.arrival_s, 0.0) / 3600.0
        hunger = 1.0 + 1.0 * snapshot.link_utilization() * t.bandwidth_ratio
        expected[job.name] = (1.0 + 0.25 * wait_h) / ((1.0 + t.compute_h) ** 1.0 * hunger)
    assert weights == expected
    lines = prioritizer.lineup(LiveEpoch.of(snapshot), WaitingLog.of(waiting), lambda j: True)
    merged = sorted((key, line.job(i).name) for line in lines for i, key in enumerate(line.keys))
    assert [name for _, name in merged] == [j.name for j in reference_order]


def test_lines_follow_the_queue_log() -> None:
    """Random arrivals and starts: every line is its shape's waiting jobs in key order (arrival
    order, a key, an epoch's order over the table), through the table's compactions."""
    instance = stream(400)
    rng = np.random.default_rng(5)
    log, waiting = WaitingLog(), []
    fifo, by_length, table = KeyedOrder(), KeyedOrder(sjf_key), ArrivalTable(width=1)
    epoch = LiveEpoch(instance, 0.0, {}, {}, log)
    joined = 0
    for _ in range(60):
        for _ in range(int(rng.integers(0, 12))):
            if joined < len(instance.jobs):
                log.join(instance.jobs[joined])
                waiting.append(instance.jobs[joined])
                joined += 1
        for _ in range(int(rng.integers(0, 10))):
            if waiting:
                log.leave(waiting.pop(int(rng.integers(len(waiting)))))
        keep = lambda job: job.stages != 4  # noqa: E731
        kept = [j for j in waiting if keep(j)]
        for order, key in ((fifo, None), (by_length, lambda j: sjf_key(instance, j))):
            lines = order.lineup(epoch, log, keep)
            expected = sorted(kept, key=key) if key else kept
            got = sorted(
                ((k, line.job(i)) for line in lines for i, k in enumerate(line.keys)),
                key=lambda p: p[0],
            )
            assert [j.name for _, j in got] == [j.name for j in expected]
            assert all(
                len({fit_shape(line.job(i)) for i in range(len(line.keys))}) == 1 for line in lines
            )
        table.sync(log, keep, lambda job: (job.arrival_s,))
        rows = table.live()
        assert [table.jobs[r].name for r in rows] == [j.name for j in waiting]  # type: ignore[union-attr]
        assert table.data[rows, 0].tolist() == [j.arrival_s for j in waiting]
        reverse = rows[::-1]
        got_t = sorted(
            (k, line.job(i).name) for line in table.lines(reverse) for i, k in enumerate(line.keys)
        )
        assert [n for _, n in got_t] == [j.name for j in reversed(waiting) if keep(j)]
    assert log.count == len(waiting)


def test_an_epoch_tries_a_few_jobs_not_the_queue() -> None:
    """fifo-firstfit on an overloaded stream: between two starts ``place`` is asked about at most
    one job per fit shape (a line that fails is skipped whole), where the full scan walked
    every waiting job at every epoch."""
    instance = stream(400)
    policy = make_policy("fifo-firstfit")
    assert isinstance(policy, GreedyPolicy)
    asked = 0
    place = policy.place

    def counting(epoch: Epoch, job: Job, ledger: Ledger) -> Any:
        nonlocal asked
        asked += 1
        return place(epoch, job, ledger)

    policy.place = counting  # type: ignore[method-assign]
    walked: list[int] = []
    options = SimulationOptions(timing=False, on_snapshot=lambda s: walked.append(len(s.waiting)))
    result = simulate(instance, policy, options)
    shapes = len({fit_shape(j) for j in instance.jobs})
    assert asked <= shapes * (result.totals.epochs + len(instance.jobs))
    assert asked < sum(walked) / 20


def test_steady_rate_bounds_the_computed_rate() -> None:
    """Past a series' end, and for a constant price, the computed ``gpu_second_rate`` is within
    the bound of the exact one for windows far and near; inside a series there is none."""
    instance = stream(10)
    rng = np.random.default_rng(11)
    for region in instance.regions:
        assert isinstance(region.price, SeriesPrice)
        end = float(region.price.times_s[-1])
        assert steady_rate(region, end - 1.0, 60.0) is None
        constant = Region(
            region.name, region.gpus, region.gpu_type, region.pue, ConstantPrice(0.07)
        )
        for r in (region, constant):
            for _ in range(200):
                t0 = end + float(rng.uniform(0, 1e9)) * float(rng.choice([1e-6, 1e-3, 1.0]))
                window = float(np.exp(rng.uniform(np.log(1.0), np.log(1e7))))
                steady = steady_rate(r, t0, window)
                assert steady is not None
                rate, rounding = steady
                assert abs(gpu_second_rate(r, t0, t0 + window) - rate) <= rounding


def test_the_simulator_hands_greedy_policies_the_log() -> None:
    """A greedy policy is asked through ``decide_live`` with the simulator's one log, which holds
    the jobs the snapshot callback sees."""
    instance = stream(50)
    seen: list[int] = []
    policy = make_policy("sjf")
    assert isinstance(policy, GreedyPolicy)
    logs: set[int] = set()
    decide_live = policy.decide_live

    def spy(epoch: LiveEpoch) -> Plan:
        logs.add(id(epoch.queue))
        assert epoch.queue.count == seen[-1]
        return decide_live(epoch)

    policy.decide_live = spy  # type: ignore[method-assign]
    simulate(instance, policy, SimulationOptions(on_snapshot=lambda s: seen.append(len(s.waiting))))
    assert len(logs) == 1 and max(seen) > 0
