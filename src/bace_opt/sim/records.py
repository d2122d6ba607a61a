"""What a simulation records: one ``JobRecord`` per job and the run's ``RunTotals``. The
summary and the files made from them live in ``report``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobRecord:
    """What happened to one job. ``start_s`` is None for a job that never ran; ``status`` says
    ``finished`` or why it did not run."""

    name: str
    arrival_s: float
    start_s: float | None = None
    end_s: float | None = None
    placement: str = ""
    crossings: int = 0
    stall_s: float = 0.0
    energy_kwh: float = 0.0
    cost_usd: float = 0.0
    status: str = "finished"

    @property
    def finished(self) -> bool:
        return self.end_s is not None

    @property
    def jct_s(self) -> float | None:
        return None if self.end_s is None else self.end_s - self.arrival_s

    @property
    def wait_s(self) -> float | None:
        return None if self.start_s is None else self.start_s - self.arrival_s


@dataclass(frozen=True)
class RunTotals:
    """Integrals the simulator accumulates besides the job records."""

    gpu_seconds: float
    """∫ GPUs in use dt."""
    total_gpus: int
    link_gbit: float
    """∫ Σ_directions Gbit/s in use dt, in Gbit."""
    link_capacity_gbps: float
    """Σ capacity over link directions."""
    epochs: int
    policy_time_s: float | None
    wall_time_s: float | None
