"""The simulator against DESIGN §2 recomputed here by hand, without the simulator's code."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import pytest
import yaml

from bace_opt.core.placement import Placement, Plan
from bace_opt.core.world import Instance, Snapshot
from bace_opt.io.read import load_instance, parse_instance
from bace_opt.policies import make_policy
from bace_opt.sim import SimulationOptions, simulate
from bace_opt.sim.records import JobRecord
from bace_opt.sim.state import InfeasiblePlacementError
from tests.conftest import INSTANCES


@dataclass
class Scripted:
    """Places each waiting job exactly as told, as soon as it is waiting."""

    script: dict[str, str]
    name: str = "scripted"
    bandwidth_aware: bool = False
    stats: dict[str, int] = field(default_factory=dict)

    def decide(self, snapshot: Snapshot) -> Plan:
        return Plan(
            tuple(
                Placement.parse(j.name, self.script[j.name])
                for j in snapshot.waiting
                if j.name in self.script
            )
        )


def two_region_world(gbps: float = 4.0) -> Instance:
    job = {
        "model": "gpt3-1.3b",
        "stages": 2,
        "gpus_per_stage": 4,
        "micro_batches": 8,
        "micro_batch_size": 4,
        "seq_len": 2048,
    }
    doc = {
        "name": "two",
        "gpu_types": [{"name": "A100", "peak_tflops": 312, "power_kw": 0.4, "memory_gb": 80}],
        "regions": [
            {"name": "r1", "gpus": 8, "gpu_type": "A100", "pue": 1.0, "price": 0.1},
            {"name": "r2", "gpus": 8, "gpu_type": "A100", "pue": 1.5, "price": 0.2},
        ],
        "links": [{"a": "r1", "b": "r2", "gbps": gbps, "latency_ms": 10}],
        "jobs": [
            {"name": "a", "arrival_s": 0, "iterations": 1000, **job},
            {"name": "b", "arrival_s": 100, "iterations": 2000, **job},
        ],
    }
    return parse_instance(doc, Path("."))


def test_two_pipelines_share_a_link_max_min_fairly() -> None:
    # t_c = 6·1.3e9·4·2048 / 2 / (4·312e12·0.4) = 0.064 s; A = 33,554,432 B; need 4.194304 Gbit/s
    # alone on 4 Gbit/s: tau = 8A/4e9 = 0.067108864 s, T_iter = 9·tau + 2·0.010 = 0.623979776 s
    # together each gets 2 Gbit/s: tau = 0.134217728 s, T_iter = 1.227959552 s
    alone, shared, ideal = 0.623979776, 1.227959552, 9 * 0.064 + 0.02
    done_a_by_100 = 100 / alone
    end_a = 100 + (1000 - done_a_by_100) * shared
    done_b_by_end_a = (end_a - 100) / shared
    end_b = end_a + (2000 - done_b_by_end_a) * alone
    result = simulate(two_region_world(), Scripted({"a": "r1:1>r2:1", "b": "r1:1>r2:1"}))
    a, b = result.records
    assert a.end_s == pytest.approx(end_a, rel=1e-12)
    assert b.end_s == pytest.approx(end_b, rel=1e-12)
    assert a.stall_s == pytest.approx(end_a - 1000 * ideal, rel=1e-12)
    assert b.stall_s == pytest.approx(end_b - 100 - 2000 * ideal, rel=1e-12)
    # energy: 4 GPUs × 0.4 kW in r1 (PUE 1) and r2 (PUE 1.5) for the whole run
    assert a.energy_kwh == pytest.approx(4 * 0.4 * (1.0 + 1.5) * end_a / 3600, rel=1e-12)
    assert a.cost_usd == pytest.approx(4 * 0.4 * (0.1 + 1.5 * 0.2) * end_a / 3600, rel=1e-12)


def test_no_stall_when_the_link_is_wide_enough() -> None:
    result = simulate(two_region_world(gbps=8.4), Scripted({"a": "r1:1>r2:1", "b": "r1:1>r2:1"}))
    a, b = result.records
    assert a.stall_s == b.stall_s == 0.0
    assert a.end_s == pytest.approx(1000 * (9 * 0.064 + 0.02), rel=1e-12)


def test_infeasible_placement_names_policy_job_and_resource() -> None:
    policy = Scripted({"a": "r1:2>r2:1"})
    with pytest.raises(InfeasiblePlacementError, match=r"'scripted' placed job 'a'.*3 stages"):
        simulate(two_region_world(), policy)
    policy = Scripted({"a": "r1:1>r2:1"}, bandwidth_aware=True)
    with pytest.raises(InfeasiblePlacementError, match=r"link r1>r2: needs 4\.194 Gbit/s, 4 res"):
        simulate(two_region_world(), policy)
    policy = Scripted({"a": "r1:2", "b": "r1:2"})
    with pytest.raises(InfeasiblePlacementError, match="region r1: needs 8 GPUs, 0 free"):
        simulate(two_region_world(), policy)
    policy = Scripted({"a": "r1:1>nowhere:2"})  # the shape is checked before anything is priced
    with pytest.raises(InfeasiblePlacementError, match="region nowhere: unknown"):
        simulate(two_region_world(), policy)


# -- every job recomputed from DESIGN §2 -----------------------------------------------------------


def hourly_integral(prices: list[float], offset_s: float, t0: float, t1: float) -> float:
    """∫ price dt for a daily profile, hour by hour (a second, plain implementation)."""
    total, t = 0.0, t0
    while t < t1:
        hour_end = ((t + offset_s) // 3600 + 1) * 3600 - offset_s
        step_end = min(hour_end, t1)
        total += prices[int(((t + offset_s) % 86400) // 3600)] * (step_end - t)
        t = step_end
    return total


def series_integral(table: pd.DataFrame, start: pd.Timestamp, t0: float, t1: float) -> float:
    times = ((table.utc_time - start).dt.total_seconds()).to_list()
    prices = table.usd_per_kwh.to_list()
    total = 0.0
    for k, price in enumerate(prices):
        lo = times[k] if k > 0 else float("-inf")
        hi = times[k + 1] if k + 1 < len(times) else float("inf")
        total += price * max(0.0, min(hi, t1) - max(lo, t0))
    return total


def recompute(instance: Instance, raw: dict, folder: Path, record: JobRecord) -> tuple[float, ...]:
    """(run time, energy, cost) of a job that did not stall, from the file and the formulas."""
    job = next(j for j in raw["jobs"] if j["name"] == record.name)
    model = (
        yaml.safe_load((Path("models") / f"{job['model']}.yaml").read_text())
        if (Path("models") / f"{job['model']}.yaml").exists()
        else None
    )
    model = model or yaml.safe_load(
        (INSTANCES.parent / "models" / f"{job['model']}.yaml").read_text()
    )
    regions = {r["name"]: r for r in raw["regions"]}
    gpus = {g["name"]: g for g in raw["gpu_types"]}
    blocks = [(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in record.placement.split(">")]
    peak = min(gpus[regions[r]["gpu_type"]]["peak_tflops"] for r, _ in blocks)
    seq = job.get("seq_len") or model["seq_len"]
    t_c = (
        6
        * model["params"]
        * job["micro_batch_size"]
        * seq
        / job["stages"]
        / (job["gpus_per_stage"] * peak * 1e12 * raw.get("mfu", 0.4))
    )
    lat = {}
    for link in raw.get("links", []):
        lat[(link["a"], link["b"])] = link["latency_ms"] / 1000
        if not link.get("directed"):
            lat[(link["b"], link["a"])] = link["latency_ms"] / 1000
    latency = sum(lat[(a, b)] + lat[(b, a)] for (a, _), (b, _) in itertools.pairwise(blocks))
    run = job["iterations"] * ((job["micro_batches"] + job["stages"] - 1) * t_c + latency)
    start, end = record.start_s, record.start_s + run
    energy = cost = 0.0
    t0 = pd.Timestamp(raw.get("start_utc", "2026-01-01T00:00:00Z"))
    for region, stages in blocks:
        r = regions[region]
        kw = stages * job["gpus_per_stage"] * gpus[r["gpu_type"]]["power_kw"] * r["pue"]
        energy += kw * run / 3600
        price = r["price"]
        if isinstance(price, float | int):
            integral = price * run
        elif "hourly_utc" in price:
            offset = (t0 - t0.normalize()).total_seconds()
            integral = hourly_integral(price["hourly_utc"], offset, start, end)
        else:
            table = pd.read_csv(folder / price["series_csv"])
            table["utc_time"] = pd.to_datetime(table.utc_time, utc=True)
            integral = series_integral(table, t0, start, end)
        cost += kw * integral / 3600
    return run, energy, cost


@pytest.mark.parametrize(
    ("instance_name", "policy"),
    [
        ("geo6.yaml", "cost-first"),
        ("hetero4.yaml", "fifo-firstfit"),
        ("hetero4.yaml", "sjf"),
        ("tiny3.yaml", "delay-first"),
    ],
)
def test_every_job_matches_design_formulas(instance_name: str, policy: str) -> None:
    path = INSTANCES / instance_name
    instance, raw = load_instance(path), yaml.safe_load(path.read_text())
    result = simulate(instance, make_policy(policy))
    checked = 0
    for record in result.records:
        assert record.finished
        if record.stall_s > 0:
            continue
        run, energy, cost = recompute(instance, raw, path.parent, record)
        assert record.end_s - record.start_s == pytest.approx(run, rel=1e-9)
        assert record.energy_kwh == pytest.approx(energy, rel=1e-9)
        assert record.cost_usd == pytest.approx(cost, rel=1e-9, abs=1e-12)
        checked += 1
    assert checked >= len(result.records) * 0.9


def test_jobs_span_price_changes_on_hourly_profiles() -> None:
    instance = load_instance(INSTANCES / "hetero4.yaml")
    result = simulate(instance, make_policy("fifo-firstfit"))
    spans = [
        r for r in result.records if r.end_s and int(r.start_s // 3600) != int(r.end_s // 3600)
    ]
    assert spans, "hetero4 should have jobs running across an hour boundary"


def test_epoch_ticks_are_counted() -> None:
    instance = load_instance(INSTANCES / "tiny3.yaml")
    plain = simulate(instance, make_policy("fifo-firstfit"))
    ticking = simulate(instance, make_policy("fifo-firstfit"), SimulationOptions(epoch_s=60.0))
    assert ticking.totals.epochs > plain.totals.epochs
    assert [r.end_s for r in ticking.records] == [r.end_s for r in plain.records]


@pytest.mark.parametrize("policy", ["fifo-firstfit", "bace", "random", "sjf"])
def test_idle_ticks_are_counted_not_simulated(policy: str) -> None:
    """Ticks while nothing waits are skipped, and the run is the one that ticks through them:
    same records, timeline and epoch count (dumping snapshots forces every tick)."""
    instance = load_instance(INSTANCES / "tiny3.yaml")
    late = [replace(j, name=f"late-{j.name}", arrival_s=j.arrival_s + 2e6) for j in instance.jobs]
    world = replace(instance, jobs=(*instance.jobs, *late))
    skipped = simulate(world, make_policy(policy), SimulationOptions(epoch_s=300.0))
    ticked = simulate(
        world, make_policy(policy), SimulationOptions(epoch_s=300.0, on_snapshot=lambda s: None)
    )
    assert skipped.records == ticked.records
    assert skipped.timeline == ticked.timeline
    assert skipped.totals.epochs == ticked.totals.epochs > 2e6 / 300
    assert skipped.totals.gpu_seconds == pytest.approx(ticked.totals.gpu_seconds, rel=1e-12)


def test_a_job_arriving_decades_later_ends_at_once() -> None:
    instance = load_instance(INSTANCES / "tiny3.yaml")
    last = replace(instance.jobs[-1], name="last", arrival_s=9.9e8)
    world = replace(instance, jobs=(*instance.jobs, last))
    result = simulate(world, make_policy("bace"), SimulationOptions(epoch_s=1.0))
    record = next(r for r in result.records if r.name == "last")
    assert record.start_s == pytest.approx(9.9e8) and record.end_s > record.start_s
    assert result.totals.epochs > 9.8e8  # counted, not simulated one by one
