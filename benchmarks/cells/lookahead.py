"""Cells of ``lookahead-decisions``: one whole run of a geo6 world (a spec file, scaled as a sweep
scales it) with ``bace`` or ``lookahead``, timing every ``decide`` — the decision time per epoch
that issue 16 asks to report (``summary.json`` has only the total)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from bace_opt.core.placement import Plan
from bace_opt.core.world import Snapshot
from bace_opt.io.read import parse_instance, read_document
from bace_opt.policies import make_policy
from bace_opt.sim import simulate
from bace_opt.sweeps.cells import scaled_document
from worlds import ROOT


class Timed:
    """A policy whose every ``decide`` is timed (the simulator calls ``decide`` on non-greedy
    policies; for ``bace`` this times the snapshot path, slower than the simulator's own)."""

    def __init__(self, name: str) -> None:
        self.inner = make_policy(name)
        self.name = self.inner.name
        self.bandwidth_aware = self.inner.bandwidth_aware
        self.times: list[float] = []

    @property
    def stats(self) -> Any:
        return self.inner.stats

    def decide(self, snapshot: Snapshot) -> Plan:
        tic = time.perf_counter()
        plan = self.inner.decide(snapshot)
        self.times.append(time.perf_counter() - tic)
        return plan


def decisions(spec: str, load: float, bandwidth: float, seed: int, policy: str) -> dict[str, Any]:
    path = ROOT / spec
    doc = scaled_document(read_document(path), bandwidth, load, seed)
    instance = parse_instance(doc, path.parent, str(path))
    timed = Timed(policy)
    run = simulate(instance, timed)
    records = run.records
    ms = sorted(1000 * t for t in timed.times)
    stats = dict(timed.stats)
    return {
        "world": Path(spec).stem.removesuffix("-spec"),
        "load": load,
        "bandwidth": bandwidth,
        "seed": seed,
        "policy": policy,
        "avg_jct_h": sum(r.end_s - r.arrival_s for r in records) / len(records) / 3600,
        "cost_usd": sum(r.cost_usd for r in records),
        "max_wait_h": max(r.start_s - r.arrival_s for r in records) / 3600,
        "epochs": len(ms),
        "median_ms": statistics.median(ms),
        "p95_ms": ms[int(0.95 * (len(ms) - 1))],
        "max_ms": ms[-1],
        "solves": stats.get("lookahead_solves", 0),
        "guarded": stats.get("lookahead_guarded", 0),
        "fallbacks": stats.get("lookahead_fallbacks", 0),
    }
