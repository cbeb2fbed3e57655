"""The attempt timeline of a work item, for its page: five queries whatever its size.

Each attempt comes with the item's evidence, decisions and blockers recorded against it, the
attempt it took over from and the attempts that took over from it, plus the legacy
``kernel_outcomes`` rows that name it in their free-text ``attempt_id`` (whatever their
``work_id``). The item's records tied to none of its attempts (e.g. a waiver decision, or
the evidence that resolved a blocker) are kept apart, and its review decisions
(``review_passed`` / ``review_rejected``, recorded on the item by a reviewer) have a list of
their own, newest first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kernel.leases import WORK_LEASE_TYPE
from kernel.models import Attempt, Blocker, Decision, Evidence, KernelOutcome, Lease
from roadmap.models import RoadmapItem
from system.fields import utc_now
from system.sql import bytewise


@dataclass
class TimelineEntry:
    attempt: Attempt
    took_over_from: Attempt | None = None
    handed_off_to: list[Attempt] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    outcomes: list[KernelOutcome] = field(default_factory=list)


#: The decisions a reviewer takes on an item in review.
REVIEW_DECISIONS = ("review_passed", "review_rejected")


@dataclass
class Review:
    """A review decision, and the id of the decision that corrects it (if any)."""

    decision: Decision
    superseded_by: str | None = None

    @property
    def rejected(self) -> bool:
        return self.decision.decision_type == "review_rejected"


@dataclass
class Timeline:
    """The attempts, oldest first, the records that belong to none of them, and the item's
    review decisions, newest first (not repeated among the other records)."""

    entries: list[TimelineEntry]
    loose_evidence: list[Evidence]
    loose_decisions: list[Decision]
    loose_blockers: list[Blocker]
    reviews: list[Review] = field(default_factory=list)

    @property
    def has_loose_records(self) -> bool:
        return bool(self.loose_evidence or self.loose_decisions or self.loose_blockers)

    @property
    def open_blockers(self) -> list[Blocker]:
        """The item's unresolved blockers, oldest first, on an attempt or not."""
        blockers = [b for entry in self.entries for b in entry.blockers] + self.loose_blockers
        return sorted(
            (b for b in blockers if b.resolved_at is None), key=lambda b: (b.created_at, b.id)
        )

    @property
    def active_attempts(self) -> list[Attempt]:
        return [entry.attempt for entry in self.entries if entry.attempt.ended_at is None]

    @property
    def latest_review(self) -> Review | None:
        """The newest review decision that no other decision corrects."""
        return next((review for review in self.reviews if not review.superseded_by), None)


def attempt_timeline(item: RoadmapItem) -> Timeline:
    entries = {
        attempt.id: TimelineEntry(attempt)
        for attempt in item.attempts.order_by("started_at", bytewise("id"))
    }
    for entry in entries.values():
        previous = entries.get(entry.attempt.handoff_from_attempt_id)
        if previous:
            entry.took_over_from = previous.attempt
            previous.handed_off_to.append(entry.attempt)

    def by_attempt(records, attribute: str) -> list:
        """Attach each record to its attempt's entry; return the ones with no entry."""
        loose = []
        for record in records:
            entry = entries.get(record.attempt_id)
            if entry:
                getattr(entry, attribute).append(record)
            else:
                loose.append(record)
        return loose

    by_attempt(
        KernelOutcome.objects.filter(attempt_id__in=list(entries)).order_by(
            "created_at", bytewise("id")
        ),
        "outcomes",
    )
    decisions = list(item.decisions.order_by("decided_at", bytewise("id")))
    superseded_by = {d.supersedes_decision_id: d.id for d in decisions if d.supersedes_decision_id}
    reviews = [
        Review(decision, superseded_by.get(decision.id))
        for decision in reversed(decisions)
        if decision.decision_type in REVIEW_DECISIONS
    ]
    return Timeline(
        entries=list(entries.values()),
        loose_evidence=by_attempt(item.evidence.order_by("created_at", bytewise("id")), "evidence"),
        loose_decisions=[
            decision
            for decision in by_attempt(decisions, "decisions")
            if decision.decision_type not in REVIEW_DECISIONS
        ],
        loose_blockers=by_attempt(item.blockers.order_by("created_at", bytewise("id")), "blockers"),
        reviews=reviews,
    )


@dataclass(frozen=True)
class Holder:
    """Who holds the item now: an active attempt (with its lease, if it still has one) or
    an exclusive ``work_item`` lease of no attempt (a `motus` tool claim)."""

    worker_id: str
    attempt: Attempt | None
    lease: Lease | None

    @property
    def lease_expired(self) -> bool:
        """The lease ran out without being released (``expire_stale`` ends such attempts)."""
        return self.lease is not None and self.lease.expires_at <= utc_now()


def current_holders(item: RoadmapItem, timeline: Timeline) -> list[Holder]:
    """The item's active attempts, each with its newest unreleased lease, then the active
    exclusive leases on it that belong to no active attempt: one query on top of the
    timeline's."""
    leases = list(
        Lease.objects.filter(
            resource_type=WORK_LEASE_TYPE, resource_id=item.id, released_at__isnull=True
        ).order_by("-acquired_at", bytewise("id").desc())
    )
    holders = []
    attempt_ids = set()
    for attempt in timeline.active_attempts:
        attempt_ids.add(attempt.id)
        lease = next((lease for lease in leases if lease.attempt_id == attempt.id), None)
        holders.append(Holder(attempt.worker_id, attempt, lease))
    now: dt.datetime = utc_now()
    for lease in leases:
        if lease.attempt_id not in attempt_ids and lease.mode == "exclusive":
            if lease.expires_at > now:
                holders.append(Holder(lease.worker_id, None, lease))
    return holders
