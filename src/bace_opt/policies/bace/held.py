"""When a split that waited must still wait: a bound that spares ``WholeElseSplit`` recomputing
the same refusal at every epoch.

A job no region holds whole waits (``Wait.HELD``) while its cheapest split over the fewest regions
costs more than ``1 + budget`` times its ideal placement. In an overloaded world hundreds of such
jobs wait, each refused again at every epoch: the two allocator passes per job and epoch were
nine tenths of a 20k-job BACE-Pipe run (measured). Between two checks of one job on the *same*
candidate paths (the pathfinder's cached, shared ``Candidates``: same free GPUs, same links) only
the time moves, and with it the per-GPU-second rates ρ (the mean prices over [t, t + D₀]).

A cost on fixed paths is ``g · D · Σ_b s_b · ρ_b``, the stage counts s being the cheapest fill: a
minimum over fills that do not depend on ρ, with Σ_b s_b = S. So when the rates move by at most
``‖Δρ‖∞`` a path's cost moves by at most ``g · S · D · ‖Δρ‖∞``, and so does the least cost over a
set of paths. The check computes the new rates — exactly as the allocator would, the cheap part —
and bounds the split's cost from below and the ideal's from above; while the first still exceeds
``1 + budget`` times the second, by more than the allocator's tie tolerance and rounding, the
exact check would refuse the split again. Anything else goes to the exact check (with the rates
already computed), so the decisions, and the simulator's outputs, are the same.

Costs per iteration make a refusal speak for a whole class of jobs (same fit shape and
micro-batches): when the free GPUs change, the first job of a shape checked on the new paths
pays the exact check, the others of its class are bounded against it (their own rates, over
their own windows). A job's own last refusal is tried too (its window, so its rates, are closest).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bace_opt.core.world import Instance, Job
from bace_opt.formulas import job as jobf
from bace_opt.policies.bace.pathfinder import Candidates, FloatArray, PathSet
from bace_opt.policies.lineup import FitShape, fit_shape

MARGIN = 1e-8
"""Relative room for the allocator's tie tolerance (a reported cost may exceed the least by 1e-9)
and the rounding of the handful of float operations behind a cost (~1e-15)."""

SplitClass = tuple[FitShape, int]
"""What fixes a job's costs per iteration on given paths at given rates: its fit shape and its
micro-batches (the iterations only scale them, the price windows only move the rates)."""


def split_class(job: Job) -> SplitClass:
    return (fit_shape(job), job.micro_batches)


def run_weights(instance: Instance, job: Job, paths: PathSet) -> dict[float, float]:
    """Per slowest peak of ``paths``: ``g · S · D / I`` of its longest run, how much a cost per
    iteration on those paths can move per unit of ``‖Δρ‖∞``."""
    out = {}
    for peak, mask in paths.peaks:
        t_c = jobf.stage_time(instance, job, peak)
        longest = jobf.run_time_s(job, t_c, float(np.max(paths.latency_s[mask])))
        out[peak] = job.gpus_per_stage * job.stages * longest / job.iterations
    return out


@dataclass(frozen=True)
class HeldSplit:
    """An exact refusal: on which paths, at which rates, by how much — costs per iteration, so
    that it speaks for every job of the same ``split_class`` on the same paths."""

    found: Candidates
    """The candidate paths it was checked on (the bound holds only on the same object)."""
    rates: dict[float, FloatArray]
    """The rates ρ per region then, by slowest peak (``allocator.gpu_second_price``)."""
    alloc: float
    """The split's epoch cost per iteration then."""
    ideal: float | None
    """The ideal placement's epoch cost per iteration then (None: no ideal, always waits)."""
    alloc_weights: dict[float, float]
    ideal_weights: dict[float, float]
    """``run_weights`` of the split's paths and of the ideal's."""

    @classmethod
    def of(
        cls,
        instance: Instance,
        job: Job,
        found: Candidates,
        rates: dict[float, FloatArray],
        alloc: float,
        ideal: tuple[float, PathSet] | None,
    ) -> HeldSplit:
        """The refusal of ``job``'s split costing ``alloc`` against its ideal (cost, paths)."""
        assert found.fewest is not None
        per = job.iterations
        weights = run_weights(instance, job, found.fewest)
        if ideal is None:
            return cls(found, dict(rates), alloc / per, None, weights, {})
        ideal_weights = run_weights(instance, job, ideal[1])
        return cls(found, dict(rates), alloc / per, ideal[0] / per, weights, ideal_weights)

    def moved(self, rates_now: dict[float, FloatArray]) -> dict[float, float]:
        """``‖Δρ‖∞`` per peak between the rates then and ``rates_now`` (every peak of ``rates``)."""
        return {
            peak: float(np.max(np.abs(rates_now[peak] - then))) for peak, then in self.rates.items()
        }

    def moved_steady(
        self, instance: Instance, job: Job, steady: tuple[list[float], list[float], list[float]]
    ) -> dict[float, float]:
        """A bound on ``moved`` of ``job``'s rates now without working them out, when every
        region's price surely holds one value from now on (``steady`` = ``steady_rates`` now):
        the distance of the rates then to that value, plus the rounding of the rates now."""
        rates, per_window, rest = steady
        out = {}
        for peak, then in self.rates.items():
            window = jobf.compute_time_s(job, jobf.stage_time(instance, job, peak))
            out[peak] = max(
                abs(r_then - r) + a / window + b
                for r_then, r, a, b in zip(then.tolist(), rates, per_window, rest, strict=True)
            )
        return out

    def still_held(self, moved: dict[float, float], budget: float) -> bool:
        """Whether the exact check of a job of this class whose rates moved by at most ``moved``
        (per peak) would refuse the split again."""
        if self.ideal is None:
            return True
        low = self.alloc - max(w * moved[p] for p, w in self.alloc_weights.items())
        high = (1.0 + budget) * (
            self.ideal + max(w * moved[p] for p, w in self.ideal_weights.items())
        )
        return low - high > MARGIN * (abs(low) + abs(high))
