"""The dependency-graph page and SVG pictures, through real requests on a real SQLite file."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from roadmap import graphs
from tests.page_support import (
    T0,
    depend,
    item,
    many_items,
    query_count,
    text,
)

# -- graph pictures ------------------------------------------------------------------------


def svg_nodes(svg_text: str) -> set[str]:
    root = ET.fromstring(svg_text)
    return {a.get("data-id") for a in root.iter("{http://www.w3.org/2000/svg}a")}


def test_graph_page_draws_the_live_roadmap_and_filters_by_phase(reader):
    item("A1", status="completed")
    item("A2")
    item("B1", phase="phase_b", status="in_progress")
    item("GONE", deleted_at=T0)
    depend("A2", "A1")
    depend("B1", "A2", "soft")
    response = reader.get("/roadmap/graph/")
    svg = re.search(r"<svg .*?</svg>", response.content.decode(), re.S).group(0)
    assert svg_nodes(svg) == {"A1", "A2", "B1"}
    assert text(response, "graph-node-count").startswith("3 items")
    edges = re.findall(r'class="edge"[^>]*data-type="(\w+)"', svg)
    assert sorted(edges) == ["blocks", "soft"]

    response = reader.get("/roadmap/graph/", {"phase": "phase_a", "hide_completed": "on"})
    svg = re.search(r"<svg .*?</svg>", response.content.decode(), re.S).group(0)
    assert svg_nodes(svg) == {"A2"}
    assert 'href="/roadmap/graph.svg?phase=phase_a&amp;hide_completed=on"' in (
        response.content.decode()
    )


def test_graph_svg_is_a_standalone_svg_document(reader):
    item("A1", title="Fish & <chips>")
    response = reader.get("/roadmap/graph.svg")
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg_nodes(response.content.decode()) == {"A1"}
    assert "Fish &amp; &lt;chips&gt;" in response.content.decode()


def test_a_graph_over_the_node_limit_is_not_drawn(reader, monkeypatch):
    monkeypatch.setattr(graphs, "MAX_GRAPH_NODES", 2)
    for i in range(3):
        item(f"R{i}")
    response = reader.get("/roadmap/graph/")
    assert "<svg" not in response.content.decode()
    assert text(response, "graph-too-large").startswith("Too many items to draw (3)")
    response = reader.get("/roadmap/graph.svg")
    assert ET.fromstring(response.content).tag == "{http://www.w3.org/2000/svg}svg"
    assert b"Too many items to draw (3)" in response.content
    assert reader.get("/roadmap/graph/", {"phase": "phase_b"}).status_code == 200


def test_item_graph_svg_draws_prerequisites_and_dependents_up_to_the_depth(reader):
    for item_id in ["P2", "P1", "X", "D1", "D2", "SIDE"]:
        item(item_id)
    depend("P1", "P2")
    depend("X", "P1")
    depend("D1", "X", "related")
    depend("D2", "D1")
    depend("SIDE", "P1")  # a sibling: neither a prerequisite nor a dependent of X
    response = reader.get("/roadmap/X/graph.svg", {"depth": "1"})
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert svg_nodes(response.content.decode()) == {"P1", "X", "D1"}
    response = reader.get("/roadmap/X/graph.svg", {"depth": "2"})
    assert svg_nodes(response.content.decode()) == {"P2", "P1", "X", "D1", "D2"}
    # Nonsense depths fall back to the default or are kept within 1..5.
    assert svg_nodes(reader.get("/roadmap/X/graph.svg?depth=x").content.decode()) == {
        "P2",
        "P1",
        "X",
        "D1",
        "D2",
    }
    assert svg_nodes(reader.get("/roadmap/X/graph.svg?depth=0").content.decode()) == {
        "P1",
        "X",
        "D1",
    }


def test_graph_query_counts_are_flat_in_the_number_of_items(reader):
    many_items(5, prefix="S")
    small_page = query_count(reader, "/roadmap/graph/")
    small_item = query_count(reader, "/roadmap/S0002/graph.svg")
    many_items(200, prefix="L")
    assert query_count(reader, "/roadmap/graph/") == small_page
    assert query_count(reader, "/roadmap/L0100/graph.svg?depth=5") == small_item
