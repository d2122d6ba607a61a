"""The one greedy epoch loop every greedy policy runs: take the waiting jobs in the policy's order,
place each on the epoch's ledger, and go on to the next (backfilling) or stop at the first job
that does not start (strict FIFO, which is how FIFO schedulers block at the head of the line).

A policy is its parts: ``order`` (which job next), ``place`` (where it goes on the resources left,
or why it waits) and two facts — ``strict`` and whether a placement's existence depends only on
the job's ``fit_shape`` and the free resources. When it does (every deterministic placement rule
here), one misfit per shape and epoch is enough: later jobs of that shape are skipped until
something else starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from bace_opt.core.placement import Placement, Plan
from bace_opt.core.world import Instance, Job, Snapshot
from bace_opt.resources.ledger import Ledger

FitShape = tuple[int, int, str, int, int]


def fit_shape(job: Job) -> FitShape:
    """Everything that decides where a job fits: stages, width, model, micro-batch, sequence
    (the bandwidth a crossing needs and the memory rule follow from these)."""
    return (job.stages, job.gpus_per_stage, job.model.name, job.micro_batch_size, job.seq_len)


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

    def order(self, snapshot: Snapshot) -> Iterable[Job]:
        return snapshot.waiting

    def never_fits(self, instance: Instance, job: Job) -> bool:
        """Jobs this policy could not place even on an idle cluster: passed over, not waited on."""
        return False

    def place(self, snapshot: Snapshot, job: Job, ledger: Ledger) -> Placement | Wait:
        raise NotImplementedError

    @property
    def stats(self) -> dict[str, int]:
        """Counters for ``summary.json`` (none for a plain greedy policy)."""
        return {}

    def decide(self, snapshot: Snapshot) -> Plan:
        if not snapshot.waiting:
            return Plan()
        ledger = Ledger.of(snapshot)
        free = ledger.free_total
        smallest = min(job.total_gpus for job in snapshot.waiting)
        chosen: list[Placement] = []
        failed: set[FitShape] = set()
        for job in self.order(snapshot) if free >= smallest else ():
            if free < smallest:
                break  # nothing left can fit: ends the backfill scan of a long queue early
            if self.never_fits(snapshot.instance, job):
                continue
            shape = fit_shape(job)
            decision: Placement | Wait = Wait.NO_FIT
            if job.total_gpus <= free and shape not in failed:
                decision = self.place(snapshot, job, ledger)
            if not isinstance(decision, Wait):
                demand = ledger.demand(job, decision)
                if not ledger.shortfall(demand, self.bandwidth_aware):
                    ledger.take(demand)
                    failed.clear()
                    free -= job.total_gpus
                    chosen.append(decision)
                    continue
                decision = (
                    Wait.NO_FIT
                )  # the exact check: with relays two crossings may share a link
            if self.strict:
                break
            if decision is Wait.NO_FIT and self.shape_decides_fit:
                failed.add(shape)
        return Plan(tuple(chosen))
