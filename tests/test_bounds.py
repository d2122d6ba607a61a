"""Whole-run bounds (DESIGN §5b) against every list schedule of tiny worlds.

A *list schedule* takes the jobs in one order, each with one placement, and starts the head of the
list as soon as it has arrived and its placement fits (no job overtakes another). Every order ×
every placement per job is simulated by the real simulator, twice: holding each crossing to its
need (a bandwidth-aware policy), and checking GPUs only (links shared max-min fairly, so jobs
stall). The best of them is a schedule the simulator produced, so the bound must not beat it; and
neither may any registered policy.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from bace_opt.bounds import BoundOptions, BoundResult, bound_instance
from bace_opt.cli import app
from bace_opt.core.placement import Placement, Plan
from bace_opt.core.world import Instance, Snapshot
from bace_opt.io.read import parse_instance
from bace_opt.policies import POLICIES
from bace_opt.resources.demand import Demand
from bace_opt.resources.feasibility import placement_problems
from bace_opt.sim import SimulationOptions, simulate
from tests.worlds import all_placements

REL = 1e-9
"""Relative tolerance of the comparisons (the bound's own rounding margin is 1e-9 too)."""

A100 = {"name": "A100", "peak_tflops": 312, "power_kw": 0.4, "memory_gb": 80}
H100 = {"name": "H100", "peak_tflops": 989, "power_kw": 0.7, "memory_gb": 80}


def hourly(base: float, swing: float, phase: int) -> dict[str, list[float]]:
    """A daily profile whose price is ``base · (1 + swing)`` for 3 hours of every 6."""
    return {"hourly_utc": [base * (1 + swing * (((h + phase) % 6) < 3)) for h in range(24)]}


def job(name: str, arrival: float, stages: int, gpus: int, iterations: int) -> dict[str, Any]:
    return {
        "name": name,
        "arrival_s": arrival,
        "model": "gpt3-1.3b",
        "stages": stages,
        "gpus_per_stage": gpus,
        "iterations": iterations,
        "micro_batches": 16,
        "micro_batch_size": 4,
        "seq_len": 2048,
    }


WORLDS: dict[str, dict[str, Any]] = {
    # Three regions, hourly prices out of phase, links near one split's need (4.19 Gbit/s):
    # two splits on a link stall.
    "three-regions": {
        "name": "three-regions",
        "max_regions": 2,
        "gpu_types": [A100],
        "regions": [
            {"name": "r0", "gpus": 8, "gpu_type": "A100", "pue": 1.2, "price": hourly(0.05, 1, 0)},
            {"name": "r1", "gpus": 8, "gpu_type": "A100", "pue": 1.1, "price": hourly(0.08, 1, 3)},
            {"name": "r2", "gpus": 4, "gpu_type": "A100", "pue": 1.3, "price": 0.07},
        ],
        "links": [
            {"a": "r0", "b": "r1", "gbps": 5.0, "latency_ms": 30},
            {"a": "r0", "b": "r2", "gbps": 6.0, "latency_ms": 40},
            {"a": "r1", "b": "r2", "gbps": 3.0, "latency_ms": 60},
        ],
        "jobs": [job("j0", 0, 2, 4, 2000), job("j1", 300, 2, 4, 1000), job("j2", 600, 2, 4, 3000)],
    },
    # Two regions, four jobs at once for 16 GPUs: a queue forms whatever the schedule.
    "loaded": {
        "name": "loaded",
        "max_regions": 2,
        "gpu_types": [A100],
        "regions": [
            {"name": "r0", "gpus": 8, "gpu_type": "A100", "pue": 1.2, "price": 0.05},
            {"name": "r1", "gpus": 8, "gpu_type": "A100", "pue": 1.1, "price": hourly(0.07, 1, 0)},
        ],
        "links": [{"a": "r0", "b": "r1", "gbps": 5.0, "latency_ms": 20}],
        "jobs": [
            job("j0", 0, 2, 4, 2000),
            job("j1", 0, 2, 4, 1000),
            job("j2", 60, 2, 4, 1500),
            job("j3", 120, 2, 4, 500),
        ],
    },
    # Two GPU types, three-region pipelines, a relay (no r0–r2 link: r0 reaches r2 through r1).
    "relay-mixed": {
        "name": "relay-mixed",
        "max_regions": 3,
        "relays": True,
        "gpu_types": [A100, H100],
        "regions": [
            {"name": "r0", "gpus": 6, "gpu_type": "A100", "pue": 1.2, "price": 0.06},
            {"name": "r1", "gpus": 4, "gpu_type": "H100", "pue": 1.1, "price": hourly(0.1, 1, 2)},
            {"name": "r2", "gpus": 4, "gpu_type": "A100", "pue": 1.3, "price": 0.04},
        ],
        "links": [
            {"a": "r0", "b": "r1", "gbps": 8.0, "latency_ms": 25},
            {"a": "r1", "b": "r2", "gbps": 4.0, "latency_ms": 35},
        ],
        "jobs": [job("j0", 0, 3, 2, 1500), job("j1", 200, 3, 2, 2500), job("j2", 400, 1, 4, 800)],
    },
}

SLOT_S = 300.0


@cache
def world(name: str) -> Instance:
    return parse_instance(WORLDS[name], Path("."))


class ListPolicy:
    """Starts the head of ``plan`` whenever it has arrived and fits; ``bandwidth_aware``: only
    with every crossing's need free on its links (else GPUs only, and links are shared)."""

    name = "list"
    stats: ClassVar[dict[str, int]] = {}

    def __init__(self, instance: Instance, plan: tuple[Placement, ...], aware: bool) -> None:
        self.instance, self.plan, self.bandwidth_aware = instance, list(plan), aware
        self.jobs = {j.name: j for j in instance.jobs}

    def decide(self, snapshot: Snapshot) -> Plan:
        waiting = {j.name for j in snapshot.waiting}
        free, residual = dict(snapshot.free_gpus), dict(snapshot.residual_gbps)
        started = []
        while self.plan and self.plan[0].job in waiting:
            placement, job = self.plan[0], self.jobs[self.plan[0].job]
            demand = Demand.of(self.instance, job, placement)
            links = residual if self.bandwidth_aware else None
            if placement_problems(self.instance, job, placement, free, links, demand):
                break
            for region, gpus in demand.gpus.items():
                free[region] -= gpus
            for direction, times in demand.uses.items():
                residual[direction] -= times * demand.need_gbps
            started.append(self.plan.pop(0))
        return Plan(tuple(started))


@dataclass(frozen=True)
class Outcome:
    avg_jct_s: float
    cost_usd: float


def distinct_placements(instance: Instance, name: str) -> list[Placement]:
    """The placements of job ``name`` that fit an idle world, one per (regions, GPUs per region):
    a pipeline run backwards loads the same links and takes as long."""
    job = next(j for j in instance.jobs if j.name == name)
    idle = {r.name: r.gpus for r in instance.regions}
    seen: dict[tuple[object, ...], Placement] = {}
    for p in all_placements(instance, job):
        if not placement_problems(instance, job, p, idle, None):
            gpus = tuple(sorted(p.gpus_by_region(job.gpus_per_stage).items()))
            seen.setdefault((gpus, tuple(sorted(p.regions))), p)
    return list(seen.values())


@cache
def list_schedules(name: str) -> tuple[Outcome, ...]:
    """Average JCT and cost of every list schedule of world ``name`` that runs every job."""
    instance = world(name)
    choices = {j.name: distinct_placements(instance, j.name) for j in instance.jobs}
    out = []
    for order in itertools.permutations([j.name for j in instance.jobs]):
        for plan in itertools.product(*(choices[n] for n in order)):
            for aware in (True, False):
                policy = ListPolicy(instance, plan, aware)
                result = simulate(instance, policy, SimulationOptions(timing=False))
                records = result.records
                if any(r.end_s is None for r in records):
                    continue
                jct = sum(r.end_s - r.arrival_s for r in records if r.end_s is not None)
                out.append(Outcome(jct / len(records), sum(r.cost_usd for r in records)))
    return tuple(out)


@cache
def bounds(name: str) -> BoundResult:
    options = BoundOptions(slot_s=SLOT_S, time_limit_s=60.0)
    return bound_instance(world(name), options, list(POLICIES))


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_the_bounds_do_not_beat_the_best_list_schedule(name: str) -> None:
    result, schedules = bounds(name), list_schedules(name)
    assert str(result.status) == "optimal"
    assert result.avg_jct_lower_s is not None and result.total_cost_lower_usd is not None
    assert len(schedules) > 100
    best_jct = min(s.avg_jct_s for s in schedules)
    least_cost = min(s.cost_usd for s in schedules)
    assert result.avg_jct_lower_s <= best_jct * (1 + REL)
    assert result.total_cost_lower_usd <= least_cost * (1 + REL)
    # and they say something: within a factor of the best schedule, above the trivial bound
    assert result.avg_jct_lower_s >= result.trivial_jct_lower_s
    assert result.avg_jct_lower_s >= 0.5 * best_jct
    assert result.total_cost_lower_usd >= 0.5 * least_cost


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_the_frontier_is_below_every_list_schedule(name: str) -> None:
    result, schedules = bounds(name), list_schedules(name)
    assert len(result.frontier) >= 8
    for point in result.frontier:
        if point.cost_lower_usd is None:
            continue
        within = [s.cost_usd for s in schedules if s.avg_jct_s <= point.avg_jct_s]
        if within:
            assert point.cost_lower_usd <= min(within) * (1 + REL), point
    costs = [p.cost_lower_usd for p in result.frontier if p.cost_lower_usd is not None]
    assert costs == sorted(costs, reverse=True)  # more time never costs more


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_no_registered_policy_beats_the_bounds(name: str) -> None:
    result = bounds(name)
    assert {p.name for p in result.policies} == set(POLICIES)
    assert result.avg_jct_lower_s is not None and result.total_cost_lower_usd is not None
    for p in result.policies:
        assert p.comparable, p.name
        assert p.avg_jct_s is not None and p.total_cost_usd is not None
        assert p.avg_jct_s >= result.avg_jct_lower_s * (1 - REL), p.name
        assert p.total_cost_usd >= result.total_cost_lower_usd * (1 - REL), p.name
        assert p.frontier_cost_usd is not None, p.name
        assert p.total_cost_usd >= p.frontier_cost_usd * (1 - REL), p.name
    jcts = {p.avg_jct_s for p in result.policies}
    assert jcts <= {p.avg_jct_s for p in result.frontier}  # each policy's JCT is on the frontier


def test_the_bound_beats_the_trivial_one_on_a_loaded_world() -> None:
    """Four jobs of 8 GPUs on 16 GPUs: two must wait, which mean ideal run time cannot see."""
    result = bounds("loaded")
    assert result.avg_jct_lower_s is not None
    assert result.avg_jct_lower_s >= 1.15 * result.trivial_jct_lower_s
    best = min(s.avg_jct_s for s in list_schedules("loaded"))
    trivial_gap = best / result.trivial_jct_lower_s
    assert best / result.avg_jct_lower_s < trivial_gap


def test_bound_command_end_to_end(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    instance = Path(__file__).resolve().parents[1] / "instances" / "tiny3.yaml"
    args = ["bound", str(instance), "--out", str(out), "--slot-s", "600"]
    result = runner.invoke(app, [*args, "--policies", "bace,cost-first"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(out.read_text())
    for key in ("avg_jct_lower_s", "total_cost_lower_usd", "frontier", "status", "method"):
        assert doc[key] is not None, key
    assert doc["slot_s"] == 600 and doc["time_s"] > 0 and doc["status"] == "optimal"
    assert doc["provenance"]["versions"]["bace_opt"]
    assert len(doc["frontier"]) >= 8
    assert set(doc["policies"]) == {"bace", "cost-first"}
    assert doc["policies"]["bace"]["avg_jct_s"] >= doc["avg_jct_lower_s"]
    assert not list(tmp_path.glob(".*"))  # written atomically: no staging file left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slot-s", "0"], "--slot-s"),
        (["--time-limit", "-1"], "--time-limit"),
        (["--policies", "bace,nosuch"], "nosuch"),
        (["--lp-method", "magic"], "--lp-method"),
    ],
)
def test_bound_command_rejects_bad_input(
    runner: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    instance = Path(__file__).resolve().parents[1] / "instances" / "tiny3.yaml"
    out = tmp_path / "b.json"
    result = runner.invoke(app, ["bound", str(instance), "--out", str(out), *args])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_bound_command_rejects_a_bad_instance(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nregions: []\njobs: [{name: j, stages: 0}]\n")
    result = runner.invoke(app, ["bound", str(bad), "--out", str(tmp_path / "b.json")])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) >= 2  # one line per problem


def test_bound_command_lists_every_problem(runner: CliRunner, tmp_path: Path) -> None:
    instance = Path(__file__).resolve().parents[1] / "instances" / "tiny3.yaml"
    args = ["bound", str(instance), "--out", str(tmp_path / "b.json")]
    result = runner.invoke(app, [*args, "--lp-method", "magic", "--policies", "nosuch"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("--lp-method") and "nosuch" in lines[1]


def test_the_frontier_keeps_its_points_when_cheapest_is_fastest() -> None:
    """tiny3 with hour slots: the cost LP's solution is as fast as the JCT bound, and the
    frontier still has a grid of points, each the total cost bound."""
    instance = parse_instance_file("tiny3.yaml")
    result = bound_instance(instance)
    assert len(result.frontier) >= 8
    assert {p.cost_lower_usd for p in result.frontier} == {result.total_cost_lower_usd}


def parse_instance_file(name: str) -> Instance:
    from bace_opt.io.read import load_instance

    return load_instance(Path(__file__).resolve().parents[1] / "instances" / name)
