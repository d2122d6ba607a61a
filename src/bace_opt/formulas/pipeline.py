"""The formulas of DESIGN §2, as pure functions.

Every policy, the simulator, the MILP's coefficients and the checker import these; none of them
writes its own copy. Units: seconds, bytes, Gbit/s (1e9 bit/s), bytes of GPU memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TypeVar

import numpy as np
import numpy.typing as npt

Num = TypeVar("Num", float, npt.NDArray[np.float64])
"""A scalar, or a numpy array of them: the vectorized policies evaluate many paths at once."""

ADAM_MIXED_PRECISION_BYTES_PER_PARAM = 16
"""Weights, gradients and Adam state in mixed precision: 2 + 2 + 12 bytes per parameter."""


def stage_compute_time(
    params: float,
    micro_batch_size: int,
    seq_len: int,
    stages: int,
    gpus_per_stage: int,
    peak_tflops: Num,
    mfu: float,
) -> Num:
    """Forward + backward time of one stage for one micro-batch.

    ``t_c = 6 · params · b · L / S / (g · peak_tflops · 1e12 · mfu)``: 6 FLOPs per parameter and
    token (2 forward, 4 backward), the model split evenly over S stages, each stage spread over g
    tensor-parallel GPUs running at ``mfu`` of their peak.
    """
    flops = 6.0 * params * micro_batch_size * seq_len / stages
    return flops / (gpus_per_stage * peak_tflops * 1e12 * mfu)


def activation_bytes(
    micro_batch_size: int, seq_len: int, hidden: int, bytes_per_element: int
) -> float:
    """Bytes crossing one stage boundary per micro-batch, each direction: ``A = b · L · h · B``."""
    return float(micro_batch_size * seq_len * hidden * bytes_per_element)


def need_gbps(activation: float, stage_time: Num) -> Num:
    """Bandwidth a crossing needs so communication hides under compute: ``8 · A / t_c / 1e9``."""
    return 8.0 * activation / stage_time / 1e9


def transfer_time(activation: float, gbps: float) -> float:
    """Seconds to move one micro-batch's activations over ``gbps``: ``8 · A / (bw · 1e9)``."""
    if gbps <= 0:
        return float("inf")
    return 8.0 * activation / (gbps * 1e9)


def micro_batch_step(
    stage_time: float, activation: float, crossing_gbps: Sequence[float] = ()
) -> float:
    """The pipeline's pace ``tau = max(max_stage t_c, max_crossing 8 · A / (bw · 1e9))``.

    ``stage_time`` is the slowest stage's t_c (the slowest GPU type on the path);
    ``crossing_gbps`` the bandwidth each crossing actually gets.
    """
    return max([stage_time, *(transfer_time(activation, bw) for bw in crossing_gbps)])


def pipeline_steps(micro_batches: int, stages: int) -> int:
    """``M + S − 1``: micro-batch steps of one iteration, filling and draining the pipeline once
    (1F1B and GPipe have the same bubble)."""
    return micro_batches + stages - 1


def iteration_time(micro_batches: int, stages: int, tau: float, latency_s: Num) -> Num:
    """``T_iter = (M + S − 1) · tau + 2 · Σ latency``, ``latency_s`` being Σ over crossings of the
    one-way latency (0.0 without crossings): each crossing pays it forward (activations) and
    backward (gradients)."""
    return pipeline_steps(micro_batches, stages) * tau + 2.0 * latency_s


def run_time(iterations: int, iter_time: Num) -> Num:
    """``D = I · T_iter`` when nothing changes while the job runs."""
    return iterations * iter_time


def compute_time(iterations: int, micro_batches: int, stages: int, stage_time: Num) -> Num:
    """``D₀ = I · (M + S − 1) · t_c``: the run time without crossing latency, the window over which
    the epoch cost averages prices (DESIGN §3)."""
    return iterations * pipeline_steps(micro_batches, stages) * stage_time


def memory_per_gpu_bytes(params: float, stages: int, gpus_per_stage: int) -> float:
    """``16 · params / (S · g)``: training state per GPU in mixed precision with Adam."""
    return ADAM_MIXED_PRECISION_BYTES_PER_PARAM * params / (stages * gpus_per_stage)


@cache
def fits_memory(params: float, stages: int, gpus_per_stage: int, memory_gb: float) -> bool:
    """The memory rule of DESIGN §2: the training state of one GPU fits its memory (cached: every
    policy asks it of every job at every epoch)."""
    return memory_per_gpu_bytes(params, stages, gpus_per_stage) <= memory_gb * 1e9
