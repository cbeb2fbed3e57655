"""Graph reads over roadmap dependencies that the views cannot answer cheaply.

``v_prerequisite_chain`` has one row per *path*, which grows exponentially with the graph
(RULES.md 7, 2b), so nothing here reads it. The recursion is seeded at one item and is a
breadth-first walk that keeps ONE row per reached item, as the cycle-check and cascade
triggers do (see roadmap/migrations/sql/sqlite/0002_triggers.sql): the level travels as a
string of that many spaces declared ``COLLATE RTRIM``, so ``UNION`` queues an item only the
first time it is reached, and ``ORDER BY levels COLLATE BINARY`` makes that first time its
shallowest level. Its cost grows with the items and edges reached, not with the paths.
"""

from __future__ import annotations

from django.db import connection

#: The view's depth limit: no step is taken from depth 50 or deeper.
MAX_DEPTH = 50

_UNMET_PREREQUISITES_SQL = f"""
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
