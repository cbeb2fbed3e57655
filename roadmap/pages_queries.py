"""Read queries behind the progress pages (overview, roadmap list, item page).

Every function runs a fixed number of queries whatever the number of items, so the pages'
query counts stay flat. Readiness ("ready", "blocked") always comes from the contract's
views (``v_ready_items``, ``v_blocked_items``) so the pages agree with the agents' API.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery

from roadmap.models import (
    RoadmapAssignment,
    RoadmapDependency,
    RoadmapItem,
    VBlockedItems,
    VCanDeploy,
    VDeployBlockers,
    VReadyItems,
    VRoadmapProgress,
)
from system.models import AuditLog, Terminology
from system.terminology import display_names

RECENT_ACTIVITY_LIMIT = 20
#: Levels walked to find prerequisites, as in the contract's prerequisite chain.
PREREQUISITE_MAX_DEPTH = 50


@dataclass(frozen=True)
class WorkTotals:
    ready: int
    in_progress: int
    blocked: int


def phase_progress() -> list[VRoadmapProgress]:
    """One row per phase with live items, in the phases' terminology order."""
    return list(VRoadmapProgress.objects.all())


def work_totals(progress: list[VRoadmapProgress]) -> WorkTotals:
    """Ready (can start now), in progress (by status), blocked (by unfinished dependencies)."""
    return WorkTotals(
        ready=VReadyItems.objects.count(),
        in_progress=sum(row.in_progress or 0 for row in progress),
        blocked=VBlockedItems.objects.count(),
    )


def deploy_readiness() -> tuple[VCanDeploy | None, list[VDeployBlockers]]:
    """The website deploy gate's verdict and the failed or stale claims behind it."""
    return VCanDeploy.objects.first(), list(VDeployBlockers.objects.all())


def recent_activity(limit: int = RECENT_ACTIVITY_LIMIT) -> list[AuditLog]:
    return list(AuditLog.objects.order_by("-timestamp", "-id")[:limit])


def filtered_items(
    *, status: str = "", owner: str = "", item_type: str = "", text: str = ""
) -> QuerySet[RoadmapItem]:
    """Live items matching the filters (empty = any), by phase order, rank and id.

    Phases sort by their terminology ``sort_order``; unknown phases (NULL) come first, as
    in ``v_roadmap_progress``.
    """
    items = RoadmapItem.objects.live()
    if status:
        items = items.filter(status_key=status)
    if owner:
        items = items.filter(owner=owner)
    if item_type:
        items = items.filter(item_type=item_type)
    if text:
        items = items.filter(
            Q(id__icontains=text) | Q(title__icontains=text) | Q(description__icontains=text)
        )
    phase_order = Terminology.objects.filter(
        domain="roadmap_phase", internal_key=OuterRef("phase_key")
    ).values("sort_order")[:1]
    return (
        items.annotate(phase_order=Subquery(phase_order))
        .only("id", "phase_key", "title", "status_key", "owner", "item_type", "rank")
        .order_by("phase_order", "phase_key", "rank", "sort_order", "id")
    )


def live_owners() -> list[str]:
    """Distinct owners of live items, for the owner filter."""
    return list(
        RoadmapItem.objects.live()
        .exclude(owner__isnull=True)
        .exclude(owner="")
        .order_by("owner")
        .values_list("owner", flat=True)
        .distinct()
    )


def readiness(item_ids: list[str]) -> tuple[set[str], set[str]]:
    """(ready ids, blocked ids) among ``item_ids``: two queries whatever their number."""
    ready = set(VReadyItems.objects.filter(id__in=item_ids).values_list("id", flat=True))
    blocked = set(VBlockedItems.objects.filter(id__in=item_ids).values_list("id", flat=True))
    return ready, blocked


@dataclass(frozen=True)
class Phase:
    key: str
    name: str


@dataclass(frozen=True)
class ListedItem:
    """An item as the list shows it: display names and readiness badges resolved."""

    item: RoadmapItem
    phase: Phase
    status_name: str
    type_name: str
    is_ready: bool
    is_blocked: bool


def listed_items(items: list[RoadmapItem]) -> list[ListedItem]:
    """The items of one list page with names and readiness, in five queries."""
    ready, blocked = readiness([item.id for item in items])
    phases = display_names("roadmap_phase")
    statuses = display_names("roadmap_status")
    types = display_names("roadmap_item_type")
    return [
        ListedItem(
            item=item,
            phase=Phase(item.phase_key, phases.get(item.phase_key) or item.phase_key),
            status_name=statuses.get(item.status_key) or item.status_key,
            type_name=types.get(item.item_type) or item.item_type,
            is_ready=item.id in ready,
            is_blocked=item.id in blocked,
        )
        for item in items
    ]


def dependencies_of(item: RoadmapItem) -> list[RoadmapDependency]:
    """What the item depends on (every type), with the target items loaded."""
    return list(
        item.dependencies.select_related("depends_on").order_by("dependency_type", "depends_on_id")
    )


def dependents_of(item: RoadmapItem) -> list[RoadmapDependency]:
    """The items that depend on this one (every type)."""
    return list(item.dependents.select_related("item").order_by("dependency_type", "item_id"))


@dataclass(frozen=True)
class Prerequisite:
    id: str
    title: str
    status_key: str
    depth: int


_UNMET_PREREQUISITES_SQL = f"""
WITH RECURSIVE reach(id, level) AS (
    SELECT %s, 0
    UNION
    SELECT d.depends_on_id, r.level + 1
    FROM reach r
    JOIN roadmap_dependencies d ON d.item_id = r.id AND d.dependency_type = 'blocks'
    JOIN roadmap_items t ON t.id = d.depends_on_id
    WHERE t.deleted_at IS NULL
      AND r.level < {PREREQUISITE_MAX_DEPTH}
)
SELECT p.id, p.title, p.status_key, MIN(r.level) AS depth
FROM reach r
JOIN roadmap_items p ON p.id = r.id
WHERE r.level >= 1
  AND p.status_key != 'completed'
GROUP BY p.id, p.title, p.status_key
ORDER BY depth, p.id
"""


def unmet_prerequisites(item_id: str) -> list[Prerequisite]:
    """Distinct unfinished prerequisites, each at its shallowest depth (1 = direct).

    The contract's prerequisite rules (``blocks`` edges to live targets, completed ones
    walked through, at most 50 levels), computed by a recursion seeded at the item that
    keeps one row per (item, level). ``v_prerequisite_chain`` has one row per path, which
    grows exponentially with the graph, so it is never read here.
    """
    with connection.cursor() as cursor:
        cursor.execute(_UNMET_PREREQUISITES_SQL, [item_id])
        return [Prerequisite(*row) for row in cursor.fetchall()]


def assignments_of(item: RoadmapItem) -> list[RoadmapAssignment]:
    return list(item.roadmap_assignments.order_by("assigned_at", "id"))
