"""Routes: the direct link, or with relays the lowest-latency path; per-direction capacity."""

from __future__ import annotations

from bace_opt.io.read import load_instance
from tests.conftest import INSTANCES


def test_routes_without_relays() -> None:
    net = load_instance(INSTANCES / "tiny3.yaml").network
    assert net.route("us-east", "eu-west") == (("us-east", "eu-west"),)
    assert net.capacity[("eu-west", "us-east")] == 5.0
    assert net.route_latency_s("us-west", "eu-west") == 0.07


def test_relay_route_takes_lowest_latency() -> None:
    net = load_instance(INSTANCES / "hetero4.yaml").network
    # virginia–tokyo has no link: via oregon (30 + 50 ms)
    assert net.route("virginia", "tokyo") == (("virginia", "oregon"), ("oregon", "tokyo"))
    assert abs(net.route_latency_s("virginia", "tokyo") - 0.080) < 1e-12
    assert net.route("frankfurt", "tokyo") == (
        ("frankfurt", "virginia"),
        ("virginia", "oregon"),
        ("oregon", "tokyo"),
    )


def test_directed_links_have_one_direction(tmp_path: object) -> None:
    geo6 = load_instance(INSTANCES / "geo6.yaml").network
    up = geo6.capacity[("us-east-1", "ap-southeast-1")]
    down = geo6.capacity[("ap-southeast-1", "us-east-1")]
    assert up != down  # Skyplane measured each direction on its own
