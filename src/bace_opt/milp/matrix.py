"""The epoch MILP of ``build`` as arrays (CSR rows, column bounds, both objectives), straight from
``data`` with no Pyomo: what ``direct`` hands to HiGHS in one ``passModel`` call.

Columns and rows come in the order appsi gives the Pyomo model (components in declaration order,
each in its construction order), so both backends hand HiGHS the same model; row ``i`` reads
``row_lower[i] ≤ Σ a·col ≤ row_upper[i]``. The admission floor is not a row here: the second
stage adds it. ``tests/test_milp_direct.py`` holds this equal to the matrix appsi builds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bace_opt.core.network import Direction
from bace_opt.milp.build import COST_FAMILIES, LINK_MARGIN_GBPS
from bace_opt.milp.data import EpochData, JobData, cost_scale, mirror_symmetric, rated, single_type
from bace_opt.milp.rows import INF, Columns, Key, Rows, appsi_order


@dataclass(frozen=True)
class EpochMatrix:
    columns: tuple[Key, ...]
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    """1 for integer (binary) columns, 0 for continuous."""
    row_lower: np.ndarray
    row_upper: np.ndarray
    a_start: np.ndarray
    a_index: np.ndarray
    a_value: np.ndarray
    admission: np.ndarray
    """Σ w x: stage 1's objective (maximized) over the columns."""
    cost: np.ndarray
    """Σ cost_j × ``scale``: stage 2's objective (minimized)."""
    families: dict[str, int]
    """Rows per constraint family (the Pyomo component's name), in order."""
    scale: float

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.row_lower), len(self.columns)

    @property
    def admission_rows(self) -> int:
        """Rows before the cost families (``build.COST_FAMILIES``, which come last): the rows
        of the admission stage."""
        return sum(n for family, n in self.families.items() if family not in COST_FAMILIES)


def _add_columns(data: EpochData, jobs: list[JobData], scale: float) -> Columns:
    c = Columns()
    for j in jobs:
        c.add("x", (j.name,), 1.0, True)
    for j in jobs:
        for k in range(1, j.blocks + 1):
            for r in j.regions:
                c.add("y", (j.name, k, r), 1.0, True)
    for j in jobs:
        for k in range(1, j.blocks + 1):
            for r in j.regions:
                c.add("n", (j.name, k, r), float(j.max_stages[r]), True)
    for j in jobs:
        for k in range(1, j.blocks):
            for a, b in j.pairs:
                c.add("z", (j.name, k, a, b), 1.0, True)
    hetero = [j for j in jobs if not single_type(j)]
    for j in hetero:
        for t in j.types:
            c.add("theta", (j.name, t), 1.0, True)
    for j in hetero:
        for t in j.types:
            c.add("E", (j.name, t), INF, False, scale * j.stage_cost_floor(t))
    for j in jobs:
        for k in range(1, j.blocks):
            c.add("P", (j.name, k), INF, False, scale * j.latency_cost_floor())
    for j in hetero:
        if j.blocks > 1:
            for d in sorted({d for p in j.pairs for d in data.pair_uses[p]}):
                c.add("L", (j.name, *d), INF, False)
    for j in jobs:
        if rated(j):
            c.add("rho", (j.name,), INF, False, scale * j.stage_cost_floor())
    return c


def _stage_rate(c: Columns, job: JobData, t: str, scale: float) -> tuple[list[int], list[float]]:
    """Columns and coefficients of scale · g · Σ_{k,r} rate[r, t] · n[j,k,r]."""
    cols, coefs = [], []
    for k in range(1, job.blocks + 1):
        for r in job.regions:
            cols.append(c("n", job.name, k, r))
            coefs.append(scale * job.width * job.rate[(r, t)])
    return cols, coefs


def _block_rows(rows: Rows, c: Columns, jobs: list[JobData]) -> None:
    """first_block, contiguous_blocks, region_once, block_nonempty, block_room, all_stages."""
    for j in jobs:
        cols = [c("y", j.name, 1, r) for r in j.regions]
        rows.add("first_block", [*cols, c("x", j.name)], [1.0] * len(cols) + [-1.0], 0.0, 0.0)
    for j in jobs:
        for k in range(1, j.blocks):
            nxt = [c("y", j.name, k + 1, r) for r in j.regions]
            cur = [c("y", j.name, k, r) for r in j.regions]
            rows.add("contiguous_blocks", nxt + cur, [1.0] * len(nxt) + [-1.0] * len(cur), upper=0)
    for j in jobs:
        for r in j.regions:
            cols = [c("y", j.name, k, r) for k in range(1, j.blocks + 1)]
            rows.add("region_once", cols, [1.0] * len(cols), upper=1.0)
    cells = [(j, k, r) for j in jobs for k in range(1, j.blocks + 1) for r in j.regions]
    ys = [c("y", j.name, k, r) for j, k, r in cells]
    ns = [c("n", j.name, k, r) for j, k, r in cells]
    rows.pair_rows("block_nonempty", ys, ns, -1.0)
    rows.pair_rows("block_room", ns, ys, [-float(j.max_stages[r]) for j, _, r in cells])
    for j in jobs:
        cols = [c("n", j.name, k, r) for k in range(1, j.blocks + 1) for r in j.regions]
        coefs = [1.0] * len(cols) + [-float(j.stages)]
        rows.add("all_stages", [*cols, c("x", j.name)], coefs, 0.0, 0.0)


def _capacity_and_transition_rows(
    rows: Rows, c: Columns, data: EpochData, jobs: list[JobData]
) -> None:
    """gpu_capacity, transition_from, transition_to, one_transition."""
    for r in data.regions:
        terms = [
            (c("n", j.name, k, r), float(j.width))
            for j in jobs
            for k in range(1, j.blocks + 1)
            if r in j.regions
        ]
        if terms:
            cols, coefs = zip(*terms, strict=True)
            rows.add("gpu_capacity", cols, coefs, upper=float(data.free_gpus[r]))
    for j in jobs:
        for k in range(1, j.blocks):
            for a, outs in j.pair_groups(0):
                leave = [*(c("z", j.name, k, a, b) for b in outs), c("y", j.name, k, a)]
                rows.add("transition_from", leave, [1.0] * len(outs) + [-1.0], upper=0.0)
    for j in jobs:
        for k in range(1, j.blocks):
            for b, ins in j.pair_groups(1):
                enter = [*(c("z", j.name, k, a, b) for a in ins), c("y", j.name, k + 1, b)]
                rows.add("transition_to", enter, [1.0] * len(ins) + [-1.0], upper=0.0)
    for j in jobs:
        for k in range(1, j.blocks):
            zs = [c("z", j.name, k, a, b) for a, b in j.pairs]
            ys = [c("y", j.name, k + 1, r) for r in j.regions]
            rows.add("one_transition", zs + ys, [1.0] * len(zs) + [-1.0] * len(ys), 0.0, 0.0)


def _slowest_type_rows(rows: Rows, c: Columns, data: EpochData, jobs: list[JobData]) -> None:
    """one_slowest, no_slower_block, slowest_used (jobs with several candidate types)."""
    hetero = [j for j in jobs if not single_type(j)]
    for j in hetero:
        cols = [c("theta", j.name, t) for t in j.types]
        rows.add("one_slowest", [*cols, c("x", j.name)], [1.0] * len(cols) + [-1.0], 0.0, 0.0)
    for j in hetero:
        for k in range(1, j.blocks + 1):
            for r in j.regions:
                peak = data.type_peak[data.region_type[r]]
                slower = [c("theta", j.name, t) for t in j.types if data.type_peak[t] <= peak]
                coefs = [1.0] + [-1.0] * len(slower)
                rows.add("no_slower_block", [c("y", j.name, k, r), *slower], coefs, upper=0.0)
    for j in hetero:
        for t in j.types:
            on_t = [
                c("y", j.name, k, r)
                for k in range(1, j.blocks + 1)
                for r in j.regions
                if data.region_type[r] == t
            ]
            coefs = [1.0] * len(on_t) + [-1.0]
            rows.add("slowest_used", [*on_t, c("theta", j.name, t)], coefs, lower=0.0)


def _link_rows(rows: Rows, c: Columns, data: EpochData, jobs: list[JobData]) -> None:
    """link_capacity, then link_load (the big-M load of jobs with several candidate types).

    Each job's crossings are gathered per direction they load once (not every direction asked
    of every crossing: 380 directions × 380 pairs at 20 regions)."""
    crossings: dict[Direction, list[tuple[JobData, list[tuple[int, float]]]]] = {}
    for j in jobs:
        pairs = j.pairs
        by_d: dict[Direction, list[tuple[int, float]]] = {}
        for k in range(1, j.blocks):
            for p in pairs:
                z = c("z", j.name, k, *p)
                for d, uses in data.pair_uses[p].items():
                    if uses:
                        by_d.setdefault(d, []).append((z, float(uses)))
        for d, uses_d in by_d.items():
            crossings.setdefault(d, []).append((j, uses_d))
    loads: list[tuple[list[int], list[float], float]] = []
    for d in data.directions:
        cols: list[int] = []
        coefs: list[float] = []
        for j, loaded in crossings.get(d, []):
            if single_type(j):
                need = j.need_gbps[j.types[0]]
                cols += [z for z, _ in loaded]
                coefs += [need * u for _, u in loaded]
                continue
            most = (j.blocks - 1) * max(data.pair_uses[p][d] for p in j.pairs)
            load = c("L", j.name, *d)
            for t in j.types:
                need, big = j.need_gbps[t], j.need_gbps[t] * most
                lcols = [load, *(z for z, _ in loaded), c("theta", j.name, t)]
                lcoefs = [1.0, *(-need * u for _, u in loaded), -big]
                loads.append((lcols, lcoefs, -big))
            cols.append(load)
            coefs.append(1.0)
        if cols:
            limit = data.residual_gbps[d] - LINK_MARGIN_GBPS
            rows.add("link_capacity", cols, coefs, upper=limit)
    for lcols, lcoefs, lower in loads:
        rows.add("link_load", lcols, lcoefs, lower=lower)


def _mirror_rows(rows: Rows, c: Columns, data: EpochData, jobs: list[JobData]) -> None:
    """mirror_order: the first region's index below the last's (``build.add_mirror_order``)."""
    size = float(len(data.regions))
    for j in jobs:
        if j.blocks < 2 or not mirror_symmetric(j, data):
            continue
        index = {r: data.region_index(r) for r in j.regions}
        first = [(c("y", j.name, 1, r), float(index[r])) for r in j.regions if index[r]]
        for k in range(2, j.blocks + 1):
            terms = first + [(c("y", j.name, k, r), size - index[r]) for r in j.regions]
            if k < j.blocks:
                terms += [(c("y", j.name, k + 1, r), -size) for r in j.regions]
            cols, coefs = zip(*terms, strict=True)
            rows.add("mirror_order", cols, coefs, upper=size)


def _cost_rows(rows: Rows, c: Columns, jobs: list[JobData], scale: float, cost: np.ndarray) -> None:
    """stage_cost, latency_cost, stage_rate and the cost objective (Σ_t D₀_t E + Σ_k P, or
    D₀ · rate); a single-type job that may cross reads its rate as ``rho`` in latency_cost."""
    latency: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    floors: list[tuple[list[int], list[float]]] = []  # cost_floor: Ř θ − E ≤ 0, P̌ Σ z − P ≤ 0
    for j in jobs:
        if single_type(j):
            t = j.types[0]
            rate_cols, rate_coefs = _stage_rate(c, j, t, scale)
            np.add.at(cost, rate_cols, j.compute_s[t] * np.asarray(rate_coefs))
            if rated(j):
                rate_cols, rate_coefs = [c("rho", j.name)], [1.0]
        else:
            for t in j.types:
                bound = scale * j.stage_cost_bound(t)
                cols, coefs = _stage_rate(c, j, t, scale)
                rows.add(
                    "stage_cost",
                    [c("E", j.name, t), *cols, c("theta", j.name, t)],
                    [1.0, *(-v for v in coefs), -bound],
                    lower=-bound,
                )
                if j.stage_cost_floor(t) < 0:
                    floor = scale * j.stage_cost_floor(t)
                    floors.append(([c("E", j.name, t), c("theta", j.name, t)], [-1.0, floor]))
            rate_cols = [c("E", j.name, t) for t in j.types]
            rate_coefs = [1.0] * len(rate_cols)
            for t in j.types:
                cost[c("E", j.name, t)] += j.compute_s[t]
        if j.blocks < 2 or not j.pairs:
            for k in range(1, j.blocks):
                cost[c("P", j.name, k)] += 1.0
            continue
        bound = scale * j.stage_cost_bound()
        low = scale * j.latency_cost_floor()
        lat = np.asarray([j.pair_latency_s[p] for p in j.pairs])
        slots = range(1, j.blocks)
        ps = np.repeat([c("P", j.name, k) for k in slots], len(j.pairs))
        zs = np.asarray([c("z", j.name, k, a, b) for k in slots for a, b in j.pairs])
        lats = np.tile(lat, len(slots))
        cost[ps[:: len(j.pairs)]] += 1.0
        width = len(rate_cols)
        block = np.empty((len(ps), width + 2), dtype=np.int32)
        block[:, :width], block[:, width], block[:, -1] = rate_cols, ps, zs
        values = np.empty(block.shape)
        values[:, width] = 1.0
        values[:, :width] = -lats[:, None] * np.asarray(rate_coefs)[None, :]
        values[:, -1] = -(lats * bound - low)
        latency.append((block, values, -(lats * bound - low)))
        if low < 0:
            for k in slots:
                zs_k = [c("z", j.name, k, a, b) for a, b in j.pairs]
                floors.append(([c("P", j.name, k), *zs_k], [-1.0, *([low] * len(zs_k))]))
    for block, values, lower in latency:
        rows.add_block("latency_cost", block, values, lower, INF)
    for j in jobs:
        if rated(j):
            cols, coefs = _stage_rate(c, j, j.types[0], scale)
            rows.add("stage_rate", [c("rho", j.name), *cols], [1.0, *(-v for v in coefs)], 0.0, 0.0)
    for cols, coefs in floors:
        rows.add("cost_floor", cols, coefs, upper=0.0)  # Pyomo's sign: b − a ≤ 0 for a ≥ b


def epoch_matrix(data: EpochData) -> EpochMatrix:
    """The model ``build.build_model(data)`` states, as arrays (no ``extra`` families)."""
    jobs = [j for j in data.jobs if j.blocks > 0]
    scale = cost_scale(data)
    c = _add_columns(data, jobs, scale)
    rows = Rows()
    _block_rows(rows, c, jobs)
    _capacity_and_transition_rows(rows, c, data, jobs)
    _slowest_type_rows(rows, c, data, jobs)
    _link_rows(rows, c, data, jobs)
    _mirror_rows(rows, c, data, jobs)
    admission = np.zeros(len(c.keys))
    for j in jobs:
        admission[c("x", j.name)] = j.weight
    cost = np.zeros(len(c.keys))
    _cost_rows(rows, c, jobs, scale, cost)
    row_lower, row_upper, a_start, a_index, a_value = rows.assemble()
    order = appsi_order(a_index, len(c.keys))
    renumber = np.empty(len(order), dtype=np.int32)
    renumber[order] = np.arange(len(order), dtype=np.int32)
    return EpochMatrix(
        columns=tuple(c.keys[i] for i in order),
        col_lower=np.asarray(c.lower)[order],
        col_upper=np.asarray(c.upper)[order],
        integrality=np.asarray(c.integer, dtype=np.int32)[order],
        row_lower=row_lower,
        row_upper=row_upper,
        a_start=a_start,
        a_index=renumber[a_index],
        a_value=a_value,
        admission=admission[order],
        cost=cost[order],
        families=rows.families,
        scale=scale,
    )
