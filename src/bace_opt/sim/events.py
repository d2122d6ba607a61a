"""The event queue: exact times, ties broken by (time, kind, sequence) for determinism.

Completion events carry the job's pace version; when link sharing changes a job's pace, a new
event is pushed and the old one becomes stale and is skipped.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from enum import IntEnum


class Kind(IntEnum):
    """Order of events at the same time: completions free resources before arrivals ask for them."""

    COMPLETION = 0
    ARRIVAL = 1
    TICK = 2


@dataclass
class Batch:
    """All live events at one time."""

    time: float
    completions: list[str]
    arrivals: list[str]
    tick: bool


@dataclass
class EventQueue:
    _heap: list[tuple[float, int, int, str, int]] = field(default_factory=list)
    _seq: int = 0

    def push(self, time: float, kind: Kind, name: str = "", version: int = 0) -> None:
        heapq.heappush(self._heap, (time, int(kind), self._seq, name, version))
        self._seq += 1

    def next_time(self) -> float | None:
        """The earliest time of any queued event (a stale completion included: never later than
        the next live event), or None."""
        return self._heap[0][0] if self._heap else None

    def pop_batch(self, live: dict[str, int]) -> Batch | None:
        """Pop every event at the earliest live time; a completion is live when ``live`` maps its
        job to the version it carries."""
        heap = self._heap
        while heap and heap[0][1] == Kind.COMPLETION and live.get(heap[0][3]) != heap[0][4]:
            heapq.heappop(heap)
        if not heap:
            return None
        time = heap[0][0]
        batch = Batch(time, [], [], False)
        while heap and heap[0][0] == time:
            _, kind, _, name, version = heapq.heappop(heap)
            if kind == Kind.COMPLETION:
                if live.get(name) == version:
                    batch.completions.append(name)
            elif kind == Kind.ARRIVAL:
                batch.arrivals.append(name)
            else:
                batch.tick = True
        return batch
