"""The dependency-graph pictures: which items and edges to draw, fetched in three queries.

Edges come from ``v_dependency_graph`` (both ends live). A picture with more than
``MAX_GRAPH_NODES`` items is not drawn: it would be unreadable and slow, and the page asks
for a narrower selection (a phase, or without completed items) instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from roadmap.graph_svg import GraphEdge, GraphNode, render_svg
from roadmap.links import item_url
from roadmap.models import RoadmapItem, VDependencyGraph
from system.terminology import display_names

MAX_GRAPH_NODES = 600
DEFAULT_NEIGHBOURHOOD_DEPTH = 2
MAX_NEIGHBOURHOOD_DEPTH = 5


@dataclass(frozen=True)
class GraphPicture:
    """The SVG document, or ``None`` when ``node_count`` exceeds ``MAX_GRAPH_NODES``."""

    svg: str | None
    node_count: int


_NEIGHBOURHOOD_SQL = """
WITH RECURSIVE
prerequisites(id, level) AS (
    SELECT %s, 0
    UNION
    SELECT d.depends_on_id, p.level + 1
    FROM prerequisites p
    JOIN roadmap_dependencies d ON d.item_id = p.id
    JOIN roadmap_items t ON t.id = d.depends_on_id
    WHERE t.deleted_at IS NULL AND p.level < %s
),
dependents(id, level) AS (
    SELECT %s, 0
    UNION
    SELECT d.item_id, w.level + 1
    FROM dependents w
    JOIN roadmap_dependencies d ON d.depends_on_id = w.id
    JOIN roadmap_items t ON t.id = d.item_id
    WHERE t.deleted_at IS NULL AND w.level < %s
)
SELECT ri.id, ri.title, ri.status_key
FROM roadmap_items ri
WHERE ri.deleted_at IS NULL
  AND ri.id IN (SELECT id FROM prerequisites UNION SELECT id FROM dependents)
ORDER BY ri.rank, ri.id
"""


def neighbourhood_depth(raw: str | None) -> int:
    """The depth asked for in a query string: 2 by default, kept within 1..5."""
    try:
        depth = int(raw) if raw else DEFAULT_NEIGHBOURHOOD_DEPTH
    except ValueError:
        depth = DEFAULT_NEIGHBOURHOOD_DEPTH
    return max(1, min(depth, MAX_NEIGHBOURHOOD_DEPTH))


def neighbourhood_picture(item_id: str, depth: int) -> GraphPicture:
    """The item, its prerequisites and its dependents up to ``depth`` steps (any type).

    ``depth`` comes from ``neighbourhood_depth``, which bounds the walk.
    """
    with connection.cursor() as cursor:
        cursor.execute(_NEIGHBOURHOOD_SQL, [item_id, depth, item_id, depth])
        nodes = [GraphNode(*row) for row in cursor.fetchall()]
    if len(nodes) > MAX_GRAPH_NODES:
        return GraphPicture(svg=None, node_count=len(nodes))
    ids = [node.id for node in nodes]
    edges = VDependencyGraph.objects.filter(from_id__in=ids, to_id__in=ids)
    return _draw(nodes, edges, focus_id=item_id, title=f"Dependencies around {item_id}")


def roadmap_picture(*, phase_key: str = "", hide_completed: bool = False) -> GraphPicture:
    """The whole roadmap's live items, or one phase's, optionally without completed items.

    Dependencies on items outside the selection are left out.
    """
    nodes = RoadmapItem.objects.live()
    if phase_key:
        nodes = nodes.filter(phase_key=phase_key)
    if hide_completed:
        nodes = nodes.exclude(status_key="completed")
    rows = _node_rows(nodes, limit=MAX_GRAPH_NODES + 1)
    if len(rows) > MAX_GRAPH_NODES:
        return GraphPicture(svg=None, node_count=nodes.count())
    node_ids = nodes.values("id")
    edges = VDependencyGraph.objects.filter(from_id__in=node_ids, to_id__in=node_ids)
    title = f"Dependency graph of {phase_key}" if phase_key else "Dependency graph of the roadmap"
    return _draw(rows, edges, focus_id=None, title=title)


def _node_rows(items: QuerySet[RoadmapItem], limit: int) -> list[GraphNode]:
    """Nodes in rank order: the layout's starting order within each column."""
    rows = items.order_by("rank", "id").values_list("id", "title", "status_key")
    return [GraphNode(id=i, title=t, status_key=s) for i, t, s in rows[:limit]]


def _draw(
    graph_nodes: list[GraphNode], edges: QuerySet[VDependencyGraph], *, focus_id, title
) -> GraphPicture:
    graph_edges = [
        GraphEdge(prerequisite=to_id, item=from_id, dependency_type=kind)
        for from_id, to_id, kind in edges.values_list("from_id", "to_id", "dependency_type")
    ]
    svg = render_svg(
        graph_nodes,
        graph_edges,
        href_for=item_url,
        status_names=display_names("roadmap_status"),
        focus_id=focus_id,
        title=title,
    )
    return GraphPicture(svg=svg, node_count=len(graph_nodes))
