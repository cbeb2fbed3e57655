"""The dependency graph in a real headless Chromium at 1400 px, on bench/graph.py's random
150-item roadmap: it fits the page, zooms, pans, finds, and shows full titles; a phase's
graph shows what it waits on in other phases. Screenshots land in test-artifacts/browser/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from roadmap.models import RoadmapItem
from system import policy

# test_browser's ``page`` fixture: Debian's Chromium through Playwright.
from tests.test_browser import ARTIFACTS, page, user_with_role  # noqa: F401
from tests.test_graph_page import seed_bench_roadmap

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 1400


def shot(tab: Page, name: str, *, full_page: bool = False) -> None:
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def log_in(tab: Page) -> None:
    user_with_role("vera", policy.Role.VIEWER)
    tab.goto("/login/")
    tab.fill("#id_username", "vera")
    tab.fill("#id_password", "a-long-password")
    tab.locator("button[type=submit], input[type=submit]").first.click()
    expect(tab.locator("#session")).to_contain_text("vera")


def geometry(tab: Page) -> dict:
    return tab.evaluate(
        """() => {
          const box = document.getElementById('graph');
          const svg = box.querySelector('svg');
          const b = box.getBoundingClientRect();
          return {
            pageWidth: document.scrollingElement.scrollWidth,
            boxLeft: b.left, boxRight: b.right, boxWidth: box.clientWidth,
            boxHeight: box.clientHeight,
            svgWidth: svg.getBoundingClientRect().width,
            naturalWidth: svg.viewBox.baseVal.width,
            scrollLeft: box.scrollLeft, scrollTop: box.scrollTop,
          };
        }"""
    )


def inside_box(tab: Page, node_id: str) -> bool:
    return tab.evaluate(
        """(id) => {
          const node = document.querySelector(`.node[data-id="${id}"] rect`);
          const r = node.getBoundingClientRect();
          const b = document.getElementById('graph').getBoundingClientRect();
          return r.left >= b.left && r.right <= b.right && r.top >= b.top && r.bottom <= b.bottom;
        }""",
        node_id,
    )


def test_a_reader_fits_zooms_pans_and_finds_in_the_150_item_graph(page: Page):  # noqa: F811
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": WIDTH, "height": 900})
    seed_bench_roadmap(150)
    items = {i.id: i for i in RoadmapItem.objects.live()}
    log_in(page)

    page.goto("/roadmap/graph/")
    expect(page.locator("#graph-node-count")).to_contain_text("148 items")
    start = geometry(page)
    # The graph box is no wider than the page, and the picture fits the box's width.
    assert start["pageWidth"] <= WIDTH
    assert start["boxRight"] <= WIDTH
    assert start["svgWidth"] <= start["boxWidth"] + 0.5
    assert start["svgWidth"] / start["naturalWidth"] > 0.9  # text stays readable
    assert page.locator("#graph-zoom-level").inner_text() == "94 %"
    shot(page, "graph-150")

    # Zoom in with the button: the picture grows, the box scrolls.
    page.get_by_role("button", name="Zoom in").click()
    bigger = geometry(page)
    assert bigger["svgWidth"] == pytest.approx(start["svgWidth"] * 1.25, rel=0.01)
    assert page.locator("#graph-zoom-level").inner_text() == "118 %"
    # Ctrl + wheel zooms further, around the pointer.
    box = page.locator("#graph").bounding_box()
    page.mouse.move(box["x"] + 300, box["y"] + 300)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    page.wait_for_function("() => document.getElementById('graph').dataset.scale > 1.2")
    assert geometry(page)["svgWidth"] > bigger["svgWidth"]
    # Dragging moves the picture and follows no link.
    before = geometry(page)
    url = page.url
    page.mouse.move(box["x"] + 600, box["y"] + 500)
    page.mouse.down()
    page.mouse.move(box["x"] + 450, box["y"] + 300, steps=5)
    page.mouse.up()
    moved = geometry(page)
    assert moved["scrollLeft"] > before["scrollLeft"] and moved["scrollTop"] > before["scrollTop"]
    assert page.url == url
    shot(page, "graph-150-zoomed")
    # The keyboard: focus the box, "-" zooms out; "Fit width" returns to the start.
    page.locator("#graph").focus()
    page.keyboard.press("-")
    assert geometry(page)["svgWidth"] < moved["svgWidth"]
    page.get_by_role("button", name="Fit width").click()
    assert geometry(page)["svgWidth"] == pytest.approx(start["svgWidth"], abs=0.5)
    assert geometry(page)["scrollLeft"] == 0
    page.get_by_role("button", name="Whole picture").click()
    whole = geometry(page)
    assert whole["svgWidth"] < start["svgWidth"]
    shot(page, "graph-150-whole")
    page.get_by_role("button", name="Fit width").click()

    # Full titles: in each box's tooltip and in the side list.
    node_id = next(i for i in items if len(items[i].title) > 40)
    tooltip = page.locator(f'.node[data-id="{node_id}"] > a > title').text_content()
    assert tooltip.startswith(f"{node_id}: {items[node_id].title} (")
    entry = page.locator(f'#graph-items li[data-id="{node_id}"]')
    expect(entry).to_contain_text(items[node_id].title)
    # Find filters the side list; its link brings the box into view, blinking.
    words = " ".join(items[node_id].title.split()[:3])
    page.fill("#graph-find", f"{node_id} {words.lower()}")
    expect(page.locator("#graph-items li[data-id]:visible")).to_have_count(1)
    entry.locator("a.jump").click()
    page.fill("#graph-find", "")
    expect(page.locator(f'.node[data-id="{node_id}"]')).to_have_class(re.compile(r"\bfound\b"))
    assert inside_box(page, node_id)
    assert page.url.endswith(f"#node-{node_id}")
    # Hovering a box with arrows lights them up.
    with_arrows = page.evaluate(
        "() => document.querySelector('#graph .edge').getAttribute('data-to')"
    )
    page.locator(f"#graph-items li[data-id='{with_arrows}'] a.jump").click()
    page.locator(f'.node[data-id="{with_arrows}"] rect').hover()
    assert page.locator("#graph .edge.lit").count() >= 1
    # An id named in a box (a prerequisite too far for an arrow) leads to its box.
    far = page.locator("#graph .far-in a").first
    target = far.get_attribute("data-id")
    far.click()
    expect(page.locator(f'.node[data-id="{target}"]')).to_have_class(re.compile(r"\bfound\b"))
    assert inside_box(page, target)
    shot(page, "graph-150-found")
    assert errors == []


def test_a_phase_graph_shows_the_prerequisites_it_waits_on_in_other_phases(
    page: Page,  # noqa: F811
):
    page.set_viewport_size({"width": WIDTH, "height": 900})
    seed_bench_roadmap(150)
    log_in(page)
    page.goto("/roadmap/graph/")
    page.select_option("#id_phase", "phase_e")
    page.locator("#graph-filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"phase=phase_e"))
    ghosts = page.locator("#graph .node.ghost")
    assert ghosts.count() > 0
    expect(ghosts.first).to_contain_text("in Phase")
    expect(page.locator("#graph .lane-name").first).to_have_text("Prerequisites in other phases")
    assert geometry(page)["pageWidth"] <= WIDTH
    shot(page, "graph-phase-e")

    # At phone width the list goes under the picture and nothing overflows the page.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/roadmap/graph/?phase=phase_e&hide_completed=on")
    phone = geometry(page)
    assert phone["pageWidth"] <= 390
    assert phone["svgWidth"] <= phone["boxWidth"] + 0.5
    shot(page, "graph-phase-e-phone")
