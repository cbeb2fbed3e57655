"""Read queries behind the progress pages (overview, roadmap list, item page).

Every function runs a fixed number of queries whatever the number of items, so the pages'
query counts stay flat. Readiness always comes from the contract's views so the pages agree
with the agents' API: "blocked" is ``v_blocked_items``; "ready" is ``v_ready_items`` less the
items somebody holds (what the API's ready list leaves out too, ``kernel.services.unheld``):

* an active attempt: a row of ``attempts`` with ``work_id`` = the item and ``ended_at`` NULL;
* an active exclusive lease on the item: a row of ``leases`` with ``resource_type`` =
  ``'work_item'``, ``resource_id`` = the item, ``mode`` = ``'exclusive'``, ``released_at``
  NULL and ``expires_at`` (``YYYY-MM-DD HH:MM:SS`` UTC text) later than now. The `motus`
  tool's claims take such a lease without an attempt.

``attempts`` and ``leases`` are contract tables of the same file, read here by SQL because
the roadmap must not import the kernel's models (as ``roadmap.queries.workers_on`` does).
Such a ready-but-held item is badged "held" (shown "Claimed"); an item in status ``review``
is badged "review" (shown "In review"), whatever its dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from roadmap.models import (
    RoadmapAssignment,
    RoadmapDependency,
    RoadmapItem,
    VBlockedItems,
    VCanDeploy,
    VDeployBlockers,
    VRoadmapProgress,
)
from system.fields import format_timestamp, utc_now
from system.models import AuditLog, Terminology
from system.terminology import display_names_by_domain

RECENT_ACTIVITY_LIMIT = 20


#: The status of an item done by its implementer and waiting for a reviewer's decision.
REVIEW_STATUS = "review"

#: An item's badge on the pages, by its readiness (see :func:`readiness`).
READINESS_LABELS = {
    "ready": "Ready",
    "blocked": "Blocked",
    "held": "Claimed",
    "review": "In review",
}

#: True (1) when somebody holds the item whose id is the SQL expression ``{item}``: an
#: active attempt, or an active exclusive ``work_item`` lease; takes one parameter, now.
_HELD_SQL = """(
    EXISTS (SELECT 1 FROM attempts a WHERE a.work_id = {item} AND a.ended_at IS NULL)
    OR EXISTS (
        SELECT 1 FROM leases l
        WHERE l.resource_type = 'work_item' AND l.resource_id = {item}
          AND l.mode = 'exclusive' AND l.released_at IS NULL AND l.expires_at > %s
    )
)"""


def _now() -> str:
    """Now as the text the triggers and ``expires_at`` use (the clock the kernel reads)."""
    return format_timestamp(utc_now())


def _scalar(sql: str, params) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


@dataclass(frozen=True)
class WorkTotals:
    ready: int
    in_progress: int
    in_review: int
    blocked: int


def phase_progress() -> list[VRoadmapProgress]:
    """One row per phase with live items, in the phases' terminology order, each with
    ``in_review``: its live items in status ``review`` (which the view does not count)."""
    progress = list(VRoadmapProgress.objects.all())
    in_review = dict(
        RoadmapItem.objects.live()
        .filter(status_key=REVIEW_STATUS)
        .order_by()
        .values_list("phase_key")
        .annotate(count=Count("id"))
    )
    for row in progress:
        row.in_review = in_review.get(row.phase_key, 0)
    return progress


def ready_count() -> int:
    """Items ready to start now: ``v_ready_items`` less the held ones (the API's ready list)."""
    return _scalar(
        f"SELECT COUNT(*) FROM v_ready_items r WHERE NOT {_HELD_SQL.format(item='r.id')}",
        [_now()],
    )


def work_totals(progress: list[VRoadmapProgress]) -> WorkTotals:
    """Ready (can start now, nobody holds it), in progress and in review (by status), blocked
    (by unfinished dependencies). ``progress``: rows of :func:`phase_progress`."""
    return WorkTotals(
        ready=ready_count(),
        in_progress=sum(row.in_progress or 0 for row in progress),
        in_review=sum(getattr(row, "in_review", 0) for row in progress),
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
    """The badge of those of ``item_ids`` that have one, in one query: ``"review"`` (status
    ``review``), else ``"blocked"`` (in ``v_blocked_items``), else ``"ready"`` (in
    ``v_ready_items``, nobody holds it) or ``"held"`` (in ``v_ready_items``, but somebody
    holds it: not ready for anybody else).

    Ready and blocked are exclusive: ready means no unmet blocking dependency, blocked at
    least one. Labels: :data:`READINESS_LABELS`.
    """
    if not item_ids:
        return {}
    marks = ", ".join(["%s"] * len(item_ids))
    held = _HELD_SQL.format(item="r.id")
    sql = (
        f"SELECT r.id, CASE WHEN {held} THEN 'held' ELSE 'ready' END"
        f" FROM v_ready_items r WHERE r.id IN ({marks})"
        " UNION ALL"
        f" SELECT b.id, 'blocked' FROM v_blocked_items b WHERE b.id IN ({marks})"
        " UNION ALL"
        f" SELECT i.id, 'review' FROM roadmap_items i WHERE i.id IN ({marks})"
        " AND i.status_key = %s AND i.deleted_at IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_now(), *item_ids, *item_ids, *item_ids, REVIEW_STATUS])
        rows = cursor.fetchall()
    badges: dict[str, str] = {}
    for item_id, badge in rows:
        if badge == "review" or item_id not in badges:  # review wins over blocked
            badges[item_id] = badge
    return badges


@dataclass(frozen=True)
class ListedItem:
    """One row of the roadmap list, display names and readiness resolved."""

    id: str
    title: str
    status_key: str
    status: str
    owner: str | None
    item_type: str
    readiness: str | None  # a key of READINESS_LABELS, or None

    @property
    def readiness_label(self) -> str:
        return READINESS_LABELS.get(self.readiness, "")


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
