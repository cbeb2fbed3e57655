"""The dependency-graph layout (roadmap.graph_layout) and its SVG (roadmap.graph_svg): pure
Python, no database. The 150- and 500-item graphs are bench/graph.py's random DAGs."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from roadmap.graph_layout import Box, Grid, layered_layout
from roadmap.graph_svg import (
    GHOSTS_AFTER,
    GHOSTS_BEFORE,
    STATE_STYLES,
    GraphEdge,
    GraphNode,
    Lane,
    draw,
    message_svg,
    node_anchor,
    render_svg,
    text_width,
    wrap,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from graph import PHASES, compare_graph  # noqa: E402  (bench/graph.py: the random DAG)

SVG = "{http://www.w3.org/2000/svg}"
GRID = Grid()
LABELS = {
    "ready": "Ready to start",
    "blocked": "Waiting on prerequisites",
    "blocker": "Open blocker",
    "in_progress": "Being worked on",
    "completed": "Completed",
}
LANES = [Lane(p, p.replace("_", " ").title()) for p in PHASES]


def boxes(*specs, lane=0, height=40):
    return [Box(id=spec, lane=lane, height=height) for spec in specs]


def overlaps(a, b) -> bool:
    return (
        a.x < b.x + b.width
        and b.x < a.x + a.width
        and a.y < b.y + b.height
        and b.y < a.y + a.height
    )


@pytest.fixture(scope="module")
def bench_150():
    return compare_graph(150, 1, None)


def layout_of(graph, grid=GRID):
    live, _, phase, _, edges = graph
    lane = {p: i for i, p in enumerate(PHASES)}
    return layered_layout(
        [Box(x, lane[phase[x]], 60) for x in live], [(a, b) for a, b, _ in edges], grid
    )


# -- layout ----------------------------------------------------------------------------------


def test_a_prerequisite_sits_rows_above_its_dependents_by_the_longest_chain():
    # A -> B -> C and A -> C: C is two rows below A (longest path), not one.
    layout = layered_layout(boxes("C", "B", "A"), [("A", "B"), ("B", "C"), ("A", "C")])
    rows = {n: layout.boxes[n].row for n in "ABC"}
    assert rows == {"A": 0, "B": 1, "C": 2}
    assert layout.boxes["A"].y < layout.boxes["B"].y < layout.boxes["C"].y


def test_no_row_holds_more_boxes_than_the_grid_has_columns():
    # Ten independent sources of one item: at most 3 a row, so they take four rows.
    sources = [f"S{i}" for i in range(10)]
    layout = layered_layout(
        boxes(*sources, "T"), [(s, "T") for s in sources], Grid(columns=3, max_span=10)
    )
    per_row = {}
    for placement in layout.boxes.values():
        per_row[placement.row] = per_row.get(placement.row, 0) + 1
    assert max(per_row.values()) == 3
    assert layout.boxes["T"].row == max(layout.boxes[s].row for s in sources) + 1
    assert layout.width == 2 * GRID.margin + 3 * GRID.box_width + 2 * GRID.column_gap


def test_each_lane_is_a_band_below_the_previous_one_with_its_boxes_inside():
    layout = layered_layout(
        [Box("B1", 1, 40), Box("A1", 0, 40), Box("A2", 0, 40), Box("C1", 2, 40)],
        [("A1", "A2"), ("A2", "B1"), ("B1", "C1")],
    )
    assert [band.lane for band in layout.lanes] == [0, 1, 2]
    for upper, lower in zip(layout.lanes, layout.lanes[1:], strict=False):
        assert upper.bottom <= lower.top
    lane_of = {"A1": 0, "A2": 0, "B1": 1, "C1": 2}
    for node, lane in lane_of.items():
        band = layout.lanes[lane]
        box = layout.boxes[node]
        assert band.top + GRID.lane_header <= box.y and box.y + box.height <= band.bottom


def test_long_edges_are_far_and_short_ones_get_a_dummy_point_per_row_crossed():
    chain = [f"N{i}" for i in range(6)]
    edges = [(a, b) for a, b in zip(chain, chain[1:], strict=False)]
    edges += [("N0", "N2"), ("N0", "N5")]  # spans 2 (drawn) and 5 (far) rows
    layout = layered_layout(boxes(*chain), edges, Grid(max_span=3))
    assert layout.far == [len(edges) - 1]
    routes = {route.edge: route for route in layout.routes}
    assert len(routes) == len(edges) - 1
    # N0 -> N2: from N0's bottom, through row 1 (a dummy run), into N2's top.
    runs = routes[5].runs
    assert len(runs) == 3
    assert runs[0][1] == layout.boxes["N0"].y + layout.boxes["N0"].height
    assert runs[-1][1] == runs[-1][2] == layout.boxes["N2"].y
    assert (runs[1][1], runs[1][2]) == (layout.boxes["N1"].y, layout.boxes["N1"].y + 40)


def test_an_edge_to_an_earlier_lane_is_far():
    layout = layered_layout([Box("A", 0, 40), Box("B", 1, 40)], [("B", "A")])
    assert layout.far == [0]
    assert layout.routes == []


def test_barycentre_ordering_untangles_crossed_edges():
    # Given in an order where every edge crosses every other: A1..A3 feed B3..B1.
    edges = [("A1", "B3"), ("A2", "B2"), ("A3", "B1")]
    layout = layered_layout(boxes("A1", "A2", "A3", "B1", "B2", "B3"), edges)
    assert layout.crossings() == 0
    xs = {n: layout.boxes[n].x for n in ["A1", "A2", "A3", "B1", "B2", "B3"]}
    assert xs["B3"] < xs["B2"] < xs["B1"]
    assert xs["A1"] < xs["A2"] < xs["A3"]


def test_crossings_are_counted_between_neighbouring_rows():
    edges = [("A1", "B2"), ("A2", "B1"), ("A1", "B1"), ("A2", "B2")]
    layout = layered_layout(boxes("A1", "A2", "B1", "B2"), edges)
    assert layout.crossings() == 1  # K2,2: whatever the order, one pair crosses


def test_a_cycle_longer_than_the_trigger_catches_does_not_break_the_layout():
    layout = layered_layout(boxes("A", "B", "C"), [("A", "B"), ("B", "C"), ("C", "A")])
    assert sorted(layout.boxes) == ["A", "B", "C"]
    assert len(layout.routes) + len(layout.far) == 3


def test_items_without_links_in_their_lane_fill_the_free_places():
    # A chain of three plus four loose items, two columns: the loose ones fill the chain's
    # rows rather than making new ones, lowest first.
    layout = layered_layout(
        boxes("C1", "C2", "C3", "L1", "L2", "L3", "L4"),
        [("C1", "C2"), ("C2", "C3")],
        Grid(columns=2),
    )
    assert max(p.row for p in layout.boxes.values()) == 3  # 3 chain rows, 1 more
    assert layout.boxes["L1"].row == 3


def test_the_150_item_graph_fits_five_columns_without_overlaps(bench_150):
    layout = layout_of(bench_150)
    placements = list(layout.boxes.values())
    assert len(placements) == len(bench_150[0])
    assert layout.width == 2 * GRID.margin + 5 * GRID.box_width + 4 * GRID.column_gap == 1108
    assert all(0 <= p.x and p.x + p.width <= layout.width for p in placements)
    for i, a in enumerate(placements):
        for b in placements[i + 1 :]:
            assert not overlaps(a, b)
    # Every edge is drawn or named: none dropped; drawn ones go down at most max_span rows.
    assert len(layout.routes) + len(layout.far) == len(bench_150[4])
    for route in layout.routes:
        assert all(top <= bottom for _, top, bottom in route.runs)


def test_arrows_pass_rows_between_the_boxes_never_through_one(bench_150):
    layout = layout_of(bench_150)
    by_row = {}
    for p in layout.boxes.values():
        by_row.setdefault(p.row, []).append(p)
    row_of_top = {p.y: p.row for p in layout.boxes.values()}
    for route in layout.routes:
        for x, top, _ in route.runs[1:-1]:  # the dummy runs
            for p in by_row[row_of_top[top]]:
                assert not (p.x <= x <= p.x + p.width), (route.edge, x, p)


def test_the_500_item_layout_stays_five_columns_wide():
    layout = layout_of(compare_graph(500, 1, None))
    assert layout.width == 1108
    assert len(layout.boxes) > 480


# -- text ------------------------------------------------------------------------------------


def test_titles_wrap_on_words_and_only_very_long_ones_are_cut():
    lines = wrap("Add an index on leases by resource id", 120, 3)
    assert " ".join(lines) == "Add an index on leases by resource id"
    assert len(lines) > 1 and all(text_width(line) <= 120 for line in lines)
    long = wrap(" ".join(["word"] * 40), 120, 3)
    assert len(long) == 3 and long[-1].endswith("…")
    assert wrap("x" * 60, 100, 3)[0] == "x" * len(wrap("x" * 60, 100, 3)[0])  # cut words


def test_node_anchors_are_safe_ids():
    assert node_anchor("RM-033") == "node-RM-033"
    assert node_anchor("A#1 b") == "node-A.23.1.20.b"


# -- SVG -------------------------------------------------------------------------------------


def nodes_of(svg_text):
    root = ET.fromstring(svg_text)
    return {g.get("data-id"): g for g in root.iter(f"{SVG}g") if "node" in g.get("class", "")}


def texts_of(element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{SVG}text")]


def test_boxes_link_to_items_coloured_and_labelled_by_state_with_full_titles():
    nodes = [
        GraphNode("A", "Foundations", "completed", "phase_a", "completed"),
        GraphNode("B", "Build <it> & ship", "pending", "phase_a", "ready"),
        GraphNode("C", "Odd one", "blocked", "phase_b", ""),
    ]
    svg = render_svg(
        nodes,
        [GraphEdge("A", "B", "blocks"), GraphEdge("B", "C", "soft")],
        href_for=lambda item_id: f"/roadmap/{item_id}/",
        state_labels=LABELS,
        status_names={"blocked": "Blocked"},
        lanes=LANES,
        focus_id="B",
        title="Around B",
    )
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == "Around B"
    boxes_ = nodes_of(svg)
    assert set(boxes_) == {"A", "B", "C"}
    link = boxes_["A"].find(f"{SVG}a")
    assert link.get("href") == "/roadmap/A/" and link.get("data-id") == "A"
    assert boxes_["A"].get("id") == "node-A"
    assert boxes_["A"].get("class") == "node state-completed"
    assert boxes_["B"].get("class") == "node state-ready focus"
    assert boxes_["C"].get("class") == "node state-other"
    rect = {k: g.find(f"{SVG}a/{SVG}rect") for k, g in boxes_.items()}
    assert rect["A"].get("fill") == STATE_STYLES["completed"].fill
    assert rect["B"].get("fill") == STATE_STYLES["ready"].fill
    assert rect["C"].get("fill") == "#ffffff"
    assert rect["B"].get("stroke-width") == "3"  # the focus
    assert boxes_["B"].find(f"{SVG}a/{SVG}title").text == "B: Build <it> & ship (Ready to start)"
    assert texts_of(boxes_["C"])[0] == "C · Blocked"  # no readiness: the status's name
    # Lanes, in the phases' order, named.
    lanes = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "lane-name"]
    assert lanes == ["Phase A", "Phase B"]
    legend = " ".join(texts_of(root.find(f"{SVG}g[@class='legend']")))
    for label in LABELS.values():
        assert label in legend
    assert "soft" in legend and "in another phase" not in legend  # no ghost here
    edges = root.findall(f".//{SVG}path[@class='edge']")
    assert [(e.get("data-from"), e.get("data-to"), e.get("data-type")) for e in edges] == [
        ("A", "B", "blocks"),
        ("B", "C", "soft"),
    ]
    assert edges[1].get("stroke-dasharray")
    assert edges[0].get("marker-end") == "url(#arrow)"


def test_arrows_leave_the_bottom_of_the_prerequisite_and_enter_the_top_of_the_item():
    svg = render_svg(
        [GraphNode("A", "a", "pending", state="ready"), GraphNode("B", "b", "pending")],
        [GraphEdge("A", "B", "blocks")],
        href_for=str,
        state_labels=LABELS,
    )
    rects = {k: g.find(f"{SVG}a/{SVG}rect") for k, g in nodes_of(svg).items()}
    d = ET.fromstring(svg).find(f".//{SVG}path[@class='edge']").get("d")
    numbers = [float(v) for v in re.findall(r"-?[\d.]+", d)]
    a, b = rects["A"], rects["B"]
    assert numbers[1] == pytest.approx(float(a.get("y")) + float(a.get("height")), abs=0.1)
    assert numbers[-1] == pytest.approx(float(b.get("y")), abs=0.1)
    assert float(a.get("x")) < numbers[0] < float(a.get("x")) + float(a.get("width"))


def test_long_titles_wrap_to_three_lines_and_the_tooltip_keeps_the_whole_title():
    title = "A very long title that goes on and on about leases, tokens and heartbeats " * 2
    svg = render_svg([GraphNode("X", title, "pending")], [], href_for=str, state_labels={})
    box = nodes_of(svg)["X"]
    lines = [t.text for t in box.iter(f"{SVG}text") if t.get("class") == "title"]
    assert len(lines) == 3
    assert lines[-1].endswith("…")
    assert lines[0].startswith("A very long title")
    assert title in box.find(f"{SVG}a/{SVG}title").text
    short = render_svg([GraphNode("Y", "Short one", "pending")], [], href_for=str, state_labels={})
    assert [
        t.text for t in nodes_of(short)["Y"].iter(f"{SVG}text") if t.get("class") == "title"
    ] == ["Short one"]


def test_far_edges_are_named_in_both_boxes_as_links_to_the_other_box():
    chain = [GraphNode(f"N{i}", f"Step {i}", "pending", state="ready") for i in range(6)]
    edges = [GraphEdge(f"N{i}", f"N{i + 1}", "blocks") for i in range(5)]
    edges.append(GraphEdge("N0", "N5", "blocks"))
    drawing = draw(chain, edges, href_for=str, state_labels=LABELS)
    assert (drawing.drawn_edges, drawing.far_edges) == (5, 1)
    boxes_ = nodes_of(drawing.svg)
    far_in = boxes_["N5"].find(f"{SVG}text[@class='far-in']")
    far_out = boxes_["N0"].find(f"{SVG}text[@class='far-out']")
    assert far_in is not None and far_out is not None
    link = far_in.find(f"{SVG}a")
    assert (link.get("href"), link.get("data-id")) == ("#node-N0", "N0")
    assert link.find(f"{SVG}title").text == "N0: Step 0 (Ready to start)"
    assert far_out.find(f"{SVG}a").get("href") == "#node-N5"
    # Every link in the picture names a box of the picture.
    ids = {a.get("data-id") for a in ET.fromstring(drawing.svg).iter(f"{SVG}a")}
    assert ids == set(boxes_)


def test_ghosts_are_dashed_in_their_own_lanes_and_say_their_phase():
    nodes = [
        GraphNode("GATE", "Phase B gate", "pending", "phase_b", "ready", ghost=True),
        GraphNode("C1", "First of C", "pending", "phase_c", "blocked"),
        GraphNode("D1", "Waits on C1", "pending", "phase_d", "blocked", ghost=True),
    ]
    svg = render_svg(
        nodes,
        [GraphEdge("GATE", "C1", "blocks"), GraphEdge("C1", "D1", "blocks")],
        href_for=str,
        state_labels=LABELS,
        lanes=LANES,
    )
    root = ET.fromstring(svg)
    lanes = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "lane-name"]
    assert lanes == [GHOSTS_BEFORE.name, "Phase C", GHOSTS_AFTER.name]
    assert "in another phase" in texts_of(root.find(f"{SVG}g[@class='legend']"))
    boxes_ = nodes_of(svg)
    assert "ghost" in boxes_["GATE"].get("class")
    assert boxes_["GATE"].find(f"{SVG}a/{SVG}rect").get("stroke-dasharray")
    assert "in Phase B" in texts_of(boxes_["GATE"])
    assert "in Phase D" in texts_of(boxes_["D1"])
    assert boxes_["C1"].find(f"{SVG}a/{SVG}rect").get("stroke-dasharray") is None
    y = {k: float(g.find(f"{SVG}a/{SVG}rect").get("y")) for k, g in boxes_.items()}
    assert y["GATE"] < y["C1"] < y["D1"]
    assert len(root.findall(f".//{SVG}path[@class='edge']")) == 2


def test_the_svg_scales_to_its_container_and_the_legend_can_be_left_out():
    svg = render_svg(
        [GraphNode("A", "a", "pending")], [], href_for=str, state_labels=LABELS, legend=False
    )
    root = ET.fromstring(svg)
    assert "max-width: 100%" in root.get("style")
    assert root.find(f"{SVG}g[@class='legend']") is None


def test_the_150_item_svg_is_the_layout_width_and_every_title_is_in_a_tooltip(bench_150):
    live, titles, phase, state, edges = bench_150
    drawing = draw(
        [GraphNode(x, titles[x], "", phase[x], state[x]) for x in live],
        [GraphEdge(a, b, k) for a, b, k in edges],
        href_for=str,
        state_labels=LABELS,
        lanes=LANES,
    )
    root = ET.fromstring(drawing.svg)
    assert root.get("width") == "1108"
    boxes_ = nodes_of(drawing.svg)
    assert len(boxes_) == len(live)
    for item_id, box in boxes_.items():
        assert box.find(f"{SVG}a/{SVG}title").text.startswith(f"{item_id}: {titles[item_id]} (")
        assert box.get("class").split()[1] == f"state-{state[item_id]}"
    assert drawing.drawn_edges + drawing.far_edges == len(edges)


def test_message_svg_is_a_valid_svg_document():
    root = ET.fromstring(message_svg("Too many items & more"))
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}text").text == "Too many items & more"
