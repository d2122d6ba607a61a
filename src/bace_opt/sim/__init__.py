"""The event-driven simulator: exact event times, fluid progress, max-min fair link sharing."""

from bace_opt.sim.engine import SimulationOptions, SimulationResult, simulate

__all__ = ["SimulationOptions", "SimulationResult", "simulate"]
