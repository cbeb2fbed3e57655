"""The dependency-graph page and SVG pictures, through real requests on a real SQLite file."""

from __future__ import annotations

import random
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from kernel.models import Attempt, Blocker
from roadmap import graphs
from roadmap.models import RoadmapDependency, RoadmapItem
from roadmap.pages_queries import READINESS, readiness
from tests.page_support import T0, depend, item, many_items, parse, query_count, raw, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from graph import PHASES, Dag, compare_graph  # noqa: E402  (bench/graph.py: the random DAG)

SVG = "{http://www.w3.org/2000/svg}"


def svg_of(response) -> str:
    return re.search(r"<svg .*?</svg>", response.content.decode(), re.S).group(0)


def boxes(svg_text: str) -> dict[str, ET.Element]:
    """The item boxes of a picture by item id."""
    root = ET.fromstring(svg_text)
    return {g.get("data-id"): g for g in root.iter(f"{SVG}g") if "node" in g.get("class", "")}


def svg_nodes(svg_text: str) -> set[str]:
    return set(boxes(svg_text))


def ghosts(svg_text: str) -> set[str]:
    return {k for k, g in boxes(svg_text).items() if "ghost" in g.get("class").split()}


def seed_bench_roadmap(n: int, seed: int = 1) -> Dag:
    """bench/graph.py's random DAG of ``n`` items through the ORM, with its titles, phases
    and statuses, plus one open blocker and one active attempt on open items."""
    dag = Dag(n, random.Random(seed), None)
    live, titles, *_ = compare_graph(n, seed, None)
    RoadmapItem.objects.bulk_create(
        RoadmapItem(
            id=x,
            phase_key=PHASES[i * len(PHASES) // n],
            title=titles.get(x, f"Item {x}"),
            status_key=dag.status[x],
            item_type="gate" if x in dag.gate else "work",
            rank=float(i),
            deleted_at=T0 if x in dag.deleted else None,
        )
        for i, x in enumerate(dag.ids)
    )
    RoadmapDependency.objects.bulk_create(
        RoadmapDependency(item_id=a, depends_on_id=b, dependency_type=k) for a, b, k in dag.edges
    )
    badges = readiness(live)
    ready = [x for x in live if badges.get(x) == "ready"]
    Blocker.objects.create(
        id="BL-G1",
        work_id=ready[0],
        reason_code="missing_credential",
        title="Need staging credentials",
        created_by="agent:ann",
    )
    Attempt.objects.create(
        id="AT-G1", work_id=ready[1], worker_id="agent:bob", worker_type="agent", started_at=T0
    )
    return dag


# -- the graph page ----------------------------------------------------------------------------


def test_graph_page_draws_the_live_roadmap_and_filters_by_phase(reader):
    item("A1", status="completed")
    item("A2")
    item("B1", phase="phase_b", status="in_progress")
    item("GONE", deleted_at=T0)
    depend("A2", "A1")
    depend("B1", "A2", "soft")
    response = reader.get("/roadmap/graph/")
    svg = svg_of(response)
    assert svg_nodes(svg) == {"A1", "A2", "B1"}
    assert ghosts(svg) == set()
    assert text(response, "graph-node-count").startswith("3 items. 2 dependencies drawn")
    edges = re.findall(r'class="edge" data-type="(\w+)"', svg)
    assert sorted(edges) == ["blocks", "soft"]

    # Phase A without its completed items: A2, and B1 (phase B) as a ghost dependent.
    response = reader.get("/roadmap/graph/", {"phase": "phase_a", "hide_completed": "on"})
    svg = svg_of(response)
    assert svg_nodes(svg) == {"A2", "B1"}
    assert ghosts(svg) == {"B1"}
    assert text(response, "graph-node-count").startswith(
        "1 item, and 1 from other phase linked to them (dashed)."
    )
    assert 'href="/roadmap/graph.svg?phase=phase_a&amp;hide_completed=on"' in (
        response.content.decode()
    )


def test_a_phase_graph_shows_its_cross_phase_prerequisites_and_dependents_as_ghosts(reader):
    item("A-DONE", status="completed")
    item("B-GATE", phase="phase_b", title="Phase B gate: staging is up", item_type="gate")
    item("B-OTHER", phase="phase_b")
    item("C1", phase="phase_c")
    item("C2", phase="phase_c")
    item("D1", phase="phase_d")
    depend("B-GATE", "A-DONE")
    depend("C1", "B-GATE")
    depend("C2", "B-GATE")
    depend("C2", "A-DONE", "soft")
    depend("D1", "C1")
    response = reader.get("/roadmap/graph/", {"phase": "phase_c"})
    svg = svg_of(response)
    assert svg_nodes(svg) == {"C1", "C2", "B-GATE", "A-DONE", "D1"}  # not B-OTHER
    assert ghosts(svg) == {"B-GATE", "A-DONE", "D1"}
    box = boxes(svg)
    gate_texts = ["".join(t.itertext()) for t in box["B-GATE"].iter(f"{SVG}text")]
    assert "in Phase B" in gate_texts
    assert box["B-GATE"].find(f"{SVG}a/{SVG}rect").get("stroke-dasharray")
    assert "Phase B gate: staging is up" in box["B-GATE"].find(f"{SVG}a/{SVG}title").text
    # Every dependency of the phase's items is there: drawn, or named in the boxes.
    arrows = set(
        re.findall(r'class="edge" data-type="\w+" data-from="([^"]+)" data-to="([^"]+)"', svg)
    )
    named = {
        (a.get("data-id"), item_id)
        for item_id, g in box.items()
        for t in g.iter(f"{SVG}text")
        if t.get("class") == "far-in"
        for a in t.iter(f"{SVG}a")
    }
    assert arrows | named == {("B-GATE", "C1"), ("B-GATE", "C2"), ("A-DONE", "C2"), ("C1", "D1")}
    lanes = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text") if t.get("class") == "lane-name"]
    assert lanes == ["Prerequisites in other phases", "Phase C", "Dependents in other phases"]
    # The side list names the ghosts' phases.
    side = text(response, "graph-items")
    assert "Phase B (other phase)" in side and "Phase A (other phase)" in side
    assert "Phase D (other phase)" in side

    # Without completed items, the completed prerequisite in phase A goes.
    svg = svg_of(reader.get("/roadmap/graph/", {"phase": "phase_c", "hide_completed": "on"}))
    assert ghosts(svg) == {"B-GATE", "D1"}


def test_box_colours_follow_the_readiness_of_the_pages_and_the_views(reader):
    item("DONE", status="completed")
    item("LATER", status="deferred")
    item("OPEN")  # ready
    item("WAIT")  # waits on OPEN
    depend("WAIT", "OPEN")
    item("STUCK")  # an open blocker
    Blocker.objects.create(
        id="BL-1", work_id="STUCK", reason_code="missing_info", title="Spec?", created_by="agent:a"
    )
    item("HELD")  # ready, but somebody's attempt holds it
    Attempt.objects.create(
        id="AT-1", work_id="HELD", worker_id="agent:b", worker_type="agent", started_at=T0
    )
    item("BUSY", status="in_progress")
    item("CHECK", status="review")
    svg = svg_of(reader.get("/roadmap/graph/"))
    states = {item_id: g.get("data-state") for item_id, g in boxes(svg).items()}
    assert states == {
        "DONE": "completed",
        "LATER": "deferred",
        "OPEN": "ready",
        "WAIT": "blocked",
        "STUCK": "blocker",
        "HELD": "held",
        "BUSY": "in_progress",
        "CHECK": "review",
    }
    # The same source as the pages' badges, and what the contract's views say.
    badges = readiness(list(states))
    assert {k: v for k, v in states.items() if v not in ("completed", "deferred")} == badges
    assert {r[0] for r in raw("SELECT id FROM v_blocked_items")} == {"WAIT"}
    assert {r[0] for r in raw("SELECT id FROM v_ready_items")} == {"OPEN", "STUCK", "HELD"}
    # The box says it in words too, and its fill is the state's colour.
    box = boxes(svg)["WAIT"]
    assert READINESS["blocked"].label in "".join(box.itertext())
    assert box.get("class") == "node state-blocked"


def test_the_page_has_an_html_legend_and_a_side_list_linking_boxes_and_items(reader):
    item("A1", title="Add the lease table with a long title that needs wrapping in a box")
    item("B1", phase="phase_b")
    depend("B1", "A1")
    response = reader.get("/roadmap/graph/")
    svg = svg_of(response)
    assert ET.fromstring(svg).find(f"{SVG}g[@class='legend']") is None  # legend in HTML
    legend = text(response, "graph-legend")
    for value in READINESS.values():
        assert value.label in legend
    assert "In another phase" in legend
    page = parse(response)
    jumps = [a["href"] for tag, a in page.tags if tag == "a" and a.get("class") == "jump"]
    assert jumps == ["#node-A1", "#node-B1"]
    ids_in_svg = {g.get("id") for g in boxes(svg).values()}
    assert {href[1:] for href in jumps} <= ids_in_svg
    side = text(response, "graph-items")
    assert "Add the lease table with a long title that needs wrapping in a box" in side
    assert 'href="/roadmap/A1/"' in response.content.decode()
    assert side.index("Phase A") < side.index("Phase B")
    # Zoom and find come with the page's own script and stylesheet, no CDN.
    html = response.content.decode()
    assert '<script src="/static/pages/graph.js" defer></script>' in html
    assert '<link rel="stylesheet" href="/static/pages/graph.css">' in html
    assert reader.get("/static/pages/graph.js").status_code == 200


def test_an_empty_roadmap_draws_an_empty_picture(reader):
    response = reader.get("/roadmap/graph/")
    assert response.status_code == 200
    assert text(response, "graph-node-count").startswith("0 items. 0 dependencies drawn")
    assert svg_nodes(svg_of(response)) == set()


def test_graph_svg_is_a_standalone_svg_document_with_its_legend(reader):
    item("A1", title="Fish & <chips>")
    response = reader.get("/roadmap/graph.svg")
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}g[@class='legend']") is not None
    assert svg_nodes(response.content.decode()) == {"A1"}
    assert "Fish &amp; &lt;chips&gt;" in response.content.decode()


def test_a_graph_over_the_node_limit_is_not_drawn(reader, monkeypatch):
    monkeypatch.setattr(graphs, "MAX_GRAPH_NODES", 2)
    for i in range(3):
        item(f"R{i}")
    response = reader.get("/roadmap/graph/")
    assert "<svg" not in response.content.decode()
    assert text(response, "graph-too-large").startswith("Too many items to draw (3; at most 2)")
    response = reader.get("/roadmap/graph.svg")
    assert ET.fromstring(response.content).tag == f"{SVG}svg"
    assert b"Too many items to draw (3)" in response.content
    assert reader.get("/roadmap/graph/", {"phase": "phase_b"}).status_code == 200


def test_the_150_item_roadmap_is_drawn_five_boxes_wide(reader):
    dag = seed_bench_roadmap(150)
    response = reader.get("/roadmap/graph/")
    svg = svg_of(response)
    root = ET.fromstring(svg)
    live = [x for x in dag.ids if x not in dag.deleted]
    assert svg_nodes(svg) == set(live)
    # Five columns of 180 px with their gaps and margins: at 1040 px (the page's box in a
    # 1400 px window) it shows at 94 %, text still readable without zooming.
    assert root.get("width") == "1108"
    assert 1040 / float(root.get("width")) > 0.9
    count = text(response, "graph-node-count")
    drawn, far = re.search(r"(\d+) dependencies drawn .*?; (\d+) between", count).groups()
    edges = raw("SELECT COUNT(*) FROM v_dependency_graph")[0][0]
    assert int(drawn) + int(far) == edges
    lanes = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "lane-name"]
    assert lanes == ["Phase A", "Phase B", "Phase C", "Phase D", "Phase E", "Post-Launch", "Future"]


# -- the item page's neighbourhood picture -----------------------------------------------------


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
    focus = boxes(response.content.decode())["X"]
    assert "focus" in focus.get("class").split()
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


def test_the_neighbourhood_is_drawn_in_phase_lanes(reader):
    item("A", phase="phase_a")
    item("B", phase="phase_b")
    item("C", phase="phase_c")
    depend("B", "A")
    depend("C", "B")
    svg = reader.get("/roadmap/B/graph.svg").content.decode()
    root = ET.fromstring(svg)
    lanes = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "lane-name"]
    assert lanes == ["Phase A", "Phase B", "Phase C"]
    assert ghosts(svg) == set()
    y = {k: float(g.find(f"{SVG}a/{SVG}rect").get("y")) for k, g in boxes(svg).items()}
    assert y["A"] < y["B"] < y["C"]


# -- query counts ----------------------------------------------------------------------------


def test_graph_query_counts_are_flat_in_the_number_of_items(reader):
    many_items(5, prefix="S")
    item("GHOST-B", phase="phase_b")
    depend("S0000", "GHOST-B")
    small_page = query_count(reader, "/roadmap/graph/")
    small_phase = query_count(reader, "/roadmap/graph/?phase=phase_c")
    small_item = query_count(reader, "/roadmap/S0002/graph.svg")
    many_items(200, prefix="L")
    for i in range(20):
        item(f"GB{i}", phase="phase_b")
        depend(f"L{i:04d}", f"GB{i}")
    assert query_count(reader, "/roadmap/graph/") == small_page
    assert query_count(reader, "/roadmap/graph/?phase=phase_c") == small_phase
    assert query_count(reader, "/roadmap/L0100/graph.svg?depth=5") == small_item
