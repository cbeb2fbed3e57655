"""Server-side drawing of the dependency graph as SVG (no JavaScript needed, no CDN).

The layout is ``roadmap.graph_layout``'s: phase lanes top to bottom, at most
``Grid.columns`` boxes side by side. Each box links to its item page and shows the id, the
item's readiness in words (its fill colour says the same, see ``STATE_STYLES`` and the
legend), the title wrapped on up to three lines (the full title is in the box's tooltip)
and, on a line marked ↑ (↓), the prerequisites (dependents) too far away for an arrow, each
a link to its box. Ghost boxes (dashed) are items outside the selection that are linked to
it, labelled with their phase.

The root element scales down to its container's width (``max-width: 100%``), so without
JavaScript the picture fits the page; the graph page's script adds zoom and pan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from html import escape as _html_escape

from roadmap.graph_layout import Box, Grid, Layout, layered_layout


@dataclass(frozen=True)
class StateStyle:
    fill: str
    stroke: str


#: Box colours per state: a readiness key (``roadmap.pages_queries.READINESS``) or, for an
#: item without readiness, its status (completed, deferred). Unknown states: ``OTHER_STYLE``.
STATE_STYLES = {
    "ready": StateStyle("#bbf7d0", "#15803d"),
    "held": StateStyle("#e0e7ff", "#4338ca"),
    "in_progress": StateStyle("#bfdbfe", "#1d4ed8"),
    "review": StateStyle("#e9d5ff", "#7e22ce"),
    "blocked": StateStyle("#fef3c7", "#b45309"),
    "blocker": StateStyle("#fecaca", "#b91c1c"),
    "completed": StateStyle("#f3f4f6", "#9ca3af"),
    "deferred": StateStyle("#e7e5e4", "#78716c"),
}
OTHER_STYLE = StateStyle("#ffffff", "#6b7280")
#: Stroke pattern per dependency type (blocks: solid).
EDGE_DASHES = {"blocks": None, "soft": "6 4", "related": "2 3"}
GHOST_DASH = "5 3"

FONT_SIZE = 12
SMALL_FONT_SIZE = 11
LINE_HEIGHT = 15
BOX_PADDING = 7
TITLE_LINES = 3
#: Ghosts are context: one line of title (the tooltip has it all).
GHOST_TITLE_LINES = 1
LEGEND_SWATCH = 14
MIN_WIDTH = 520
TEXT = "#111827"
MUTED = "#4b5563"

DEFAULT_GRID = Grid()


@dataclass(frozen=True)
class GraphNode:
    id: str
    title: str
    status_key: str
    phase_key: str | None = None
    #: A key of ``STATE_STYLES`` (its words come from the ``state_labels`` given to render).
    state: str = ""
    #: Outside the selection, drawn because it is linked to it.
    ghost: bool = False


@dataclass(frozen=True)
class GraphEdge:
    """``item`` depends on ``prerequisite``; drawn as an arrow prerequisite → item."""

    prerequisite: str
    item: str
    dependency_type: str


@dataclass(frozen=True)
class Lane:
    """A phase band: its key and the name it is shown with."""

    key: str | None
    name: str


def escape(text: str) -> str:
    """``text`` escaped for XML character data."""
    return _html_escape(text, quote=False)


def quoteattr(text: str) -> str:
    """``text`` escaped and double-quoted for an XML attribute."""
    return f'"{_html_escape(text, quote=True)}"'


_SAFE_ID = re.compile(r"[A-Za-z0-9_-]*")


def node_anchor(item_id: str) -> str:
    """The id attribute of an item's box: ``node-`` and the id with every character other
    than ``A-Z a-z 0-9 - _`` written as ``.hex.`` (safe in HTML ids and URL fragments)."""
    if _SAFE_ID.fullmatch(item_id):
        return f"node-{item_id}"
    return "node-" + re.sub(r"[^A-Za-z0-9_-]", lambda m: f".{ord(m.group()):x}.", item_id)


# -- text measuring (conservative: DejaVu Sans widths, wider than most system fonts) ----------

_EM = {
    **dict.fromkeys("ijl'|", 0.28),
    **dict.fromkeys(" .,:;!·", 0.33),
    **dict.fromkeys("ftI()[]/\\-", 0.4),
    **dict.fromkeys("r", 0.42),
    **dict.fromkeys("sczJ", 0.55),
    **dict.fromkeys("abdeghknopquvxy0123456789", 0.64),
    **dict.fromkeys("FLTZPEYS", 0.64),
    **dict.fromkeys("ABCKRVX&", 0.7),
    **dict.fromkeys("DGHNOQU#", 0.79),
    **dict.fromkeys("mwMW%", 0.99),
}
_DEFAULT_EM = 0.72
_WIDE_EM = 1.0  # CJK and other wide characters


def text_width(text: str, size: float = FONT_SIZE, *, bold: bool = False) -> float:
    """An upper estimate of the width (px) of ``text`` at ``size`` px."""
    return _ems(text) * size * (1.1 if bold else 1.0)


@lru_cache(maxsize=8192)
def _ems(text: str) -> float:
    return sum(_EM.get(ch, _WIDE_EM if ord(ch) > 0x2E80 else _DEFAULT_EM) for ch in text)


def wrap(text: str, width: float, max_lines: int, size: float = FONT_SIZE) -> list[str]:
    """``text`` in lines no wider than ``width``: words kept whole unless one alone is too
    wide; beyond ``max_lines`` the last line ends with an ellipsis."""
    space = text_width(" ", size)
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for word in text.split():
        needed = text_width(word, size)
        if current and used + space + needed <= width:
            current.append(word)
            used += space + needed
            continue
        if current:
            lines.append(" ".join(current))
        while needed > width:  # a word too long for a line: cut it
            cut = _fit(word, width, size)
            lines.append(word[:cut])
            word = word[cut:]
            needed = text_width(word, size)
        current, used = [word], needed
    if current:
        lines.append(" ".join(current))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = truncate(lines[-1] + " …", width, size, force=True)
    return lines or [""]


def truncate(text: str, width: float, size: float = FONT_SIZE, *, force=False, bold=False):
    """``text``, or its longest start that fits ``width`` with an ellipsis."""
    if not force and text_width(text, size, bold=bold) <= width:
        return text
    text = text.rstrip(" …")
    while text and text_width(text + "…", size, bold=bold) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _fit(word: str, width: float, size: float) -> int:
    cut = len(word)
    while cut > 1 and text_width(word[:cut], size) > width:
        cut -= 1
    return cut


# -- drawing ---------------------------------------------------------------------------------


@dataclass
class _BoxText:
    header: str
    state: str
    #: The state's words on a line of their own when they do not fit after the id.
    state_line: bool
    phase_line: str | None
    title_lines: list[str]
    far_in: list[str]
    far_out: list[str]

    @property
    def lines(self) -> int:
        return (
            1
            + self.state_line
            + (self.phase_line is not None)
            + len(self.title_lines)
            + bool(self.far_in)
            + bool(self.far_out)
        )


@dataclass(frozen=True)
class Drawing:
    svg: str
    #: Edges drawn as arrows, and edges named in the boxes instead (too far apart, upwards).
    drawn_edges: int
    far_edges: int


def render_svg(nodes: Iterable[GraphNode], edges: Iterable[GraphEdge], **options) -> str:
    """The SVG document of :func:`draw`."""
    return draw(nodes, edges, **options).svg


def draw(
    nodes: Iterable[GraphNode],
    edges: Iterable[GraphEdge],
    *,
    href_for: Callable[[str], str],
    state_labels: dict[str, str],
    status_names: dict[str, str] | None = None,
    lanes: Sequence[Lane] = (),
    focus_id: str | None = None,
    title: str = "Dependency graph",
    legend: bool = True,
    grid: Grid = DEFAULT_GRID,
) -> Drawing:
    """A standalone SVG document: the legend (unless ``legend`` is false), the lanes, the
    arrows and the boxes.

    ``state_labels``: the words of each state (the legend lists them in this order);
    a node whose state has none is labelled with its status's name in ``status_names``.
    ``lanes``: the phases' order and names (see :func:`lanes_of`)."""
    nodes = {node.id: node for node in nodes}
    edges = [e for e in dict.fromkeys(edges) if e.prerequisite in nodes and e.item in nodes]
    phase_names = {lane.key: lane.name for lane in lanes}
    lane_of = _lane_keys(nodes, edges)
    lanes = _with_ghost_lanes(lanes_of(nodes.values(), lanes), set(lane_of.values()))
    lane_index = {lane.key: i for i, lane in enumerate(lanes)}

    # What each box says; the far lines are filled in once the layout has chosen them.
    inner = grid.box_width - 2 * BOX_PADDING
    labels = {
        n.id: state_labels.get(n.state) or (status_names or {}).get(n.status_key, n.status_key)
        for n in nodes.values()
    }
    texts = {
        n.id: _box_text(
            n, phase_names.get(n.phase_key, n.phase_key or "no phase"), labels[n.id], inner
        )
        for n in nodes.values()
    }
    boxes = [
        Box(id=n.id, lane=lane_index[lane_of[n.id]], height=_box_height(texts[n.id].lines))
        for n in nodes.values()
    ]
    grid = replace(grid, far_line=LINE_HEIGHT)
    layout = layered_layout(boxes, [(e.prerequisite, e.item) for e in edges], grid)
    for i in layout.far:
        texts[edges[i].item].far_in.append(edges[i].prerequisite)
        texts[edges[i].prerequisite].far_out.append(edges[i].item)

    legend_lines = (
        _legend(
            state_labels,
            max(layout.width, MIN_WIDTH),
            ghosts=any(n.ghost for n in nodes.values()),
            far=bool(layout.far),
        )
        if legend
        else []
    )
    legend_height = _legend_height(legend_lines)
    width = max(layout.width, MIN_WIDTH)
    height = legend_height + layout.height + grid.margin / 2
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg"'
        f' class="dependency-graph" width="{width:.0f}" height="{height:.0f}"'
        f' viewBox="0 0 {width:.0f} {height:.0f}" style="max-width: 100%; height: auto"'
        ' role="group" aria-labelledby="graph-title"'
        f' font-family="system-ui, sans-serif" font-size="{FONT_SIZE}">',
        f'<title id="graph-title">{escape(title)}</title>',
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse"'
        ' markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"'
        f' fill="{MUTED}"/></marker></defs>',
    ]
    out.extend(_draw_legend(legend_lines))
    out.append(f'<g class="graph" transform="translate(0 {legend_height:.0f})" fill="{TEXT}">')
    bands, lane_names = _draw_lanes(layout, lanes, width)
    out.extend(bands)
    out.append('<g class="edges">')
    for route in layout.routes:
        out.append(_draw_edge(edges[route.edge], route.runs))
    out.append("</g>")
    out.extend(lane_names)
    for node in nodes.values():
        out.append(
            _draw_box(
                node,
                texts[node.id],
                layout.boxes[node.id],
                href_for(node.id),
                labels,
                nodes,
                focus=node.id == focus_id,
            )
        )
    out.append("</g></svg>")
    return Drawing(svg="\n".join(out), drawn_edges=len(layout.routes), far_edges=len(layout.far))


#: Lanes of ghosts: above the phases, those that are prerequisites of drawn items; below,
#: the others (dependents of drawn items).
GHOSTS_BEFORE = Lane("\0before", "Prerequisites in other phases")
GHOSTS_AFTER = Lane("\0after", "Dependents in other phases")


def _lane_keys(nodes: dict[str, GraphNode], edges: list[GraphEdge]) -> dict[str, str | None]:
    """Each node's lane: its phase, or a ghost lane."""
    before = {e.prerequisite for e in edges if not nodes[e.item].ghost}
    return {
        n.id: (GHOSTS_BEFORE.key if n.id in before else GHOSTS_AFTER.key)
        if n.ghost
        else n.phase_key
        for n in nodes.values()
    }


def _with_ghost_lanes(lanes: list[Lane], used: set) -> list[Lane]:
    return [
        *([GHOSTS_BEFORE] if GHOSTS_BEFORE.key in used else []),
        *lanes,
        *([GHOSTS_AFTER] if GHOSTS_AFTER.key in used else []),
    ]


def lanes_of(
    nodes: Iterable[GraphNode], known: Sequence[Lane], *, ghosts: bool = False
) -> list[Lane]:
    """The phases of the nodes (of ghosts too if ``ghosts``): phases not among ``known``
    first (no phase, then unknown keys, as the roadmap list sorts them), then the known ones
    in their order."""
    used = {n.phase_key for n in nodes if ghosts or not n.ghost}
    unknown = used - {lane.key for lane in known}
    return [
        *(
            Lane(key, key or "No phase")
            for key in sorted(unknown, key=lambda k: (k is not None, k or ""))
        ),
        *(lane for lane in known if lane.key in used),
    ]


def _box_text(node: GraphNode, phase_name: str, label: str, inner: float) -> _BoxText:
    header = truncate(node.id, inner * 0.6, bold=True)
    return _BoxText(
        header=header,
        state=label,
        state_line=text_width(header, bold=True) + text_width(f" · {label}") > inner,
        phase_line=f"in {phase_name}" if node.ghost else None,
        title_lines=wrap(node.title, inner, GHOST_TITLE_LINES if node.ghost else TITLE_LINES),
        far_in=[],
        far_out=[],
    )


def _box_height(lines: int) -> float:
    return 2 * BOX_PADDING + lines * LINE_HEIGHT - 2


def _draw_lanes(layout: Layout, lanes: list[Lane], width: float) -> tuple[list[str], list[str]]:
    """The lanes' bands (drawn under the arrows) and their names (over them, with a halo)."""
    bands, names = ['<g class="lanes">'], ['<g class="lane-names">']
    for k, band in enumerate(layout.lanes):
        lane = lanes[band.lane]
        ghosts = lane in (GHOSTS_BEFORE, GHOSTS_AFTER)
        fill = "#f8fafc" if k % 2 else "#eef2f7"
        bands.append(
            f'<g class="lane{" ghosts" if ghosts else ""}"'
            f" data-phase={quoteattr('' if ghosts else lane.key or '')}>"
            f'<rect x="0" y="{band.top:.0f}" width="{width:.0f}"'
            f' height="{band.bottom - band.top:.0f}" fill="{fill}"/>'
            f'<line x1="0" x2="{width:.0f}" y1="{band.top:.0f}" y2="{band.top:.0f}"'
            ' stroke="#cbd5e1"/></g>'
        )
        names.append(
            f'<text class="lane-name" x="10" y="{band.top + 18:.0f}" font-size="13"'
            f' font-weight="bold" fill="{MUTED}" stroke="{fill}" stroke-width="4"'
            f' paint-order="stroke">{escape(lane.name)}</text>'
        )
    return [*bands, "</g>"], [*names, "</g>"]


def _draw_edge(edge: GraphEdge, runs: list[tuple[float, float, float]]) -> str:
    x, top, bottom = runs[0]
    d = [f"M{x:.0f},{top:.0f}"]
    if bottom > top:
        d.append(f"L{x:.0f},{bottom:.0f}")
    for nx, ntop, nbottom in runs[1:]:
        middle = (bottom + ntop) / 2
        d.append(f"C{x:.0f},{middle:.0f} {nx:.0f},{middle:.0f} {nx:.0f},{ntop:.0f}")
        if nbottom > ntop:
            d.append(f"L{nx:.0f},{nbottom:.0f}")
        x, bottom = nx, nbottom
    dash = EDGE_DASHES.get(edge.dependency_type)
    return (
        f'<path class="edge" data-type={quoteattr(edge.dependency_type)}'
        f" data-from={quoteattr(edge.prerequisite)} data-to={quoteattr(edge.item)}"
        f' fill="none" stroke="{MUTED}" stroke-width="1.3" marker-end="url(#arrow)"'
        + (f' stroke-dasharray="{dash}"' if dash else "")
        + f' d="{" ".join(d)}"/>'
    )


def _draw_box(node, text: _BoxText, box, href, labels, nodes, *, focus: bool) -> str:
    style = STATE_STYLES.get(node.state, OTHER_STYLE)
    inner = box.width - 2 * BOX_PADDING
    x, y = box.x + BOX_PADDING, box.y + BOX_PADDING + 11
    classes = f"node state-{node.state or 'other'}" + (" ghost" if node.ghost else "")
    classes += " focus" if focus else ""
    tooltip = f"{node.id}: {node.title} ({text.state})"
    if node.ghost and text.phase_line:
        tooltip += f", {text.phase_line}"
    dash = f' stroke-dasharray="{GHOST_DASH}"' if node.ghost else ""
    href = quoteattr(href)
    out = [
        f"<g class={quoteattr(classes)} id={quoteattr(node_anchor(node.id))}"
        f" data-id={quoteattr(node.id)} data-state={quoteattr(node.state)}>",
        f"<a href={href} data-id={quoteattr(node.id)}>",
        f"<title>{escape(tooltip)}</title>",
        f'<rect x="{box.x:.0f}" y="{box.y:.0f}" width="{box.width:.0f}"'
        f' height="{box.height:.0f}" rx="5" fill="{"#ffffff" if node.ghost else style.fill}"'
        f' stroke="{TEXT if focus else style.stroke}" stroke-width="{3 if focus else 1.2}"'
        f"{dash}/>",
        f'<text x="{x:.0f}" y="{y:.0f}"><tspan font-weight="bold">'
        f"{escape(text.header)}</tspan>"
        + ("" if text.state_line else f'<tspan fill="{MUTED}"> · {escape(text.state)}</tspan>')
        + "</text>",
    ]
    if text.state_line:
        y += LINE_HEIGHT
        state = escape(truncate(text.state, inner))
        out.append(f'<text x="{x:.0f}" y="{y:.0f}" fill="{MUTED}">{state}</text>')
    if text.phase_line:
        y += LINE_HEIGHT
        line = truncate(text.phase_line, inner)
        out.append(
            f'<text x="{x:.0f}" y="{y:.0f}" fill="{MUTED}" font-style="italic">'
            f"{escape(line)}</text>"
        )
    for line in text.title_lines:
        y += LINE_HEIGHT
        out.append(f'<text class="title" x="{x:.0f}" y="{y:.0f}">{escape(line)}</text>')
    out.append("</a>")
    for arrow, ids, kind in (("↑", text.far_in, "far-in"), ("↓", text.far_out, "far-out")):
        if ids:
            y += LINE_HEIGHT
            out.append(_far_line(arrow, ids, kind, x, y, inner, nodes, labels))
    out.append("</g>")
    return "".join(out)


def _far_line(arrow, ids, kind, x, y, inner, nodes, labels) -> str:
    """``↑ A B +2``: links to the boxes of far prerequisites (dependents), as many as fit."""
    used = text_width(arrow + " ", SMALL_FONT_SIZE)
    shown: list[str] = []
    for i, item_id in enumerate(ids):
        more = len(ids) - i - 1
        need = text_width(item_id + " ", SMALL_FONT_SIZE)
        reserve = text_width(f"+{more}", SMALL_FONT_SIZE) if more else 0
        if used + need + reserve > inner:
            break
        shown.append(item_id)
        used += need
    what = "Prerequisites" if kind == "far-in" else "Dependents"
    parts = [
        f'<text class={quoteattr(kind)} x="{x:.0f}" y="{y:.0f}" font-size="{SMALL_FONT_SIZE}"'
        f' fill="{MUTED}"><title>{escape(f"{what} too far away for an arrow")}</title>{arrow}'
    ]
    for item_id in shown:
        node = nodes[item_id]
        label = labels[item_id]
        parts.append(
            f" <a href={quoteattr('#' + node_anchor(item_id))} data-id={quoteattr(item_id)}"
            f' class="far-link"><title>{escape(f"{item_id}: {node.title} ({label})")}</title>'
            f'<tspan fill="#1d4ed8">{escape(item_id)}</tspan></a>'
        )
    rest = ids[len(shown) :]
    if rest:
        parts.append(f" <tspan><title>{escape(', '.join(rest))}</title>+{len(rest)}</tspan>")
    parts.append("</text>")
    return "".join(parts)


# -- legend ----------------------------------------------------------------------------------

_LEGEND_ROW = 22


_GHOST_LABEL = "in another phase"
_FAR_LABEL = "↑ ↓ too far for an arrow: links to the box"


def _legend(
    state_labels: dict[str, str], width: float, *, ghosts: bool, far: bool
) -> list[list[tuple[str, str, str, float]]]:
    """Legend entries ``(kind, key, label, width)`` in lines that fit ``width``; ghosts and
    far edges only when the picture has some."""
    entries = [("state", key, label, 26 + text_width(label)) for key, label in state_labels.items()]
    if ghosts:
        entries.append(("ghost", "", _GHOST_LABEL, 26 + text_width(_GHOST_LABEL)))
    entries += [("edge", kind, kind, 54 + text_width(kind)) for kind in EDGE_DASHES]
    if far:
        entries.append(("far", "", _FAR_LABEL, text_width(_FAR_LABEL)))
    lines: list[list[tuple[str, str, str, float]]] = [[]]
    used = 0.0
    for entry in entries:
        if lines[-1] and used + entry[3] + 18 > width - 2 * DEFAULT_GRID.margin:
            lines.append([])
            used = 0.0
        lines[-1].append(entry)
        used += entry[3] + 18
    return lines


def _legend_height(lines) -> float:
    return len(lines) * _LEGEND_ROW + 14 if lines else 0


def _draw_legend(lines) -> list[str]:
    if not lines:
        return []
    out = ['<g class="legend">']
    y = 10.0
    for line in lines:
        x = float(DEFAULT_GRID.margin)
        for kind, key, label, width in line:
            out.append(_legend_entry(kind, key, label, x, y))
            x += width + 18
        y += _LEGEND_ROW
    out.append("</g>")
    return out


def _legend_entry(kind: str, key: str, label: str, x: float, y: float) -> str:
    if kind == "state":
        style = STATE_STYLES.get(key, OTHER_STYLE)
        return (
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{LEGEND_SWATCH}" height="{LEGEND_SWATCH}"'
            f' rx="3" fill="{style.fill}" stroke="{style.stroke}"/>'
            f'<text x="{x + 20:.0f}" y="{y + 11:.0f}" data-state={quoteattr(key)}>'
            f"{escape(label)}</text>"
        )
    if kind == "ghost":
        return (
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{LEGEND_SWATCH}" height="{LEGEND_SWATCH}"'
            f' rx="3" fill="#ffffff" stroke="{MUTED}" stroke-dasharray="{GHOST_DASH}"/>'
            f'<text x="{x + 20:.0f}" y="{y + 11:.0f}">{escape(label)}</text>'
        )
    if kind == "edge":
        dash = EDGE_DASHES[key]
        return (
            f'<line x1="{x:.0f}" y1="{y + 7:.0f}" x2="{x + 40:.0f}" y2="{y + 7:.0f}"'
            f' stroke="{MUTED}" marker-end="url(#arrow)"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + f'/><text x="{x + 48:.0f}" y="{y + 11:.0f}">{escape(key)}</text>'
        )
    return f'<text x="{x:.0f}" y="{y + 11:.0f}" fill="{MUTED}">{escape(label)}</text>'


def message_svg(message: str) -> str:
    """A one-line SVG document standing in for a picture that is not drawn."""
    width = 8 * len(message) + 2 * DEFAULT_GRID.margin
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="48"'
        f' viewBox="0 0 {width} 48" font-family="system-ui, sans-serif" font-size="14">'
        f'<text x="{DEFAULT_GRID.margin}" y="28">{escape(message)}</text></svg>'
    )
