"""The region graph: per-direction link capacity and latency, and the route between two regions.

Routing is static, so every part of the toolkit (pathfinder, simulator, MILP, checker) agrees on
which links a crossing uses: the direct link when there is one; otherwise, when the instance allows
relays, the lowest-latency path through other regions (ties broken by fewest hops, then names).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

import networkx as nx


@dataclass(frozen=True)
class Link:
    """A WAN link: ``gbps`` per direction (full duplex unless ``directed``), one-way latency."""

    a: str
    b: str
    gbps: float
    latency_ms: float
    directed: bool = False


Direction = tuple[str, str]
"""A link direction ``(from_region, to_region)``; written ``from>to`` in files."""


def direction_key(direction: Direction) -> str:
    """The file spelling of a link direction: ``us-east>eu-west``."""
    return f"{direction[0]}>{direction[1]}"


@dataclass(frozen=True, eq=False)
class RegionGraph:
    """Directed graph of regions; edge (u, v) has that direction's ``gbps`` and ``latency_s``."""

    graph: nx.DiGraph
    relays: bool

    @classmethod
    def build(cls, regions: Iterable[str], links: Iterable[Link], relays: bool) -> RegionGraph:
        graph = nx.DiGraph()
        for region in regions:
            graph.add_node(region)
        for link in links:
            attrs = {"gbps": link.gbps, "latency_s": link.latency_ms / 1000.0}
            graph.add_edge(link.a, link.b, **attrs)
            if not link.directed:
                graph.add_edge(link.b, link.a, **attrs)
        return cls(graph, relays)

    @cached_property
    def directions(self) -> tuple[Direction, ...]:
        """Every link direction, sorted (the deterministic order everything iterates in)."""
        return tuple(sorted(self.graph.edges))

    @cached_property
    def capacity(self) -> MappingProxyType[Direction, float]:
        """Gbit/s of each link direction."""
        return MappingProxyType({(u, v): d["gbps"] for u, v, d in self.graph.edges(data=True)})

    def latency_s(self, direction: Direction) -> float:
        return float(self.graph.edges[direction]["latency_s"])

    def route(self, src: str, dst: str) -> tuple[Direction, ...] | None:
        """Link directions a crossing from ``src`` to ``dst`` uses, or None when unreachable."""
        return self._routes.get((src, dst))

    def route_latency_s(self, src: str, dst: str) -> float:
        """One-way latency of the route from ``src`` to ``dst`` (inf when unreachable)."""
        route = self.route(src, dst)
        if route is None:
            return float("inf")
        return sum(self.latency_s(d) for d in route)

    @cached_property
    def _routes(self) -> dict[Direction, tuple[Direction, ...]]:
        routes: dict[Direction, tuple[Direction, ...]] = {}
        for u, v in self.graph.edges:
            routes[(u, v)] = ((u, v),)
        if not self.relays:
            return routes
        for src in sorted(self.graph.nodes):
            for dst in sorted(self.graph.nodes):
                if src == dst or (src, dst) in routes:
                    continue
                path = self._lowest_latency_path(src, dst)
                if path is not None:
                    routes[(src, dst)] = tuple(itertools.pairwise(path))
        return routes

    def _lowest_latency_path(self, src: str, dst: str) -> list[str] | None:
        try:
            paths: list[list[str]] = list(
                nx.all_shortest_paths(self.graph, src, dst, weight="latency_s")
            )
            return min(paths, key=lambda p: (len(p), p))
        except nx.NetworkXNoPath:
            return None
