"""The instance and snapshot file format (DESIGN §4) as strict, frozen pydantic models.

Only shapes and single-field ranges are checked here; rules that relate fields to each other
(links to known regions, unknown models, the memory rule, ...) live in ``rules`` so every problem
is reported with its field path in one pass. ``bace-opt schema`` prints the JSON Schema of
``InstanceFile`` so editors can check files as people type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag

Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")]

# Physical ranges (docs/model.md, "Numeric ranges"): wide enough for any real cluster, narrow
# enough that every formula of DESIGN §2 stays finite and exact to well under a second, and that
# a simulation ends. A value outside is refused with its field path.
MAX_TIME_S = 1e9
"""Arrivals, durations, ticks: about 31.7 years; a float is exact to 0.1 µs there."""
MAX_SNAPSHOT_TIME_S = 1e10
"""An epoch's time may lie past the last arrival by the run times of the jobs still waiting."""
MAX_EXPECTED_END_S = 1e15
"""A running job's expected end: at the link share of the moment, a pipeline starved on an
oversubscribed link can be expected to end far past any real run (a float is exact to 0.125 s)."""
MAX_PRICE_USD_PER_KWH = 100.0
"""|price| (wholesale markets cap at a few $/kWh; negative prices are real and allowed)."""
MAX_COUNT = 10_000_000
"""GPUs per region, GPUs per stage, free GPUs."""
MAX_GBPS = 1e6
MAX_SIZE = 1_000_000
"""Micro-batches, micro-batch size, layers, heads, stages (per pipeline: 10,000)."""


def _bounded(lo: float, hi: float) -> Any:
    return Field(ge=lo, le=hi, allow_inf_nan=False)


def _count(hi: int) -> Any:
    return Field(ge=1, le=hi)


Seconds = Annotated[float, _bounded(0.0, MAX_TIME_S)]
PositiveFloat = Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
PositiveInt = Annotated[int, _count(MAX_SIZE)]
Price = Annotated[float, _bounded(-MAX_PRICE_USD_PER_KWH, MAX_PRICE_USD_PER_KWH)]

DEFAULT_START_UTC = datetime(2026, 1, 1, tzinfo=UTC)


def _as_utc(value: datetime) -> datetime:
    """``start_utc`` is UTC by name: a time without a zone is read as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, Field(strict=False), AfterValidator(_as_utc)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class GpuTypeSpec(_Strict):
    """An accelerator model."""

    name: Name
    peak_tflops: Annotated[
        float, _bounded(1e-3, 1e5), Field(description="dense BF16/FP16 peak, TFLOPS")
    ]
    power_kw: Annotated[
        float, _bounded(1e-3, 100.0), Field(description="board power under training load, kW")
    ]
    memory_gb: Annotated[
        float, _bounded(1e-3, 1e5), Field(description="GPU memory, GB (1e9 bytes)")
    ]


class HourlyUtcPriceSpec(_Strict):
    """A daily price profile: 24 prices in $/kWh indexed by UTC hour."""

    hourly_utc: Annotated[list[Price], Field(min_length=24, max_length=24)]


class SeriesCsvPriceSpec(_Strict):
    """An hourly price series in a CSV file (``utc_time,usd_per_kwh``), relative to the file."""

    series_csv: Annotated[str, Field(min_length=1, max_length=4096)]


def _price_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "series_csv" if "series_csv" in value else "hourly_utc"
    return "constant"


PRICE_TAGS = frozenset({"constant", "hourly_utc", "series_csv"})
"""Union tags pydantic puts into error paths under ``price``; ``read.field_path`` drops them."""

PriceSpec = Annotated[
    Annotated[Price, Tag("constant")]
    | Annotated[HourlyUtcPriceSpec, Tag("hourly_utc")]
    | Annotated[SeriesCsvPriceSpec, Tag("series_csv")],
    Discriminator(_price_kind),
]


class RegionSpec(_Strict):
    """A cloud region with one GPU type."""

    name: Name
    gpus: Annotated[int, _count(MAX_COUNT), Field(description="GPUs the operator may use here")]
    gpu_type: Name
    pue: Annotated[float, Field(ge=1.0, le=5.0, allow_inf_nan=False)]
    price: Annotated[PriceSpec, Field(description="$/kWh: constant, hourly_utc or series_csv")]


class LinkSpec(_Strict):
    """A WAN link between two regions."""

    a: Name
    b: Name
    gbps: Annotated[
        float, _bounded(1e-6, MAX_GBPS), Field(description="capacity per direction, Gbit/s")
    ]
    latency_ms: Annotated[float, _bounded(0.0, 1e5), Field(description="one-way latency, ms")]
    directed: bool = False


class ModelSpec(_Strict):
    """An LLM profile (inline in an instance, or one file in ``models/``)."""

    name: Name
    params: Annotated[float, _bounded(1.0, 1e15)]
    layers: PositiveInt
    hidden: Annotated[int, _count(100_000_000)]
    heads: PositiveInt | None = None
    vocab: Annotated[int, _count(1_000_000_000)] | None = None
    seq_len: Annotated[int, _count(100_000_000)] | None = None
    source: Annotated[str, Field(max_length=4096)] = ""


class JobSpec(_Strict):
    """A training job (DESIGN §2)."""

    name: Name
    arrival_s: Seconds
    model: Name
    stages: Annotated[int, _count(10_000)]
    gpus_per_stage: Annotated[int, _count(MAX_COUNT)]
    iterations: Annotated[int, _count(10**12)]
    micro_batches: PositiveInt
    micro_batch_size: PositiveInt
    seq_len: Annotated[
        Annotated[int, _count(100_000_000)] | None,
        Field(description="default: the model's seq_len"),
    ] = None


class PoissonArrivals(_Strict):
    """Poisson arrivals at a constant rate."""

    process: Literal["poisson"]
    rate_per_hour: Annotated[float, _bounded(1e-6, 1e6)]


class TraceArrivals(_Strict):
    """Arrivals, sizes and durations replayed from a job trace (Philly format: columns
    ``submit_offset_s``, ``duration_s``, ``num_gpus``), path relative to the file."""

    process: Literal["trace"]
    csv: Annotated[str, Field(min_length=1, max_length=4096)]
    start_row: Annotated[int, Field(ge=0, le=1_000_000_000)] = 0
    time_scale: Annotated[
        float, _bounded(1e-6, 1e6), Field(description="multiplies inter-arrival times")
    ] = 1.0


class MixEntry(_Strict):
    """One model of the workload mix and the pipeline shapes it may take."""

    model: Name
    weight: Annotated[float, _bounded(1e-6, 1e6)] = 1.0
    shapes: Annotated[
        list[Annotated[list[Annotated[int, _count(10_000)]], Field(min_length=2, max_length=2)]],
        Field(min_length=1, description="[stages, gpus_per_stage] pairs"),
    ]
    micro_batches: PositiveInt = 16
    micro_batch_size: PositiveInt = 4
    seq_len: Annotated[int, _count(100_000_000)] | None = None


class DurationRange(_Strict):
    """Target run times: drawn log-uniformly (Poisson), or clipped to this range (trace)."""

    min_s: Annotated[float, _bounded(1e-3, MAX_TIME_S)]
    max_s: Annotated[float, _bounded(1e-3, MAX_TIME_S)]


class WorkloadSpec(_Strict):
    """A seeded generator of jobs; ``bace-opt generate`` expands it into ``jobs:``."""

    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    count: Annotated[int, Field(ge=1, le=1_000_000)]
    arrivals: Annotated[PoissonArrivals | TraceArrivals, Field(discriminator="process")]
    mix: Annotated[list[MixEntry], Field(min_length=1)]
    durations: DurationRange
    reference_gpu: Annotated[
        Name | None,
        Field(description="GPU type iterations are sized on (default: the first gpu_types entry)"),
    ] = None
    name_prefix: Name = "j"


class InstanceFile(_Strict):
    """An instance: regions, network, jobs and the constants of the system model."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, title="bace-opt instance file"
    )

    name: Name
    start_utc: UtcDatetime = DEFAULT_START_UTC
    mfu: Annotated[float, _bounded(1e-3, 1.0)] = 0.4
    bytes_per_element: Annotated[int, Field(ge=1, le=8)] = 2
    epoch_s: Annotated[float, _bounded(1.0, MAX_TIME_S)] | None = None
    max_regions: Annotated[int, _count(1000)] = 3
    relays: bool = False
    gpu_types: Annotated[list[GpuTypeSpec], Field(min_length=1)]
    regions: Annotated[list[RegionSpec], Field(min_length=1)]
    links: list[LinkSpec] = []
    models: list[ModelSpec] = []
    jobs: list[JobSpec] = []
    workload: WorkloadSpec | None = None


class RunningSpec(_Strict):
    """A job running at the snapshot's time, holding some of the GPUs and bandwidth above."""

    name: Name
    placement: Annotated[
        str,
        Field(min_length=1, max_length=200_000, description="'region:stages>region:stages'"),
    ]
    start_s: Annotated[
        float, _bounded(0.0, MAX_SNAPSHOT_TIME_S), Field(description="when it started, s")
    ]
    end_s: Annotated[
        float, _bounded(0.0, MAX_EXPECTED_END_S), Field(description="when it is expected to end, s")
    ]
    gpus_per_stage: Annotated[
        int, _count(MAX_COUNT), Field(description="GPUs of each stage (default 1)")
    ] = 1
    need_gbps: Annotated[
        float | None,
        _bounded(0.0, MAX_GBPS),
        Field(description="Gbit/s each crossing holds per link direction it uses (optional)"),
    ] = None


class SnapshotFile(InstanceFile):
    """One epoch: an instance whose ``jobs`` are the waiting jobs, plus the free resources and
    the jobs running."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, title="bace-opt snapshot file"
    )

    time_s: Annotated[float, _bounded(0.0, MAX_SNAPSHOT_TIME_S)]
    free_gpus: dict[str, Annotated[int, Field(ge=0, le=MAX_COUNT)]] = {}
    residual_gbps: dict[str, Annotated[float, _bounded(0.0, MAX_GBPS)]] = {}
    running: list[RunningSpec] = []
