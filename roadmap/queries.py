"""Graph reads over roadmap dependencies that the views cannot answer cheaply.

``v_prerequisite_chain`` has one row per *path*, which grows exponentially with the graph
(RULES.md 7, 2b), so nothing here reads it. The recursion is seeded at one item and is a
breadth-first walk that keeps ONE row per reached item, as the cycle-check and cascade
triggers do (see roadmap/migrations/sql/sqlite/0002_triggers.sql): the level travels as a
string of that many spaces declared ``COLLATE RTRIM``, so ``UNION`` queues an item only the
first time it is reached, and ``ORDER BY levels COLLATE BINARY`` makes that first time its
shallowest level. Its cost grows with the items and edges reached, not with the paths.

PostgreSQL has neither ``COLLATE RTRIM`` nor ``ORDER BY`` inside a recursive CTE: there the
walk carries the depth as an integer and ``UNION`` keeps one row per (item, depth), at most
50 per item, and the shallowest depth is taken at the end: the same rows, a cost that still
grows with items × depth reached, not with the paths.
"""

from __future__ import annotations

from django.db import connection

from system.sql import now, per_vendor

#: The view's depth limit: no step is taken from depth 50 or deeper.
MAX_DEPTH = 50

_UNMET_PREREQUISITES_SQLITE = f"""
WITH RECURSIVE reached(id, levels) AS (
    SELECT d.depends_on_id AS id, ' ' COLLATE RTRIM AS levels
    FROM roadmap_dependencies d
    JOIN roadmap_items target ON target.id = d.depends_on_id AND target.deleted_at IS NULL
    WHERE d.item_id = %s AND d.dependency_type = 'blocks'
    UNION
    SELECT d.depends_on_id, reached.levels || ' '
    FROM reached
    JOIN roadmap_dependencies d ON d.item_id = reached.id AND d.dependency_type = 'blocks'
    JOIN roadmap_items target ON target.id = d.depends_on_id AND target.deleted_at IS NULL
    WHERE length(reached.levels) < {MAX_DEPTH}
    ORDER BY levels COLLATE BINARY
)
SELECT item.id, item.title, item.status_key, item.item_type,
       MIN(length(reached.levels)) AS depth
FROM reached
JOIN roadmap_items item ON item.id = reached.id
WHERE item.status_key != 'completed'
GROUP BY item.id
ORDER BY depth, item.id
"""

_UNMET_PREREQUISITES_POSTGRESQL = f"""
WITH RECURSIVE reached(id, depth) AS (
    SELECT d.depends_on_id, 1
    FROM roadmap_dependencies d
    JOIN roadmap_items target ON target.id = d.depends_on_id AND target.deleted_at IS NULL
    WHERE d.item_id = %s AND d.dependency_type = 'blocks'
    UNION
    SELECT d.depends_on_id, reached.depth + 1
    FROM reached
    JOIN roadmap_dependencies d ON d.item_id = reached.id AND d.dependency_type = 'blocks'
    JOIN roadmap_items target ON target.id = d.depends_on_id AND target.deleted_at IS NULL
    WHERE reached.depth < {MAX_DEPTH}
)
SELECT item.id, item.title, item.status_key, item.item_type, MIN(reached.depth) AS depth
FROM reached
JOIN roadmap_items item ON item.id = reached.id
WHERE item.status_key != 'completed'
GROUP BY item.id, item.title, item.status_key, item.item_type
ORDER BY depth, item.id COLLATE "C"
"""

_UNMET_PREREQUISITES_SQL = per_vendor(
    sqlite=_UNMET_PREREQUISITES_SQLITE, postgresql=_UNMET_PREREQUISITES_POSTGRESQL
)


def unmet_prerequisites(item_id: str) -> list[dict]:
    """Distinct transitive blocking prerequisites of ``item_id`` that are not completed.

    Same set as ``v_prerequisite_chain`` gives for this root (``blocks`` edges to live
    targets, completed ones walked through, at most 50 levels), each once, at its
    shallowest depth: ``[{"id", "title", "status", "item_type", "depth"}]``.
    """
    with connection.cursor() as cursor:
        cursor.execute(_UNMET_PREREQUISITES_SQL, [item_id])
        return [
            {"id": row[0], "title": row[1], "status": row[2], "item_type": row[3], "depth": row[4]}
            for row in cursor.fetchall()
        ]


def _rows(sql: str, params, names: tuple[str, ...]) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def open_blocking_dependencies(item_id: str) -> list[dict]:
    """The item's direct ``blocks`` dependencies whose target is not completed (RULES.md
    4.3: what ``roadmap_status_check_deps`` refuses a start for; deleted targets count)."""
    return _rows(
        "SELECT t.id, t.title, t.status_key FROM roadmap_dependencies d"
        " JOIN roadmap_items t ON t.id = d.depends_on_id"
        " WHERE d.item_id = %s AND d.dependency_type = 'blocks' AND t.status_key != 'completed'"
        " ORDER BY t.id",
        [item_id],
        ("id", "title", "status"),
    )


def waiting_dependents(item_id: str) -> list[dict]:
    """Live, unfinished items with a ``blocks`` dependency on the item: deleting the item
    would leave them blocked for good."""
    return _rows(
        "SELECT i.id, i.title, i.status_key FROM roadmap_dependencies d"
        " JOIN roadmap_items i ON i.id = d.item_id"
        " WHERE d.depends_on_id = %s AND d.dependency_type = 'blocks'"
        " AND i.deleted_at IS NULL AND i.status_key != 'completed' ORDER BY i.id",
        [item_id],
        ("id", "title", "status"),
    )


def workers_on(item_id: str) -> list[dict]:
    """Who works on the item now: its active attempt (RULES.md 3.2) and active exclusive
    ``work_item`` leases (the `motus` tool's claims take one without an attempt).

    The kernel's tables are read by SQL: they are contract tables of the same file, and the
    roadmap must not import the kernel's models."""
    return _rows(_WORKERS_ON_SQL, [item_id, item_id], ("worker_id", "kind", "id", "expires_at"))


_WORKERS_ON_SQL = (
    "SELECT worker_id, 'attempt', id, NULL FROM attempts"
    " WHERE work_id = %s AND ended_at IS NULL"
    " UNION ALL"
    " SELECT worker_id, 'lease', id, expires_at FROM leases"
    " WHERE resource_type = 'work_item' AND resource_id = %s AND mode = 'exclusive'"
    f" AND released_at IS NULL AND expires_at > {now()}"
)


#: ``enforce_phase_limit``: at most this many active (not completed/deferred) items a phase.
PHASE_LIMIT = 50
PHASE_LIMIT_MESSAGE = "POLICY: Maximum 50 active items per phase"


def active_items_in_phase(phase_key: str, *, excluding: str | None = None) -> int:
    """Live items of the phase that count for the phase limit."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM roadmap_items WHERE phase_key = %s AND deleted_at IS NULL"
            " AND status_key NOT IN ('completed', 'deferred') AND (%s IS NULL OR id != %s)",
            [phase_key, excluding, excluding],
        )
        return cursor.fetchone()[0]


def open_items_created_by(identity: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM roadmap_items WHERE created_by = %s AND deleted_at IS NULL"
            " AND status_key NOT IN ('completed', 'deferred')",
            [identity],
        )
        return cursor.fetchone()[0]
