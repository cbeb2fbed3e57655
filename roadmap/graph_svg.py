"""Server-side drawing of the dependency graph as SVG (no JavaScript, no CDN).

A layered (Sugiyama-style) layout computed in plain Python:

1. layering by longest path: an item sits one column right of its furthest prerequisite,
   so every arrow points rightwards (cycles longer than the cycle trigger catches are
   broken by ignoring their back edges);
2. edges spanning several columns get a dummy point in every column they cross, so they
   are routed around nodes and take part in the ordering;
3. barycentre ordering: sweeps left-to-right and right-to-left put each node at the mean
   position of its neighbours in the previous column; the ordering with the fewest
   crossings seen is kept;
4. coordinates: columns left to right, each column centred vertically; items with no
   dependency in the picture go in a grid below instead of one tall first column.

It stays readable at a few hundred nodes: nodes have a fixed size and the picture simply
grows (the page shows it in a scrolling box). Callers cap the node count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

#: Fill colour per roadmap status key; unknown keys are drawn white.
STATUS_COLOURS = {
    "pending": "#e5e7eb",
    "in_progress": "#bfdbfe",
    "review": "#e9d5ff",
    "blocked": "#fecaca",
    "completed": "#bbf7d0",
    "deferred": "#fde68a",
}
UNKNOWN_STATUS_COLOUR = "#ffffff"
#: Stroke pattern per dependency type (blocks: solid).
EDGE_DASHES = {"blocks": None, "soft": "6 4", "related": "2 3"}

NODE_WIDTH = 190
NODE_HEIGHT = 30
DUMMY_HEIGHT = 8
ROW_GAP = 10
COLUMN_GAP = 70
MARGIN = 16
LEGEND_HEIGHT = 64
LEGEND_STEP = 110
LEGEND_WIDTH = 700
LABEL_CHARS = 27
#: Items without dependencies in the picture are laid out in a grid at least this wide.
ISOLATED_MIN_COLUMNS = 4
ORDERING_SWEEPS = 8


@dataclass(frozen=True)
class GraphNode:
    id: str
    title: str
    status_key: str


@dataclass(frozen=True)
class GraphEdge:
    """``item`` depends on ``prerequisite``; drawn as an arrow prerequisite → item."""

    prerequisite: str
    item: str
    dependency_type: str


@dataclass
class Layout:
    """Columns of node ids (dummies included) and, per edge, the dummies it passes through."""

    columns: list[list[str]]
    column_of: dict[str, int]
    routes: dict[GraphEdge, list[str]]
    #: Edge pieces (left node, right node) between column c and c + 1, at index c.
    pieces: list[list[tuple[str, str]]] = field(init=False)

    def __post_init__(self):
        self.pieces = [[] for _ in self.columns]
        for edge, dummies in self.routes.items():
            chain = [edge.prerequisite, *dummies, edge.item]
            for left, right in zip(chain, chain[1:], strict=False):
                if self.column_of[left] + 1 == self.column_of[right]:
                    self.pieces[self.column_of[left]].append((left, right))

    def crossings(self) -> int:
        return sum(
            _crossings_between(self.columns[c], self.columns[c + 1], self.pieces[c])
            for c in range(len(self.columns) - 1)
        )


def layered_layout(node_ids: Iterable[str], edges: Iterable[GraphEdge]) -> Layout:
    """Assign columns and an order within each column; see the module docstring."""
    node_ids = list(dict.fromkeys(node_ids))
    known = set(node_ids)
    edges = [e for e in dict.fromkeys(edges) if e.prerequisite in known and e.item in known]
    forward = _acyclic_edges(node_ids, edges)

    column_of = _longest_path_columns(node_ids, forward)
    routes: dict[GraphEdge, list[str]] = {}
    for edge in edges:
        start, end = column_of[edge.prerequisite], column_of[edge.item]
        if edge not in forward:
            # A back edge of a (long) cycle: drawn straight, without dummies.
            routes[edge] = []
            continue
        dummies = []
        for column in range(start + 1, end):
            dummy = f"\0{edge.prerequisite}\0{edge.item}\0{column}"
            column_of[dummy] = column
            dummies.append(dummy)
        routes[edge] = dummies

    columns: list[list[str]] = [[] for _ in range(max(column_of.values(), default=-1) + 1)]
    for node in column_of:
        columns[column_of[node]].append(node)
    layout = Layout(columns=columns, column_of=column_of, routes=routes)
    _order_by_barycentre(layout)
    return layout


def _acyclic_edges(node_ids: list[str], edges: list[GraphEdge]) -> set[GraphEdge]:
    """The edges minus the back edges of an iterative depth-first search."""
    outgoing: dict[str, list[GraphEdge]] = defaultdict(list)
    for edge in edges:
        outgoing[edge.prerequisite].append(edge)
    state: dict[str, int] = {}  # 1 = on the stack, 2 = finished
    forward: set[GraphEdge] = set()
    for root in node_ids:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(outgoing[root]))]
        while stack:
            node, pending = stack[-1]
            edge = next(pending, None)
            if edge is None:
                state[node] = 2
                stack.pop()
                continue
            if state.get(edge.item) == 1:
                continue
            forward.add(edge)
            if edge.item not in state:
                state[edge.item] = 1
                stack.append((edge.item, iter(outgoing[edge.item])))
    return forward


def _longest_path_columns(node_ids: list[str], forward: set[GraphEdge]) -> dict[str, int]:
    """Column = length of the longest chain of prerequisites leading to the node."""
    dependents: dict[str, list[str]] = defaultdict(list)
    waiting = dict.fromkeys(node_ids, 0)
    for edge in forward:
        dependents[edge.prerequisite].append(edge.item)
        waiting[edge.item] += 1
    column_of = dict.fromkeys(node_ids, 0)
    ready = [node for node in node_ids if waiting[node] == 0]
    while ready:
        node = ready.pop()
        for dependent in dependents[node]:
            column_of[dependent] = max(column_of[dependent], column_of[node] + 1)
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    return column_of


def _order_by_barycentre(layout: Layout) -> None:
    neighbours_left: dict[str, list[str]] = defaultdict(list)
    neighbours_right: dict[str, list[str]] = defaultdict(list)
    for column_pieces in layout.pieces:
        for left, right in column_pieces:
            neighbours_left[right].append(left)
            neighbours_right[left].append(right)

    best = [list(column) for column in layout.columns]
    best_crossings = layout.crossings()
    for sweep in range(ORDERING_SWEEPS):
        if best_crossings == 0:
            break
        left_to_right = sweep % 2 == 0
        indices = range(1, len(layout.columns))
        if not left_to_right:
            indices = range(len(layout.columns) - 2, -1, -1)
        for c in indices:
            reference = layout.columns[c - 1] if left_to_right else layout.columns[c + 1]
            neighbours = neighbours_left if left_to_right else neighbours_right
            position = {node: i for i, node in enumerate(reference)}
            current = {node: i for i, node in enumerate(layout.columns[c])}

            def barycentre(node, neighbours=neighbours, position=position, current=current):
                placed = [position[n] for n in neighbours[node] if n in position]
                return sum(placed) / len(placed) if placed else current[node]

            layout.columns[c].sort(key=lambda node: (barycentre(node), current[node]))
        crossings = layout.crossings()
        if crossings < best_crossings:
            best, best_crossings = [list(column) for column in layout.columns], crossings
    layout.columns = best


def _crossings_between(left: list[str], right: list[str], pieces: list[tuple[str, str]]) -> int:
    """Crossings of the pieces between two columns: inversions, counted with a Fenwick tree."""
    left_pos = {node: i for i, node in enumerate(left)}
    right_pos = {node: i for i, node in enumerate(right)}
    ends = sorted((left_pos[a], right_pos[b]) for a, b in pieces)
    tree = [0] * (len(right) + 1)
    crossings = 0
    for seen, (_, target) in enumerate(ends):
        # Pieces seen so far whose right end lies strictly below this one cross it.
        i, at_or_above = target + 1, 0
        while i > 0:
            at_or_above += tree[i]
            i -= i & -i
        crossings += seen - at_or_above
        i = target + 1
        while i <= len(right):
            tree[i] += 1
            i += i & -i
    return crossings


def render_svg(
    nodes: Iterable[GraphNode],
    edges: Iterable[GraphEdge],
    *,
    href_for: Callable[[str], str],
    status_names: dict[str, str],
    focus_id: str | None = None,
    title: str = "Dependency graph",
) -> str:
    """A standalone SVG document: legend, the laid-out graph, then a grid of the items that
    have no dependency in the picture (a long column of them would be unreadable)."""
    nodes = {node.id: node for node in nodes}
    edges = [e for e in edges if e.prerequisite in nodes and e.item in nodes]
    connected = {e.prerequisite for e in edges} | {e.item for e in edges}
    layout = layered_layout([n for n in nodes if n in connected], edges)
    isolated = [n for n in nodes if n not in connected]

    # Top-left corner of every node and dummy point.
    column_step = NODE_WIDTH + COLUMN_GAP
    heights = {n: NODE_HEIGHT if n in nodes else DUMMY_HEIGHT for n in layout.column_of}
    column_heights = [
        sum(heights[n] for n in column) + ROW_GAP * max(len(column) - 1, 0)
        for column in layout.columns
    ]
    graph_height = max(column_heights, default=0)
    top = MARGIN + LEGEND_HEIGHT
    corner: dict[str, tuple[float, float]] = {}
    for c, column in enumerate(layout.columns):
        y = top + (graph_height - column_heights[c]) / 2
        for node in column:
            corner[node] = (MARGIN + c * column_step, y)
            y += heights[node] + ROW_GAP
    grid_columns = max(len(layout.columns), ISOLATED_MIN_COLUMNS)
    grid_top = top + graph_height + (ROW_GAP * 3 if layout.columns else 0)
    for i, node in enumerate(isolated):
        row, column = divmod(i, grid_columns)
        corner[node] = (MARGIN + column * column_step, grid_top + row * (NODE_HEIGHT + ROW_GAP))
    grid_rows = -(-len(isolated) // grid_columns)

    columns_used = max(len(layout.columns), min(len(isolated), grid_columns))
    width = max(MARGIN * 2 + columns_used * column_step - COLUMN_GAP, LEGEND_WIDTH + MARGIN * 2)
    height = grid_top + grid_rows * (NODE_HEIGHT + ROW_GAP) + MARGIN
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        f' class="dependency-graph" width="{width:.0f}" height="{height:.0f}"'
        f' viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-labelledby="graph-title"'
        ' font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="graph-title">{escape(title)}</title>',
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7"'
        ' markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"'
        ' fill="#374151"/></marker></defs>',
    ]
    out.extend(_legend(status_names))

    for edge, dummies in layout.routes.items():
        (x0, y0), (x1, y1) = corner[edge.prerequisite], corner[edge.item]
        points = [(x0 + NODE_WIDTH, y0 + NODE_HEIGHT / 2)]
        for dummy in dummies:  # across the column inside the dummy's own slot, clear of nodes
            x, y = corner[dummy]
            points += [(x, y + DUMMY_HEIGHT / 2), (x + NODE_WIDTH, y + DUMMY_HEIGHT / 2)]
        points.append((x1, y1 + NODE_HEIGHT / 2))
        dash = EDGE_DASHES.get(edge.dependency_type)
        out.append(
            '<polyline class="edge" fill="none" stroke="#374151" stroke-width="1.2"'
            f' marker-end="url(#arrow)" data-type={quoteattr(edge.dependency_type)}'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + ' points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            + '"/>'
        )

    for node in nodes.values():
        x, y = corner[node.id]
        fill = STATUS_COLOURS.get(node.status_key, UNKNOWN_STATUS_COLOUR)
        focus = node.id == focus_id
        weight = ' font-weight="bold"' if focus else ""
        label = f"{node.id} · {node.title}"
        if len(label) > LABEL_CHARS:
            label = label[: LABEL_CHARS - 1] + "…"
        status = status_names.get(node.status_key, node.status_key)
        href = quoteattr(href_for(node.id))
        out.append(
            f'<a href={href} xlink:href={href} class="node" data-id={quoteattr(node.id)}'
            f" data-status={quoteattr(node.status_key)}>"
            f"<title>{escape(f'{node.id}: {node.title} ({status})')}</title>"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}"'
            f' rx="5" fill="{fill}" stroke="{"#111827" if focus else "#6b7280"}"'
            f' stroke-width="{3 if focus else 1}"/>'
            f'<text x="{x + 8:.1f}" y="{y + NODE_HEIGHT / 2 + 4:.1f}" fill="#111827"{weight}>'
            f"{escape(label)}</text></a>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _legend(status_names: dict[str, str]) -> list[str]:
    out = ['<g class="legend">']
    x = MARGIN
    for key, colour in STATUS_COLOURS.items():
        out.append(
            f'<rect x="{x}" y="{MARGIN}" width="14" height="14" rx="3" fill="{colour}"'
            ' stroke="#6b7280"/>'
            f'<text x="{x + 20}" y="{MARGIN + 11}">{escape(status_names.get(key, key))}</text>'
        )
        x += LEGEND_STEP
    x = MARGIN
    y = MARGIN + 34
    for kind, dash in EDGE_DASHES.items():
        out.append(
            f'<line x1="{x}" y1="{y}" x2="{x + 40}" y2="{y}" stroke="#374151"'
            ' marker-end="url(#arrow)"' + (f' stroke-dasharray="{dash}"' if dash else "") + "/>"
            f'<text x="{x + 48}" y="{y + 4}">{escape(kind)}</text>'
        )
        x += LEGEND_STEP
    out.append(
        f'<text x="{x}" y="{y + 4}" fill="#4b5563">arrow: prerequisite → dependent item</text>'
    )
    out.append("</g>")
    return out


def message_svg(message: str) -> str:
    """A one-line SVG document standing in for a picture that is not drawn."""
    width = 8 * len(message) + 2 * MARGIN
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="48"'
        f' viewBox="0 0 {width} 48" font-family="system-ui, sans-serif" font-size="14">'
        f'<text x="{MARGIN}" y="28">{escape(message)}</text></svg>'
    )
