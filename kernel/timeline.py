"""The attempt timeline of a work item for its page: a fixed number of queries.

Each attempt comes with its evidence, decisions, blockers, the attempt it took over from
and the attempts that took over from it, plus the legacy ``kernel_outcomes`` rows that
name it in their free-text ``attempt_id``. Records of the item tied to no attempt (e.g. a
waiver decision or the evidence that resolved a blocker) are listed apart.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Prefetch

from kernel.models import Attempt, Blocker, Decision, Evidence, KernelOutcome
from roadmap.models import RoadmapItem


@dataclass(frozen=True)
class TimelineEntry:
    attempt: Attempt
    outcomes: list[KernelOutcome]


@dataclass(frozen=True)
class LooseRecords:
    """The item's evidence, decisions and blockers that belong to no attempt."""

    evidence: list[Evidence]
    decisions: list[Decision]
    blockers: list[Blocker]

    def __bool__(self) -> bool:
        return bool(self.evidence or self.decisions or self.blockers)


def attempt_timeline(item: RoadmapItem) -> list[TimelineEntry]:
    """The item's attempts, oldest first, with everything recorded against each."""
    attempts = list(
        item.attempts.select_related("handoff_from_attempt")
        .prefetch_related(
            Prefetch("evidence", Evidence.objects.order_by("created_at", "id")),
            Prefetch("decisions", Decision.objects.order_by("decided_at", "id")),
            Prefetch("blockers", Blocker.objects.order_by("created_at", "id")),
            Prefetch("handoffs", Attempt.objects.order_by("started_at", "id")),
        )
        .order_by("started_at", "id")
    )
    outcomes = defaultdict(list)
    for outcome in KernelOutcome.objects.filter(
        attempt_id__in=[attempt.id for attempt in attempts]
    ).order_by("created_at", "id"):
        outcomes[outcome.attempt_id].append(outcome)
    return [TimelineEntry(attempt, outcomes[attempt.id]) for attempt in attempts]


def loose_records(item: RoadmapItem) -> LooseRecords:
    return LooseRecords(
        evidence=list(item.evidence.filter(attempt__isnull=True).order_by("created_at", "id")),
        decisions=list(item.decisions.filter(attempt__isnull=True).order_by("decided_at", "id")),
        blockers=list(item.blockers.filter(attempt__isnull=True).order_by("created_at", "id")),
    )
