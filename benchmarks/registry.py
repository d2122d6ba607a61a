"""Every benchmark as a named, seeded, frozen spec, in one dict ``BENCHMARKS`` (after linopy's
``benchmarks/registry.py``).

Why: the five scripts this replaces each had their own argparse defaults, so a table in
docs/benchmarks.md was "whatever flags were typed". A spec pins all that a run depends on (sizes,
policies, seeds, repeats, where its rows go), ``benchmarks/run.py NAME`` runs it, and the JSON it
writes records the spec beside the rows. Each spec also declares ``quick``: the overrides (tiny
sizes) of its smoke variant, so ``smoke.py`` runs every measurement path in seconds.

One frozen dataclass per kind of benchmark. Its fields are the seeded parameters; its class
variables say how one cell is measured and shown, so the runner has no per-kind code:

* ``measure``: ``"module:function"`` under ``benchmarks/``, called with one cell's keywords and
  returning one row. It is a string, imported only when the spec runs, so that a cell's process
  loads only what that cell needs (the simulator's peak RSS must not include Pyomo's import).
* ``isolation``: ``"fresh"`` = every run of a cell in its own new process, one at a time (peak
  RSS and timings are the cell's own); ``"pool"`` = ``workers`` processes share the cells
  (throughput, nothing timed); ``"inline"`` = in the runner's process.
* ``timed``: the row's fields that are medians over ``repeats`` runs (the rest are the first run's).
* ``table``: the terminal table's columns, ``name:format`` each (a format spec that starts with
  its alignment and width, e.g. ``policy:<18 wall_s:>8.2f``).
* ``report``: an optional ``"module:function"`` called with (spec, rows) after the files are
  written: a comparison table or a figure.

Rows go to ``out/stem.csv`` and ``.json``; the stems keep the files docs/benchmarks.md cites
(``sim_speed``, ``milp_gap``, ...). ``bace-speed`` keeps ``results/sim_speed_bace/sim_speed.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

from bace_opt.policies.registry import names_with

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SNAPSHOTS = ROOT / "benchmarks" / "snapshots"
GAP_SUITE = ("10x4x6", "30x8x6", "60x16x6", "100x16x10", "200x16x10")
"""Snapshot sizes J×S×R of the MILP gap study: J waiting jobs, up to S stages, R regions."""

Isolation = Literal["fresh", "pool", "inline"]


@dataclass(frozen=True, kw_only=True)
class Spec:
    """What every kind shares: a name, how often each cell runs, where the rows go."""

    name: str
    description: str
    repeats: int = 1
    out: Path = RESULTS
    stem: str = ""
    """File stem of the results; "" = the name."""
    workers: int = 1
    """Processes at once, for ``isolation = "pool"`` kinds."""
    quick: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    """Field overrides of the quick variant (tiny sizes, for the smoke test)."""

    measure: ClassVar[str]
    isolation: ClassVar[Isolation] = "inline"
    timed: ClassVar[tuple[str, ...]] = ()
    table: ClassVar[str] = ""
    report: ClassVar[str | None] = None

    def cells(self) -> list[dict[str, Any]]:
        """The keywords of ``measure``, one dict per cell, in table order."""
        raise NotImplementedError

    def quick_variant(self) -> Spec:
        """The smoke variant; its files go to ``out/quick/`` so it never overwrites real rows."""
        return replace(self, out=self.out / "quick", quick={}, **self.quick)

    @property
    def files(self) -> tuple[Path, Path]:
        stem = self.out / (self.stem or self.name)
        return stem.with_suffix(".csv"), stem.with_suffix(".json")


@dataclass(frozen=True, kw_only=True)
class SimSpeed(Spec):
    """Whole simulations on the Poisson worlds of ``worlds.py``: wall time, events/s, peak RSS."""

    regions: tuple[int, ...] = (6, 20)
    jobs: tuple[int, ...] = (1000, 5000, 20000)
    policies: tuple[str, ...] = tuple(names_with("baseline"))
    load: float = 0.7
    seed: int = 0

    measure: ClassVar[str] = "cells.sim:sim_speed"
    isolation: ClassVar[Isolation] = "fresh"
    timed: ClassVar[tuple[str, ...]] = ("wall_s", "events_per_s", "policy_s", "peak_rss_mib")
    table: ClassVar[str] = (
        "regions:>7d jobs:>6d policy:<18 wall_s:>8.2f events_per_s:>12,.0f "
        "peak_rss_mib:>12.0f avg_wait_h:>10.2f"
    )

    def cells(self) -> list[dict[str, Any]]:
        return [
            {"regions": r, "jobs": n, "load": self.load, "policy": p, "seed": self.seed}
            for r in self.regions
            for n in self.jobs
            for p in self.policies
        ]


@dataclass(frozen=True, kw_only=True)
class SimScale(Spec):
    """Whole simulations of an overloaded geo6 stream (``worlds.geo6_stream``: offered load
    ``load`` > 1, so the waiting queue grows all run) as the job count grows: wall time, peak RSS
    and ms per job (flat when the run time grows linearly)."""

    jobs: tuple[int, ...] = (10_000, 20_000, 50_000, 100_000)
    policies: tuple[str, ...] = ("fifo-firstfit", "sjf", "cost-first", "bace")
    load: float = 1.5
    seed: int = 0

    measure: ClassVar[str] = "cells.scale:scale_run"
    isolation: ClassVar[Isolation] = "fresh"
    timed: ClassVar[tuple[str, ...]] = ("build_s", "wall_s", "ms_per_job", "policy_s")
    table: ClassVar[str] = (
        "jobs:>7d policy:<14 build_s:>7.1f wall_s:>8.1f ms_per_job:>10.2f epochs:>7d "
        "peak_rss_mib:>12.0f avg_waiting:>11.0f"
    )

    def cells(self) -> list[dict[str, Any]]:
        return [
            {"jobs": n, "load": self.load, "policy": p, "seed": self.seed}
            for n in self.jobs
            for p in self.policies
        ]


@dataclass(frozen=True, kw_only=True)
class ValidateScale(Spec):
    """``bace-opt validate`` end to end (a fresh interpreter each time) on instance files of N
    jobs, YAML and JSON: wall time and peak RSS of the command."""

    jobs: tuple[int, ...] = (10_000, 100_000)
    formats: tuple[str, ...] = ("yaml", "json")

    measure: ClassVar[str] = "cells.validate:validate_run"
    timed: ClassVar[tuple[str, ...]] = ("wall_s",)
    table: ClassVar[str] = "jobs:>7d format:<5 file_mib:>9.1f wall_s:>8.2f peak_rss_mib:>12.0f"

    def cells(self) -> list[dict[str, Any]]:
        return [{"jobs": n, "fmt": f} for n in self.jobs for f in self.formats]


@dataclass(frozen=True, kw_only=True)
class DecisionSpeed(Spec):
    """One decision on a big, partly busy snapshot: cold (fresh policy, path index built) and
    warm (the same policy again, index reused as in a simulation)."""

    regions: tuple[int, ...] = (20, 6)
    jobs: tuple[int, ...] = (500,)
    policies: tuple[str, ...] = ("bace", "bace-no-pathfinder")
    seed: int = 1

    measure: ClassVar[str] = "cells.sim:decision_speed"
    timed: ClassVar[tuple[str, ...]] = ("cold_ms", "warm_ms")
    table: ClassVar[str] = "regions:>7d jobs:>5d policy:<20 cold_ms:>8.1f warm_ms:>8.1f placed:>6d"

    def cells(self) -> list[dict[str, Any]]:
        return [
            {"regions": r, "jobs": n, "policy": p, "seed": self.seed}
            for r in self.regions
            for n in self.jobs
            for p in self.policies
        ]


@dataclass(frozen=True, kw_only=True)
class MilpGap(Spec):
    """Greedy BACE-Pipe against the exact epoch MILP on seeded snapshots (``JxSxR``) or geo6's
    busiest epochs (``geo6-N``), with and without the greedy MIP start."""

    sizes: tuple[str, ...] = GAP_SUITE
    seeds: tuple[int, ...] = (0, 1, 2)
    time_limit_s: float = 60.0
    warm_starts: tuple[bool, ...] = (True, False)
    threads: int = 2
    figure: str | None = "milp_gap"
    """Stem of the figure drawn after the run (None: none)."""
    figure_from: tuple[str, ...] = ("milp_gap", "milp_gap_10s")
    """Result stems in ``out`` the figure plots, those present."""

    measure: ClassVar[str] = "cells.milp:gap"
    isolation: ClassVar[Isolation] = "fresh"
    timed: ClassVar[tuple[str, ...]] = ("build_s", "solve_s", "greedy_s", "peak_rss_mib")
    table: ClassVar[str] = (
        "size:<10 seed:>4d warm_start:<10 milp_status:<11 build_s:>7.2f solve_s:>7.2f "
        "greedy_weight:>13.4f milp_weight:>11.4f greedy_cost:>11.2f milp_cost:>9.2f "
        "peak_rss_mib:>12.0f"
    )
    report: ClassVar[str | None] = "cells.milp:plot"

    def cells(self) -> list[dict[str, Any]]:
        return [
            {
                "size": size,
                "seed": seed,
                "time_limit_s": self.time_limit_s,
                "warm_start": warm,
                "threads": self.threads,
            }
            for size in self.sizes
            for seed in self.seeds
            for warm in self.warm_starts
        ]


@dataclass(frozen=True, kw_only=True)
class SnapshotSuite(Spec):
    """Writes the gap study's snapshots as files (for ``bace-opt epoch`` and the sweep
    ``milp-gap.sweep.yaml``); a row per file. geo6 epochs do not depend on the seed: one file."""

    sizes: tuple[str, ...] = (*GAP_SUITE, "60x8x20", "geo6-1", "geo6-2")
    seeds: tuple[int, ...] = (0, 1, 2)
    folder: Path | None = SNAPSHOTS
    """Where the snapshot files go; None = ``out/snapshots``."""

    measure: ClassVar[str] = "cells.milp:write_snapshot"
    table: ClassVar[str] = "size:<10 seed:>4d waiting:>7d file:<40"

    def cells(self) -> list[dict[str, Any]]:
        folder = str(self.folder or self.out / "snapshots")
        return [
            {"size": size, "seed": seed, "folder": folder}
            for size in self.sizes
            for seed in ((1,) if size.startswith("geo6-") else self.seeds)
        ]


@dataclass(frozen=True, kw_only=True)
class Geo10Snapshots(Spec):
    """Writes geo10's real-data epochs as files: ``geo10-J-empty`` and ``geo10-J-half`` (J
    waiting Philly-trace jobs in an idle world, or in the half-busy world a BACE-Pipe run left;
    ``worlds.geo10_epoch``), one per seed (the seed picks the trace window)."""

    sizes: tuple[str, ...] = ("geo10-200-empty", "geo10-200-half")
    seeds: tuple[int, ...] = (0, 1, 2)
    folder: Path | None = SNAPSHOTS
    """Where the snapshot files go; None = ``out/snapshots``."""

    measure: ClassVar[str] = "cells.geo10:write_snapshot"
    table: ClassVar[str] = (
        "size:<16 seed:>4d time_h:>7.1f waiting:>7d free_gpus:>9d running:>7d link_use:>8.3f "
        "file:<40"
    )

    def cells(self) -> list[dict[str, Any]]:
        folder = str(self.folder or self.out / "snapshots")
        return [
            {"size": size, "seed": seed, "folder": folder}
            for size in self.sizes
            for seed in self.seeds
        ]


@dataclass(frozen=True, kw_only=True)
class MilpScale(Spec):
    """The epoch MILP at the sizes that matter, on snapshot files ``SIZE-seedN.yaml``, through the
    path ``bace-opt epoch`` takes (greedy MIP start, two lexicographic stages): wall time of the
    whole ``solve_epoch`` call (build included), whether it proved the optimum, its bounds, and
    the greedy plan's weight and cost on the same snapshot."""

    sizes: tuple[str, ...] = (
        "60x16x6",
        "100x16x10",
        "200x16x10",
        "60x8x20",
        "geo10-200-empty",
        "geo10-200-half",
    )
    seeds: tuple[int, ...] = (0, 1, 2)
    folder: Path = SNAPSHOTS
    time_limit_s: float = 60.0
    mip_gap: float = 0.0
    threads: int = 2
    backend: str = "appsi_highs"
    """A Pyomo solver name, or ``highs_direct`` (HiGHS fed arrays)."""
    isolated: bool = True
    """Solve in a child process stopped at the limit, as the CLI does (``SolveOptions``)."""

    measure: ClassVar[str] = "cells.milp_scale:scale"
    isolation: ClassVar[Isolation] = "fresh"
    timed: ClassVar[tuple[str, ...]] = (
        "wall_s",
        "build_s",
        "solve_s",
        "greedy_s",
        "start_s",
        "peak_rss_mib",
    )
    table: ClassVar[str] = (
        "snapshot:<22 waiting:>7d regions:>7d status:<10 proven:<6 wall_s:>7.2f build_s:>7.2f "
        "weight:>9.4f weight_bound:>12.4f cost_usd:>10.2f cost_bound_usd:>14.2f "
        "cost_gap:>8.4f greedy_weight:>13.4f greedy_cost_usd:>15.2f"
    )

    def cells(self) -> list[dict[str, Any]]:
        return [
            {
                "path": str(self.folder / f"{size}-seed{seed}.yaml"),
                "time_limit_s": self.time_limit_s,
                "mip_gap": self.mip_gap,
                "threads": self.threads,
                "backend": self.backend,
                "isolated": self.isolated,
            }
            for size in self.sizes
            for seed in self.seeds
        ]


@dataclass(frozen=True, kw_only=True)
class Handover(Spec):
    """What an epoch pays before HiGHS's clock starts, per backend: the Pyomo build and the
    hand-over of both stages' models (appsi's ``set_instance`` and ``update``, or the arrays'
    ``passModel`` and added cost rows), on snapshot files ``SIZE-seedN.yaml``; no solve."""

    sizes: tuple[str, ...] = ("60x16x6", "100x16x10", "200x16x10", "60x8x20", "geo10-200-empty")
    seeds: tuple[int, ...] = (0, 1, 2)
    folder: Path = SNAPSHOTS
    threads: int = 2

    measure: ClassVar[str] = "cells.handover:handover"
    isolation: ClassVar[Isolation] = "fresh"
    timed: ClassVar[tuple[str, ...]] = (
        *("data_s", "build_s", "appsi_attach_s", "appsi_update_s", "appsi_s"),
        *("matrix_s", "direct_attach_s", "direct_update_s", "direct_s", "peak_rss_mib"),
    )
    table: ClassVar[str] = (
        "snapshot:<22 rows:>8d nonzeros:>9d build_s:>7.2f appsi_attach_s:>14.2f "
        "appsi_update_s:>14.2f appsi_s:>7.2f matrix_s:>8.2f direct_attach_s:>15.2f "
        "direct_update_s:>15.2f direct_s:>8.2f"
    )

    def cells(self) -> list[dict[str, Any]]:
        return [
            {"path": str(self.folder / f"{size}-seed{seed}.yaml"), "threads": self.threads}
            for size in self.sizes
            for seed in self.seeds
        ]


@dataclass(frozen=True, kw_only=True)
class HighsOptions(Spec):
    """The epoch MILP as ``milp-scale`` solves it, under each named HiGHS setting of
    ``cells.highs_options.SETTINGS`` (presolve, symmetry detection, heuristic effort, threads),
    in process; the gap each reaches at the limit."""

    sizes: tuple[str, ...] = ("100x16x10", "200x16x10", "60x8x20")
    seeds: tuple[int, ...] = (0, 1)
    settings: tuple[str, ...] = (
        *("default", "presolve-off", "heuristics-0.3", "no-symmetry", "threads-1"),
    )
    folder: Path = SNAPSHOTS
    time_limit_s: float = 30.0
    backend: str = "appsi_highs"

    measure: ClassVar[str] = "cells.highs_options:with_setting"
    isolation: ClassVar[Isolation] = "fresh"
    timed: ClassVar[tuple[str, ...]] = ("wall_s",)
    table: ClassVar[str] = (
        "snapshot:<18 setting:<15 status:<10 termination:<15 wall_s:>7.2f weight:>9.4f "
        "weight_bound:>12.4f cost_usd:>10.2f cost_bound_usd:>14.2f cost_gap:>8.4f"
    )

    def cells(self) -> list[dict[str, Any]]:
        return [
            {
                "path": str(self.folder / f"{size}-seed{seed}.yaml"),
                "setting": setting,
                "time_limit_s": self.time_limit_s,
                "backend": self.backend,
            }
            for size in self.sizes
            for seed in self.seeds
            for setting in self.settings
        ]


@dataclass(frozen=True, kw_only=True)
class CountRelaxation(Spec):
    """The cost stage's stage-count relaxation solved to gap 0 on the unproven big epochs, cold
    and with the exact latency term from the MIP start (``cells.count_relaxation``): how long R
    alone takes, how far its bound and its placed plan are from the 60 s answers."""

    sizes: tuple[str, ...] = ("100x16x10", "200x16x10")
    seeds: tuple[int, ...] = (0, 1, 2)
    variants: tuple[str, ...] = ("R", "R+")
    folder: Path = SNAPSHOTS
    limit_s: float = 90.0
    threads: int = 2

    measure: ClassVar[str] = "cells.count_relaxation:relaxation"
    isolation: ClassVar[Isolation] = "fresh"
    timed: ClassVar[tuple[str, ...]] = ("solve_s",)
    table: ClassVar[str] = (
        "snapshot:<18 variant:<8 optimal:<8 proven:<7 solve_s:>8.2f start_cost_usd:>15.4f "
        "bound_usd:>10.4f placed_cost_usd:>16.4f splits:>7"
    )

    def cells(self) -> list[dict[str, Any]]:
        return [
            {
                "path": str(self.folder / f"{size}-seed{seed}.yaml"),
                "variant": variant,
                "limit_s": self.limit_s,
                "threads": self.threads,
            }
            for size in self.sizes
            for seed in self.seeds
            for variant in self.variants
        ]


@dataclass(frozen=True, kw_only=True)
class LookaheadDecisions(Spec):
    """Whole runs of geo6 worlds with ``bace`` and ``lookahead``: average JCT, cost, longest
    wait, and the decision time of every epoch (median, p95, max)."""

    specs: tuple[str, ...] = (
        "instances/geo6-spec.yaml",
        "instances/geo6-half-spec.yaml",
        "instances/geo6-quarter-spec.yaml",
    )
    loads: tuple[float, ...] = (1.0, 2.0)
    bandwidth: float = 1.0
    seed: int = 0
    policies: tuple[str, ...] = ("bace", "lookahead")

    measure: ClassVar[str] = "cells.lookahead:decisions"
    isolation: ClassVar[Isolation] = "fresh"
    table: ClassVar[str] = (
        "world:<13 load:>5.1f policy:<10 avg_jct_h:>10.3f cost_usd:>9.2f max_wait_h:>10.1f "
        "epochs:>6d median_ms:>9.1f p95_ms:>8.1f max_ms:>8.1f solves:>6d guarded:>7d"
    )

    def cells(self) -> list[dict[str, Any]]:
        return [
            {"spec": s, "load": load, "bandwidth": self.bandwidth, "seed": self.seed, "policy": p}
            for s in self.specs
            for load in self.loads
            for p in self.policies
        ]


@dataclass(frozen=True, kw_only=True)
class MilpPolicySpeed(Spec):
    """The ``milp`` policy over a whole run: wall time per backend (``appsi_highs``,
    ``highs_direct``), with the solver's child process (as the CLI) or in process."""

    instance: str = "instances/geo6.yaml"
    backends: tuple[str, ...] = ("appsi_highs", "highs_direct")
    isolated: tuple[bool, ...] = (True, False)
    time_limit_s: float = 10.0

    measure: ClassVar[str] = "cells.milp_policy:whole_run"
    isolation: ClassVar[Isolation] = "fresh"
    timed: ClassVar[tuple[str, ...]] = ("wall_s", "per_solve_ms", "peak_rss_mib")
    table: ClassVar[str] = (
        "instance:<10 backend:<13 isolated:<8 wall_s:>7.2f per_solve_ms:>12.1f solves:>6d "
        "optimal:>7d fallbacks:>9d end_sum_s:>16.3f"
    )

    def cells(self) -> list[dict[str, Any]]:
        return [
            {
                "instance": self.instance,
                "backend": backend,
                "isolated": isolated,
                "time_limit_s": self.time_limit_s,
            }
            for isolated in self.isolated
            for backend in self.backends
        ]


@dataclass(frozen=True, kw_only=True)
class Formulations(Spec):
    """The shipped block MILP against a per-stage assignment model on the same snapshot files,
    solver and two-stage procedure (no MIP start)."""

    snapshots: tuple[str, ...] = ("10x4x6-seed*", "30x8x6-seed*", "60x16x6-seed*", "geo6-*")
    """Glob patterns (without ``.yaml``) in ``folder``."""
    folder: Path = SNAPSHOTS
    formulations: tuple[str, ...] = ("block", "per-stage")
    time_limit_s: float = 60.0
    """Per stage."""
    threads: int = 1

    measure: ClassVar[str] = "cells.formulations:formulation"
    timed: ClassVar[tuple[str, ...]] = ("build_s", "solve_s")
    table: ClassVar[str] = (
        "snapshot:<18 formulation:<11 variables:>9,d constraints:>11,d build_s:>7.2f "
        "solve_s:>7.2f status:<17 weight:>10.6f cost_usd:>10.4f"
    )
    report: ClassVar[str | None] = "cells.formulations:compare"

    def cells(self) -> list[dict[str, Any]]:
        paths = [
            p for pattern in self.snapshots for p in sorted(self.folder.glob(f"{pattern}.yaml"))
        ]
        return [
            {
                "path": str(path),
                "formulation": name,
                "time_limit_s": self.time_limit_s,
                "threads": self.threads,
            }
            for path in paths
            for name in self.formulations
        ]


@dataclass(frozen=True, kw_only=True)
class SplitBudget(Spec):
    """BACE-Pipe's split budget against cost-first over the paper grid (bandwidth × load) and
    every trace window (seed); budget "none" is ``bace-cheapest-path``."""

    worlds: tuple[str, ...] = ("geo6-spec", "geo6-half-spec")
    bandwidth: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
    load: tuple[float, ...] = (0.5, 1.0, 2.0)
    seeds: tuple[int, ...] = tuple(range(8))
    budgets: tuple[str, ...] = ("none", "0", "0.05", "0.1", "0.2")
    workers: int = 2

    measure: ClassVar[str] = "cells.split:split_run"
    isolation: ClassVar[Isolation] = "pool"
    table: ClassVar[str] = (
        "world:<14 bandwidth_scale:>15g load_scale:>10g seed:>4d policy:<10 "
        "avg_jct_h:>9.3f total_cost_usd:>14,.2f split_jobs:>10d"
    )
    report: ClassVar[str | None] = "cells.split:compare"

    def cells(self) -> list[dict[str, Any]]:
        return [
            {"world": w, "bandwidth": b, "load": ld, "seed": s, "policy": p}
            for w in self.worlds
            for b in self.bandwidth
            for ld in self.load
            for s in self.seeds
            for p in ("cost-first", *self.budgets)
        ]


_TINY_SIM = {"regions": (6,), "jobs": (200,)}
_SPECS: tuple[Spec, ...] = (
    SimSpeed(
        name="sim-speed",
        stem="sim_speed",
        description="simulator speed and peak RSS of every greedy baseline (make bench)",
        quick=_TINY_SIM | {"policies": ("cost-first", "sjf")},
    ),
    SimSpeed(
        name="bace-speed",
        out=RESULTS / "sim_speed_bace",
        stem="sim_speed",
        description="simulator speed with BACE-Pipe and its paper-literal allocator",
        jobs=(5000, 20000),
        policies=("bace", "bace-cheapest-path"),
        quick=_TINY_SIM | {"policies": ("bace",)},
    ),
    SimScale(
        name="sim-scale",
        stem="sim_scale",
        description="overloaded geo6 streams of 10k-100k jobs: wall time and peak RSS",
        quick={"jobs": (300,), "policies": ("bace",)},
    ),
    ValidateScale(
        name="validate-scale",
        stem="validate_scale",
        description="bace-opt validate on 10k and 100k-job instance files (YAML, JSON)",
        repeats=3,
        quick={"jobs": (200,), "formats": ("yaml",)},
    ),
    DecisionSpeed(
        name="decision-speed",
        stem="decision_speed",
        description="one BACE-Pipe decision over 500 waiting jobs, cold and warm",
        repeats=7,
        quick={"regions": (6,), "jobs": (40,), "policies": ("bace",), "repeats": 2},
    ),
    MilpGap(
        name="milp-gap",
        stem="milp_gap",
        description="greedy vs the exact epoch MILP, 60 s limit, with and without MIP start",
        quick={"sizes": ("10x4x6",), "seeds": (0,), "warm_starts": (True,), "time_limit_s": 10.0},
    ),
    MilpGap(
        name="milp-gap-10s",
        stem="milp_gap_10s",
        description="the gap study at a 10 s limit, MIP start only",
        time_limit_s=10.0,
        warm_starts=(True,),
        quick={"sizes": ("10x4x6",), "seeds": (1,)},
    ),
    MilpGap(
        name="milp-gap-geo6",
        stem="milp_gap_geo6",
        description="greedy vs exact on the three busiest epochs of a scarce geo6 run",
        sizes=("geo6-1", "geo6-2", "geo6-3"),
        seeds=(0,),
        figure=None,
        quick={"sizes": ("geo6-1",), "warm_starts": (True,)},
    ),
    SnapshotSuite(
        name="milp-snapshots",
        stem="snapshots",
        description="write the gap study's snapshot files to benchmarks/snapshots/",
        quick={"sizes": ("10x4x6",), "seeds": (0,), "folder": None},
    ),
    Geo10Snapshots(
        name="geo10-snapshots",
        stem="snapshots_geo10",
        description="write geo10's 200-job epochs (empty, half-busy) to benchmarks/snapshots/",
        quick={"sizes": ("geo10-20-half",), "seeds": (0,), "folder": None},
    ),
    MilpScale(
        name="milp-scale",
        stem="milp_scale",
        description="the epoch MILP at 60-200 waiting jobs x 6-20 regions, 60 s, 2 threads",
        repeats=3,
        quick={"sizes": ("10x4x6",), "seeds": (0,), "time_limit_s": 10.0, "repeats": 1},
    ),
    MilpScale(
        name="milp-scale-10s",
        stem="milp_scale_10s",
        description="milp-scale's 100- and 200-job epochs at a 10 s limit: the anytime gap",
        sizes=("100x16x10", "200x16x10"),
        time_limit_s=10.0,
        repeats=3,
        quick={"sizes": ("10x4x6",), "seeds": (0,), "time_limit_s": 5.0, "repeats": 1},
    ),
    MilpScale(
        name="milp-scale-direct",
        stem="milp_scale_direct",
        description="milp-scale with the highs_direct backend (HiGHS fed arrays, no Pyomo model)",
        repeats=3,
        backend="highs_direct",
        quick={
            "sizes": ("10x4x6",),
            "seeds": (0,),
            "time_limit_s": 10.0,
            "repeats": 1,
            "isolated": False,  # the in-process path too; milp-scale's quick runs the isolated one
        },
    ),
    Handover(
        name="handover",
        stem="handover",
        description="the Pyomo build and the hand-over to HiGHS per backend, 60-200 jobs, no solve",
        repeats=3,
        quick={"sizes": ("10x4x6",), "seeds": (0,), "repeats": 1},
    ),
    CountRelaxation(
        name="count-relaxation",
        stem="count_relaxation",
        description="the stage-count relaxation to gap 0 on the big epochs: R cold, R+ warm",
        quick={"sizes": ("30x8x6",), "seeds": (0,), "limit_s": 10.0},
    ),
    HighsOptions(
        name="highs-options",
        stem="highs_options",
        description="the epoch MILP under HiGHS settings (presolve, symmetry, heuristics, threads)",
        quick={
            "sizes": ("10x4x6",),
            "seeds": (0,),
            "settings": ("default", "presolve-off"),
            "time_limit_s": 5.0,
        },
    ),
    LookaheadDecisions(
        name="lookahead-decisions",
        stem="lookahead_decisions",
        description="bace and lookahead over geo6, geo6-half, geo6-quarter: JCT, cost, ms/epoch",
        quick={"specs": ("instances/tiny3.yaml",), "loads": (1.0,)},
    ),
    MilpPolicySpeed(
        name="milp-policy",
        stem="milp_policy",
        description="the milp policy over a whole geo6 run, per backend, isolated or in process",
        repeats=3,
        quick={"instance": "instances/tiny3.yaml", "repeats": 1},
    ),
    Formulations(
        name="formulations",
        stem="formulations",
        description="block vs per-stage MILP on the snapshot files, 60 s per stage",
        quick={"snapshots": ("geo6-1",), "time_limit_s": 10.0},
    ),
    SplitBudget(
        name="split-budget",
        stem="split_budget",
        description="BACE-Pipe's split budget against cost-first, paper grid × 8 seeds",
        quick={
            "worlds": ("geo6-spec",),
            "bandwidth": (1.0,),
            "load": (1.0,),
            "seeds": (0,),
            "budgets": ("0.1",),
        },
    ),
)
BENCHMARKS: dict[str, Spec] = {spec.name: spec for spec in _SPECS}
