"""What people read: terminal tables that fit the console without cutting a name, a sweep report
that gives no CI where the seeds varied nothing, figures whose titles name the instance and the
metric, and an HTML page with human headers and a caption under every table and figure."""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure
from rich.console import Console

from bace_opt.io.read import load_instance
from bace_opt.policies import make_policy, policy_names
from bace_opt.report import plots
from bace_opt.report.columns import TERMINAL_VIEW
from bace_opt.report.files import run_summary
from bace_opt.report.terminal import rows_table, summary_table
from bace_opt.sim import simulate
from bace_opt.sweeps import figures, load_sweep, report, run_sweep
from bace_opt.sweeps.report import TABLES
from bace_opt.sweeps.stats import NO_CI, mean_ci, mean_pm
from tests.conftest import INSTANCES

# -- terminal tables ------------------------------------------------------------------------------


def rendered(table: Any, width: int) -> list[str]:
    console = Console(width=width, file=io.StringIO(), record=True)
    console.print(table)
    return console.export_text().splitlines()


def cells(lines: list[str]) -> set[str]:
    """Every table cell's text, one per line of the table."""
    return {c.strip() for line in lines for c in line.replace("┃", "│").split("│")}


def big_summary(policy: str) -> dict[str, Any]:
    """A run summary with wide values: a big workload, a long run."""
    return {
        "policy": policy,
        "jobs_finished": 20000,
        "avg_jct_s": 123_456.0,
        "p95_jct_s": 999_999.0,
        "avg_wait_s": 45_678.0,
        "makespan_s": 1_234_567.0,
        "total_cost_usd": 123_456.78,
        "total_energy_kwh": 1_234_567.0,
        "jobs_stalled": 1234,
        "gpu_utilization": 0.873,
        "link_utilization": 0.123,
        "epochs": 123_456,
        "policy_time_s": 12.345,
    }


@pytest.mark.parametrize("width", [100, 80, 120])
def test_the_results_table_fits_the_console_and_never_cuts_a_policy_name(width: int) -> None:
    names = policy_names()
    assert "bace-no-pathfinder" in names and "cost-first-spill" in names
    summaries = [big_summary(name) for name in names]
    lines = rendered(summary_table(summaries), width)
    assert max(len(line) for line in lines) <= width, "\n".join(lines)
    shown = cells(lines)
    assert set(names) <= shown, f"policy names cut at width {width}:\n" + "\n".join(lines)
    assert not any("…" in line for line in lines)
    # every value whole, too: the table splits rather than cutting one
    values = {"123,456.78", "1,234,567", "12.345", "123456", "20000"}
    assert values <= shown


def test_a_wide_console_shows_one_table_with_one_line_headers() -> None:
    lines = rendered(summary_table([big_summary("bace")]), 220)
    assert sum(1 for line in lines if line.startswith("Results")) == 1
    header = next(line for line in lines if "policy" in line)
    assert all(shown.label in header for _, shown in TERMINAL_VIEW)


def test_rows_tables_keep_their_first_column_whole() -> None:
    metrics = {f"metric {k} s": 1.5 * k for k in range(9)}
    rows = [{"direction": f"ap-northeast-{i}>ap-southeast-{i}", **metrics} for i in range(3)]
    for width in (100, 80, 60):
        lines = rendered(rows_table("Link directions", rows), width)
        assert max(len(line) for line in lines) <= width
        assert {r["direction"] for r in rows} <= cells(lines)


# -- seeds that vary nothing ----------------------------------------------------------------------


def test_no_ci_from_identical_values() -> None:
    mean, half, n = mean_ci([53.8, 53.8, 53.8])
    assert (mean, n) == (53.8, 3) and math.isnan(half)
    assert not math.isnan(mean_ci([53.8, 53.9])[1])
    summary = pd.DataFrame(
        {
            "instance": ["w", "w"],
            "policy": ["bace", "random"],
            "weights": [None, None],
            "milp_time_limit_s": [float("nan")] * 2,
            "bandwidth_scale": [1.0, 1.0],
            "load_scale": [1.0, 1.0],
            "avg_jct_h": [53.8, 50.0],
            "avg_jct_h_ci95": [float("nan"), 1.25],
            "seeds": [2, 2],
        }
    )
    pivot = mean_pm(summary, "avg_jct_h", 1)
    assert pivot.loc["w", "bace"] == f"53.8 {NO_CI}"
    assert pivot.loc["w", "random"] == "50.0 ± 1.2"


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A sweep on tiny3 (explicit jobs): ``bace`` is deterministic, so its seeds are repeats;
    ``random`` draws with its seed. Reported with every figure captured before it is closed."""
    folder = tmp_path_factory.mktemp("sweep")
    path = folder / "sweep.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "seeds",
                "instances": [str(INSTANCES / "tiny3.yaml")],
                "policies": ["bace", "random"],
                "grid": {"bandwidth_scale": [0.5, 1], "load_scale": [1, 2], "seeds": [0, 1]},
            }
        )
    )
    out = folder / "out"
    assert run_sweep(load_sweep(path), out, workers=1).failed == 0
    drawn: list[tuple[Path, Figure]] = []
    save = figures._save

    def capture(fig: Figure, where: Path) -> Path:
        drawn.append((where, fig))
        return save(fig, where)

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("bace_opt.sweeps.report")
    logger.addHandler(handler)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(figures, "_save", capture)
        page = report(out)
    logger.removeHandler(handler)
    yield {"out": out, "page": page.read_text(), "figures": drawn, "log": records}


def test_seeds_that_vary_nothing_give_no_ci_and_a_warning(swept: dict[str, Any]) -> None:
    summary = pd.read_csv(swept["out"] / "report" / "summary.csv")
    ci = [c for c in summary if c.endswith("_ci95")]
    bace, rand = summary[summary.policy == "bace"], summary[summary.policy == "random"]
    assert (bace.seeds == 2).all()
    assert bace[ci].isna().all().all(), "identical repeats: the CI column is empty, not 0"
    assert rand.avg_jct_h_ci95.notna().all() and (rand.avg_jct_h_ci95 > 0).all()
    warnings = [r.getMessage() for r in swept["log"] if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Seeds identical" in warnings[0]
    assert "bace" in warnings[0] and "random" not in warnings[0]
    page = swept["page"]
    assert "Seeds identical" in page
    assert f"{bace.avg_jct_h.iloc[0]:.2f} {NO_CI}" in page
    assert "± 0.00" not in page.split("reduction against each policy")[0]
    assert " ± " in page, "random's series keeps its CI"


def test_report_figures_name_the_instance_and_the_metric(swept: dict[str, Any]) -> None:
    assert len(swept["figures"]) == 4
    for path, fig in swept["figures"]:
        titles = " ".join([fig.get_suptitle(), *(ax.get_title() for ax in fig.axes)])
        assert "tiny3" in titles, path
        assert any(m in titles for m in ("JCT", "cost", "job completion time")), titles


def test_the_report_page_has_human_headers_and_captions(swept: dict[str, Any]) -> None:
    page = swept["page"]
    for header in ("Average JCT (h)", "Electricity cost ($)", "Bandwidth scale", "Load scale"):
        assert f"<th>{header}" in page or f"{header}:" in page, header
    assert "<th>Average JCT reduction (%), min</th>" in page
    shown = len(TABLES) + 1 + len(swept["figures"])  # mean ± CI tables, reductions, figures
    assert page.count("<figure>") == page.count("<figcaption>") == shown
    for artifact in ("<th></th>", "rowspan", "_ci95", "avg_jct_h", "bandwidth_scale", ">series<"):
        assert artifact not in page, artifact
    assert "<td>×0.5</td>" in page


# -- compare's figures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compared() -> dict[str, Any]:
    instance = load_instance(INSTANCES / "tiny3.yaml")
    results = [simulate(instance, make_policy(name, 0)) for name in ("bace", "cost-first-spill")]
    return {
        "instance": instance,
        "results": results,
        "summaries": [run_summary(instance, r) for r in results],
    }


def test_compare_figures_are_titled_with_the_instance(compared: dict[str, Any]) -> None:
    cdf = plots.jct_cdf_figure(compared["results"], "tiny3")
    bars = plots.cost_energy_figure(compared["summaries"], "tiny3")
    try:
        assert "tiny3" in cdf.axes[0].get_title() and "completion" in cdf.axes[0].get_title()
        assert "tiny3" in bars.get_suptitle() and "cost" in bars.get_suptitle()
        for ax in bars.axes:
            labels = [t.get_text() for t in ax.texts]
            assert len(labels) == 2 and all(labels), "values on the bars"
            assert ax.get_title()
    finally:
        plt.close(cdf)
        plt.close(bars)


def test_the_gpu_plot_draws_the_capacity(compared: dict[str, Any]) -> None:
    instance = compared["instance"]
    fig = plots.gpus_in_use_figure(instance, compared["results"])
    try:
        capacity = sum(r.gpus for r in instance.regions)
        assert "tiny3" in fig.get_suptitle()
        for ax in fig.axes:
            dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
            assert [list(ln.get_ydata()) for ln in dashed] == [[capacity, capacity]]
    finally:
        plt.close(fig)


def test_writers_save_pngs(compared: dict[str, Any], tmp_path: Path) -> None:
    """The writers app/run.py calls still work without the instance's name."""
    assert plots.cost_energy(compared["summaries"], tmp_path / "c.png").stat().st_size > 5_000
    assert plots.jct_cdf(compared["results"], tmp_path / "j.png").stat().st_size > 5_000


def test_the_solve_time_figure_names_the_sweep(tmp_path: Path) -> None:
    cells = pd.DataFrame(
        {
            "snapshot": ["a", "b"],
            "time_limit_s": [5.0, 5.0],
            "warm_start": [True, True],
            "milp_status": ["optimal", "time_limit"],
            "waiting": [10, 40],
            "solve_s": [0.5, 5.0],
        }
    )
    plot = figures.solve_time(cells, tmp_path, "mysweep")
    assert "mysweep" in plot.title and "solve time" in plot.title and plot.caption
    assert plot.path.stat().st_size > 5_000
