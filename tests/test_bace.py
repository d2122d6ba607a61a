"""BACE-Pipe: the prioritizer's formula, the pathfinder against brute force, the allocator against
an exhaustive search of placements, and its promises in the simulator (no stall, no link over)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bace_opt.core.placement import Placement
from bace_opt.core.world import Instance, Job, Snapshot
from bace_opt.errors import InputError
from bace_opt.formulas.placement import epoch_cost
from bace_opt.io.read import load_instance, parse_instance
from bace_opt.policies import make_policy
from bace_opt.policies.bace import (
    BacePipe,
    CheapestPath,
    Prioritizer,
    PriorityWeights,
    WholeElseSplit,
)
from bace_opt.policies.bace.pathfinder import PathIndex, feasible_paths
from bace_opt.policies.registry import parse_weights
from bace_opt.resources.feasibility import placement_problems
from bace_opt.resources.ledger import Ledger
from bace_opt.sim import simulate
from tests.conftest import INSTANCES
from tests.worlds import all_placements, build, world_docs

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


def snapshot_of(
    instance: Instance,
    time_s: float = 0.0,
    free: dict[str, int] | None = None,
    residual: dict[tuple[str, str], float] | None = None,
) -> Snapshot:
    return Snapshot(
        instance,
        time_s,
        instance.jobs,
        {r.name: r.gpus for r in instance.regions} | (free or {}),
        dict(instance.network.capacity) | (residual or {}),
    )


# -- prioritizer ----------------------------------------------------------------------------------


def test_priority_weight_by_hand() -> None:
    tiny3 = load_instance(INSTANCES / "tiny3.yaml")
    # j1: gpt3-1.3b, S=4, g=4, M=16, I=1000: D₀ = 1000·19·0.032 = 608 s
    # links 10, 5, 2.5 Gbit/s both ways: mean 5.8333; need 8.388608 → β = 1.438047...
    # half of all capacity reserved: u = 0.5; at t = 3600 + 0 s, j1 has waited 1 h
    capacity = tiny3.network.capacity
    residual = {d: c / 2 for d, c in capacity.items()}
    snap = snapshot_of(tiny3, time_s=3600.0, residual=residual)
    weights = Prioritizer(PriorityWeights(aging_per_hour=0.25, length=1.0, bandwidth=1.0))
    beta = 8.388608 / (35.0 / 6)
    expected = 1.25 / ((1 + 608 / 3600) * (1 + 0.5 * beta))
    assert weights.weights_of(snap)["j1"] == pytest.approx(expected, rel=1e-12)


def test_short_jobs_first_and_busy_links_make_hungry_jobs_yield() -> None:
    tiny3 = load_instance(INSTANCES / "tiny3.yaml")
    idle = snapshot_of(tiny3, time_s=600.0)
    order = [j.name for j in Prioritizer().order(idle)]
    # D₀: j1 608 s, j2 (13B, I=200) ~3040 s... j3 (7B S=4 g=2, I=300), j4 (2.7B, I=2000)
    lengths = {j.name: Prioritizer().traits(tiny3, j).compute_h for j in tiny3.jobs}
    assert order[0] == min(lengths, key=lengths.__getitem__)
    busy = snapshot_of(tiny3, time_s=600.0, residual={d: 0.0 for d in tiny3.network.capacity})
    w_idle, w_busy = Prioritizer().weights_of(idle), Prioritizer().weights_of(busy)
    drop = {n: w_busy[n] / w_idle[n] for n in w_idle}
    traits = {j.name: Prioritizer().traits(tiny3, j).bandwidth_ratio for j in tiny3.jobs}
    hungriest = max(traits, key=traits.__getitem__)
    assert drop[hungriest] == min(drop.values())


def test_aging_overtakes_length() -> None:
    tiny3 = load_instance(INSTANCES / "tiny3.yaml")
    p = Prioritizer()
    long_job = max(tiny3.jobs, key=lambda j: p.traits(tiny3, j).compute_h)
    late = snapshot_of(tiny3, time_s=long_job.arrival_s + 1000 * 3600.0)
    assert p.order(late)[0].arrival_s == min(j.arrival_s for j in tiny3.jobs)


# -- pathfinder and allocator against brute force -------------------------------------------------


def feasible(instance: Instance, snap: Snapshot, job: Job, bandwidth: bool) -> list[Placement]:
    residual = dict(snap.residual_gbps) if bandwidth else None
    return [
        p
        for p in all_placements(instance, job)
        if not placement_problems(instance, job, p, dict(snap.free_gpus), residual)
    ]


def random_snapshot(doc: dict) -> tuple[Instance, Snapshot]:
    instance = build(doc)
    rng = np.random.default_rng(len(str(doc)))
    free = {r.name: int(rng.integers(0, r.gpus + 1)) for r in instance.regions}
    residual = {d: float(rng.uniform(0, c)) for d, c in instance.network.capacity.items()}
    return instance, snapshot_of(
        instance, time_s=float(rng.uniform(0, 86400)), free=free, residual=residual
    )


def test_pair_bottleneck_is_the_least_residual_on_both_routes() -> None:
    """By hand over hetero4's routes (relays on; one pair has no direct link): per ordered pair,
    the least residual over the link directions of the forward and backward routes, a direction
    used twice counting half; 0 without routes."""
    hetero4 = load_instance(INSTANCES / "hetero4.yaml")
    index = PathIndex.build(hetero4)
    rng = np.random.default_rng(4)
    residual = {d: float(rng.uniform(0, c)) for d, c in hetero4.network.capacity.items()}
    got = index.bottleneck(residual)
    net, relayed = hetero4.network, 0
    for i, a in enumerate(index.names):
        for j, b in enumerate(index.names):
            fwd, bwd = net.route(a, b), net.route(b, a)
            if i == j or fwd is None or bwd is None:
                assert got[i, j] == 0.0
                continue
            relayed += len(fwd) > 1
            uses = [*fwd, *bwd]
            assert got[i, j] == min(residual[d] / uses.count(d) for d in uses)
    assert relayed > 0, "hetero4 should exercise a relayed route"


@SETTINGS
@given(doc=world_docs(max_jobs=3, sizes=(8, 16), min_regions_per_job=2))
def test_pathfinder_finds_exactly_the_feasible_paths(doc: dict) -> None:
    instance, snap = random_snapshot(doc)
    index = PathIndex.build(instance)
    ledger = Ledger.of(snap)
    bottleneck = index.bottleneck(ledger.residual)
    for job in instance.jobs:
        slots = np.array([ledger.free[n] for n in index.names]) // job.gpus_per_stage
        usable = np.ones(len(index.names), dtype=bool)
        found = {
            tuple(index.names[i] for i in row)
            for ps in feasible_paths(index, instance, job, slots, usable, bottleneck)
            for row in ps.regions
        }
        expected = {p.regions for p in feasible(instance, snap, job, bandwidth=True)}
        assert found == expected


@SETTINGS
@given(doc=world_docs(max_jobs=3, sizes=(8, 16, 32), min_regions_per_job=2))
def test_allocator_is_the_cheapest_feasible_placement(doc: dict) -> None:
    """The paper-literal allocator (no split budget): the cheapest of all feasible placements."""
    instance, snap = random_snapshot(doc)
    policy = BacePipe(allocator=CheapestPath())
    for job in instance.jobs:
        one = Snapshot(instance, snap.time_s, (job,), snap.free_gpus, snap.residual_gbps)
        plan = policy.decide(one)
        options = feasible(instance, snap, job, bandwidth=True)
        if not options:
            assert len(plan) == 0
            continue
        best = min(epoch_cost(instance, job, p, snap.time_s) for p in options)
        (chosen,) = plan.placements
        assert epoch_cost(instance, job, chosen, snap.time_s) == pytest.approx(best, rel=1e-9)


def fewest_regions(options: list[Placement]) -> list[Placement]:
    k = min((len(p.blocks) for p in options), default=0)
    return [p for p in options if len(p.blocks) == k]


@SETTINGS
@given(
    doc=world_docs(max_jobs=3, sizes=(8, 16, 32), min_regions_per_job=2),
    budget=st.sampled_from([0.0, 0.1, 1.0, 10.0]),
)
def test_split_budget_runs_whole_when_it_can_and_splits_only_near_the_ideal(
    doc: dict, budget: float
) -> None:
    """The default allocator against brute force: whole in the cheapest region that holds the job
    now; else the cheapest over the fewest regions, taken only within 1 + budget of the cheapest
    fewest-region placement in an empty world; else nothing."""
    instance, snap = random_snapshot(doc)
    policy = BacePipe(allocator=WholeElseSplit(budget))
    empty = snapshot_of(instance, time_s=snap.time_s)
    for job, crowded in itertools.product(instance.jobs, (False, True)):
        free, residual = dict(snap.free_gpus), dict(snap.residual_gbps)
        if crowded:  # idle links, but no region holds the job whole: the split branch
            free = {
                r.name: min(r.gpus, job.total_gpus - job.gpus_per_stage) for r in instance.regions
            }
            residual = dict(instance.network.capacity)
        now_snap = Snapshot(instance, snap.time_s, (job,), free, residual)
        chosen = policy.decide(now_snap).placements
        now = fewest_regions(feasible(instance, now_snap, job, bandwidth=True))
        if not now:
            assert not chosen
            continue
        best = min(epoch_cost(instance, job, p, snap.time_s) for p in now)
        if len(now[0].blocks) > 1:
            ideal = min(
                epoch_cost(instance, job, p, snap.time_s)
                for p in fewest_regions(feasible(instance, empty, job, bandwidth=True))
            )
            if best > (1 + budget) * ideal * (1 + 1e-9):
                assert not chosen
                continue
        (placement,) = chosen
        assert len(placement.blocks) == len(now[0].blocks)
        assert epoch_cost(instance, job, placement, snap.time_s) == pytest.approx(best, rel=1e-9)


# -- in the simulator ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy", ["bace", "bace-no-priority", "bace-no-costmin", "bace-cheapest-path"]
)
@SETTINGS
@given(doc=world_docs(max_jobs=8, sizes=(8, 16, 32)))
def test_bace_never_stalls_nor_oversubscribes(policy: str, doc: dict) -> None:
    """The simulator raises on any placement over a region or link for a bandwidth-aware policy,
    so a finished run is the proof; and no job may stall."""
    instance = build(doc)
    result = simulate(instance, make_policy(policy))
    for record in result.records:
        assert record.stall_s == 0.0
    assert result.totals.link_gbit >= 0


def test_bace_on_geo6_beats_delay_first_and_cost_first() -> None:
    geo6 = load_instance(INSTANCES / "geo6.yaml")
    summary = {}
    for name in ("bace", "delay-first", "cost-first"):
        records = simulate(geo6, make_policy(name)).records
        summary[name] = (np.mean([r.jct_s for r in records]), sum(r.cost_usd for r in records))
    assert summary["bace"][0] < min(summary["delay-first"][0], summary["cost-first"][0])
    assert summary["bace"][1] < min(summary["delay-first"][1], summary["cost-first"][1])


GPT3_1B_16_GPUS = {
    "arrival_s": 0,
    "model": "gpt3-1.3b",
    "stages": 8,
    "gpus_per_stage": 2,
    "iterations": 100,
    "micro_batches": 8,
    "micro_batch_size": 1,
    "seq_len": 2048,
}
"""A GPT-3 1.3B pipeline of 8 stages × 2 A100s: 16 GPUs, 8.4 Gbit/s per crossing."""


def small_world(
    tmp_path: Path,
    regions: dict[str, tuple[int, float]],
    links: list[tuple[str, str, float]],
    jobs: dict[str, dict[str, int]] | None = None,
) -> Instance:
    """Regions name → (A100s, $/kWh) at PUE 1; links (a, b, latency ms) at 1000 Gbit/s; jobs name
    → what differs from ``GPT3_1B_16_GPUS`` (default: one such job, ``j``)."""
    doc = {
        "name": "small",
        "gpu_types": [{"name": "A", "peak_tflops": 312, "power_kw": 0.4, "memory_gb": 80}],
        "regions": [
            {"name": n, "gpus": g, "gpu_type": "A", "pue": 1.0, "price": p}
            for n, (g, p) in regions.items()
        ],
        "links": [{"a": a, "b": b, "gbps": 1000, "latency_ms": ms} for a, b, ms in links],
        "jobs": [
            {"name": name, **GPT3_1B_16_GPUS, **extra}
            for name, extra in (jobs or {"j": {}}).items()
        ],
    }
    return parse_instance(doc, tmp_path)


def test_allocator_prefers_cheap_regions_and_spills(tmp_path: Path) -> None:
    instance = small_world(
        tmp_path, {"dear": (64, 0.30), "cheap": (8, 0.05)}, [("dear", "cheap", 1)]
    )
    (placement,) = BacePipe(allocator=CheapestPath()).decide(snapshot_of(instance)).placements
    # the paper-literal allocator: 4 stages fit the cheap region; the other 4 spill to the dear one
    # (either order is allowed, the tie-break takes region order)
    assert sorted((b.region, b.stages) for b in placement.blocks) == [("cheap", 4), ("dear", 4)]
    assert math.isfinite(epoch_cost(instance, instance.jobs[0], placement, 0.0))
    # the default keeps crossings as a last resort: the dear region holds the job whole
    (whole,) = BacePipe().decide(snapshot_of(instance)).placements
    assert [(b.region, b.stages) for b in whole.blocks] == [("dear", 8)]
    # with only 8 GPUs free in the dear region, no region holds it: the split (cheaper than the
    # ideal, which is whole in the dear region) is taken
    (split,) = BacePipe().decide(snapshot_of(instance, free={"dear": 8})).placements
    assert sorted((b.region, b.stages) for b in split.blocks) == [("cheap", 4), ("dear", 4)]


def test_a_split_dearer_than_the_budget_waits(tmp_path: Path) -> None:
    """Ideal: whole in the cheap region (0.05). With it busy, the only placement now is split over
    two dear regions — far above 1.1 × ideal, so the job waits; the literal allocator takes it."""
    instance = small_world(
        tmp_path,
        {"cheap": (16, 0.05), "dear1": (8, 0.30), "dear2": (8, 0.30)},
        [("dear1", "dear2", 1), ("cheap", "dear1", 1)],
    )
    busy = snapshot_of(instance, free={"cheap": 0})
    assert len(BacePipe().decide(busy)) == 0
    (split,) = BacePipe(allocator=CheapestPath()).decide(busy).placements
    assert {b.region for b in split.blocks} == {"dear1", "dear2"}
    (ideal,) = BacePipe().decide(snapshot_of(instance)).placements
    assert [(b.region, b.stages) for b in ideal.blocks] == [("cheap", 8)]


def test_zero_weights_order_by_arrival() -> None:
    tiny3 = load_instance(INSTANCES / "tiny3.yaml")
    flat = Prioritizer(PriorityWeights(aging_per_hour=0.0, length=0.0, bandwidth=0.0))
    order = [j.name for j in flat.order(snapshot_of(tiny3, time_s=3600.0))]
    assert order == [j.name for j in sorted(tiny3.jobs, key=lambda j: (j.arrival_s, j.name))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("aging=0.5", PriorityWeights(aging_per_hour=0.5)),
        ("length=2, bandwidth=0", PriorityWeights(length=2.0, bandwidth=0.0)),
        ("", PriorityWeights()),
    ],
)
def test_parse_weights(text: str, expected: PriorityWeights) -> None:
    assert parse_weights(text) == expected


@pytest.mark.parametrize("text", ["colour=1", "aging=x", "length=-1", "bandwidth=inf"])
def test_bad_weights_are_input_errors(text: str) -> None:
    with pytest.raises(InputError, match=r"^--weights: "):
        parse_weights(text)


def test_cli_passes_weights_and_milp_limit(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bace_opt.cli import app

    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "run",
            str(INSTANCES / "tiny3.yaml"),
            "--policy",
            "bace",
            "--weights",
            "aging=1,length=0",
            "--out",
            str(tmp_path / "a"),
        ],
    )
    assert ok.exit_code == 0, ok.stderr
    bad = runner.invoke(
        app,
        [
            "run",
            str(INSTANCES / "tiny3.yaml"),
            "--policy",
            "bace",
            "--weights",
            "colour=1",
            "--out",
            str(tmp_path / "b"),
        ],
    )
    assert bad.exit_code == 2 and bad.stderr.startswith("--weights: unknown weight 'colour'")


def test_a_split_refused_for_its_cost_does_not_block_its_shape(tmp_path: Path) -> None:
    """Two jobs of one shape (model, S, g, b, L) that differ in micro-batches: a crossing's 10 ms
    is 31 % of the short job's iteration but 3.5 % of the long one's. With the whole-job region
    busy, the first (higher priority: shorter) waits over budget; the second still splits."""
    instance = small_world(
        tmp_path,
        {"big": (16, 0.1), "left": (8, 0.1), "right": (8, 0.1)},
        [("left", "right", 10)],
        jobs={"short": {"micro_batches": 1}, "long": {"micro_batches": 64}},
    )
    busy = snapshot_of(instance, free={"big": 0})
    policy = BacePipe()
    assert [j.name for j in Prioritizer().order(busy)] == ["short", "long"]
    (placement,) = policy.decide(busy).placements
    assert placement.job == "long"
    assert {b.region for b in placement.blocks} == {"left", "right"}
