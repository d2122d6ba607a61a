"""The formulas of DESIGN §2 against numbers computed by hand."""

from __future__ import annotations

import pytest

from bace_opt.formulas import pipeline

# GPT-3 1.3B (params 1.3e9, hidden 2048), S=4, g=4, b=4, L=2048 on A100 (312 TFLOPS), mfu 0.4:
# t_c = 6·1.3e9·4·2048 / 4 / (4·312e12·0.4) = 1.59744e13 / 4.992e14 = 0.032 s
# A   = 4·2048·2048·2 = 33,554,432 bytes;  need = 8·A / 0.032 / 1e9 = 8.388608 Gbit/s
T_C = 0.032
A = 33_554_432.0


def test_stage_compute_time_gpt3_1_3b() -> None:
    t_c = pipeline.stage_compute_time(1.3e9, 4, 2048, 4, 4, 312.0, 0.4)
    assert t_c == pytest.approx(T_C, rel=1e-12)


def test_activation_bytes() -> None:
    assert pipeline.activation_bytes(4, 2048, 2048, 2) == A


def test_need_gbps() -> None:
    assert pipeline.need_gbps(A, T_C) == pytest.approx(8.388608, rel=1e-12)


def test_tau_is_compute_bound_with_enough_bandwidth() -> None:
    assert pipeline.micro_batch_step(T_C, A, [10.0, 8.388608]) == pytest.approx(T_C)


def test_tau_is_link_bound_below_need() -> None:
    # 8·33,554,432 / 4e9 = 0.067108864 s per micro-batch on a 4 Gbit/s crossing
    assert pipeline.micro_batch_step(T_C, A, [10.0, 4.0]) == pytest.approx(0.067108864)


def test_tau_without_crossings_and_with_a_dead_link() -> None:
    assert pipeline.micro_batch_step(T_C, A) == T_C
    assert pipeline.micro_batch_step(T_C, A, [0.0]) == float("inf")


def test_iteration_and_run_time() -> None:
    # (16 + 4 − 1)·0.032 + 2·(0.030 + 0.045) = 0.608 + 0.150 = 0.758 s; 1000 iterations = 758 s
    t_iter = pipeline.iteration_time(16, 4, T_C, 0.030 + 0.045)
    assert t_iter == pytest.approx(0.758)
    assert pipeline.run_time(1000, t_iter) == pytest.approx(758.0)


def test_memory_rule() -> None:
    # 16·70e9 / (8·8) = 17.5e9 bytes per GPU: fits 80 GB, not 16 GB
    assert pipeline.memory_per_gpu_bytes(70e9, 8, 8) == pytest.approx(17.5e9)
    assert pipeline.fits_memory(70e9, 8, 8, 80.0)
    assert not pipeline.fits_memory(70e9, 8, 8, 16.0)
    # exactly at the limit fits: 16·10e9 / 2 = 80e9
    assert pipeline.fits_memory(10e9, 2, 1, 80.0)
