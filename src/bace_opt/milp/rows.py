"""Columns and rows of a matrix model gathered in blocks (``matrix`` states the epoch MILP with
them); no solver and no Pyomo here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

Key = tuple[str, tuple[object, ...]]
"""A column as the Pyomo model names it: variable name and index."""

INF = float("inf")
GREATER = frozenset(("slowest_used", "link_load", "stage_cost", "latency_cost"))
"""Families stated ``a ≥ b`` in ``build``, which Pyomo hands over as ``b − a ≤ 0``: their rows
are given here as stated and negated on the way in, so HiGHS gets the very same rows."""


class Columns:
    def __init__(self) -> None:
        self.keys: list[Key] = []
        self.index: dict[Key, int] = {}
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []

    def add(
        self, name: str, index: tuple[object, ...], upper: float, integer: bool, lower: float = 0.0
    ) -> None:
        key = (name, index)
        self.index[key] = len(self.keys)
        self.keys.append(key)
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(int(integer))

    def __call__(self, name: str, *index: object) -> int:
        return self.index[(name, index)]


class Rows:
    """Rows gathered as blocks of equal width (one row is a block of one); zero coefficients
    are dropped when the matrix is assembled."""

    def __init__(self) -> None:
        self.blocks: list[tuple[np.ndarray, np.ndarray]] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.families: dict[str, int] = {}

    def add_block(
        self, family: str, cols: np.ndarray, coefs: np.ndarray, lower: Any, upper: Any
    ) -> None:
        """``len(cols)`` rows: ``lower ≤ Σ coefs[i] · cols[i] ≤ upper`` (2-d arrays)."""
        count = len(cols)
        if count == 0:
            return
        if family in GREATER:
            coefs, lower, upper = -np.asarray(coefs), -np.asarray(upper), -np.asarray(lower)
        self.blocks.append((np.asarray(cols, dtype=np.int32), np.asarray(coefs, dtype=float)))
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (count,)))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (count,)))
        self.families[family] = self.families.get(family, 0) + count

    def add(
        self,
        family: str,
        cols: Sequence[int],
        coefs: Sequence[float],
        lower: float = -INF,
        upper: float = INF,
    ) -> None:
        self.add_block(family, np.asarray([cols]), np.asarray([coefs]), lower, upper)

    def pair_rows(
        self, family: str, first: list[int], second: list[int], coef: Sequence[float] | float
    ) -> None:
        """Rows ``first[i] + coef[i] · second[i] ≤ 0``."""
        cols = np.column_stack([first, second]) if first else np.zeros((0, 2))
        coefs = np.column_stack([np.ones(len(first)), np.broadcast_to(coef, (len(first),))])
        self.add_block(family, cols, coefs, -INF, 0.0)

    def assemble(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Row lower and upper bounds, CSR start, index and value."""
        if not self.blocks:
            empty = np.zeros(0)
            return empty, empty, np.zeros(1, dtype=np.int32), empty.astype(np.int32), empty
        index, value, counts = [], [], []
        for cols, coefs in self.blocks:
            keep = coefs != 0.0
            index.append(cols[keep])
            value.append(coefs[keep])
            counts.append(keep.sum(axis=1))
        start = np.concatenate([[0], np.cumsum(np.concatenate(counts))]).astype(np.int32)
        return (
            np.concatenate(self.lower),
            np.concatenate(self.upper),
            start,
            np.concatenate(index),
            np.concatenate(value),
        )


def appsi_order(a_index: np.ndarray, count: int) -> np.ndarray:
    """Columns in the order appsi numbers them: by first appearance in the rows, then those in
    no row. HiGHS's search depends on the order; the same order makes the backends comparable."""
    _, first = np.unique(a_index, return_index=True)
    seen = a_index[np.sort(first)]
    rest = np.setdiff1d(np.arange(count), seen, assume_unique=True)
    return np.concatenate([seen, rest]).astype(np.int64)
