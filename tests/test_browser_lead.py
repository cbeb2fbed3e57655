"""Issue 10's walk, end to end in a real headless Chromium, on the demo roadmap
(``manage.py demo_roadmap``): a lead finds why an item is blocked from the overview in at
most three clicks, filters the ready items, opens one, jumps to its admin page, soft-deletes
it with a reason, and sees the overview's counts move after an agent's claim without
reloading.

Screenshots go to ``test-artifacts/browser/lead-*.png``.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import Page, expect

from kernel import services
from kernel.models import Blocker
from roadmap.models import RoadmapItem, VReadyItems
from system.identity import Actor
from system.models import AuditLog
from tests import test_browser
from tests.test_browser import shot

#: tests/test_browser.py's Chromium page on the live server, as a fixture of this module.
browser_page = test_browser.page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Longer than two polls (4 s each) and a render.
LIVE_WAIT_MS = 12_000


def log_in_as_demo_lead(page: Page) -> None:
    lead = User.objects.get(username="demo-lead")
    lead.set_password("a-long-password")
    lead.save()
    page.goto("/login/")
    page.fill("#id_username", "demo-lead")
    page.fill("#id_password", "a-long-password")
    page.locator("button[type=submit]").click()
    expect(page.locator("#session")).to_contain_text("Signed in as demo-lead")


def test_a_lead_steers_from_the_pages_and_the_admin(browser_page: Page):
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 900})
    call_command("demo_roadmap", items=60, agents=3, cycles=8, seed=3)
    log_in_as_demo_lead(page)

    # 1. Why is an item blocked? Overview → the "open blocker" count → the item: 2 clicks.
    page.goto("/")
    shot(page, "lead-01-overview")
    blocked_by_blocker = int(page.locator("#total-blocker").inner_text())
    assert blocked_by_blocker == Blocker.objects.filter(resolved_at__isnull=True).count() == 2
    page.locator("#total-link-blocker").click()
    expect(page).to_have_url(re.compile(r"/roadmap/\?readiness=blocker$"))
    rows = page.locator("tr[data-item]")
    expect(rows).to_have_count(2)
    rows.first.locator("a").click()
    banner = page.locator("#status-banner")
    expect(banner).to_contain_text("open blocker")
    expect(page.locator("#open-blockers")).to_contain_text("Needs:")
    blocker = Blocker.objects.get(work_id=page.url.rstrip("/").split("/")[-1])
    expect(page.locator("#open-blockers")).to_contain_text(blocker.needs)
    expect(page.locator("#open-blockers")).to_contain_text(blocker.created_by)
    shot(page, "lead-02-why-blocked")

    # 2. Filter the ready items: every row says "Ready to start".
    page.goto("/roadmap/")
    page.select_option("#id_readiness", "ready")
    page.locator("#filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"readiness=ready"))
    readiness = page.locator("tr[data-item] .readiness")
    assert readiness.count() >= 3
    assert set(readiness.all_inner_texts()) == {"Ready to start"}
    shot(page, "lead-03-ready")

    # 3. Open one, 4. jump to its admin page.
    item_id = page.locator("tr[data-item]").first.get_attribute("data-item")
    page.locator("tr[data-item]").first.locator("a").click()
    expect(page.locator("#readiness-badge")).to_have_text("Ready to start")
    page.locator("#edit-in-admin").click()
    expect(page).to_have_url(re.compile(rf"/admin/roadmap/roadmapitem/{item_id}/change/$"))
    expect(page.locator(".viewsitelink")).to_have_attribute("href", f"/roadmap/{item_id}/")

    # 5. Soft-delete it with a reason (detaching its dependents, if any).
    page.locator("a.deletelink").click()
    expect(page.locator("#soft-deleted-rows")).to_contain_text(item_id)
    page.fill("#id_deletion_reason", "Duplicate of another item")
    detach = page.locator("#id_detach_dependents")
    if detach.count():
        detach.check()
    shot(page, "lead-04-soft-delete")
    page.locator("input[type=submit][value=Soft-delete]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert RoadmapItem.objects.get(pk=item_id).deleted_at is not None
    audit = AuditLog.objects.filter(resource_id=item_id, action="delete").get()
    assert audit.actor == "user:demo-lead"
    assert "Duplicate of another item" in (audit.context or "")

    # 6. The overview moves by itself when an agent claims.
    page.goto("/")
    expect(page.locator("#live-status")).to_be_visible()
    in_progress = int(page.locator("#total-in-progress").inner_text())
    page.evaluate("window.leadTestMarker = 'kept'")
    ready = services.unheld(VReadyItems.objects.exclude(id=item_id)).values_list("id", flat=True)
    agent = Actor.of(User.objects.get(username="demo-agent-1"))
    services.claim(agent, ready[0])
    expect(page.locator("#total-in-progress")).to_have_text(
        str(in_progress + 1), timeout=LIVE_WAIT_MS
    )
    assert page.evaluate("window.leadTestMarker") == "kept"
    shot(page, "lead-05-live")
