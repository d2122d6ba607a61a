"""Max-min fair link sharing against hand-computed allocations."""

from __future__ import annotations

import pytest

from bace_opt.sim.sharing import Flow, max_min_rates

AB, BA, BC = ("a", "b"), ("b", "a"), ("b", "c")


def test_everyone_gets_need_when_links_suffice() -> None:
    flows = {"x": Flow(3.0, {AB: 1, BA: 1}), "y": Flow(4.0, {AB: 1, BA: 1})}
    assert max_min_rates(flows, {AB: 10.0, BA: 10.0}) == {"x": 3.0, "y": 4.0}


def test_equal_split_of_a_full_link() -> None:
    flows = {"x": Flow(5.0, {AB: 1}), "y": Flow(5.0, {AB: 1})}
    assert max_min_rates(flows, {AB: 6.0}) == {"x": pytest.approx(3.0), "y": pytest.approx(3.0)}


def test_small_flow_keeps_its_need_big_flow_takes_the_rest() -> None:
    # capacity 6: x needs 1 (frozen at 1), y gets 5
    flows = {"x": Flow(1.0, {AB: 1}), "y": Flow(8.0, {AB: 1})}
    rates = max_min_rates(flows, {AB: 6.0})
    assert rates == {"x": pytest.approx(1.0), "y": pytest.approx(5.0)}


def test_bottleneck_elsewhere_frees_capacity() -> None:
    # x uses AB and BC; BC (2) holds x to 2; y alone on AB gets 10 − 2 = 8 (cap 9)
    flows = {"x": Flow(9.0, {AB: 1, BC: 1}), "y": Flow(9.0, {AB: 1})}
    rates = max_min_rates(flows, {AB: 10.0, BC: 2.0})
    assert rates == {"x": pytest.approx(2.0), "y": pytest.approx(8.0)}


def test_a_flow_using_a_link_twice_counts_twice() -> None:
    # x loads AB twice: 2x + y = 6, equal rates → x = y = 2
    flows = {"x": Flow(9.0, {AB: 2}), "y": Flow(9.0, {AB: 1})}
    rates = max_min_rates(flows, {AB: 6.0})
    assert rates == {"x": pytest.approx(2.0), "y": pytest.approx(2.0)}
