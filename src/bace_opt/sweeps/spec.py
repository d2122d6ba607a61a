"""The sweep file (DESIGN §5 ``bace-opt sweep``): what to run, as a strict, frozen schema.

Two kinds of sweep share one file format:

* ``kind: simulate`` (the default) — whole simulations: every instance × policy × bandwidth scale ×
  load scale × seed × prioritizer weights × MILP per-epoch limit is one cell;
  With a ``bounds:`` block, each distinct world (instance × bandwidth scale × load scale × seed)
  also gets one bound cell, and every policy cell its gaps to that world's bounds;
* ``kind: epoch`` — single epochs: every snapshot × MILP time limit × MIP start on/off × gap ×
  weights is one cell, solved by greedy BACE-Pipe and by the exact MILP.

An axis that does not touch a policy collapses for it (``delay-first`` runs once per bandwidth,
load and seed, whatever the weights or MILP limits), so no cell is a duplicate of another.
Paths are relative to the sweep file; ``snapshots`` entries may be glob patterns.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bace_opt.errors import InputError
from bace_opt.io.read import field_path, read_document
from bace_opt.io.schema import Name, NonNegativeFloat, PositiveFloat, PositiveInt
from bace_opt.policies.registry import MILP_TIME_LIMIT_S


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


Positive = Annotated[float, Field(gt=0, allow_inf_nan=False, strict=False)]
Seed = Annotated[int, Field(ge=0)]


class WeightsSpec(_Strict):
    """BACE-Pipe's prioritizer weights (also the MILP's first objective): ``PriorityWeights``."""

    aging_per_hour: Annotated[NonNegativeFloat, Field(strict=False)] = 0.25
    length: Annotated[NonNegativeFloat, Field(strict=False)] = 1.0
    bandwidth: Annotated[NonNegativeFloat, Field(strict=False)] = 1.0

    @property
    def label(self) -> str:
        return f"a{self.aging_per_hour:g}-l{self.length:g}-b{self.bandwidth:g}"


class SimulationGrid(_Strict):
    """The axes of a simulation sweep; each defaults to one value."""

    bandwidth_scale: Annotated[list[Positive], Field(min_length=1)] = [1.0]
    """Multiplies every link's capacity."""
    load_scale: Annotated[list[Positive], Field(min_length=1)] = [1.0]
    """Multiplies the arrival rate (divides inter-arrival times)."""
    seeds: Annotated[list[Seed], Field(min_length=1)] = [0]
    weights: Annotated[list[WeightsSpec], Field(min_length=1)] = [WeightsSpec()]
    milp_time_limit_s: Annotated[list[Positive], Field(min_length=1)] = [MILP_TIME_LIMIT_S]


class EpochGrid(_Strict):
    """The axes of an epoch sweep; each defaults to one value."""

    time_limit_s: Annotated[list[Positive], Field(min_length=1)] = [30.0]
    warm_start: Annotated[list[bool], Field(min_length=1)] = [True]
    gap: Annotated[list[Annotated[NonNegativeFloat, Field(strict=False)]], Field(min_length=1)] = [
        0.0
    ]
    weights: Annotated[list[WeightsSpec], Field(min_length=1)] = [WeightsSpec()]


class BoundsSpec(_Strict):
    """Whole-run bounds (``bace-opt bound``) per world of a simulation sweep: its options."""

    slot_s: Positive = 3600.0
    """Length of the relaxation's time slots (s): ``bound --slot-s``."""
    time_limit_s: Positive = 600.0
    """Seconds to build and solve the LPs: ``bound --time-limit``."""
    hindsight: bool = False
    """Also build the hindsight schedule (off by default: the gaps do not need it)."""


class SimulationSweepFile(_Strict):
    kind: Literal["simulate"] = "simulate"
    name: Name
    instances: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    policies: Annotated[list[Name], Field(min_length=1)]
    grid: SimulationGrid = SimulationGrid()
    epoch_s: Annotated[PositiveFloat | None, Field(strict=False)] = None
    bounds: BoundsSpec | None = None
    """Compute each world's bounds once and give every policy cell its gaps (``sweeps.bounds``)."""


class EpochSweepFile(_Strict):
    kind: Literal["epoch"]
    name: Name
    snapshots: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    grid: EpochGrid = EpochGrid()
    solver: Name = "appsi_highs"
    threads: PositiveInt | None = 1
    """Solver threads per cell (1 by default, so parallel cells do not fight over cores)."""


SweepFile = SimulationSweepFile | EpochSweepFile


@dataclass(frozen=True)
class Sweep:
    """A checked sweep file and where it lives (paths in it are relative to ``folder``)."""

    spec: SweepFile
    folder: Path
    document: dict[str, Any]


def matches(folder: Path, pattern: str) -> list[Path]:
    """Files matching a glob pattern, relative to ``folder`` unless absolute, sorted."""
    return sorted(Path(p).resolve() for p in glob.glob(os.path.join(folder, pattern)))


def parse_sweep(doc: dict[str, Any], folder: Path) -> Sweep:
    """Check a sweep document; every problem at once, one line each with its field path."""
    kind = doc.get("kind", "simulate")
    model: type[SweepFile]
    if kind == "simulate":
        model = SimulationSweepFile
    elif kind == "epoch":
        model = EpochSweepFile
    else:
        raise InputError([f"kind: must be 'simulate' or 'epoch', not {kind!r}"])
    try:
        spec = model.model_validate(doc)
    except ValidationError as exc:
        raise InputError([f"{field_path(e['loc'])}: {e['msg']}" for e in exc.errors()]) from None
    problems: list[str] = []
    if isinstance(spec, SimulationSweepFile):
        from bace_opt.policies import policy_names

        known = policy_names()
        for i, name in enumerate(spec.policies):
            if name not in known:
                problems.append(
                    f"policies[{i}]: unknown policy '{name}' (known: {', '.join(known)})"
                )
        for i, path in enumerate(spec.instances):
            if not (folder / path).is_file():
                problems.append(f"instances[{i}]: file not found: {path}")
    else:
        for i, pattern in enumerate(spec.snapshots):
            if not matches(folder, pattern):
                problems.append(f"snapshots[{i}]: no file matches {pattern}")
    for axis, values in spec.grid:
        labels = [v.label if isinstance(v, WeightsSpec) else v for v in values]
        if len(set(labels)) < len(labels):
            problems.append(f"grid.{axis}: values repeat")
    if problems:
        raise InputError(problems)
    return Sweep(spec, folder, doc)


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file."""
    path = Path(path)
    return parse_sweep(read_document(path), path.resolve().parent)
