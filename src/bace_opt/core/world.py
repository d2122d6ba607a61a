"""The frozen domain model of DESIGN §2: GPU types, regions, links, model profiles, jobs, instances.

These are what the rest of the package works with; ``io.schema`` describes the *file*,
``io.build`` turns a validated file into these objects (prices and model names resolved).
Nothing here changes during a simulation; the changing state lives in the simulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property
from types import MappingProxyType

from bace_opt.core.network import Link, RegionGraph
from bace_opt.core.placement import Placement
from bace_opt.core.prices import PriceProfile


@dataclass(frozen=True)
class GpuType:
    """An accelerator model: dense BF16/FP16 peak, board power under training load, memory."""

    name: str
    peak_tflops: float
    power_kw: float
    memory_gb: float


@dataclass(frozen=True)
class Region:
    """A cloud region: one GPU type, a facility PUE and an electricity price."""

    name: str
    gpus: int
    gpu_type: GpuType
    pue: float
    price: PriceProfile


@dataclass(frozen=True)
class ModelProfile:
    """An LLM's shape, as much of it as the formulas need (plus where the numbers come from)."""

    name: str
    params: float
    layers: int
    hidden: int
    heads: int | None = None
    vocab: int | None = None
    seq_len: int | None = None
    source: str = ""


@dataclass(frozen=True)
class Job:
    """A training job: a pipeline of ``stages`` stages, each ``gpus_per_stage`` GPUs wide."""

    name: str
    arrival_s: float
    model: ModelProfile
    stages: int
    gpus_per_stage: int
    iterations: int
    micro_batches: int
    micro_batch_size: int
    seq_len: int
    total_gpus: int = field(init=False, repr=False, compare=False)
    """S · g, kept as a field because schedulers read it in their hottest loop."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "total_gpus", self.stages * self.gpus_per_stage)


@dataclass(frozen=True)
class Instance:
    """A whole world: regions, network, job stream and the global constants of DESIGN §2."""

    name: str
    start_utc: datetime
    mfu: float
    bytes_per_element: int
    epoch_s: float | None
    max_regions: int
    relays: bool
    gpu_types: MappingProxyType[str, GpuType]
    regions: tuple[Region, ...]
    links: tuple[Link, ...]
    jobs: tuple[Job, ...]
    source: str = ""

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickle the fields only (read-only views as plain dicts, derived caches dropped), so an
        instance can be sent to a worker process or a Dask worker."""
        values = [getattr(self, f.name) for f in fields(self)]
        values[[f.name for f in fields(self)].index("gpu_types")] = dict(self.gpu_types)
        return _rebuild_instance, tuple(values)

    @cached_property
    def region(self) -> MappingProxyType[str, Region]:
        """Regions by name."""
        return MappingProxyType({r.name: r for r in self.regions})

    @cached_property
    def network(self) -> RegionGraph:
        """The region graph with per-direction capacity and latency, and its routes."""
        return RegionGraph.build([r.name for r in self.regions], self.links, relays=self.relays)


@dataclass(frozen=True)
class Running:
    """A job running at a snapshot's time (DESIGN §4): where it runs, since when, and when it is
    expected to end. ``placement.job`` is ``name``; each stage is ``gpus_per_stage`` GPUs wide, so
    the job holds ``stages · gpus_per_stage`` GPUs in every region of its placement until
    ``end_s`` (the end the simulator expects: exact for a job that gets its bandwidth need, at
    the current link shares for one that does not)."""

    name: str
    placement: Placement
    start_s: float
    end_s: float
    gpus_per_stage: int = 1
    need_gbps: float | None = None
    """Gbit/s each of its crossings holds on each link direction it uses (None: not given, so
    what it frees of the links at ``end_s`` is not known)."""

    def gpus_by_region(self) -> dict[str, int]:
        """The GPUs it holds, and frees at ``end_s``, per region."""
        return self.placement.gpus_by_region(self.gpus_per_stage)


@dataclass(frozen=True)
class Snapshot:
    """One scheduling epoch as a policy sees it (DESIGN §4).

    ``waiting`` are the jobs a policy may place (in a snapshot file, the file's ``jobs``), in
    arrival order; ``free_gpus`` has every region and ``residual_gbps`` every link direction:
    capacity minus what running pipelines have reserved (their ``need_gbps`` per use).
    ``running`` lists jobs holding resources now, for policies that plan ahead; ``free_gpus`` and
    ``residual_gbps`` stay the authority on what is free (other holders may be left out).
    """

    instance: Instance
    time_s: float
    waiting: tuple[Job, ...]
    free_gpus: Mapping[str, int]
    residual_gbps: Mapping[tuple[str, str], float]
    running: tuple[Running, ...] = ()

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Picklable like ``Instance`` (the free resources travel as plain dicts)."""
        free, residual = dict(self.free_gpus), dict(self.residual_gbps)
        values = (self.instance, self.time_s, self.waiting, free, residual, self.running)
        return _rebuild_snapshot, values

    def held_gpus(self) -> dict[str, int]:
        """GPUs the listed running jobs hold per region (regions they do not use left out)."""
        held: dict[str, int] = {}
        for run in self.running:
            for region, gpus in run.gpus_by_region().items():
                held[region] = held.get(region, 0) + gpus
        return held

    def link_utilization(self) -> float:
        """Reserved share of all link capacity right now (0 when there are no links)."""
        capacity = self.instance.network.capacity
        total = sum(capacity.values())
        if total <= 0:
            return 0.0
        used = sum(max(capacity[d] - self.residual_gbps[d], 0.0) for d in capacity)
        return used / total


def _rebuild_instance(*values: object) -> Instance:
    names = [f.name for f in fields(Instance)]
    kwargs = dict(zip(names, values, strict=True))
    kwargs["gpu_types"] = MappingProxyType(kwargs["gpu_types"])  # type: ignore[arg-type]
    return Instance(**kwargs)  # type: ignore[arg-type]


def _rebuild_snapshot(
    instance: Instance,
    time_s: float,
    waiting: tuple[Job, ...],
    free: dict[str, int],
    residual: dict[tuple[str, str], float],
    running: tuple[Running, ...] = (),
) -> Snapshot:
    free_view, residual_view = MappingProxyType(free), MappingProxyType(residual)
    return Snapshot(instance, time_s, waiting, free_view, residual_view, running)
