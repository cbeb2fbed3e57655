"""Graph reads over roadmap dependencies that the views cannot answer cheaply.

``v_prerequisite_chain`` has one row per *path*, which grows exponentially with the graph
(RULES.md 7, 2b), so nothing here reads it: the recursion below is seeded at one item and
keeps one row per (item, level), walking the same edges by the same rules.
"""

from __future__ import annotations

from django.db import connection

#: The view's depth limit: no step is taken from depth 50 or deeper.
MAX_DEPTH = 50

_UNMET_PREREQUISITES_SQL = f"""
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
