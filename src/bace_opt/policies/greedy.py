"""The one greedy epoch loop every greedy policy runs: take the waiting jobs in the policy's order,
place each on the epoch's ledger, and go on to the next (backfilling) or stop at the first job
that does not start (strict FIFO, which is how FIFO schedulers block at the head of the line).

A policy is its parts: ``order`` (which job next), ``place`` (where it goes on the resources left,
or why it waits) and two facts — ``strict`` and whether a placement's existence depends only on
the job's ``fit_shape`` and the free resources. When it does (every deterministic placement rule
here), one misfit per shape and epoch is enough: later jobs of that shape are skipped until
something else starts.

Why the loop walks *lines* (one per fit shape, each in the policy's order) rather than one list:
in an overloaded world tens of thousands of jobs wait, and an epoch must not cost a pass over all
of them. The scan merges the lines — the next job is the first, in the policy's order, of a line
that has not failed and whose jobs fit the free GPUs — so an epoch costs O(lines) per job tried,
and a line that failed is skipped whole (measured: a pass over the queue per epoch made a
100k-job run quadratic). The jobs tried, and so the plan, are the same as walking the one list.
The simulator hands a greedy policy a ``LiveEpoch``: the queue as a log of arrivals and starts
(``WaitingLog``) instead of a tuple of every waiting job, so orders fixed while jobs wait
(arrival, SJF) keep their lines up to date in O(changes) (``policies.lineup``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from bace_opt.core.placement import Placement, Plan
from bace_opt.core.world import Instance, Job, Snapshot
from bace_opt.policies.lineup import (
    Epoch,
    FitShape,
    KeyedOrder,
    Line,
    LiveEpoch,
    Order,
    after,
    fit_shape,
)
from bace_opt.policies.reservation import Booking, Reservation
from bace_opt.resources.ledger import Ledger

__all__ = ["Epoch", "FitShape", "GreedyPolicy", "Wait", "fit_shape"]


class Wait(Enum):
    """Why ``place`` starts nothing for a job now."""

    NO_FIT = "no placement of the job's shape fits the resources left"
    HELD = "a placement fits, but the policy keeps the job waiting"


@dataclass
class GreedyPolicy:
    """Order the waiting jobs, place each in turn on what is left."""

    name: str
    bandwidth_aware: bool
    strict: bool = False
    """Stop at the first job that does not start (FIFO); else try every waiting job."""
    shape_decides_fit: bool = True
    """Whether ``place`` fails alike for every job of one ``fit_shape`` on the same resources."""
    reserving: bool = False
    """Give the first job of an epoch that cannot start a reservation, and let later jobs start
    only where they do not delay it (``policies.reservation``)."""
    reserve_after_s: float = 0.0
    """Reserve only for a job that has waited at least this long."""
    reserve_after_slowdown: float = 0.0
    """Reserve only for a job that has waited at least this many times its ideal run time."""
    reservation_depth: int = 1
    """How many blocked jobs an epoch reserves for: 1 is EASY (the first only); k > 1 is
    conservative backfilling, each reservation made on the profile holding the earlier ones, and a
    job starting only if it delays none of them (``policies.reservation``)."""
    _arrival: KeyedOrder = field(default_factory=KeyedOrder, init=False, repr=False, compare=False)
    last_reservation: Reservation | None = field(default=None, init=False, compare=False)
    """The first reservation the last ``decide`` made (None: none needed, or not ``reserving``)."""
    last_reservations: tuple[Reservation, ...] = field(default=(), init=False, compare=False)
    """Every reservation the last ``decide`` made, in the order made."""

    def order(self) -> Order:
        """This policy's order of the waiting jobs (one object per policy: it may keep lines
        across epochs). Arrival order unless a policy says otherwise."""
        return self._arrival

    def never_fits(self, instance: Instance, job: Job) -> bool:
        """Jobs this policy could not place even on an idle cluster: passed over, not waited on."""
        return False

    def place(self, epoch: Epoch, job: Job, ledger: Ledger) -> Placement | Wait:
        raise NotImplementedError

    def could_place(self, epoch: Epoch, job: Job, ledger: Ledger) -> bool:
        """A quick necessary test for ``place`` finding a placement (reservations ask ``place``
        only where it passes); True unless a policy knows better."""
        return True

    @property
    def stats(self) -> dict[str, int]:
        """Counters for ``summary.json`` (none for a plain greedy policy)."""
        return {}

    def decide(self, snapshot: Snapshot) -> Plan:
        """``decide_live`` on the snapshot with a log of its waiting jobs made here (O(waiting
        jobs); the simulator keeps its log from epoch to epoch instead)."""
        return self.decide_live(LiveEpoch.of(snapshot))

    def decide_live(self, epoch: LiveEpoch) -> Plan:
        """The plan of an epoch whose waiting jobs are given as the queue's log. The simulator
        calls this, not ``decide``: a greedy policy is its ``order`` and ``place``."""
        queue = epoch.queue
        self._keep(None)
        if not queue.count:
            return Plan()
        ledger = Ledger.of(epoch)
        free = ledger.free_total
        if free < queue.smallest():
            return Plan()  # nothing can start: the order is not even made
        instance = epoch.instance
        lines = self.order().lineup(epoch, queue, lambda job: not self.never_fits(instance, job))
        return Plan(tuple(self._scan(epoch, lines, ledger, free)))

    def _keep(self, booking: Booking | None) -> None:
        """Remember the epoch's reservations (``last_reservation(s)``)."""
        made = tuple(booking.reservations) if booking is not None else ()
        self.last_reservations = made
        self.last_reservation = made[0] if made else None

    def _scan(
        self, epoch: Epoch, lines: Sequence[Line], ledger: Ledger, free: int
    ) -> list[Placement]:
        """The loop: the next job is the first in order of the lines still open (all lines when
        ``strict``, where a job that does not start ends the scan)."""
        chosen: list[Placement] = []
        failed: set[int] = set()
        at = [0] * len(lines)
        """Per line, the index of its first job after the cursor (or behind it, if it lags)."""
        cursor: Any = None
        booking = (
            Booking(
                epoch,
                ledger,
                self.bandwidth_aware,
                self.reserve_after_s,
                self.reserve_after_slowdown,
                self.reservation_depth,
            )
            if self.reserving
            else None
        )
        while True:
            best, best_key = -1, None
            # until a reservation is made, a job too big for what is free is still tried: it is
            # the one to reserve for
            open_big = booking is not None and booking.open
            for i, line in enumerate(lines):
                if not self.strict and (i in failed or (line.gpus > free and not open_big)):
                    continue
                keys, k = line.keys, at[i]
                if k < len(keys) and cursor is not None and keys[k] <= cursor:
                    k = at[i] = after(keys, cursor, k)
                if k < len(keys) and (best < 0 or keys[k] < best_key):
                    best, best_key = i, keys[k]
            if best < 0:
                self._keep(booking)
                return chosen
            job = lines[best].job(at[best])
            at[best] += 1
            cursor = best_key
            decision: Placement | Wait = Wait.NO_FIT
            if job.total_gpus <= free:
                decision = self.place(epoch, job, ledger)
            if not isinstance(decision, Wait):
                demand = ledger.demand(job, decision)
                if not ledger.shortfall(demand, self.bandwidth_aware):
                    if booking is not None and booking.reservation is not None:
                        admitted = booking.admit(job, decision, demand, self.place)
                        if admitted is None:  # it would delay a reserved job: it may get one
                            booking.reserve_for(job, self.place, self.could_place)
                            continue
                        decision, demand = admitted
                    ledger.take(demand)
                    if booking is not None:
                        booking.started(job, decision, demand)
                    failed.clear()
                    free -= job.total_gpus
                    chosen.append(decision)
                    continue
                decision = (
                    Wait.NO_FIT
                )  # the exact check: with relays two crossings may share a link
            if booking is not None:
                booking.reserve_for(job, self.place, self.could_place)
            if self.strict:
                self._keep(booking)
                return chosen
            if decision is Wait.NO_FIT and self.shape_decides_fit:
                failed.add(best)
