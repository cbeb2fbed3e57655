"""The programs page and the overview's "Recent activity" in a real headless Chromium at
1400 px: a lead follows the links of both into the admin and to item pages; a reader's
links stay on the site (row anchors). Screenshots go to ``test-artifacts/browser/``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect, sync_playwright

from kernel import services
from kernel.models import Blocker
from programs import services as program_services
from programs.models import (
    Bug,
    ChangeRequest,
    ComplianceResult,
    Feature,
    Product,
    Program,
    Release,
    Standard,
)
from roadmap import services as roadmap_services
from roadmap.models import RoadmapDependency, RoadmapItem
from system import policy
from system.fields import utc_now
from system.identity import Actor
from tests.test_browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    close_context_connections,
    user_with_role,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 1400


@pytest.fixture
def browser(live_server):
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium not found: install Debian's chromium (`make browser-deps`).")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            close_context_connections()


def signed_in(browser, live_server, username: str) -> Page:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": WIDTH, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "a-long-password")
    page.locator("button[type=submit], input[type=submit]").first.click()
    expect(page.locator("#session")).to_contain_text(username)
    return page


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def fits(page: Page) -> None:
    """Nothing on the page is wider than the window."""
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def programs_and_work() -> str:
    """Two programs with products, features, releases (one checked, one not), CRs with the
    roadmap items working on them, bugs; then some agent and lead activity. The id of the
    agent's first attempt."""
    platform = Program.objects.create(id="PG-PLAT", name="Motus Platform", owner="lead")
    Program.objects.create(id="PG-SITE", name="Website", type_key="software")
    kernel = Product.objects.create(id="PR-KERN", program=platform, name="Kernel", version="1.4.0")
    Product.objects.create(id="PR-CLI", program=platform, name="Command line", version="0.9.2")
    leases = Feature.objects.create(
        id="F-LEASE", product=kernel, name="Leases", version="1.2", status_key="stable"
    )
    Feature.objects.create(id="F-REVIEW", product=kernel, name="Review step")
    checked = Release.objects.create(id="REL-14", product=kernel, name="v1.4.0", status_key="ready")
    Release.objects.create(id="REL-15", product=kernel, name="v1.5.0")
    standard = Standard.objects.create(
        id="STD-TESTS",
        name="Tests pass",
        level_key="release",
        check_type_key="boolean",
        failure_message="failing",
    )
    ComplianceResult.objects.create(
        standard=standard,
        entity_type="release",
        entity_id="REL-14",
        release=checked,
        result="pass",
        checked_by="ci",
    )
    ChangeRequest.objects.create(
        id="CR-7", title="Faster lease renewal", product=kernel, feature=leases, owner="lead"
    )
    ChangeRequest.objects.create(id="CR-8", title="Review queue", product=kernel)
    for n, (title, cr) in enumerate(
        [
            ("Index leases by resource", "CR-7"),
            ("Heartbeat in one statement", "CR-7"),
            ("Show the review queue", "CR-8"),
            ("Document the lease API", None),
        ],
        start=31,
    ):
        RoadmapItem.objects.create(
            id=f"RM-{n:03d}", title=title, phase_key="phase_a", cr_id=cr, rank=float(n)
        )
    RoadmapDependency.objects.create(item_id="RM-032", depends_on_id="RM-031")
    RoadmapDependency.objects.create(item_id="RM-034", depends_on_id="RM-033")
    Bug.objects.create(
        id="BUG-3",
        title="Lease lost on restart",
        feature=leases,
        feature_version="1.2",
        severity_key="critical",
        fix_cr_id="CR-7",
    )

    ann = Actor.of(user_with_role("ann", policy.Role.AGENT, agent=True))
    lead = Actor.of(User.objects.get(username="lead"))
    attempt = services.claim(ann, "RM-031")["attempt"]["id"]
    blocker = services.raise_blocker(
        ann,
        {"reason_code": "missing_credential", "title": "Need staging credentials"},
        attempt_id=attempt,
    )["id"]
    services.release(ann, attempt, "blocked")
    Blocker.objects.filter(pk=blocker).update(created_at=utc_now() - dt.timedelta(minutes=5))
    services.resolve_blocker(lead, blocker, "Staging needs none", waive=True)
    roadmap_services.create_assignment(
        lead, "RM-034", agent_id="agent:ann", role="implementer", notes=None
    )
    program_services.file_bug(
        ann, title="Heartbeat drifts by a second", feature_id="F-LEASE", feature_version="1.2"
    )
    return attempt


def test_a_lead_follows_programs_and_activity_links(browser, live_server):
    user_with_role("lead", policy.Role.LEAD, staff=True)
    user_with_role("vera", policy.Role.VIEWER)
    attempt = programs_and_work()

    lead = signed_in(browser, live_server, "lead")
    lead.goto("/programs/")
    expect(lead.locator("#release-rel-15")).to_contain_text("no checks yet")
    expect(lead.locator("#release-rel-14")).to_contain_text("clear")
    fits(lead)
    shot(lead, "programs-01-lead")
    # A CR's name opens its admin page; its roadmap items open their pages.
    lead.locator("#cr-cr-7 a", has_text="CR-7").click()
    expect(lead.locator("#id_title")).to_have_value("Faster lease renewal")
    lead.go_back()
    lead.locator("#cr-cr-7 a", has_text="RM-032").click()
    expect(lead.locator("h1")).to_contain_text("Heartbeat in one statement")

    lead.goto("/")
    activity = lead.locator("#activity")
    expect(activity).to_contain_text("agent:ann claimed RM-031 “Index leases by resource”")
    expect(activity).to_contain_text("user:lead waived blocker")
    expect(activity).to_contain_text("1 of its prerequisites has nobody assigned: RM-033")
    expect(activity).not_to_contain_text("cascade_detected")
    fits(lead)
    shot(lead, "programs-02-overview-lead")
    # The attempt opens its card on the item page.
    activity.locator(f"a[href$='#attempt-{attempt}']").first.click()
    expect(lead.locator(f"#attempt-{attempt}")).to_be_visible()
    assert lead.url.endswith(f"/roadmap/RM-031/#attempt-{attempt}")
    # The blocker opens its admin page for a lead.
    lead.goto("/")
    lead.locator("#activity li", has_text="waived blocker").locator("a[href*='/admin/']").click()
    assert "/admin/kernel/blocker/" in lead.url
    expect(lead.locator("#content")).to_contain_text("Staging needs none")

    reader = signed_in(browser, live_server, "vera")
    reader.goto("/programs/")
    reader.locator("#release-rel-15 a").click()
    assert reader.url.endswith("/programs/#release-rel-15")
    fits(reader)
    shot(reader, "programs-03-reader")
    reader.set_viewport_size({"width": 390, "height": 844})
    reader.goto("/programs/#cr-cr-7")
    assert reader.evaluate("document.documentElement.scrollWidth") <= 390
    shot(reader, "programs-04-reader-phone")
    reader.set_viewport_size({"width": WIDTH, "height": 900})
    reader.goto("/")
    expect(reader.locator("#activity a[href*='/admin/']")).to_have_count(0)
    bug = reader.locator("#activity li", has_text="filed bug").locator("a").first
    bug.click()
    assert "/programs/#bug-bug-" in reader.url
    expect(reader.locator("#bugs")).to_contain_text("Heartbeat drifts by a second")
