"""The dependency-graph layout and SVG drawing (pure Python: no database)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from roadmap.graph_svg import (
    STATUS_COLOURS,
    GraphEdge,
    GraphNode,
    layered_layout,
    message_svg,
    render_svg,
)

SVG = "{http://www.w3.org/2000/svg}"


def edge(prerequisite, item, kind="blocks"):
    return GraphEdge(prerequisite=prerequisite, item=item, dependency_type=kind)


def test_each_item_sits_one_column_right_of_its_furthest_prerequisite():
    # A -> B -> C and A -> C: C is in column 2 (longest path), not 1.
    layout = layered_layout(["C", "B", "A"], [edge("A", "B"), edge("B", "C"), edge("A", "C")])
    assert layout.column_of["A"] == 0
    assert layout.column_of["B"] == 1
    assert layout.column_of["C"] == 2


def test_long_edges_get_one_dummy_point_per_column_crossed():
    edges = [edge("A", "B"), edge("B", "C"), edge("C", "D"), edge("A", "D")]
    layout = layered_layout("ABCD", edges)
    assert [len(layout.routes[e]) for e in edges] == [0, 0, 0, 2]
    assert [layout.column_of[d] for d in layout.routes[edges[3]]] == [1, 2]
    # Every piece of every edge joins neighbouring columns, left to right.
    for column, pieces in enumerate(layout.pieces):
        for left, right in pieces:
            assert (layout.column_of[left], layout.column_of[right]) == (column, column + 1)


def test_barycentre_ordering_untangles_crossed_edges():
    # Given in an order where every edge crosses every other: A1..A3 feed B3..B1.
    edges = [edge("A1", "B3"), edge("A2", "B2"), edge("A3", "B1")]
    layout = layered_layout(["A1", "A2", "A3", "B1", "B2", "B3"], edges)
    assert layout.crossings() == 0
    assert layout.columns[1] == ["B3", "B2", "B1"]


def test_crossings_are_counted_between_neighbouring_columns():
    edges = [edge("A1", "B2"), edge("A2", "B1"), edge("A1", "B1"), edge("A2", "B2")]
    layout = layered_layout(["A1", "A2", "B1", "B2"], edges)
    # K2,2: whatever the order, exactly one pair of edges crosses.
    assert layout.crossings() == 1


def test_a_cycle_longer_than_the_trigger_catches_does_not_break_the_layout():
    layout = layered_layout("ABC", [edge("A", "B"), edge("B", "C"), edge("C", "A")])
    assert sorted(layout.column_of) == ["A", "B", "C"]
    assert len(layout.routes) == 3


def nodes_of(svg_text):
    root = ET.fromstring(svg_text)
    return {a.get("data-id"): a for a in root.iter(f"{SVG}a")}


def test_render_svg_draws_linked_nodes_coloured_by_status_with_a_legend():
    nodes = [
        GraphNode("A", "Foundations", "completed"),
        GraphNode("B", "Build <it> & ship", "in_progress"),
        GraphNode("C", "Odd status", "unknown_status"),
    ]
    svg = render_svg(
        nodes,
        [edge("A", "B"), edge("B", "C", "soft")],
        href_for=lambda item_id: f"/roadmap/{item_id}/",
        status_names={"completed": "Done", "in_progress": "Doing"},
        focus_id="B",
        title="Around B",
    )
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == "Around B"
    links = nodes_of(svg)
    assert set(links) == {"A", "B", "C"}
    assert links["A"].get("href") == "/roadmap/A/"
    assert links["A"].find(f"{SVG}rect").get("fill") == STATUS_COLOURS["completed"]
    assert links["C"].find(f"{SVG}rect").get("fill") == "#ffffff"
    assert links["B"].find(f"{SVG}title").text == "B: Build <it> & ship (Doing)"
    assert links["B"].find(f"{SVG}rect").get("stroke-width") == "3"  # the focus
    assert links["A"].find(f"{SVG}rect").get("stroke-width") == "1"
    legend = " ".join(t.text for t in root.find(f"{SVG}g").iter(f"{SVG}text"))
    assert "Done" in legend and "Doing" in legend and "soft" in legend
    edges = root.findall(f"{SVG}polyline")
    assert [e.get("data-type") for e in edges] == ["blocks", "soft"]
    assert edges[1].get("stroke-dasharray")


def test_arrows_point_from_prerequisite_to_dependent():
    svg = render_svg(
        [GraphNode("A", "a", "pending"), GraphNode("B", "b", "pending")],
        [edge("A", "B")],
        href_for=lambda item_id: item_id,
        status_names={},
    )
    links = nodes_of(svg)
    a_right = float(links["A"].find(f"{SVG}rect").get("x")) + 190
    b_left = float(links["B"].find(f"{SVG}rect").get("x"))
    points = ET.fromstring(svg).find(f"{SVG}polyline").get("points").split()
    assert float(points[0].split(",")[0]) == a_right
    assert float(points[-1].split(",")[0]) == b_left


def test_items_without_dependencies_go_in_a_grid_below_the_graph():
    nodes = [GraphNode(f"N{i}", "x", "pending") for i in range(10)]
    svg = render_svg(nodes, [edge("N0", "N1")], href_for=lambda item_id: item_id, status_names={})
    rects = {k: a.find(f"{SVG}rect") for k, a in nodes_of(svg).items()}
    graph_bottom = max(float(rects[k].get("y")) for k in ("N0", "N1"))
    loose_ys = sorted({float(rects[f"N{i}"].get("y")) for i in range(2, 10)})
    assert loose_ys[0] > graph_bottom
    assert len(loose_ys) == 2  # 8 items, 4 to a row
    assert len({float(rects[f"N{i}"].get("x")) for i in range(2, 10)}) == 4


def test_long_labels_are_shortened_but_the_tooltip_keeps_the_full_title():
    title = "A very long title that goes on and on"
    svg = render_svg([GraphNode("X", title, "pending")], [], href_for=str, status_names={})
    link = nodes_of(svg)["X"]
    assert link.find(f"{SVG}text").text.endswith("…")
    assert len(link.find(f"{SVG}text").text) == 27
    assert title in link.find(f"{SVG}title").text


def test_message_svg_is_a_valid_svg_document():
    root = ET.fromstring(message_svg("Too many items & more"))
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}text").text == "Too many items & more"
