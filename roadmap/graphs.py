"""The dependency-graph pictures: which items and edges to draw, in a fixed number of queries.

Edges come from ``v_dependency_graph`` (both ends live). Each item's colour is its
readiness as the pages show it (``roadmap.pages_queries.readiness``), or for an item without
one its status (completed, deferred). A phase's picture also draws, as ghost boxes, the
items of other phases linked to it (its prerequisites there and its dependents there), so
nothing it waits on is left out; with "hide completed", completed ones are left out.

A picture with more than ``MAX_GRAPH_NODES`` boxes is not drawn: the page asks for a
narrower selection (a phase, or without completed items) instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import F

from roadmap.graph_svg import STATE_STYLES, GraphEdge, GraphNode, Lane, draw, lanes_of, node_anchor
from roadmap.links import item_url
from roadmap.pages_queries import READINESS, readiness
from system.models import Terminology
from system.sql import bytewise_sql, id_list_sql

#: 500 items draw in about 0.2 s (``bench/graph.py --compare``, ``bench/pages.py``).
MAX_GRAPH_NODES = 600
DEFAULT_NEIGHBOURHOOD_DEPTH = 2
MAX_NEIGHBOURHOOD_DEPTH = 5
#: States of items without a readiness, by their status (see ``node_states``).
STATUS_STATES = ("completed", "deferred")


@dataclass(frozen=True)
class ListedNode:
    """One entry of the side list: an item of the picture."""

    id: str
    title: str
    state: str
    state_label: str
    anchor: str
    url: str
    ghost: bool


@dataclass(frozen=True)
class LaneList:
    """The items of one phase lane, in the picture's order of lanes."""

    key: str | None
    name: str
    description: str
    nodes: list[ListedNode]

    @property
    def ghosts_only(self) -> bool:
        return all(node.ghost for node in self.nodes)


@dataclass(frozen=True)
class LegendEntry:
    key: str
    label: str
    meaning: str
    fill: str
    stroke: str


@dataclass(frozen=True)
class GraphPicture:
    """The SVG document, or ``None`` when ``node_count`` exceeds ``MAX_GRAPH_NODES``;
    ``lanes`` lists the drawn items per phase (the page's side list)."""

    svg: str | None
    node_count: int
    ghost_count: int = 0
    drawn_edges: int = 0
    far_edges: int = 0
    lanes: list[LaneList] = field(default_factory=list)
    legend: list[LegendEntry] = field(default_factory=list)


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
SELECT ri.id, ri.title, ri.status_key, ri.phase_key
FROM roadmap_items ri
WHERE ri.deleted_at IS NULL
  AND ri.id IN (SELECT id FROM prerequisites UNION SELECT id FROM dependents)
ORDER BY ri.rank NULLS FIRST, {ri_id}
"""

#: Live items in drawing order (rank, unranked first, then id); ``{where}``: more
#: conditions on ``ri``. (``{ri_id}`` and the like: the ids in SQLite's text order, see
#: ``programs.pages_queries.bytewise_sql``.)
_ITEMS_SQL = """
SELECT ri.id, ri.title, ri.status_key, ri.phase_key FROM roadmap_items ri
WHERE ri.deleted_at IS NULL {where}
ORDER BY ri.rank NULLS FIRST, {ri_id}
LIMIT %s
"""

#: Edges of ``v_dependency_graph`` with both ends' phase, title and status; ``{where}``:
#: conditions on ``f`` (the dependent item) and ``t`` (its prerequisite).
_EDGES_SQL = """
SELECT g.to_id, g.from_id, g.dependency_type,
       f.title, f.status_key, f.phase_key, t.title, t.status_key, t.phase_key
FROM v_dependency_graph g
JOIN roadmap_items f ON f.id = g.from_id
JOIN roadmap_items t ON t.id = g.to_id
WHERE {where}
ORDER BY t.rank NULLS FIRST, {to_id}, f.rank NULLS FIRST, {from_id}
"""


def neighbourhood_depth(raw: str | None) -> int:
    """The depth asked for in a query string: 2 by default, kept within 1..5."""
    try:
        depth = int(raw) if raw else DEFAULT_NEIGHBOURHOOD_DEPTH
    except ValueError:
        depth = DEFAULT_NEIGHBOURHOOD_DEPTH
    return max(1, min(depth, MAX_NEIGHBOURHOOD_DEPTH))


def neighbourhood_picture(item_id: str, depth: int) -> GraphPicture:
    """The item, its prerequisites and its dependents up to ``depth`` steps (any type), in
    phase lanes, the item outlined.

    ``depth`` comes from ``neighbourhood_depth``, which bounds the walk.
    """
    rows = _fetch(_sql(_NEIGHBOURHOOD_SQL), [item_id, depth, item_id, depth])
    if len(rows) > MAX_GRAPH_NODES:
        return GraphPicture(svg=None, node_count=len(rows))
    ids = [row[0] for row in rows]
    edges = _fetch(
        _sql(
            _EDGES_SQL,
            where=f"g.from_id IN ({id_list_sql()}) AND g.to_id IN ({id_list_sql()})",
        ),
        [_json(ids), _json(ids)],
    )
    return _picture(
        [(*row, False) for row in rows],
        [GraphEdge(*edge[:3]) for edge in edges],
        focus_id=item_id,
        title=f"Dependencies around {item_id}",
        legend=True,
    )


def roadmap_picture(
    *, phase_key: str = "", hide_completed: bool = False, legend: bool = True
) -> GraphPicture:
    """The whole roadmap's live items, or one phase's, optionally without completed items.

    A phase's picture adds, as ghosts, the items of other phases it depends on or that
    depend on it (not the completed ones when ``hide_completed``). ``legend``: draw the
    legend inside the SVG (the graph page shows it as HTML instead).
    """
    where, params = "", []
    if phase_key:
        where += " AND ri.phase_key = %s"
        params.append(phase_key)
    if hide_completed:
        where += " AND ri.status_key != 'completed'"
    rows = _fetch(_sql(_ITEMS_SQL, where=where), [*params, MAX_GRAPH_NODES + 1])
    if len(rows) > MAX_GRAPH_NODES:
        count = _fetch(
            f"SELECT COUNT(*) FROM roadmap_items ri WHERE ri.deleted_at IS NULL {where}", params
        )[0][0]
        return GraphPicture(svg=None, node_count=count)
    selected = {row[0] for row in rows}
    if phase_key:
        edge_rows = _fetch(
            _sql(_EDGES_SQL, where="(f.phase_key = %s OR t.phase_key = %s)"),
            [phase_key, phase_key],
        )
    else:
        edge_rows = _fetch(_sql(_EDGES_SQL, where="1 = 1"), [])
    ghosts: dict[str, tuple] = {}
    edges = []
    for prerequisite, item, kind, *ends in edge_rows:
        if (item in selected) != (prerequisite in selected):  # one end outside: a ghost?
            other, (title, status, phase) = (
                (prerequisite, ends[3:]) if item in selected else (item, ends[:3])
            )
            if phase != phase_key and not (hide_completed and status == "completed"):
                ghosts.setdefault(other, (other, title, status, phase, True))
        if all(end in selected or end in ghosts for end in (item, prerequisite)):
            edges.append(GraphEdge(prerequisite, item, kind))
    if len(rows) + len(ghosts) > MAX_GRAPH_NODES:
        return GraphPicture(svg=None, node_count=len(rows), ghost_count=len(ghosts))
    title = f"Dependency graph of {phase_key}" if phase_key else "Dependency graph of the roadmap"
    # Unfinished ghosts first: they go nearest to the phase (see graph_layout, rows).
    ghost_rows = sorted(ghosts.values(), key=lambda ghost: ghost[2] == "completed")
    return _picture(
        [*((*row, False) for row in rows), *ghost_rows],
        edges,
        focus_id=None,
        title=title,
        legend=legend,
    )


def node_states(rows: list[tuple[str, str]]) -> dict[str, str]:
    """State (a ``STATE_STYLES`` key, or "") of each ``(id, status_key)``: its readiness if
    it has one, else its status if that is completed or deferred, in one query."""
    badges = readiness([item_id for item_id, _ in rows])
    return {
        item_id: badges.get(item_id) or (status if status in STATUS_STATES else "")
        for item_id, status in rows
    }


def _picture(rows, edges: list[GraphEdge], *, focus_id, title, legend: bool) -> GraphPicture:
    """``rows``: (id, title, status_key, phase_key, ghost) in drawing order."""
    states = node_states([(row[0], row[2]) for row in rows])
    nodes = [
        GraphNode(
            id=item_id,
            title=item_title,
            status_key=status,
            phase_key=phase,
            state=states[item_id],
            ghost=ghost,
        )
        for item_id, item_title, status, phase, ghost in rows
    ]
    phases, status_names = _terminology()
    state_labels = _state_labels(status_names)
    known_lanes = [Lane(key, name) for key, (name, _) in phases.items()]
    drawing = draw(
        nodes,
        edges,
        href_for=item_url,
        state_labels=state_labels,
        status_names=status_names,
        lanes=known_lanes,
        focus_id=focus_id,
        title=title,
        legend=legend,
    )
    return GraphPicture(
        svg=drawing.svg,
        node_count=sum(not node.ghost for node in nodes),
        ghost_count=sum(node.ghost for node in nodes),
        drawn_edges=drawing.drawn_edges,
        far_edges=drawing.far_edges,
        lanes=_side_list(nodes, known_lanes, phases, state_labels, status_names),
        legend=_legend_entries(state_labels, status_names),
    )


def _terminology() -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Phases (key → (display name, description)) in their order, and status names."""
    phases: dict[str, tuple[str, str]] = {}
    status_names: dict[str, str] = {}
    rows = (
        Terminology.objects.filter(domain__in=["roadmap_phase", "roadmap_status"])
        .order_by(F("sort_order").asc(nulls_first=True), "id")
        .values_list("domain", "internal_key", "display_name", "description")
    )
    for domain, key, name, description in rows:
        if domain == "roadmap_phase":
            phases[key] = (name, description or "")
        else:
            status_names[key] = name
    return phases, status_names


def _state_labels(status_names: dict[str, str]) -> dict[str, str]:
    """Words per state, in the legend's order: the readiness labels of the pages, then the
    statuses of items without readiness."""
    labels = {key: value.label for key, value in READINESS.items()}
    labels.update({key: status_names.get(key, key) for key in STATUS_STATES})
    return labels


def _legend_entries(state_labels, status_names) -> list[LegendEntry]:
    meanings = {key: value.meaning for key, value in READINESS.items()}
    meanings["completed"] = "Done."
    meanings["deferred"] = "Put off: not planned now."
    return [
        LegendEntry(
            key=key,
            label=label,
            meaning=meanings.get(key, ""),
            fill=STATE_STYLES[key].fill,
            stroke=STATE_STYLES[key].stroke,
        )
        for key, label in state_labels.items()
        if key in STATE_STYLES
    ]


def _side_list(nodes, known_lanes, phases, state_labels, status_names) -> list[LaneList]:
    by_lane: dict[str | None, list[ListedNode]] = {}
    for node in nodes:
        by_lane.setdefault(node.phase_key, []).append(
            ListedNode(
                id=node.id,
                title=node.title,
                state=node.state,
                state_label=state_labels.get(node.state)
                or status_names.get(node.status_key, node.status_key),
                anchor=node_anchor(node.id),
                url=item_url(node.id),
                ghost=node.ghost,
            )
        )
    return [
        LaneList(
            key=lane.key,
            name=lane.name,
            description=phases.get(lane.key, ("", ""))[1],
            nodes=by_lane[lane.key],
        )
        for lane in lanes_of(nodes, known_lanes, ghosts=True)
    ]


def _sql(template: str, **parts: str) -> str:
    """``template`` with its ``{ri_id}``, ``{to_id}``, ``{from_id}`` (ids to order by, in
    SQLite's text order on either backend) and ``parts`` filled in."""
    return template.format(
        ri_id=bytewise_sql("ri.id"),
        to_id=bytewise_sql("g.to_id"),
        from_id=bytewise_sql("g.from_id"),
        **parts,
    )


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _json(values) -> str:
    return json.dumps(list(values))
