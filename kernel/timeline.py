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

from dataclasses import dataclass, field

from kernel.models import Attempt, Blocker, Decision, Evidence, KernelOutcome
from roadmap.models import RoadmapItem


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
    def latest_review(self) -> Review | None:
        """The newest review decision that no other decision corrects."""
        return next((review for review in self.reviews if not review.superseded_by), None)


def attempt_timeline(item: RoadmapItem) -> Timeline:
    entries = {
        attempt.id: TimelineEntry(attempt) for attempt in item.attempts.order_by("started_at", "id")
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
        KernelOutcome.objects.filter(attempt_id__in=list(entries)).order_by("created_at", "id"),
        "outcomes",
    )
    decisions = list(item.decisions.order_by("decided_at", "id"))
    superseded_by = {d.supersedes_decision_id: d.id for d in decisions if d.supersedes_decision_id}
    reviews = [
        Review(decision, superseded_by.get(decision.id))
        for decision in reversed(decisions)
        if decision.decision_type in REVIEW_DECISIONS
    ]
    return Timeline(
        entries=list(entries.values()),
        loose_evidence=by_attempt(item.evidence.order_by("created_at", "id"), "evidence"),
        loose_decisions=[
            decision
            for decision in by_attempt(decisions, "decisions")
            if decision.decision_type not in REVIEW_DECISIONS
        ],
        loose_blockers=by_attempt(item.blockers.order_by("created_at", "id"), "blockers"),
        reviews=reviews,
    )
