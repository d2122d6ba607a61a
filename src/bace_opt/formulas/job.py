"""The formulas of DESIGN §2 for one job of an instance: the instance's constants (``mfu``, bytes
per element) filled in, so callers speak of a job and the peak of its slowest GPU type.

``peak_tflops`` may be a numpy array (one entry per candidate path): the pathfinder and the
allocator evaluate every path of a length at once.
"""

from __future__ import annotations

from bace_opt.core.world import GpuType, Instance, Job, Region
from bace_opt.formulas import pipeline
from bace_opt.formulas.pipeline import Num


def stage_time(instance: Instance, job: Job, peak_tflops: Num) -> Num:
    """t_c of ``job`` when its slowest stage runs at ``peak_tflops``."""
    return pipeline.stage_compute_time(
        job.model.params,
        job.micro_batch_size,
        job.seq_len,
        job.stages,
        job.gpus_per_stage,
        peak_tflops,
        instance.mfu,
    )


def activation(instance: Instance, job: Job) -> float:
    """A: bytes crossing a stage boundary per micro-batch, each direction."""
    return pipeline.activation_bytes(
        job.micro_batch_size, job.seq_len, job.model.hidden, instance.bytes_per_element
    )


def need_gbps(instance: Instance, job: Job, peak_tflops: Num) -> Num:
    """Bandwidth each crossing of ``job`` needs when its slowest stage runs at ``peak_tflops``."""
    return pipeline.need_gbps(activation(instance, job), stage_time(instance, job, peak_tflops))


def compute_time_s(job: Job, stage_time_s: Num) -> Num:
    """D₀ = I · (M + S − 1) · t_c: the run time without latency."""
    return pipeline.compute_time(job.iterations, job.micro_batches, job.stages, stage_time_s)


def run_time_s(job: Job, stage_time_s: float, latency_s: Num) -> Num:
    """D = I · T_iter when every crossing gets its ``need_gbps`` (so tau = t_c); ``latency_s`` is
    Σ over crossings of the one-way latency."""
    t_iter = pipeline.iteration_time(job.micro_batches, job.stages, stage_time_s, latency_s)
    return pipeline.run_time(job.iterations, t_iter)


def ideal_run_time_s(instance: Instance, job: Job, gpu_type: GpuType) -> float:
    """D of the job whole in one region of ``gpu_type``: no crossings."""
    return run_time_s(job, stage_time(instance, job, gpu_type.peak_tflops), 0.0)


def reference_run_time_s(instance: Instance, job: Job) -> float:
    """The job's ideal run time, the yardstick of its slowdown (JCT ÷ this): whole, no latency, in
    the fastest region that holds all its GPUs — or, when no region holds it whole, on the
    fastest GPU type that holds a stage. Not a lower bound where GPU types differ: a split over
    regions of a faster type than any region that holds the job whole runs faster (slowdown
    below 1), which is the point of splitting there."""
    usable = usable_regions(instance, job)
    whole = [r for r in usable if r.gpus >= job.total_gpus] or usable
    fastest = max(whole, key=lambda r: r.gpu_type.peak_tflops)
    return ideal_run_time_s(instance, job, fastest.gpu_type)


def reference_run_times(instance: Instance) -> dict[str, float]:
    """``reference_run_time_s`` of every job of the instance, by name (one computation per job
    shape and length)."""
    memo: dict[tuple[object, ...], float] = {}
    out = {}
    for job in instance.jobs:
        key = (
            job.model.name,
            job.stages,
            job.gpus_per_stage,
            job.micro_batch_size,
            job.seq_len,
            job.micro_batches,
            job.iterations,
        )
        if key not in memo:
            memo[key] = reference_run_time_s(instance, job)
        out[job.name] = memo[key]
    return out


def fits(job: Job, gpu_type: GpuType) -> bool:
    """The memory rule: one of the job's stages fits a GPU of ``gpu_type``."""
    return pipeline.fits_memory(
        job.model.params, job.stages, job.gpus_per_stage, gpu_type.memory_gb
    )


def usable_regions(instance: Instance, job: Job) -> list[Region]:
    """Regions whose GPU type holds one of the job's stages in memory (instance order)."""
    return [r for r in instance.regions if fits(job, r.gpu_type)]


def fastest_usable(instance: Instance, job: Job) -> Region:
    """The usable region of the fastest GPU type (the first in instance order among equals): where
    the prioritizer and SJF measure a job's length."""
    return max(usable_regions(instance, job), key=lambda r: r.gpu_type.peak_tflops)
