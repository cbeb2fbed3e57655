"""Read queries behind the progress pages (overview, roadmap list, item page).

Every function runs a fixed number of queries whatever the number of items, so the pages'
query counts stay flat.

**Readiness** is one value per live item, computed in SQL by :data:`READINESS_SQL` and used
alike by the badges, the list's readiness filter and the overview's counts (so a count and
the list it links to always agree). The first rule that applies wins:

1. ``review``: status ``review`` (done, waiting for a reviewer);
2. nothing for a ``completed`` or ``deferred`` item;
3. ``blocker``: an open blocker (a ``blockers`` row with ``resolved_at`` NULL): nobody can
   claim it until it is resolved (the ``attempts_no_claim_blocked`` trigger);
4. ``in_progress``: status ``in_progress``;
5. ``blocked``: in ``v_blocked_items``, i.e. waiting on an unfinished blocking prerequisite;
6. ``held`` or ``ready``: in ``v_ready_items``; ``held`` when somebody holds it (what the
   API's ready list leaves out too, ``kernel.services.unheld``):

   * an active attempt: a row of ``attempts`` with ``work_id`` = the item and ``ended_at``
     NULL;
   * an active exclusive lease on the item: a row of ``leases`` with ``resource_type`` =
     ``'work_item'``, ``resource_id`` = the item, ``mode`` = ``'exclusive'``,
     ``released_at`` NULL and ``expires_at`` (``YYYY-MM-DD HH:MM:SS`` UTC text) later than
     now. The `motus` tool's claims take such a lease without an attempt.

A ``blocked``-status item with no open blocker and no unfinished prerequisite has no
readiness (its status says it all). ``attempts``, ``leases`` and ``blockers`` are contract
tables of the same file, read here by SQL because the roadmap must not import the kernel's
models (as ``roadmap.queries.workers_on`` does).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import F

from roadmap.models import (
    RoadmapAssignment,
    RoadmapDependency,
    RoadmapItem,
    VCanDeploy,
    VDeployBlockers,
    VRoadmapProgress,
)
from system.fields import format_timestamp, utc_now
from system.models import Terminology
from system.sql import bytewise_sql, id_list_sql
from system.terminology import display_names_by_domain

#: The status of an item done by its implementer and waiting for a reviewer's decision.
REVIEW_STATUS = "review"


@dataclass(frozen=True)
class Readiness:
    """What a readiness value is called on the pages, and what it means (the badge's title
    and the legend). ``slug``: its part of element ids (``total-in-progress``)."""

    key: str
    label: str
    meaning: str
    slug: str

    @property
    def counted(self) -> str:
        """The label after a number ("3 ready to start", "2 with an open blocker")."""
        return "with an open blocker" if self.key == "blocker" else self.label.lower()


#: Every readiness value, in the order the pages list them.
READINESS = {
    r.key: r
    for r in (
        Readiness("ready", "Ready to start", "Nothing stops it: anyone may claim it now.", "ready"),
        Readiness("in_progress", "Being worked on", "Its status is In Progress.", "in-progress"),
        Readiness(
            "review", "Awaiting review", "Done; waiting for a reviewer to pass it.", "in-review"
        ),
        Readiness(
            "blocked",
            "Waiting on prerequisites",
            "A blocking prerequisite is not completed yet.",
            "blocked",
        ),
        Readiness(
            "blocker",
            "Open blocker",
            "Someone raised a blocker that nobody has resolved yet.",
            "blocker",
        ),
        Readiness(
            "held",
            "Claimed",
            "Ready, but somebody holds it (an active attempt or a claim).",
            "held",
        ),
    )
}
#: Readiness key → its label (what the badges say).
READINESS_LABELS = {key: r.label for key, r in READINESS.items()}

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

#: The readiness of the live ``roadmap_items`` row aliased ``i`` (see the module's
#: docstring); takes one parameter, now. Rules 5 and 6 are the conditions of
#: ``v_blocked_items`` and ``v_ready_items`` (RULES.md), written per item so that SQLite
#: looks them up by index rather than computing both views whole; the page tests hold the
#: results equal to the views'.
READINESS_SQL = f"""CASE
    WHEN i.status_key = 'review' THEN 'review'
    WHEN i.status_key IN ('completed', 'deferred') THEN NULL
    WHEN EXISTS (SELECT 1 FROM blockers b WHERE b.work_id = i.id AND b.resolved_at IS NULL)
        THEN 'blocker'
    WHEN i.status_key = 'in_progress' THEN 'in_progress'
    WHEN EXISTS (
        SELECT 1 FROM roadmap_dependencies d JOIN roadmap_items t ON t.id = d.depends_on_id
        WHERE d.item_id = i.id AND d.dependency_type = 'blocks' AND t.status_key != 'completed'
    ) THEN 'blocked'
    WHEN i.status_key = 'pending'
        THEN CASE WHEN {_HELD_SQL.format(item="i.id")} THEN 'held' ELSE 'ready' END
END"""


def _now() -> str:
    """Now as the text the triggers and ``expires_at`` use (the clock the kernel reads)."""
    return format_timestamp(utc_now())


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# -- readiness ------------------------------------------------------------------------------


def readiness(item_ids: list[str]) -> dict[str, str]:
    """The readiness of those of ``item_ids`` that are live and have one, in one query
    (keys of :data:`READINESS`)."""
    if not item_ids:
        return {}
    rows = _fetch(
        f"SELECT i.id, {READINESS_SQL} FROM roadmap_items i"
        f" WHERE i.deleted_at IS NULL AND i.id IN ({id_list_sql()})",
        [_now(), json.dumps(list(item_ids))],
    )
    return {item_id: value for item_id, value in rows if value}


def readiness_counts() -> dict[str, dict[str, int]]:
    """Live items per phase and readiness: ``{phase_key: {readiness: count}}``."""
    counts: dict[str, dict[str, int]] = {}
    # MATERIALIZED: computed once per item (SQLite would repeat the expression in each
    # clause that names it).
    rows = _fetch(
        f"WITH f AS MATERIALIZED (SELECT i.phase_key, {READINESS_SQL} AS readiness"
        " FROM roadmap_items i WHERE i.deleted_at IS NULL)"
        " SELECT phase_key, readiness, COUNT(*) FROM f"
        " WHERE readiness IS NOT NULL GROUP BY phase_key, readiness",
        [_now()],
    )
    for phase_key, value, count in rows:
        counts.setdefault(phase_key, {})[value] = count
    return counts


@dataclass(frozen=True)
class ReadinessCount:
    readiness: Readiness
    count: int


def _nonzero(by_readiness: dict[str, int]) -> list[ReadinessCount]:
    return [
        ReadinessCount(r, by_readiness[key])
        for key, r in READINESS.items()
        if by_readiness.get(key)
    ]


@dataclass(frozen=True)
class WorkTotals:
    """Live items per readiness over every phase (what the overview's counts link to)."""

    ready: int = 0
    held: int = 0
    in_progress: int = 0
    review: int = 0
    blocked: int = 0
    blocker: int = 0

    @classmethod
    def of(cls, counts: dict[str, dict[str, int]]) -> WorkTotals:
        """The sums over the phases of :func:`readiness_counts`."""
        sums = dict.fromkeys(READINESS, 0)
        for by_readiness in counts.values():
            for key, count in by_readiness.items():
                sums[key] += count
        return cls(**sums)

    @property
    def rows(self) -> list[ReadinessCount]:
        """Every readiness with its count, zero or not, in :data:`READINESS` order."""
        return [ReadinessCount(r, getattr(self, key)) for key, r in READINESS.items()]


# -- overview -------------------------------------------------------------------------------


def phase_progress(counts: dict[str, dict[str, int]]) -> list[VRoadmapProgress]:
    """One row of ``v_roadmap_progress`` per phase with live items, in the phases'
    terminology order, each with ``readiness_rows``: its open items by readiness (the
    non-zero ones of its row of ``counts``, from :func:`readiness_counts`)."""
    progress = list(VRoadmapProgress.objects.all())
    for row in progress:
        row.readiness_rows = _nonzero(counts.get(row.phase_key, {}))
    return progress


def deploy_readiness() -> tuple[VCanDeploy | None, list[VDeployBlockers]]:
    """The website deploy gate's verdict and the failed or stale claims behind it."""
    return VCanDeploy.objects.first(), list(VDeployBlockers.objects.all())


# -- data version (live pages) --------------------------------------------------------------

#: What the pages show changes when one of these does: the newest row of each table (ids
#: and rowids only grow), the number of open rows (attempts, blockers, assignments, active
#: leases: an expiring lease changes readiness without any write), the items' statuses (a
#: checksum: each item's rowid times its status's first letter, which differs between the
#: contract's statuses) and the number of live items. Every part reads an index or the
#: table's row count; none reads the items' rows.
_SQLITE_DATA_VERSION_SQL = """SELECT
    (SELECT MAX(id) FROM audit_log),
    (SELECT COUNT(*) || '/' || MAX(rowid) || '/' || SUM(rowid * unicode(status_key))
        FROM roadmap_items),
    (SELECT COUNT(*) FROM roadmap_items WHERE deleted_at IS NULL),
    (SELECT MAX(rowid) FROM roadmap_dependencies),
    (SELECT COUNT(*) || '/' || MAX(rowid) FROM roadmap_assignments
        WHERE status IN ('assigned', 'active')),
    (SELECT COUNT(*) || '/' || MAX(rowid) FROM attempts WHERE ended_at IS NULL),
    (SELECT MAX(rowid) FROM attempts),
    (SELECT COUNT(*) || '/' || MAX(rowid) FROM blockers WHERE resolved_at IS NULL),
    (SELECT MAX(rowid) FROM blockers),
    (SELECT MAX(rowid) FROM decisions),
    (SELECT MAX(rowid) FROM evidence),
    (SELECT COUNT(*) || '/' || MAX(rowid) || '/' || IFNULL(MAX(expires_at), '') FROM leases
        WHERE released_at IS NULL AND expires_at > %s),
    (SELECT COUNT(*) || '/' || IFNULL(MAX(updated_at), '') || '/'
            || IFNULL(MAX(last_verified_at), '') FROM claims),
    (SELECT group_concat(test_status || ':' || n) FROM (
        SELECT test_status, COUNT(*) AS n FROM claims GROUP BY test_status)),
    (SELECT COUNT(*) || '/' || IFNULL(MAX(updated_at), '') FROM terminology)
"""

#: The same on PostgreSQL, which has no rowid (and whose TEXT ids do not grow): append-only
#: tables (evidence, decisions) and those whose rows only close (attempts, blockers) are
#: counted; the items by a checksum of each one's id, status and ``updated_at`` (a status
#: change shows at once, as on SQLite, and so does any edit that moves ``updated_at``, as
#: the app's saves do) and the dependencies by their ends and type, with their counts;
#: active leases by a checksum of their ids and their latest expiry (a heartbeat moves it,
#: as on SQLite). Nothing here reads transaction ids or the WAL position: it moves with the
#: rows the pages show and with nothing else, so an unchanged roadmap keeps answering 304
#: whatever else the cluster does. (The checksums read every item and dependency: about
#: 5 ms for 10,000 items and 1,000 dependencies.)
_POSTGRESQL_DATA_VERSION_SQL = """SELECT
    (SELECT MAX(id) FROM audit_log),
    (SELECT COUNT(*) || '/'
            || COALESCE(SUM(hashtext(id || ':' || status_key || ':' || updated_at)), 0)
        FROM roadmap_items),
    (SELECT COUNT(*) FROM roadmap_items WHERE deleted_at IS NULL),
    (SELECT COUNT(*) || '/'
            || COALESCE(SUM(hashtext(item_id || '>' || depends_on_id || ':' || dependency_type)), 0)
        FROM roadmap_dependencies),
    (SELECT COUNT(*) || '/' || COALESCE(MAX(id), 0) FROM roadmap_assignments
        WHERE status IN ('assigned', 'active')),
    (SELECT COUNT(*) FROM attempts WHERE ended_at IS NULL),
    (SELECT COUNT(*) FROM attempts),
    (SELECT COUNT(*) FROM blockers WHERE resolved_at IS NULL),
    (SELECT COUNT(*) FROM blockers),
    (SELECT COUNT(*) FROM decisions),
    (SELECT COUNT(*) FROM evidence),
    (SELECT COUNT(*) || '/' || COALESCE(SUM(hashtext(id)), 0) || '/'
            || COALESCE(MAX(expires_at), '') FROM leases
        WHERE released_at IS NULL AND expires_at > %s),
    (SELECT COUNT(*) || '/' || COALESCE(MAX(updated_at), '') || '/'
            || COALESCE(MAX(last_verified_at), '') FROM claims),
    (SELECT string_agg(test_status || ':' || n, ',' ORDER BY test_status) FROM (
        SELECT test_status, COUNT(*) AS n FROM claims GROUP BY test_status) s),
    (SELECT COUNT(*) || '/' || COALESCE(MAX(updated_at), '') FROM terminology)
"""

_DATA_VERSION_SQL = {
    "sqlite": _SQLITE_DATA_VERSION_SQL,
    "postgresql": _POSTGRESQL_DATA_VERSION_SQL,
}


def data_version() -> str:
    """A short text that changes whenever what the progress pages show may have changed,
    in one cheap query (indexes and row counts; no page rendering).

    It is a fingerprint, not a log: a change that alters none of its parts and writes no
    audit row (the services and the admin write one for every change; the `motus` tool
    may not, e.g. when it renames an item or removes a dependency) shows at the next change
    that does; the live pages also refresh once a minute whatever it says
    (``roadmap.views.LIVE_MAX_AGE_SECONDS``).
    """
    (row,) = _fetch(_DATA_VERSION_SQL[connection.vendor], [_now()])
    return "|".join("" if part is None else str(part) for part in row)


# -- roadmap list ---------------------------------------------------------------------------

#: Rows per page of one phase's open items, and of its completed items.
GROUP_PAGE_SIZE = 50

#: Assignments that are still open (``roadmap_assignments.status``).
OPEN_ASSIGNMENT_STATUSES = ("assigned", "active")


@dataclass(frozen=True)
class ListFilters:
    """The roadmap list's filters; an empty value means any."""

    text: str = ""
    readiness: str = ""
    phase: str = ""
    status: str = ""
    owner: str = ""
    assignee: str = ""
    item_type: str = ""

    def where(self) -> tuple[str, list]:
        """The SQL condition on ``roadmap_items i`` (live items; every filter but
        readiness, which is computed) and its parameters."""
        clauses, params = ["i.deleted_at IS NULL"], []
        for column, value in (
            ("phase_key", self.phase),
            ("status_key", self.status),
            ("owner", self.owner),
            ("item_type", self.item_type),
        ):
            if value:
                clauses.append(f"i.{column} = %s")
                params.append(value)
        if self.assignee:
            clauses.append(
                "EXISTS (SELECT 1 FROM roadmap_assignments ra WHERE ra.item_id = i.id"
                " AND ra.agent_id = %s AND ra.status IN ('assigned', 'active'))"
            )
            params.append(self.assignee)
        if self.text:
            # lower() on both sides: SQLite's LIKE ignores (ASCII) case, PostgreSQL's not.
            like = "%" + _escape_like(self.text) + "%"
            clauses.append(
                "(lower(i.id) LIKE lower(%s) ESCAPE '\\'"
                " OR lower(i.title) LIKE lower(%s) ESCAPE '\\'"
                " OR lower(i.description) LIKE lower(%s) ESCAPE '\\')"
            )
            params += [like, like, like]
        return " AND ".join(clauses), params


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(filters: ListFilters, columns: str) -> tuple[str, list]:
    """``WITH f AS MATERIALIZED (...)``, the live items that match ``filters``, with
    ``columns`` and ``done`` (1 for a completed item, else 0), and its parameters.
    Readiness is computed (once per item) only when the filters ask for one; the pages
    compute it for the rows they show."""
    where, params = filters.where()
    if filters.readiness:
        return (
            f"WITH f AS MATERIALIZED (SELECT * FROM (SELECT {columns}, {_DONE_SQL} AS done,"
            f" {READINESS_SQL} AS readiness FROM roadmap_items i WHERE {where}) r"
            " WHERE readiness = %s)",
            [_now(), *params, filters.readiness],
        )
    return (
        f"WITH f AS MATERIALIZED (SELECT {columns}, {_DONE_SQL} AS done"
        f" FROM roadmap_items i WHERE {where})",
        params,
    )


#: 1 when the item ``i`` is completed, else 0 (an integer on both backends).
_DONE_SQL = "CASE WHEN i.status_key = 'completed' THEN 1 ELSE 0 END"


@dataclass
class GroupPage:
    """One page of a phase's open or completed items."""

    param: str  # the query parameter that selects it: page_<phase> or done_<phase>
    number: int
    count: int  # items on every page of this part of the phase

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // GROUP_PAGE_SIZE))

    @property
    def offset(self) -> int:
        return (self.number - 1) * GROUP_PAGE_SIZE


@dataclass
class ListedItem:
    """One row of the roadmap list, display names resolved."""

    id: str
    title: str
    status_key: str
    status: str
    owner: str | None
    item_type: str
    readiness: str | None  # a key of READINESS, or None
    workers: list[dict] = field(default_factory=list)  # from item_workers()

    @property
    def readiness_label(self) -> str:
        return READINESS_LABELS.get(self.readiness, "")


@dataclass
class PhaseGroup:
    """A phase of the list: its open items and its completed ones, each paged on its own."""

    key: str
    name: str
    open_page: GroupPage
    done_page: GroupPage
    items: list[ListedItem] = field(default_factory=list)
    completed: list[ListedItem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.open_page.count + self.done_page.count


def _page_number(value, count: int) -> int:
    """A 1-based page number from a query value, kept within 1..last (like
    ``Paginator.get_page``)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 1
    last = max(1, -(-count // GROUP_PAGE_SIZE))
    return min(max(number, 1), last)


def phase_groups(filters: ListFilters, pages) -> list[PhaseGroup]:
    """The live items matching ``filters`` grouped by phase, in three queries whatever the
    number of items or phases.

    Phases come in their terminology order (unknown phases first, as in
    ``v_roadmap_progress``), items by rank (NULL first), sort order and id. Each phase shows
    one page of :data:`GROUP_PAGE_SIZE` open items (query parameter ``page_<phase key>``)
    and one page of completed items (``done_<phase key>``); ``pages`` is the query
    (``request.GET``) those numbers come from.
    """
    cte, params = _filtered(filters, "i.phase_key")
    counts = _fetch(
        f"{cte} SELECT f.phase_key, f.done, COUNT(*), MIN(t.sort_order), MIN(t.display_name)"
        " FROM f LEFT JOIN terminology t"
        " ON t.domain = 'roadmap_phase' AND t.internal_key = f.phase_key"
        " GROUP BY f.phase_key, f.done",
        params,
    )
    by_key: dict[str, PhaseGroup] = {}
    order: dict[str, tuple] = {}
    for phase_key, done, count, sort_order, name in counts:
        group = by_key.get(phase_key)
        if group is None:
            group = by_key[phase_key] = PhaseGroup(
                phase_key,
                name or phase_key,
                GroupPage(f"page_{phase_key}", 1, 0),
                GroupPage(f"done_{phase_key}", 1, 0),
            )
            order[phase_key] = (sort_order is not None, sort_order or 0, phase_key)
        part = group.done_page if done else group.open_page
        part.count = count
        part.number = _page_number(pages.get(part.param), count)
    groups = sorted(by_key.values(), key=lambda g: order[g.key])
    if groups:
        _fill(groups, filters)
    return groups


def _fill(groups: list[PhaseGroup], filters: ListFilters) -> None:
    """Load each group's page of open and of completed items, in one query, and who works
    on the open ones in another."""
    offsets = {}
    for group in groups:
        for done, part in ((0, group.open_page), (1, group.done_page)):
            if part.offset:
                offsets[(group.key, done)] = part.offset
    offset_sql, offset_params = "0", []
    if offsets:
        cases = " ".join("WHEN phase_key = %s AND done = %s THEN %s" for _ in offsets)
        offset_sql = f"CASE {cases} ELSE 0 END"
        for (key, done), offset in offsets.items():
            offset_params += [key, done, offset]
    cte, params = _filtered(filters, "i.id, i.phase_key, i.rank, i.sort_order")
    rows = _fetch(
        f"{cte} SELECT i.id, i.phase_key, i.title, i.status_key, i.owner, i.item_type,"
        f" {READINESS_SQL}, p.done FROM ("
        f"  SELECT f.*, {offset_sql} AS skip,"
        "   ROW_NUMBER() OVER (PARTITION BY f.phase_key, f.done"
        f"    ORDER BY f.rank NULLS FIRST, f.sort_order, {bytewise_sql('f.id')}) AS n"
        "  FROM f) p JOIN roadmap_items i ON i.id = p.id"
        " WHERE p.n > p.skip AND p.n <= p.skip + %s ORDER BY p.phase_key, p.done, p.n",
        [*params, _now(), *offset_params, GROUP_PAGE_SIZE],
    )
    names = display_names_by_domain("roadmap_status", "roadmap_item_type")
    by_key = {group.key: group for group in groups}
    open_items: list[ListedItem] = []
    for item_id, phase_key, title, status_key, owner, item_type, value, done in rows:
        listed = ListedItem(
            id=item_id,
            title=title,
            status_key=status_key,
            status=names["roadmap_status"].get(status_key) or status_key,
            owner=owner,
            item_type=names["roadmap_item_type"].get(item_type) or item_type,
            readiness=value,
        )
        group = by_key[phase_key]
        (group.completed if done else group.items).append(listed)
        if not done:
            open_items.append(listed)
    workers = item_workers([listed.id for listed in open_items])
    for listed in open_items:
        listed.workers = workers.get(listed.id, [])


def item_workers(item_ids: list[str]) -> dict[str, list[dict]]:
    """Who works on each of ``item_ids`` now, in one query: ``{id: [{"who", "kind"}]}``
    where ``kind`` is ``attempt`` (an active attempt), ``lease`` (an active exclusive
    ``work_item`` lease of no attempt: a `motus` tool claim) or ``assigned`` (an open
    assignment, with its ``role``), each person once, in that order of precedence."""
    if not item_ids:
        return {}
    ids = json.dumps(item_ids)
    id_list = id_list_sql()
    rows = _fetch(
        "SELECT work_id, worker_id, 'attempt', NULL, 0 FROM attempts"
        f" WHERE ended_at IS NULL AND work_id IN ({id_list})"
        " UNION ALL"
        " SELECT resource_id, worker_id, 'lease', NULL, 1 FROM leases"
        " WHERE resource_type = 'work_item' AND mode = 'exclusive' AND released_at IS NULL"
        f" AND expires_at > %s AND resource_id IN ({id_list})"
        " UNION ALL"
        " SELECT item_id, agent_id, 'assigned', role, 2 FROM roadmap_assignments"
        f" WHERE status IN ('assigned', 'active') AND item_id IN ({id_list})",
        [ids, _now(), ids, ids],
    )
    workers: dict[str, list[dict]] = {}
    # By item, precedence and who, in code-point (SQLite's) order whatever the collation.
    for item_id, who, kind, role, _ in sorted(rows, key=lambda row: (row[0], row[4], row[1])):
        listed = workers.setdefault(item_id, [])
        if all(worker["who"] != who for worker in listed):
            listed.append({"who": who, "kind": kind, "role": role})
    return workers


def live_owners() -> list[str]:
    """Distinct owners of live items, for the owner filter."""
    return sorted(  # in code-point (SQLite's) order whatever the database's collation
        RoadmapItem.objects.live()
        .exclude(owner__isnull=True)
        .exclude(owner="")
        .order_by()
        .values_list("owner", flat=True)
        .distinct()
    )


def live_phases() -> list[tuple[str, str]]:
    """(key, display name) of the terminology's phases in order, then of any other phase a
    live item uses (under its key), for the phase filter."""
    phases = list(
        Terminology.objects.filter(domain="roadmap_phase")
        .order_by(F("sort_order").asc(nulls_first=True), "id")
        .values_list("internal_key", "display_name")
    )
    known = {key for key, _ in phases}
    used = sorted(
        RoadmapItem.objects.live().order_by().values_list("phase_key", flat=True).distinct()
    )
    return phases + [(key, key) for key in used if key not in known]


def open_assignees() -> list[str]:
    """Whoever has an open (assigned or active) assignment on a live item."""
    return sorted(  # in code-point (SQLite's) order whatever the database's collation
        RoadmapAssignment.objects.filter(
            status__in=OPEN_ASSIGNMENT_STATUSES, item__deleted_at__isnull=True
        )
        .order_by()
        .values_list("agent_id", flat=True)
        .distinct()
    )


# -- item page ------------------------------------------------------------------------------


#: ``roadmap_dependencies.dependency_type`` → its label.
DEPENDENCY_TYPES = dict(RoadmapDependency._meta.get_field("dependency_type").choices)


@dataclass(frozen=True)
class Edge:
    """A dependency as the item page shows it: its type and the item at the other end."""

    kind: str  # ``dependency_type``
    other_id: str
    title: str
    status_key: str
    deleted: bool

    @property
    def kind_label(self) -> str:
        return DEPENDENCY_TYPES.get(self.kind, self.kind)


def edges_of(item_id: str) -> tuple[list[Edge], list[Edge]]:
    """What the item depends on and what depends on it (every type, deleted items
    included), each by type and id, in one query."""
    rows = _fetch(
        "SELECT 0, d.dependency_type, t.id, t.title, t.status_key, t.deleted_at IS NOT NULL"
        " FROM roadmap_dependencies d JOIN roadmap_items t ON t.id = d.depends_on_id"
        " WHERE d.item_id = %s"
        " UNION ALL"
        " SELECT 1, d.dependency_type, t.id, t.title, t.status_key, t.deleted_at IS NOT NULL"
        " FROM roadmap_dependencies d JOIN roadmap_items t ON t.id = d.item_id"
        " WHERE d.depends_on_id = %s",
        [item_id, item_id],
    )
    edges: tuple[list[Edge], list[Edge]] = ([], [])
    # By direction, type and id, in code-point (SQLite's) order whatever the collation.
    for direction, kind, other_id, title, status_key, deleted in sorted(rows, key=lambda r: r[:3]):
        edges[direction].append(Edge(kind, other_id, title, status_key, bool(deleted)))
    return edges


def assignments_of(item: RoadmapItem) -> list[RoadmapAssignment]:
    return list(item.roadmap_assignments.order_by("assigned_at", "id"))
