"""How an output was made (DESIGN §5): every ``summary.json``, ``epoch`` JSON and sweep record
carries a ``provenance`` block, so a number can be traced to the code, the input file and the
solver that produced it, and ``bace-opt --version`` prints the same versions.

The block is deliberately free of wall-clock facts (no dates, no host names): two runs of the same
inputs with the same versions write byte-identical files, which is what the reference outputs of
``scripts/golden.py`` rely on.
"""

from __future__ import annotations

import hashlib
import platform
from dataclasses import asdict
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from bace_opt.core.world import Instance
from bace_opt.milp import SolveOptions
from bace_opt.milp.backends import backend_version
from bace_opt.policies.registry import PolicyOptions, policy_entry
from bace_opt.version import __version__

LIBRARIES = ("pyomo", "highspy", "numpy", "pandas", "networkx", "pydantic", "scipy")
"""The libraries whose versions can change a result or its speed (HiGHS above all)."""


def package_version() -> str:
    """bace-opt's version: the running code's ``__version__`` (the wheel's version is read from
    it; an editable install's metadata keeps the version it was installed at)."""
    return __version__


@cache
def versions() -> dict[str, str | None]:
    """bace-opt, Python and the libraries that matter (None: not installed)."""
    out: dict[str, str | None] = {
        "bace_opt": package_version(),
        "python": platform.python_version(),
    }
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def file_sha256(path: str | Path) -> str | None:
    """SHA-256 of a file's bytes (None when there is no such readable file, e.g. a world built in
    code)."""
    if not str(path):
        return None
    h = hashlib.sha256()
    try:
        with Path(path).open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def jobs_sha256(instance: Instance) -> str:
    """SHA-256 of the job stream as it was run (every job's name, arrival and shape, in order):
    the same for the same jobs whether they were listed or drawn from a trace or generator."""
    h = hashlib.sha256()
    for j in instance.jobs:
        fields = (j.name, j.arrival_s, j.model.name, j.stages, j.gpus_per_stage, j.iterations)
        shape = (j.micro_batches, j.micro_batch_size, j.seq_len)
        h.update(repr((*fields, *shape)).encode())
    return h.hexdigest()


def source(instance: Instance) -> dict[str, Any]:
    """The input: the world's name, the file it was read from with its SHA-256, the SHA-256 of
    every price series it read (``data``: a CSV edited in place changes it), and of its jobs."""
    data = {}
    for region in instance.regions:
        named = getattr(region.price, "source", "")
        if named:
            data[str(named)] = file_sha256(named)
    return {
        "name": instance.name,
        "path": instance.source or None,
        "sha256": file_sha256(instance.source),
        "data": data,
        "jobs_sha256": jobs_sha256(instance),
    }


def solver(backend: str) -> dict[str, Any]:
    """The MILP solver behind a Pyomo backend name, with its version."""
    return {"backend": backend, "version": backend_version(backend)}


def policy(name: str, options: PolicyOptions, epoch_s: float | None) -> dict[str, Any]:
    """A policy and every option a run of it was given; what the policy does not read is still
    recorded (the options are the run's, the entry says which ones the policy uses)."""
    entry = policy_entry(name)
    lookahead = {"lookahead": asdict(options.lookahead)} if entry.role == "planning" else {}
    return {
        "name": name,
        "seed": options.seed,
        "weights": asdict(options.weights),
        "epoch_s": epoch_s,
        "milp_time_limit_s": options.milp_time_limit_s if entry.uses_time_limit else None,
        "uses": [
            option
            for option, used in (
                ("seed", entry.seeded),
                ("weights", entry.uses_weights),
                ("milp_time_limit_s", entry.uses_time_limit),
            )
            if used
        ],
        **lookahead,
    }


def provenance(**parts: Any) -> dict[str, Any]:
    """The ``provenance`` block: the versions, then the given parts (``instance``, ``policy``,
    ``solver``, ...) in the order given."""
    return {"versions": versions(), **parts}


def version_text() -> str:
    """``bace-opt --version``: one line per component."""
    return "\n".join(f"{name} {version or 'not installed'}" for name, version in versions().items())


def milp_solver(options: SolveOptions) -> dict[str, Any]:
    """The MILP solver of an epoch solve with its options."""
    return {
        **solver(options.solver),
        "time_limit_s": options.time_limit_s,
        "gap": options.mip_gap,
        "threads": options.threads,
        "warm_start": options.warm_start,
    }


def run_provenance(
    instance: Instance, name: str, options: PolicyOptions, epoch_s: float | None
) -> dict[str, Any]:
    """``summary.json``'s block: the instance file, the policy with its options and, for the
    exact policy, the solver (the default backend its per-epoch MILP uses)."""
    exact = policy_entry(name).role == "exact"
    return provenance(
        instance=source(instance),
        policy=policy(name, options, epoch_s),
        solver=solver(SolveOptions().solver) if exact else None,
    )
