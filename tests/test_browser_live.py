"""Live progress pages in a real headless Chromium: while the overview, the roadmap list and
an item page are open, agents work through the service layer, and the pages show it without
a reload: the same document (a marker set in the page survives), the same scroll position,
the same open <details> and the same filters.

Screenshots go to ``test-artifacts/browser/`` (``live-*.png``).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from kernel import services
from roadmap.models import RoadmapItem
from system import policy
from tests import test_browser
from tests.page_support import DEMO_EVIDENCE, build_demo_roadmap, demo_user
from tests.test_browser import ARTIFACTS, shot

#: tests/test_browser.py's Chromium page on the live server, as a fixture of this module.
browser_page = test_browser.page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Longer than two polls (4 s each) and a render.
LIVE_WAIT_MS = 12_000


def log_in(page: Page) -> None:
    """As a viewer, through the pages' own login."""
    demo_user("vera", policy.Role.VIEWER)
    page.goto("/login/")
    page.fill("#id_username", "vera")
    page.fill("#id_password", "a-long-password")
    page.locator("button[type=submit]").click()
    expect(page.locator("#session")).to_contain_text("Signed in as vera")


def mark_document(page: Page) -> None:
    """Leave a marker in the page: a reload or a navigation would lose it."""
    page.evaluate("window.liveTestMarker = 'kept'")


def assert_same_document(page: Page) -> None:
    assert page.evaluate("window.liveTestMarker") == "kept"
    assert page.evaluate("window.motusLive.updates") >= 1


def count(page: Page, element_id: str) -> int:
    return int(page.locator(f"#{element_id}").inner_text())


def test_overview_counts_change_when_an_agent_claims_without_a_reload(browser_page: Page):
    page = browser_page
    world = build_demo_roadmap(per_phase=20, cycles=24)
    agent = world["agents"][4]
    log_in(page)

    page.goto("/")
    expect(page.locator("#live-status")).to_be_visible()
    ready, in_progress = count(page, "total-ready"), count(page, "total-in-progress")
    mark_document(page)
    page.mouse.wheel(0, 400)
    page.wait_for_function("window.scrollY >= 300")
    scrolled = page.evaluate("window.scrollY")
    shot(page, "live-01-overview-before")

    first_ready = page.evaluate(
        "fetch('/roadmap/?readiness=ready').then(r => r.text())"
        ".then(t => new DOMParser().parseFromString(t, 'text/html')"
        ".querySelector('tr[data-item]').dataset.item)"
    )
    services.claim(agent, first_ready)

    expect(page.locator("#total-in-progress")).to_have_text(
        str(in_progress + 1), timeout=LIVE_WAIT_MS
    )
    expect(page.locator("#total-ready")).not_to_have_text(str(ready))
    assert_same_document(page)
    assert page.evaluate("window.scrollY") == scrolled
    expect(page.locator("#activity")).to_contain_text(f"claimed {first_ready}")
    expect(page.locator("#live-status")).to_contain_text("updated")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "live-02-overview-after-claim")

    # A hidden tab does not poll; shown again, it polls at once.
    set_hidden(page, True)
    polls = page.evaluate("window.motusLive.polls")
    page.wait_for_timeout(9_000)
    assert page.evaluate("window.motusLive.polls") == polls
    set_hidden(page, False)
    page.wait_for_function(f"window.motusLive.polls > {polls}", timeout=2_000)


def set_hidden(page: Page, hidden: bool) -> None:
    """What the browser says when the tab is hidden or shown again."""
    page.evaluate(
        "hidden => { Object.defineProperty(document, 'hidden', {value: hidden,"
        " configurable: true}); document.dispatchEvent(new Event('visibilitychange')); }",
        hidden,
    )


def test_the_list_keeps_filters_scroll_and_open_details_while_it_updates(browser_page: Page):
    page = browser_page
    world = build_demo_roadmap(per_phase=20, cycles=24)
    agent = world["agents"][4]
    log_in(page)

    page.goto("/roadmap/?readiness=ready")
    expect(page.locator("#id_readiness")).to_have_value("ready")
    ready_rows = page.locator("#roadmap-items tr[data-item]")
    before = ready_rows.count()
    assert before >= 2
    first = ready_rows.first.get_attribute("data-item")
    # Open the legend and type in the text filter without submitting it.
    page.locator("#legend summary").click()
    page.fill("#id_q", "typed, not sent")
    page.locator("#id_q").focus()
    mark_document(page)

    services.claim(agent, first)

    expect(page.locator(f'#roadmap-items tr[data-item="{first}"]')).to_have_count(
        0, timeout=LIVE_WAIT_MS
    )
    assert_same_document(page)
    expect(page.locator("#roadmap-items tr[data-item]")).to_have_count(before - 1)
    expect(page.locator("#id_readiness")).to_have_value("ready")
    expect(page.locator("#id_q")).to_have_value("typed, not sent")
    expect(page.locator("#id_q")).to_be_focused()
    assert page.locator("#legend").get_attribute("open") is not None
    shot(page, "live-03-list-after-claim")

    # Completed items folded out stay folded out when the list updates: an agent finishes
    # its work in a phase whose completed items are open on the screen.
    work_id, (holder, attempt) = next(iter(world["attempts"].items()))
    phase = RoadmapItem.objects.get(id=work_id).phase_key
    page.goto(f"/roadmap/?phase={phase}")
    summary = page.locator(f"#completed-{phase} summary")
    summary.click()
    done = int(summary.inner_text().removeprefix("Completed items (").removesuffix(")"))
    mark_document(page)
    services.record_evidence(holder, attempt, DEMO_EVIDENCE)
    services.release(holder, attempt, "completed")
    expect(summary).to_have_text(f"Completed items ({done + 1})", timeout=LIVE_WAIT_MS)
    assert_same_document(page)
    assert page.locator(f"#completed-{phase}").get_attribute("open") is not None
    shot(page, "live-04-list-completed-kept-open")


def page_ready_item(page: Page) -> str:
    """The first item the list on the page shows as ready to start."""
    return page.locator("tr[data-item]:has(.readiness-ready)").first.get_attribute("data-item")


def test_the_item_page_banner_follows_the_work(browser_page: Page):
    page = browser_page
    world = build_demo_roadmap(per_phase=20, cycles=24)
    agent = world["agents"][4]
    log_in(page)
    page.goto("/roadmap/?readiness=ready")
    work_id = page_ready_item(page)

    page.goto(f"/roadmap/{work_id}/")
    expect(page.locator("#status-banner-heading")).to_have_text(
        "Ready to start: anyone may claim it"
    )
    mark_document(page)
    attempt = services.claim(agent, work_id)["attempt"]["id"]
    expect(page.locator("#status-banner-heading")).to_have_text(
        f"Being worked on by {agent.identity}", timeout=LIVE_WAIT_MS
    )
    expect(page.locator("#holders")).to_contain_text(attempt)
    expect(page.locator("#holders")).to_contain_text("lease until")
    shot(page, "live-05-item-being-worked-on")

    services.raise_blocker(
        agent,
        {"reason_code": "missing_info", "title": "Which API version?", "needs": "A decision"},
        attempt_id=attempt,
    )
    services.release(agent, attempt, "blocked")
    expect(page.locator("#status-banner-heading")).to_have_text(
        "Blocked: 1 open blocker", timeout=LIVE_WAIT_MS
    )
    expect(page.locator("#open-blockers")).to_contain_text("Needs: A decision")
    expect(page.locator(f"#attempt-{attempt}")).to_contain_text("outcome: Blocked")
    assert_same_document(page)
    shot(page, "live-06-item-blocked")
    assert ARTIFACTS.joinpath("live-06-item-blocked.png").exists()
