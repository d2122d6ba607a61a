"""Reservations for the job at the head of the queue (EASY backfilling, over regions and links).

Backfilling alone lets a stream of small jobs take every GPU the moment it frees, so a job that
needs a whole region (or more) can wait for as long as small jobs keep coming: on geo6-quarter at
load ×2 BACE-Pipe's longest waits were 125–160 h. With a reservation, the first job of an epoch
(in the policy's order) that cannot start is given the earliest time at which it will fit — the
running jobs' expected ends played forward on a copy of the ledger, the policy's own ``place``
asked at each release — and the placement chosen then (cost-min at that hour). A later job may
start now only if it does not delay that: it ends (expected) by the reserved start, or what it
takes past that start comes out of what the reservation leaves spare. ``bace`` makes one
reservation per epoch (EASY), afresh every epoch: several (conservative) cut the longest wait by
2–8 % but cost up to 1.6 % of average JCT under load and, overloaded, 1.6–55× the decision time
(docs/benchmarks.md).

Deeper (``reservation_depth`` k > 1, conservative backfilling): up to k patient blocked jobs (ones
that do not fit, or would delay a reservation) get reservations, each on the future profile that
includes the earlier ones' holds (from their start to their expected end). The profile is
free-now plus releases minus holds, and holds are the only thing that takes resources away:
between two reservation starts the profile only grows. So a job holding ``d`` over [t, e) fits
throughout iff ``d`` fits at t and at each reservation start in [t, e) — where what is free is
that reservation's ``spare`` (the profile there, less its own hold and less whatever was since
booked across it). A job starting now is checked the same way (t = now, where the ledger is the
profile) and, once admitted, booked into every such spare; so is a new reservation, whose hold is
booked into the spare of every later start it spans.

Expected ends are exact for a job that gets its bandwidth need (its run time is fixed at start);
for a bandwidth-unaware policy they are the ends at today's link shares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bace_opt.core.network import Direction
from bace_opt.core.placement import Placement
from bace_opt.core.world import Instance, Job, Snapshot
from bace_opt.formulas.job import reference_run_time_s
from bace_opt.formulas.placement import estimate
from bace_opt.policies.lineup import Epoch, LiveEpoch
from bace_opt.resources.demand import Demand, Release
from bace_opt.resources.ledger import Ledger

END_TOL_S = 1e-6
"""A backfilled job ending this close after the reserved start counts as ending before it."""


def releases(epoch: Epoch) -> Sequence[Release]:
    """The epoch's running jobs as releases (the simulator's live list, or a snapshot's)."""
    if isinstance(epoch, LiveEpoch):
        return epoch.releases()
    if isinstance(epoch, Snapshot):
        return [Release.of_running(epoch.instance, run) for run in epoch.running]
    return ()


@dataclass(frozen=True)
class At:
    """An epoch seen at a later time: what the policy's ``place`` reads when asked where a job
    would go at a release (prices are read at ``time_s``)."""

    epoch: Epoch
    time_s: float

    @property
    def instance(self) -> Instance:
        return self.epoch.instance

    @property
    def free_gpus(self) -> Mapping[str, int]:
        return self.epoch.free_gpus

    @property
    def residual_gbps(self) -> Mapping[Direction, float]:
        return self.epoch.residual_gbps

    def link_utilization(self) -> float:
        return self.epoch.link_utilization()


Place = Callable[[Epoch, Job, Ledger], object]
"""The policy's ``place``: a ``Placement``, or why not (anything else)."""
Fits = Callable[[Epoch, Job, Ledger], bool]
"""A quick necessary test that ``place`` can find a placement (e.g. the pathfinder has
candidates): ``reserve`` asks ``place`` only where it passes."""


@dataclass
class Reservation:
    """A reserved job's start and placement, and ``spare``: what is free at that start
    once the reserved job holds its placement (given what runs now and what started this epoch)."""

    job: str
    start_s: float
    placement: Placement
    spare: Ledger
    check_bandwidth: bool
    end_s: float
    """When the reserved job is expected to end if it starts at ``start_s`` (its hold's end)."""
    demand: Demand
    """What the reserved placement holds from ``start_s`` to ``end_s``."""

    def allows(self, demand: Demand, end_s: float) -> bool:
        """Whether a job holding ``demand`` until ``end_s`` may start now without delaying it."""
        if end_s <= self.start_s + END_TOL_S:
            return True
        return not self.spare.shortfall(demand, self.check_bandwidth)

    def book(self, demand: Demand, end_s: float) -> None:
        """A backfilled job started: what it holds past the reserved start is spare no more."""
        if end_s > self.start_s + END_TOL_S:
            self.spare.take(demand)

    def room(self, ledger: Ledger) -> Ledger:
        """What a job that would run past the reserved start may use: free now and spare then."""
        return ledger.within(self.spare)


def expected_end(instance: Instance, job: Job, placement: Placement, now: float) -> float:
    """When ``job`` started now on ``placement`` ends if every crossing gets its need."""
    return now + estimate(instance, job, placement).run_time_s


def _spans(reservation: Reservation, start_s: float, end_s: float) -> bool:
    """Whether a hold over [start_s, end_s) covers ``reservation``'s start."""
    return start_s <= reservation.start_s < end_s


def reserve(
    epoch: Epoch,
    job: Job,
    ledger: Ledger,
    pending: Iterable[Release],
    place: Place,
    check_bandwidth: bool,
    fits: Fits | None = None,
    earlier: Sequence[Reservation] = (),
) -> Reservation | None:
    """The earliest release after which ``place`` puts ``job`` somewhere (None: never, given what
    runs and nothing new starting). ``ledger`` is what is free now; ``pending`` what will be given
    back (running jobs and those started this epoch); ``earlier`` the reservations already made,
    whose holds the profile includes (a placement must also fit each spare of theirs it spans)."""
    instance = epoch.instance
    future = ledger.copy()
    # (time, 0 = give back | 1 = hold, demand): at one time what ends is given back first
    events: list[tuple[float, int, Demand]] = [(r.end_s, 0, r.demand) for r in pending]
    for r in earlier:
        events += [(r.start_s, 1, r.demand), (r.end_s, 0, r.demand)]
    ordered = sorted(events, key=lambda e: (e[0], e[1]))
    i = 0
    while i < len(ordered):
        at = ordered[i][0]
        grew = False
        while i < len(ordered) and ordered[i][0] <= at:
            _, hold, demand = ordered[i]
            if hold:
                future.take(demand)
            else:
                future.release(demand)
                grew = True
            i += 1
        if not grew or job.total_gpus > future.free_total:
            continue
        then = At(epoch, max(at, epoch.time_s))
        if fits is not None and not fits(then, job, future):
            continue
        decision = place(then, job, future)
        if not isinstance(decision, Placement):
            continue
        demand = future.demand(job, decision)
        if future.shortfall(demand, check_bandwidth):
            continue
        end = expected_end(instance, job, decision, at)
        spanned = [r for r in earlier if _spans(r, at, end)]
        if any(r.spare.shortfall(demand, check_bandwidth) for r in spanned):
            continue
        future.take(demand)
        for r in spanned:
            r.spare.take(demand)
        return Reservation(job.name, at, decision, future, check_bandwidth, end, demand)
    return None


PATIENCE_SLOWDOWN = 1.0
PATIENCE_S = 12 * 3600.0
"""``bace``'s patience: the first job that cannot start gets a reservation once it has waited as
long as its ideal run time, or 12 h, whichever comes first. Reserving at once (EASY proper) cut
the longest waits as much but cost 1–2 % of average JCT under load, because every small job
that would have run past the reserved start waits too; waiting as long as the job itself would
run keeps short jobs flowing and still bounds the wait of the big ones (measured on geo6-half and
geo6-quarter, bandwidth × 0.25 and × 1, load × 1 and × 2, seeds 0–3: docs/benchmarks.md)."""

MAX_ATTEMPTS = 3
"""Failed reservations an epoch makes before it stops reserving (one that never fits given what
runs — it waits for a split that stays too dear — would otherwise make every blocked job try).
Failures, not tries, are counted, so a depth of k tries at most k + MAX_ATTEMPTS - 1 jobs."""


@dataclass
class Booking:
    """One epoch's reservation bookkeeping for the greedy loop: what started (and when it will
    end), the reservations once made, and whether a job may start without delaying them."""

    epoch: Epoch
    ledger: Ledger
    check_bandwidth: bool
    after_wait_s: float = 0.0
    """A job gets a reservation once it has waited this long (0: no such limit) ..."""
    after_slowdown: float = 0.0
    """... or this many times its ideal run time (0: no such limit); with neither, the first job
    that cannot start gets it at once."""
    depth: int = 1
    """How many jobs may hold a reservation (1: EASY; more: conservative backfilling)."""
    reservations: list[Reservation] = field(default_factory=list)
    failures: int = 0
    _started: list[Release] = field(default_factory=list)

    @property
    def reservation(self) -> Reservation | None:
        """The first reservation made (None: none yet)."""
        return self.reservations[0] if self.reservations else None

    @property
    def open(self) -> bool:
        """Whether the next job that cannot start should get a reservation."""
        return len(self.reservations) < self.depth and self.failures < MAX_ATTEMPTS

    def _end(self, job: Job, placement: Placement) -> float:
        return expected_end(self.epoch.instance, job, placement, self.epoch.time_s)

    def started(self, job: Job, placement: Placement, demand: Demand) -> None:
        end = self._end(job, placement)
        self._started.append(Release(end, demand))
        for reservation in self.reservations:
            reservation.book(demand, end)

    def _patient_enough(self, job: Job) -> bool:
        waited = self.epoch.time_s - job.arrival_s
        limits = []
        if self.after_wait_s:
            limits.append(self.after_wait_s)
        if self.after_slowdown:
            limits.append(self.after_slowdown * reference_run_time_s(self.epoch.instance, job))
        return not limits or waited >= min(limits)

    def reserve_for(self, job: Job, place: Place, fits: Fits | None = None) -> None:
        if not self.open or not self._patient_enough(job):
            return
        pending = [*releases(self.epoch), *self._started]
        check = self.check_bandwidth
        made = reserve(self.epoch, job, self.ledger, pending, place, check, fits, self.reservations)
        if made is None:
            self.failures += 1
        else:
            self.reservations.append(made)

    def _allows(self, demand: Demand, end_s: float) -> bool:
        return all(r.allows(demand, end_s) for r in self.reservations)

    def admit(
        self, job: Job, placement: Placement, demand: Demand, place: Place
    ) -> tuple[Placement, Demand] | None:
        """``placement`` if it delays no reserved job, else the policy's placement within the room
        the reservations leave (None: the job waits)."""
        assert self.reservations
        if self._allows(demand, self._end(job, placement)):
            return placement, demand
        room = self.ledger
        for reservation in self.reservations:
            room = reservation.room(room)
        if job.total_gpus > room.free_total:
            return None
        other = place(self.epoch, job, room)
        if not isinstance(other, Placement):
            return None
        need = self.ledger.demand(job, other)
        if room.shortfall(need, self.check_bandwidth):
            return None
        if not self._allows(need, self._end(job, other)):
            return None
        return other, need
