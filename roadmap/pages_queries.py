"""Read queries behind the progress pages (overview, roadmap list, item page).

Every function runs a fixed number of queries whatever the number of items, so the pages'
query counts stay flat. Readiness ("ready", "blocked") always comes from the contract's
views (``v_ready_items``, ``v_blocked_items``) so the pages agree with the agents' API.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, Q, QuerySet, Subquery, Value

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
from system.terminology import display_names_by_domain

RECENT_ACTIVITY_LIMIT = 20


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


#: What the list shows of an item (rows are dicts: no model instance per row).
LISTED_FIELDS = ("id", "phase_key", "title", "status_key", "owner", "item_type")


def filtered_items(
    *, status: str = "", owner: str = "", item_type: str = "", text: str = ""
) -> QuerySet:
    """Live items matching the filters (empty = any) as dicts of ``LISTED_FIELDS``, by phase
    order, rank and id.

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
    return items.order_by(
        Subquery(phase_order).asc(), "phase_key", "rank", "sort_order", "id"
    ).values(*LISTED_FIELDS)


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


def readiness(item_ids: list[str]) -> dict[str, str]:
    """``"ready"`` or ``"blocked"`` for those of ``item_ids`` that are: one query.

    The two are exclusive: ready means no unmet blocking dependency, blocked at least one.
    """
    ready = VReadyItems.objects.filter(id__in=item_ids).values_list("id", Value("ready"))
    blocked = VBlockedItems.objects.filter(id__in=item_ids).values_list("id", Value("blocked"))
    return dict(ready.union(blocked, all=True))


@dataclass(frozen=True)
class ListedItem:
    """One row of the roadmap list, display names and readiness resolved."""

    id: str
    title: str
    status_key: str
    status: str
    owner: str | None
    item_type: str
    readiness: str | None  # "ready", "blocked" or None


@dataclass(frozen=True)
class PhaseGroup:
    key: str
    name: str
    items: list[ListedItem]


def phase_groups(rows: list[dict]) -> list[PhaseGroup]:
    """Rows of ``filtered_items`` (in phase order) grouped by phase, in two queries."""
    badges = readiness([row["id"] for row in rows])
    names = display_names_by_domain("roadmap_phase", "roadmap_status", "roadmap_item_type")
    groups: list[PhaseGroup] = []
    for row in rows:
        phase_key, status_key, item_type = row["phase_key"], row["status_key"], row["item_type"]
        if not groups or groups[-1].key != phase_key:
            phase_name = names["roadmap_phase"].get(phase_key) or phase_key
            groups.append(PhaseGroup(phase_key, phase_name, []))
        groups[-1].items.append(
            ListedItem(
                id=row["id"],
                title=row["title"],
                status_key=status_key,
                status=names["roadmap_status"].get(status_key) or status_key,
                owner=row["owner"],
                item_type=names["roadmap_item_type"].get(item_type) or item_type,
                readiness=badges.get(row["id"]),
            )
        )
    return groups


def dependencies_of(item: RoadmapItem) -> list[RoadmapDependency]:
    """What the item depends on (every type), with the target items loaded."""
    return list(
        item.dependencies.select_related("depends_on").order_by("dependency_type", "depends_on_id")
    )


def dependents_of(item: RoadmapItem) -> list[RoadmapDependency]:
    """The items that depend on this one (every type)."""
    return list(item.dependents.select_related("item").order_by("dependency_type", "item_id"))


def assignments_of(item: RoadmapItem) -> list[RoadmapAssignment]:
    return list(item.roadmap_assignments.order_by("assigned_at", "id"))
