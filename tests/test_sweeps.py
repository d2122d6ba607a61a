"""`bace-opt sweep` and `bace-opt report`: the grid, resuming after a kill, failing cells, the same
results on a Dask cluster as locally, and the report's statistics."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from bace_opt.cli import app
from bace_opt.io.read import read_document
from bace_opt.sweeps import load_sweep, report, run_sweep
from bace_opt.sweeps.cells import TIMING_COLUMNS, expand, scaled_document
from bace_opt.sweeps.stats import mean_ci
from tests.conftest import INSTANCES, ROOT

SNAPSHOTS = ROOT / "benchmarks" / "snapshots"


def write_sweep(folder: Path, **doc: object) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump({"name": "t", **doc}))
    return path


def deterministic(table: pd.DataFrame) -> pd.DataFrame:
    """The combined table without wall-clock columns, in a fixed row order."""
    drop = [c for c in TIMING_COLUMNS if c in table]
    return table.drop(columns=drop).sort_values("key").reset_index(drop=True)


# -- the grid -------------------------------------------------------------------------------------


def test_scaled_document_scales_links_arrivals_and_shifts_the_trace_window() -> None:
    spec = read_document(INSTANCES / "geo6-spec.yaml")
    doc = scaled_document(spec, bandwidth=0.5, load=2.0, seed=1)
    assert [link["gbps"] for link in doc["links"]] == [0.5 * x["gbps"] for x in spec["links"]]
    arrivals = doc["workload"]["arrivals"]
    # geo6-spec: start_row 200, count 200, time_scale 0.25 → seed 1 replays rows 400..599.
    assert arrivals["start_row"] == 400
    assert arrivals["time_scale"] == pytest.approx(0.125)
    assert doc["workload"]["seed"] == 1
    assert spec["workload"]["arrivals"]["start_row"] == 200, "the input is not modified"
    tiny = scaled_document(read_document(INSTANCES / "tiny3.yaml"), 1.0, 4.0, 0)
    assert [j["arrival_s"] for j in tiny["jobs"]] == [0, 15, 30, 150]
    poisson = scaled_document(read_document(INSTANCES / "poisson-spec.yaml"), 1.0, 2.0, 3)
    rate = read_document(INSTANCES / "poisson-spec.yaml")["workload"]["arrivals"]["rate_per_hour"]
    assert poisson["workload"]["arrivals"]["rate_per_hour"] == 2 * rate


def test_axes_collapse_for_policies_they_do_not_touch(tmp_path: Path) -> None:
    path = write_sweep(
        tmp_path,
        instances=[str(INSTANCES / "tiny3.yaml")],
        policies=["delay-first", "bace", "milp"],
        grid={
            "seeds": [0, 1],
            "weights": [{}, {"aging_per_hour": 1.0}],
            "milp_time_limit_s": [1, 2, 3],
        },
    )
    cells = expand(load_sweep(path))
    per_policy = pd.Series([c.params["policy"] for c in cells]).value_counts().to_dict()
    assert per_policy == {"delay-first": 2, "bace": 4, "milp": 12}
    assert len({c.key for c in cells}) == len(cells)


def test_bad_sweep_files_exit_2_naming_each_field(tmp_path: Path, runner: CliRunner) -> None:
    path = write_sweep(
        tmp_path,
        instances=["missing.yaml"],
        policies=["bace", "fastest"],
        grid={"bandwidth_scale": [-1], "seeds": [0, 0]},
        colour="blue",
    )
    result = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith("grid.bandwidth_scale[0]:") for line in lines), lines
    assert any(line.startswith("colour:") for line in lines), lines
    assert "Traceback" not in result.stderr
    path = write_sweep(tmp_path, instances=["missing.yaml"], policies=["bace", "fastest"])
    result = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "policies[1]: unknown policy 'fastest'" in result.stderr
    assert "instances[0]: file not found: missing.yaml" in result.stderr
    assert not (tmp_path / "out").exists(), "nothing runs before the file is right"


def test_a_bad_instance_file_stops_the_sweep_before_any_cell(
    tmp_path: Path, runner: CliRunner
) -> None:
    doc = read_document(INSTANCES / "tiny3.yaml")
    doc["regions"][1]["gpus"] = 0
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(doc))
    path = write_sweep(tmp_path, instances=["bad.yaml"], policies=["bace"])
    result = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr.startswith("bad.yaml: regions[1].gpus:")
    assert not (tmp_path / "out" / "cells").exists()


# -- running, resuming, failing -------------------------------------------------------------------


def test_a_failing_cell_is_recorded_and_the_others_finish(
    tmp_path: Path, runner: CliRunner
) -> None:
    # Seed 20 asks for trace rows 4200..4399 of a 1,932-row trace: that world cannot be built.
    path = write_sweep(
        tmp_path,
        instances=[str(INSTANCES / "geo6-spec.yaml")],
        policies=["fifo-firstfit"],
        grid={"seeds": [0, 20], "load_scale": [4]},
    )
    result = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "1 run now" not in result.stdout and "1 failed" in result.stdout
    table = pd.read_csv(tmp_path / "out" / "results.csv")
    by_seed = table.set_index("seed")
    assert by_seed.loc[0, "status"] == "ok" and by_seed.loc[0, "jobs_finished"] == 200
    assert by_seed.loc[20, "status"] == "error"
    assert "has 0 rows from start_row 4200" in by_seed.loc[20, "error"]
    cells = list((tmp_path / "out" / "cells").glob("*.json"))
    assert len(cells) == 2
    # A rerun tries the failed cell again and leaves the finished one alone.
    outcome = run_sweep(load_sweep(path), tmp_path / "out")
    assert (outcome.skipped, outcome.ran, outcome.failed) == (1, 1, 1)


def _sixteen_geo6_cells(tmp_path: Path) -> Path:
    return write_sweep(
        tmp_path,
        instances=[str(INSTANCES / "geo6.yaml")],
        policies=["bace", "delay-first", "cost-first", "sjf"],
        grid={"bandwidth_scale": [0.25, 0.5, 1, 2]},
    )


def test_a_killed_sweep_resumes_with_only_the_missing_cells(tmp_path: Path) -> None:
    path = _sixteen_geo6_cells(tmp_path)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "bace_opt", "sweep", str(path), "--out", str(out)]
    process = subprocess.Popen([*command, "--workers", "1"], env={**os.environ, "COLUMNS": "120"})
    cells = out / "cells"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(cells.glob("*.json"))) < 3:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = {p.name: p.stat().st_mtime_ns for p in cells.glob("*.json")}
    assert 3 <= len(before) < 16, "killed halfway"
    assert not (out / "results.parquet").exists(), "the combined table is written at the end"
    assert not [p for p in cells.iterdir() if not p.name.endswith(".json")], "no torn files left"

    outcome = run_sweep(load_sweep(path), out)
    assert outcome.cells == 16
    assert outcome.skipped == len(before)
    assert outcome.ran == 16 - len(before)
    after = {p.name: p.stat().st_mtime_ns for p in cells.glob("*.json")}
    assert len(after) == 16
    assert all(after[name] == stamp for name, stamp in before.items()), "finished cells untouched"
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 16 and (table.status == "ok").all()


def _children(pid: int) -> set[int]:
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.add(int(status.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _start_busy_sweep(tmp_path: Path) -> tuple[subprocess.Popen[bytes], set[int]]:
    path = _sixteen_geo6_cells(tmp_path)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "bace_opt", "sweep", str(path), "--out", str(out)]
    process = subprocess.Popen([*command, "--workers", "2"], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "cells").glob("*.json"))) < 1:
        time.sleep(0.05)
    workers = _children(process.pid)
    assert workers, "the sweep runs its cells on worker processes"
    return process, workers


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_workers_die_with_a_killed_driver(tmp_path: Path) -> None:
    process, workers = _start_busy_sweep(tmp_path)
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)], "orphaned workers"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_ctrl_c_stops_a_sweep_and_its_workers(tmp_path: Path) -> None:
    process, workers = _start_busy_sweep(tmp_path)
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert time.monotonic() - sent < 5
    assert process.returncode == 130
    assert stderr.decode().strip().splitlines()[-1] == "interrupted"
    assert not (tmp_path / "out" / "results.parquet").exists()
    time.sleep(0.5)
    assert not [w for w in workers if _alive(w)]


def test_dask_cluster_gives_the_local_results(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    path = write_sweep(
        tmp_path,
        instances=[str(INSTANCES / "tiny3.yaml"), str(INSTANCES / "hetero4.yaml")],
        policies=["bace", "cost-first", "random"],
        grid={"bandwidth_scale": [0.5, 1], "seeds": [0, 1]},
    )
    sweep = load_sweep(path)
    local = run_sweep(sweep, tmp_path / "local")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = run_sweep(sweep, tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert local.ran == remote.ran == 24
    assert (local.table.status == "ok").all()
    pd.testing.assert_frame_equal(deterministic(local.table), deterministic(remote.table))
    for record in (tmp_path / "local" / "cells").glob("*.json"):
        mine = json.loads(record.read_text())
        theirs = json.loads((tmp_path / "dask" / "cells" / record.name).read_text())
        assert mine["jct_s"] == theirs["jct_s"]


def test_local_processes_give_the_in_process_results(tmp_path: Path) -> None:
    path = write_sweep(
        tmp_path,
        instances=[str(INSTANCES / "tiny3.yaml")],
        policies=["bace", "random"],
        grid={"load_scale": [1, 2], "seeds": [0, 1]},
    )
    one = run_sweep(load_sweep(path), tmp_path / "one")
    two = run_sweep(load_sweep(path), tmp_path / "two", workers=2)
    pd.testing.assert_frame_equal(deterministic(one.table), deterministic(two.table))


# -- the report -----------------------------------------------------------------------------------


def test_mean_ci_matches_the_t_interval_by_hand() -> None:
    mean, half, n = mean_ci([1.0, 2.0, 3.0])
    # t(0.975, 2) = 4.302653; s = 1; half = 4.302653 / √3.
    assert (mean, n) == (2.0, 3)
    assert half == pytest.approx(4.302653 / 3**0.5, rel=1e-6)
    assert mean_ci([5.0])[1] != mean_ci([5.0])[1], "no interval from one seed (NaN)"


def test_report_writes_tables_plots_and_one_self_contained_page(
    tmp_path: Path, runner: CliRunner
) -> None:
    path = write_sweep(
        tmp_path,
        instances=[str(INSTANCES / "tiny3.yaml")],
        policies=["bace", "delay-first", "cost-first"],
        grid={"bandwidth_scale": [0.5, 1], "load_scale": [1, 2], "seeds": [0, 1, 2]},
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.stderr
    folder = out / "report"
    summary = pd.read_csv(folder / "summary.csv")
    assert len(summary) == 3 * 2 * 2 and (summary.seeds == 3).all()
    cells = pd.read_parquet(out / "results.parquet")
    point = cells[(cells.policy == "bace") & (cells.bandwidth_scale == 1) & (cells.load_scale == 2)]
    row = summary[
        (summary.policy == "bace") & (summary.bandwidth_scale == 1) & (summary.load_scale == 2)
    ].iloc[0]
    assert row.avg_jct_h == pytest.approx(point.avg_jct_s.mean() / 3600)
    reductions = pd.read_csv(folder / "reductions.csv")
    assert set(reductions.against) == {"delay-first", "cost-first"}
    # Paired by seed: the mean over seeds of each seed's reduction against delay-first.
    theirs = cells[
        (cells.policy == "delay-first") & (cells.bandwidth_scale == 1) & (cells.load_scale == 2)
    ]
    by_seed = point.set_index("seed").avg_jct_s / theirs.set_index("seed").avg_jct_s
    red = reductions[
        (reductions.against == "delay-first")
        & (reductions.bandwidth_scale == 1)
        & (reductions.load_scale == 2)
    ].iloc[0]
    assert red.jct_reduction_pct == pytest.approx(100 * (1 - by_seed).mean())
    assert red.seeds == 3
    names = ("tiny3-bace-reduction.png", "tiny3-vs-bandwidth.png", "tiny3-vs-load.png")
    for name in (*names, "tiny3-jct-cdf.png"):
        assert (folder / name).stat().st_size > 5_000
    page = (folder / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 4
    assert "<table" in page and "src='http" not in page
    # cells/ is scratch: without it, jobs.parquet (every finished job's JCT) still gives the CDF
    jobs = pd.read_parquet(out / "jobs.parquet")
    assert len(jobs) == cells.jobs_finished.sum()
    bace = jobs[jobs.key.isin(point.key)].jct_s
    assert bace.mean() == pytest.approx(point.avg_jct_s.mean())  # equal job counts per seed
    cdf = (folder / "tiny3-jct-cdf.png").read_bytes()
    shutil.rmtree(out / "cells")
    assert runner.invoke(app, ["report", str(out)]).exit_code == 0
    assert (folder / "tiny3-jct-cdf.png").read_bytes() == cdf


def test_epoch_sweep_compares_greedy_and_milp(tmp_path: Path) -> None:
    path = write_sweep(
        tmp_path,
        kind="epoch",
        snapshots=[str(SNAPSHOTS / "10x4x6-seed*.yaml")],
        grid={"time_limit_s": [20], "warm_start": [True, False]},
    )
    outcome = run_sweep(load_sweep(path), tmp_path / "out", workers=2)
    table = outcome.table
    assert len(table) == 6 and (table.status == "ok").all()
    assert (table.milp_status == "optimal").all()
    assert (table.milp_weight >= table.greedy_weight - 1e-9).all()
    assert table.milp_feasible.all()
    both = table.pivot_table(index="snapshot", columns="warm_start", values="milp_weight")
    assert both[True].tolist() == pytest.approx(both[False].tolist()), "same optimum either way"
    report(tmp_path / "out")
    by_limit = pd.read_csv(tmp_path / "out" / "report" / "by_time_limit.csv")
    assert by_limit.proven_optimal.tolist() == [1.0, 1.0]


def test_an_unreachable_scheduler_is_a_clear_input_error() -> None:
    from bace_opt.errors import InputError
    from bace_opt.sweeps.runner import connect

    with pytest.raises(InputError) as caught:
        connect("tcp://127.0.0.1:1", timeout="1s")
    assert caught.value.problems[0].startswith("--scheduler: cannot reach a Dask scheduler")


def test_editing_an_instance_file_makes_its_cells_new(tmp_path: Path) -> None:
    doc = read_document(INSTANCES / "tiny3.yaml")
    instance = tmp_path / "world.yaml"
    instance.write_text(yaml.safe_dump(doc))
    path = write_sweep(tmp_path, instances=["world.yaml"], policies=["bace", "cost-first"])
    first = run_sweep(load_sweep(path), tmp_path / "out")
    assert (first.ran, run_sweep(load_sweep(path), tmp_path / "out").ran) == (2, 0)
    doc["regions"][0]["price"] = 0.5
    instance.write_text(yaml.safe_dump(doc))
    again = run_sweep(load_sweep(path), tmp_path / "out")
    assert (again.skipped, again.ran) == (0, 2)
    assert len(again.table) == 2, "the table lists the current cells only"
    assert (again.table.total_cost_usd > first.table.total_cost_usd).all()


def test_changing_the_code_makes_every_cell_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result belongs to the code that made it: another code digest, other keys, a full rerun."""
    from bace_opt.sweeps import cells

    digest = cells.code_digest()
    assert len(digest) == 64 and digest == cells.code_digest()
    tiny3 = str(INSTANCES / "tiny3.yaml")
    path = write_sweep(tmp_path, instances=[tiny3], policies=["bace", "cost-first"])
    assert run_sweep(load_sweep(path), tmp_path / "out").ran == 2
    monkeypatch.setattr(cells, "code_digest", lambda: "0" * 64)
    again = run_sweep(load_sweep(path), tmp_path / "out")
    assert (again.skipped, again.ran) == (0, 2)
