"""The waiting queue as greedy policies read it, and the orders that line it up.

The greedy loop (``policies.greedy``) walks *lines*: one per fit shape, each holding that shape's
waiting jobs in the policy's order, and merges them. Two kinds of order make lines:

- ``KeyedOrder``: a key fixed while a job waits (its arrival, or SJF's length). Its lines are kept
  across epochs and updated from the queue's log, O(changes) per epoch — the simulator's queue of
  an overloaded world holds tens of thousands of jobs, and a pass over them per epoch made a
  100k-job run quadratic (measured).
- ``ArrivalTable``: the waiting jobs in arrival order with numeric columns in numpy arrays, for
  orders made anew every epoch (BACE-Pipe's weights, a random permutation): one vectorized pass
  per epoch instead of a Python one.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bace_opt.core.network import Direction
from bace_opt.core.world import Instance, Job, Snapshot
from bace_opt.resources.demand import Release

FitShape = tuple[int, int, str, int, int]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def fit_shape(job: Job) -> FitShape:
    """Everything that decides where a job fits: stages, width, model, micro-batch, sequence
    (the bandwidth a crossing needs and the memory rule follow from these)."""
    return (job.stages, job.gpus_per_stage, job.model.name, job.micro_batch_size, job.seq_len)


class Epoch(Protocol):
    """What a greedy policy reads of an epoch besides its waiting jobs; a ``Snapshot`` is one, and
    so is the simulator's ``LiveEpoch``."""

    @property
    def instance(self) -> Instance: ...

    @property
    def time_s(self) -> float: ...

    @property
    def free_gpus(self) -> Mapping[str, int]: ...

    @property
    def residual_gbps(self) -> Mapping[Direction, float]: ...

    def link_utilization(self) -> float: ...


@dataclass
class WaitingLog:
    """The waiting queue as the log of its changes: ``(job, True)`` when a job joins it (in
    arrival order), ``(job, False)`` when it leaves (starts). A reader keeps its own position in
    ``entries``, so it follows the queue in O(changes); ``sizes`` counts waiting jobs by S·g."""

    entries: list[tuple[Job, bool]] = field(default_factory=list)
    sizes: dict[int, int] = field(default_factory=dict)
    count: int = 0

    @classmethod
    def of(cls, jobs: Sequence[Job]) -> WaitingLog:
        """The log of a queue that holds ``jobs`` (a snapshot's), in their order."""
        log = cls()
        for job in jobs:
            log.join(job)
        return log

    def join(self, job: Job) -> None:
        self.entries.append((job, True))
        self.sizes[job.total_gpus] = self.sizes.get(job.total_gpus, 0) + 1
        self.count += 1

    def leave(self, job: Job) -> None:
        self.entries.append((job, False))
        left = self.sizes[job.total_gpus] - 1
        if left:
            self.sizes[job.total_gpus] = left
        else:
            del self.sizes[job.total_gpus]
        self.count -= 1

    def smallest(self) -> int:
        """The fewest GPUs a waiting job needs (the queue must not be empty)."""
        return min(self.sizes)


@dataclass(frozen=True)
class LiveEpoch:
    """An epoch of a simulation as a greedy policy sees it: a snapshot's time and resources, and
    the waiting queue as the simulator's ``WaitingLog`` (no tuple of every waiting job)."""

    instance: Instance
    time_s: float
    free_gpus: Mapping[str, int]
    residual_gbps: Mapping[Direction, float]
    queue: WaitingLog
    releases: Callable[[], Sequence[Release]] = tuple
    """The running jobs as what they give back and when (made only when a policy plans ahead:
    a reservation needs them, most epochs do not)."""

    @classmethod
    def of(cls, snapshot: Snapshot) -> LiveEpoch:
        """A snapshot with its waiting jobs as a log (in their order)."""
        queue = WaitingLog.of(snapshot.waiting)
        instance = snapshot.instance

        def releases() -> list[Release]:
            return [Release.of_running(instance, run) for run in snapshot.running]

        return cls(
            instance, snapshot.time_s, snapshot.free_gpus, snapshot.residual_gbps, queue, releases
        )

    def link_utilization(self) -> float:
        """``Snapshot.link_utilization`` of these resources (the formula has one home)."""
        resources = Snapshot(self.instance, self.time_s, (), self.free_gpus, self.residual_gbps)
        return resources.link_utilization()


class Line(Protocol):
    """The waiting jobs of one fit shape in the policy's order: ``keys`` ascending (unique over
    all lines of an epoch), ``job(i)`` the job of ``keys[i]``."""

    @property
    def gpus(self) -> int: ...

    @property
    def keys(self) -> Sequence[Any]: ...

    def job(self, i: int) -> Job: ...


Keep = Callable[[Job], bool]
"""Whether a policy may ever place a job (``not never_fits``): the jobs it may not are in no line.
It must not change while a job waits."""


class Order(Protocol):
    """How a greedy policy lines up its waiting jobs for an epoch."""

    def lineup(self, epoch: Epoch, queue: WaitingLog, keep: Keep) -> Sequence[Line]: ...


def after(keys: Sequence[Any], cursor: Any, lo: int) -> int:
    """The first index ≥ ``lo`` whose key is greater than ``cursor`` (keys ascending)."""
    return bisect.bisect_right(keys, cursor, lo)


@dataclass
class KeyedLine:
    """One fit shape's waiting jobs, ascending by their keys."""

    gpus: int
    keys: list[Any] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)

    def job(self, i: int) -> Job:
        return self.jobs[i]


@dataclass
class KeyedOrder:
    """Jobs ascending by ``key(instance, job)``, fixed while a job waits; without a key, in the
    order they joined the queue (arrival order: a snapshot's order). Lines are kept across
    epochs while the queue log is the same and updated from its new entries."""

    key: Callable[[Instance, Job], Any] | None = None
    _log: WaitingLog | None = field(default=None, repr=False)
    _seen: int = field(default=0, repr=False)
    _lines: dict[FitShape, KeyedLine] = field(default_factory=dict, repr=False)
    _where: dict[str, tuple[KeyedLine, Any]] = field(default_factory=dict, repr=False)

    def lineup(self, epoch: Epoch, queue: WaitingLog, keep: Keep) -> Sequence[Line]:
        if queue is not self._log:
            self._log, self._seen, self._lines, self._where = queue, 0, {}, {}
        entries, instance = queue.entries, epoch.instance
        for n in range(self._seen, len(entries)):
            job, joined = entries[n]
            if not joined:
                found = self._where.pop(job.name, None)
                if found is not None:
                    line, key = found
                    i = bisect.bisect_left(line.keys, key)
                    del line.keys[i], line.jobs[i]
                continue
            if not keep(job):
                continue
            key = n if self.key is None else self.key(instance, job)
            shape = fit_shape(job)
            into = self._lines.get(shape)
            if into is None:
                into = self._lines[shape] = KeyedLine(job.total_gpus)
            i = bisect.bisect_right(into.keys, key)
            into.keys.insert(i, key)
            into.jobs.insert(i, job)
            self._where[job.name] = (into, key)
        self._seen = len(entries)
        return [line for line in self._lines.values() if line.keys]


@dataclass(eq=False)
class TableLine:
    """One fit shape's jobs of an epoch's order: ``keys`` their positions in it, ``slots`` their
    rows in the table."""

    gpus: int
    keys: list[int]
    slots: IntArray
    jobs: list[Job | None]

    def job(self, i: int) -> Job:
        job = self.jobs[int(self.slots[i])]
        assert job is not None
        return job


@dataclass(eq=False)
class ArrivalTable:
    """The waiting jobs in arrival order, one row each, with ``width`` numbers per job (what an
    order computes with, e.g. arrival time and static traits) in a numpy array; kept from the
    queue log like ``KeyedOrder``. Rows of jobs that left are dropped now and then."""

    width: int = 0
    _log: WaitingLog | None = field(default=None, repr=False)
    _seen: int = field(default=0, repr=False)
    jobs: list[Job | None] = field(default_factory=list, repr=False)
    rows: dict[str, int] = field(default_factory=dict, repr=False)
    alive: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool), repr=False)
    shape: IntArray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    """Per row, the index of the job's fit shape in ``shapes`` (−1: not kept)."""
    data: FloatArray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    shapes: list[FitShape] = field(default_factory=list, repr=False)
    _shape_index: dict[FitShape, int] = field(default_factory=dict, repr=False)

    def sync(self, queue: WaitingLog, keep: Keep, row: Callable[[Job], Sequence[float]]) -> None:
        """Apply the log's new entries; ``row`` gives a joining job's numbers."""
        if queue is not self._log:
            self._log, self._seen, self.jobs, self.rows = queue, 0, [], {}
            self.shapes, self._shape_index = [], {}
            self._resize(max(16, queue.count))
        entries = queue.entries
        for n in range(self._seen, len(entries)):
            job, joined = entries[n]
            if not joined:
                r = self.rows.pop(job.name)
                self.jobs[r] = None
                self.alive[r] = False
                continue
            if len(self.jobs) == len(self.alive):
                self._resize(2 * len(self.rows) + 16)
            r = len(self.jobs)
            self.jobs.append(job)
            self.rows[job.name] = r
            self.alive[r] = True
            self.shape[r] = self._shape_id(job) if keep(job) else -1
            if self.width:
                self.data[r] = row(job)
        self._seen = len(entries)

    def live(self) -> IntArray:
        """Rows of the waiting jobs, in arrival order."""
        return np.flatnonzero(self.alive[: len(self.jobs)])

    def lines(self, ordered: IntArray) -> list[TableLine]:
        """The lines of an order given as rows, first to last."""
        if not len(ordered):
            return []
        sid = self.shape[ordered]
        by_shape = np.argsort(sid, kind="stable")
        grouped = sid[by_shape]
        starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
        ends = np.r_[starts[1:], len(grouped)]
        out = []
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            s = int(grouped[a])
            if s < 0:
                continue
            positions = by_shape[a:b]
            stages, width = self.shapes[s][0], self.shapes[s][1]
            out.append(TableLine(stages * width, positions.tolist(), ordered[positions], self.jobs))
        return out

    def _shape_id(self, job: Job) -> int:
        shape = fit_shape(job)
        s = self._shape_index.get(shape)
        if s is None:
            s = self._shape_index[shape] = len(self.shapes)
            self.shapes.append(shape)
        return s

    def _resize(self, capacity: int) -> None:
        """Drop the rows of jobs that left (keeping arrival order) and make room for
        ``capacity`` rows."""
        keep = [r for r, job in enumerate(self.jobs) if job is not None]
        alive, shape = np.zeros(capacity, bool), np.full(capacity, -1, np.int64)
        data = np.zeros((capacity, self.width))
        if keep:
            alive[: len(keep)] = True
            shape[: len(keep)] = self.shape[keep]
            data[: len(keep)] = self.data[keep]
        self.jobs = [self.jobs[r] for r in keep]
        self.rows = {job.name: r for r, job in enumerate(self.jobs) if job is not None}
        self.alive, self.shape, self.data = alive, shape, data
