"""The exact epoch's MIP start (``policies.mip_start``): the weight-per-GPU greedy beats the
priority order where a heavy job shuts out lighter ones worth more, is only taken when it admits
more, and is always a feasible plan (the independent checker's verdict) on random worlds."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import yaml
from hypothesis import given, settings

from bace_opt.checker import check_plan
from bace_opt.core.placement import Placement
from bace_opt.core.world import Snapshot
from bace_opt.io.read import parse_instance
from bace_opt.policies import make_policy
from bace_opt.policies.bace import Prioritizer
from bace_opt.policies.mip_start import (
    _split_placement,
    _splitting,
    assigned_plan,
    mip_start,
    weight_per_gpu_plan,
)
from bace_opt.resources.ledger import Ledger
from tests.test_milp import partly_busy
from tests.worlds import build, world_docs

ONE_REGION = """
name: knapsack
gpu_types: [{name: A100-80GB, peak_tflops: 312, power_kw: 0.4, memory_gb: 80}]
regions: [{name: solo, gpus: 8, gpu_type: A100-80GB, pue: 1.2, price: 0.05}]
links: []
jobs:
  - {name: big, arrival_s: 0, model: gpt3-1.3b, stages: 2, gpus_per_stage: 4, iterations: 10,
     micro_batches: 4, micro_batch_size: 1}
  - {name: small1, arrival_s: 0, model: gpt3-1.3b, stages: 1, gpus_per_stage: 4, iterations: 10,
     micro_batches: 4, micro_batch_size: 1}
  - {name: small2, arrival_s: 0, model: gpt3-1.3b, stages: 1, gpus_per_stage: 4, iterations: 10,
     micro_batches: 4, micro_batch_size: 1}
"""


def _snapshot() -> Snapshot:
    instance = parse_instance(yaml.safe_load(ONE_REGION), Path("."))
    free = MappingProxyType({"solo": 8})
    return Snapshot(instance, 0.0, instance.jobs, free, MappingProxyType({}))


def test_weight_per_gpu_admits_the_two_light_jobs_the_heavy_one_shuts_out() -> None:
    """8 GPUs; big (8 GPUs, w 1.0) first by weight; small1 + small2 (4 each, w 0.6) are worth
    1.2 together: 0.15 per GPU against big's 0.125."""
    snapshot = _snapshot()
    weights = {"big": 1.0, "small1": 0.6, "small2": 0.6}
    dense = weight_per_gpu_plan(snapshot, weights)
    assert sorted(p.job for p in dense) == ["small1", "small2"]
    greedy = {"big": Placement.parse("big", "solo:2")}
    start = mip_start(snapshot, weights, greedy)
    assert sorted(start) == ["small1", "small2"]
    assert not check_plan(snapshot, start.values(), weights).problems


def test_the_greedy_plan_stays_the_start_unless_beaten() -> None:
    """big worth 1.3 > 1.2: the greedy plan (big alone) is kept; so is it on a tie."""
    snapshot = _snapshot()
    greedy = {"big": Placement.parse("big", "solo:2")}
    assert mip_start(snapshot, {"big": 1.3, "small1": 0.6, "small2": 0.6}, greedy) == greedy
    assert mip_start(snapshot, {"big": 1.2, "small1": 0.6, "small2": 0.6}, greedy) == greedy


@settings(max_examples=40, deadline=None)
@given(world_docs(max_jobs=8))
def test_the_start_is_feasible_and_no_lighter_than_greedy(doc: dict) -> None:
    snapshot = partly_busy(build(doc), seed=len(doc["jobs"]))
    weights = Prioritizer().weights_of(snapshot)
    greedy = {p.job: p for p in make_policy("bace-cheapest-path").decide(snapshot)}
    start = mip_start(snapshot, weights, greedy)
    check = check_plan(snapshot, start.values(), weights)
    assert not check.problems
    assert check.weight >= sum(weights[name] for name in greedy) - 1e-12


THIN_LINK = """
name: thin
relays: false
gpu_types: [{name: A100-80GB, peak_tflops: 312, power_kw: 0.4, memory_gb: 80}]
regions:
  - {name: a, gpus: 4, gpu_type: A100-80GB, pue: 1.2, price: 0.05}
  - {name: b, gpus: 4, gpu_type: A100-80GB, pue: 1.2, price: 0.06}
  - {name: c, gpus: 4, gpu_type: A100-80GB, pue: 1.2, price: 0.20}
links:
  - {a: a, b: b, gbps: 0.0001, latency_ms: 10}
  - {a: a, b: c, gbps: 100.0, latency_ms: 10}
  - {a: b, b: c, gbps: 100.0, latency_ms: 10}
jobs:
  - {name: pair, arrival_s: 0, model: gpt3-1.3b, stages: 2, gpus_per_stage: 4, iterations: 10,
     micro_batches: 4, micro_batch_size: 1}
"""


def test_a_split_keeps_off_a_link_that_cannot_carry_it() -> None:
    """The job's 8 GPUs fit no region whole: it splits over two of a, b, c. a + b is cheapest
    but their link carries next to nothing, so the pair is kept apart and the start splits over
    the cheaper pair the links carry (a, c) — the order the links carry, priced by the checker."""
    instance = parse_instance(yaml.safe_load(THIN_LINK), Path("."))
    free = MappingProxyType({"a": 4, "b": 4, "c": 4})
    snapshot = Snapshot(instance, 0.0, instance.jobs, free, instance.network.capacity)
    weights = {"pair": 1.0}
    crossings = _splitting(snapshot, list(instance.jobs), ["a", "b", "c"]).crossings
    assert sorted(crossings[0]) == [(0, 2), (1, 2)], "a-b carries no crossing"
    plan = assigned_plan(snapshot, weights)
    assert [sorted(b.region for b in p.blocks) for p in plan] == [["a", "c"]]
    check = check_plan(snapshot, plan, weights)
    assert check.feasible and check.weight == 1.0
    ledger = Ledger.of(snapshot)
    assert _split_placement(snapshot, instance.jobs[0], {"a": 1, "b": 1}, ledger) is None
    placed = _split_placement(snapshot, instance.jobs[0], {"a": 1, "c": 1}, ledger)
    assert placed is not None and not check_plan(snapshot, [placed], weights).problems
