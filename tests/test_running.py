"""Running jobs in a snapshot (DESIGN §4): the simulator lists them, dumps write them, ``load``
reads them back checked, ``info`` shows them, and ``epoch`` decides as if they were not listed."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from bace_opt.app.api import solve_epoch
from bace_opt.app.describe import RUNNING_ROWS, describe
from bace_opt.cli import app
from bace_opt.core.placement import Block, Placement
from bace_opt.core.world import Instance, Running, Snapshot
from bace_opt.io.read import load_instance, load_snapshot
from bace_opt.policies import make_policy
from bace_opt.policies.registry import policy_entry, policy_names
from bace_opt.sim import simulate
from bace_opt.sim.engine import SimulationOptions
from tests.conftest import INSTANCES, ROOT
from tests.test_simulator import Scripted, two_region_world
from tests.worlds import build, world_docs

POLICIES = [p for p in policy_names() if p != "milp"]  # milp: the same runs, minutes slower
AWARE = [p for p in POLICIES if policy_entry(p).bandwidth_aware]
WORLDS = ["tiny3.yaml", "hetero4.yaml"]


def snapshots_of(instance: Instance, policy: str) -> list[Snapshot]:
    """Every epoch's snapshot, as ``run --dump-snapshots`` would write them."""
    seen: list[Snapshot] = []
    simulate(instance, make_policy(policy), SimulationOptions(on_snapshot=seen.append))
    return seen


def dump(runner: CliRunner, tmp_path: Path, world: str, policy: str) -> tuple[Path, pd.DataFrame]:
    out, snaps = tmp_path / "out", tmp_path / "snaps"
    args = ["run", str(INSTANCES / world), "--policy", policy, "--out", str(out)]
    result = runner.invoke(app, [*args, "--dump-snapshots", str(snaps), "--no-timing"])
    assert result.exit_code == 0, result.stderr
    return snaps, pd.read_csv(out / "jobs.csv")


def same_epoch(loaded: Snapshot, made: Snapshot) -> None:
    assert loaded.time_s == made.time_s
    assert loaded.running == made.running
    assert dict(loaded.free_gpus) == dict(made.free_gpus)
    assert dict(loaded.residual_gbps) == dict(made.residual_gbps)
    assert [j.name for j in loaded.waiting] == [j.name for j in made.waiting]


# -- the simulator fills it, dumps carry it, load reads it back ------------------------------------


@pytest.mark.parametrize("policy", ["bace", "sjf"])
def test_dumped_snapshots_load_back_equal(runner: CliRunner, tmp_path: Path, policy: str) -> None:
    snaps, _ = dump(runner, tmp_path, "tiny3.yaml", policy)
    made = snapshots_of(load_instance(INSTANCES / "tiny3.yaml"), policy)
    files = sorted(snaps.glob("epoch-*.yaml"))
    assert len(files) == len(made)
    with_running = 0
    for path, snapshot in zip(files, made, strict=True):
        doc = yaml.safe_load(path.read_text())
        assert ("running" in doc) == bool(snapshot.running)  # left out when nothing runs
        same_epoch(load_snapshot(path), snapshot)
        with_running += bool(snapshot.running)
    assert with_running >= 3


def test_a_dumped_entry_is_the_design_record(runner: CliRunner, tmp_path: Path) -> None:
    snaps, _ = dump(runner, tmp_path, "tiny3.yaml", "bace")
    doc = yaml.safe_load((snaps / "epoch-000001.yaml").read_text())  # t = 60 s: j1 runs
    assert doc["time_s"] == 60
    assert doc["running"] == [
        {"name": "j1", "placement": "us-east:4", "start_s": 0, "end_s": 608, "gpus_per_stage": 4}
    ]


@pytest.mark.parametrize("world", WORLDS)
@pytest.mark.parametrize("policy", POLICIES)
def test_expected_end_is_the_actual_end_without_stalls(
    runner: CliRunner, tmp_path: Path, world: str, policy: str
) -> None:
    """A job that gets its bandwidth need ends when expected (every job of a bandwidth-aware
    policy); a job a shared link slows moves its end, so only unstalled jobs are held to it."""
    snaps, jobs = dump(runner, tmp_path, world, policy)
    ends = dict(zip(jobs["name"], jobs["end_s"], strict=True))
    stalled = set(jobs.loc[jobs["stall_s"] > 0, "name"])
    if policy in AWARE:
        assert not stalled
    checked = 0
    for path in sorted(snaps.glob("epoch-*.yaml")):
        snapshot = load_snapshot(path)
        for run in snapshot.running:
            assert run.start_s <= snapshot.time_s <= run.end_s
            if run.name not in stalled:
                assert run.end_s == pytest.approx(ends[run.name], rel=1e-6, abs=1e-6)
                checked += 1
    assert checked or stalled


def test_an_oversubscribed_end_is_the_scheduled_completion() -> None:
    """Two pipelines share a 4 Gbit/s link they each need 4.194 Gbit/s of (the world and the
    numbers of ``test_simulator.test_two_pipelines_share_a_link_max_min_fairly``): a listed end
    is the completion the simulator has scheduled, at the shares in force when it is listed."""
    instance = two_region_world()
    alone, shared = 0.623979776, 1.227959552  # T_iter with 4 and with 2 Gbit/s
    end_a = 100 + (1000 - 100 / alone) * shared
    seen: list[Snapshot] = []
    policy = Scripted({"a": "r1:1>r2:1", "b": "r1:1>r2:1"})
    options = SimulationOptions(epoch_s=300, on_snapshot=seen.append)
    records = {r.name: r for r in simulate(instance, policy, options).records}
    ends = {s.time_s: {r.name: r.end_s for r in s.running} for s in seen}
    assert ends[100] == {"a": pytest.approx(1000 * alone, rel=1e-12)}  # before b shares the link
    for t in (300, 600, 900):  # both run at 2 Gbit/s: a ends when listed, b once a is gone
        assert ends[t] == {
            "a": pytest.approx(end_a, rel=1e-12),
            "b": pytest.approx(100 + 2000 * shared, rel=1e-12),
        }
    assert records["a"].end_s == pytest.approx(end_a, rel=1e-12)
    assert records["b"].end_s is not None and records["b"].end_s < 100 + 2000 * shared
    # at a's completion b is listed before the epoch reshares the link, then at its new pace
    after = [e["b"] for t, e in sorted(ends.items()) if t >= records["a"].end_s and e]
    assert after[0] == pytest.approx(100 + 2000 * shared, rel=1e-12)
    assert len(after) > 1 and all(
        e == pytest.approx(records["b"].end_s, rel=1e-12) for e in after[1:]
    )


# -- what the running jobs hold ----------------------------------------------------------------


def in_use(snapshot: Snapshot) -> dict[str, int]:
    return {
        r.name: r.gpus - snapshot.free_gpus[r.name]
        for r in snapshot.instance.regions
        if r.gpus > snapshot.free_gpus[r.name]
    }


@pytest.mark.parametrize("world", WORLDS)
@pytest.mark.parametrize("policy", POLICIES)
def test_running_jobs_hold_every_gpu_in_use(world: str, policy: str) -> None:
    for snapshot in snapshots_of(load_instance(INSTANCES / world), policy):
        assert snapshot.held_gpus() == in_use(snapshot)
        assert len({r.name for r in snapshot.running}) == len(snapshot.running)
        assert not {r.name for r in snapshot.running} & {j.name for j in snapshot.waiting}


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(doc=world_docs(max_jobs=8))
def test_random_worlds_list_what_they_hold(doc: dict[str, Any]) -> None:
    instance = build(doc)
    for policy in ("bace", "sjf"):
        for snapshot in snapshots_of(instance, policy):
            held = snapshot.held_gpus()
            assert held == in_use(snapshot)
            assert all(held[r.name] <= r.gpus for r in instance.regions if r.name in held)
            for run in snapshot.running:
                assert run.start_s <= snapshot.time_s <= run.end_s


def test_a_snapshot_with_running_pickles() -> None:
    snapshot = next(s for s in snapshots_of(load_instance(INSTANCES / "tiny3.yaml"), "bace")[1:])
    assert snapshot.running
    again = pickle.loads(pickle.dumps(snapshot))
    assert again.running == snapshot.running
    assert dict(again.free_gpus) == dict(snapshot.free_gpus)
    assert again.time_s == snapshot.time_s and again.instance.name == snapshot.instance.name
    bare = pickle.loads(pickle.dumps(dataclasses.replace(snapshot, running=())))
    assert bare.running == ()


def test_benchmark_snapshots_list_nothing_running() -> None:
    for path in sorted((ROOT / "benchmarks" / "snapshots").glob("*.yaml"))[:3]:
        assert load_snapshot(path).running == ()


# -- a file's running entries are checked -------------------------------------------------------


def snapshot_doc() -> dict[str, Any]:
    """tiny3 at t = 600 s: j1 whole in us-east (16 GPUs), j2 waiting."""
    doc = yaml.safe_load((INSTANCES / "tiny3.yaml").read_text())
    doc["jobs"] = [j for j in doc["jobs"] if j["name"] == "j2"]
    doc.update(time_s=600, free_gpus={"us-east": 16})
    doc["running"] = [
        {"name": "j1", "placement": "us-east:4", "start_s": 0, "end_s": 608, "gpus_per_stage": 4}
    ]
    return doc


def validate(runner: CliRunner, tmp_path: Path, doc: dict[str, Any]) -> tuple[int, list[str]]:
    path = tmp_path / "snap.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = runner.invoke(app, ["validate", str(path)])
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, result.stderr.strip().splitlines()


def test_a_good_running_entry_validates(runner: CliRunner, tmp_path: Path) -> None:
    code, errors = validate(runner, tmp_path, snapshot_doc())
    assert code == 0, errors
    path = tmp_path / "snap.yaml"
    assert load_snapshot(path).running == (
        Running("j1", Placement("j1", (Block("us-east", 4),)), 0.0, 608.0, 4),
    )


def test_gpus_per_stage_defaults_to_one(runner: CliRunner, tmp_path: Path) -> None:
    doc = snapshot_doc()
    doc["free_gpus"] = {"us-east": 28}
    del doc["running"][0]["gpus_per_stage"]
    code, errors = validate(runner, tmp_path, doc)
    assert code == 0, errors
    (run,) = load_snapshot(tmp_path / "snap.yaml").running
    assert run.gpus_per_stage == 1 and run.gpus_by_region() == {"us-east": 4}


def _entry(**change: Any) -> dict[str, Any]:
    doc = snapshot_doc()
    doc["running"][0].update(change)
    return doc


def _second(entry: dict[str, Any], free: dict[str, int] | None = None) -> dict[str, Any]:
    doc = snapshot_doc()
    doc["running"].append(entry)
    if free is not None:
        doc["free_gpus"] = free
    return doc


OTHER = {"name": "j9", "placement": "us-west:2", "start_s": 10, "end_s": 900}
BAD = [
    (_entry(end_s=500), "running[0].end_s: 500 s, before the snapshot's time_s 600 s"),
    (_entry(start_s=700, end_s=800), "running[0].start_s: 700 s, after the snapshot's time_s"),
    (_entry(start_s=-1), "running[0].start_s: Input should be greater than or equal to 0"),
    (_entry(end_s=float("nan")), "running[0].end_s: "),
    (_entry(placement="us-east"), "running[0].placement: 'us-east' is not a block"),
    (_entry(placement="us-east:4>"), "running[0].placement: '' is not a block"),
    (_entry(placement="us-east:x"), "running[0].placement: 'us-east:x' is not a block"),
    (_entry(placement="mars:4"), "running[0].placement: unknown region 'mars'"),
    (_entry(placement="us-east:0"), "running[0].placement: block 'us-east:0' has no stages"),
    (_entry(placement="us-east:2>us-east:2"), "running[0].placement: region 'us-east' appears"),
    (_entry(placement=""), "running[0].placement: "),
    (_entry(placement=4), "running[0].placement: "),
    (_entry(gpus_per_stage=0), "running[0].gpus_per_stage: "),
    (_entry(gpus=16), "running[0].gpus: "),
    (_entry(name="j2"), "running[0].name: 'j2' is also a waiting job in jobs"),
    (_entry(gpus_per_stage=8), "running: the running jobs hold 32 GPUs in us-east, but free_gpus"),
    (_second(OTHER), "running: the running jobs hold 2 GPUs in us-west, but free_gpus leaves 0"),
    (
        _second(OTHER | {"name": "j1"}, {"us-east": 16, "us-west": 14}),
        "running[1].name: duplicate name 'j1' (see running[0])",
    ),
]


@pytest.mark.parametrize(("doc", "expected"), BAD, ids=[e for _, e in BAD])
def test_bad_running_entries_exit_2_naming_the_field(
    runner: CliRunner, tmp_path: Path, doc: dict[str, Any], expected: str
) -> None:
    code, errors = validate(runner, tmp_path, doc)
    assert code == 2
    assert len(errors) == 1 and errors[0].startswith(expected), errors


def test_other_holders_may_be_left_out(runner: CliRunner, tmp_path: Path) -> None:
    doc = snapshot_doc()
    doc["free_gpus"] = {"us-east": 8, "us-west": 0}  # more in use than j1 holds: fine
    code, errors = validate(runner, tmp_path, doc)
    assert code == 0, errors


def test_every_running_problem_at_once(runner: CliRunner, tmp_path: Path) -> None:
    doc = _second(OTHER | {"placement": "mars:1", "end_s": 5}, {"us-east": 16})
    doc["running"][0]["start_s"] = 601
    code, errors = validate(runner, tmp_path, doc)
    assert code == 2
    assert [e.split(":")[0] for e in errors] == [
        "running[0].start_s",
        "running[1].end_s",
        "running[1].placement",
    ]


# -- info shows it, epoch ignores it -------------------------------------------------------------


def test_info_shows_the_running_jobs(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "snap.yaml"
    path.write_text(yaml.safe_dump(snapshot_doc(), sort_keys=False))
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "1 running (first to end: j1 at 0.17 h)" in result.stdout
    assert "running_gpus" in result.stdout
    d = describe(load_snapshot(path))
    assert d.running == [
        {
            "job": "j1",
            "placement": "us-east:4",
            "gpus": 16,
            "start_h": 0.0,
            "expected_end_h": round(608 / 3600, 3),
        }
    ]
    assert d.regions[0]["running_gpus"] == 16 and d.regions[1]["running_gpus"] == 0


def test_info_counts_a_long_list() -> None:
    snapshot = load_snapshot(INSTANCES.parent / "benchmarks" / "snapshots" / "10x4x6-seed0.yaml")
    region = snapshot.instance.regions[0]
    one = Placement("x", (Block(region.name, 1),))
    many = tuple(
        Running(f"r{i:03d}", dataclasses.replace(one, job=f"r{i:03d}"), 0.0, 100.0 + i)
        for i in range(RUNNING_ROWS + 5)
    )
    rows = describe(dataclasses.replace(snapshot, running=many)).running
    assert len(rows) == RUNNING_ROWS + 1
    assert rows[0]["job"] == "r000" and rows[-1]["job"] == "... 5 more" and rows[-1]["gpus"] == 5


def test_an_empty_world_describes_as_before() -> None:
    snapshot = load_snapshot(ROOT / "benchmarks" / "snapshots" / "10x4x6-seed0.yaml")
    d = describe(snapshot)
    assert d.running == [] and "running" not in d.headline
    assert all("running_gpus" not in row for row in d.regions)


def _plans(snapshot: Snapshot, solver: str) -> list[tuple[object, ...]]:
    """Each solver's placements and cost: with the running jobs listed, left out, and listed
    with other expected ends."""
    later = tuple(dataclasses.replace(r, end_s=r.end_s + 1e6) for r in snapshot.running)
    variants = (snapshot, dataclasses.replace(snapshot, running=()))
    variants += (dataclasses.replace(snapshot, running=later),)
    out = []
    for variant in variants:
        report = solve_epoch(variant, solver, time_limit=20)
        out.append(
            tuple((r.placements, r.cost_usd) for r in (report.greedy, report.milp) if r is not None)
        )
    return out


@pytest.mark.parametrize("policy", ["bace", "fifo-firstfit"])
def test_greedy_epoch_decides_on_free_resources_alone(policy: str) -> None:
    """``epoch`` ignores the list: the same plan whatever it says."""
    tried = 0
    for snapshot in snapshots_of(load_instance(INSTANCES / "hetero4.yaml"), policy):
        if snapshot.running and snapshot.waiting:
            first, *others = _plans(snapshot, "greedy")
            assert first and all(other == first for other in others)
            tried += 1
    assert tried


def test_milp_epoch_decides_on_free_resources_alone() -> None:
    snapshot = snapshots_of(load_instance(INSTANCES / "tiny3.yaml"), "bace")[1]  # t = 60 s
    assert snapshot.running and snapshot.waiting
    first, *others = _plans(snapshot, "both")
    assert len(first) == 2 and all(other == first for other in others)
