"""End to end in a real headless Chromium: a lead (a staff account with the lead role, not a
superuser) builds a program and a roadmap in the admin, sees it on the progress pages, gets
the database's refusal as a form error, unblocks an agent's blocked item with a waiver and
finds the audit row of it on the overview; a non-staff viewer reads through the app's login.

Screenshots of each page are saved under ``test-artifacts/browser/``. Needs Debian's
``chromium`` (``make browser-deps``); Playwright drives it, no browser download.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.db import connections
from playwright.sync_api import Page, expect, sync_playwright

from kernel import services
from kernel.models import Blocker, Decision
from programs.models import CrDependency
from roadmap.models import RoadmapDependency, RoadmapItem
from system import policy
from system.fields import utc_now
from system.identity import Actor

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
# synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REFUSAL = "Cannot start: blocking dependencies not complete"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server):
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium not found: install Debian's chromium (`make browser-deps`).")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            browser.close()
            close_context_connections()


def close_context_connections() -> None:
    """Close the database connections the test opened inside Playwright's sync API.

    There the thread runs an event loop, so Django keeps those connections apart from the
    thread's usual ones (asgiref's context-local storage) and nothing else closes them:
    PostgreSQL would then refuse to drop the test database at the end of the run ("being
    accessed by other users"). Call it before leaving ``sync_playwright()``.
    """
    connections.close_all()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def pick(page: Page, select_id: str, text: str) -> None:
    """Choose ``text`` in an admin autocomplete (select2) widget, as a user would."""
    page.locator(f"#{select_id} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()


def add_inline_row(page: Page, prefix: str) -> None:
    """Click the inline's "Add another ..." link (the admin's own JavaScript)."""
    page.locator(f"#{prefix}-group .add-row a").click()


def save(page: Page) -> None:
    page.locator("input[name=_save]").click()


def add(page: Page, url: str, fields: dict[str, str], selects=None, autocompletes=None):
    page.goto(url)
    for name, value in fields.items():
        page.fill(f"#id_{name}", value)
    for name, value in (selects or {}).items():
        page.select_option(f"#id_{name}", value)
    for name, text in (autocompletes or {}).items():
        pick(page, f"id_{name}", text)
    save(page)
    expect(page.locator(".messagelist .success")).to_be_visible()


def user_with_role(name: str, role: str, *, staff: bool = False, agent: bool = False) -> User:
    user = User.objects.create_user(name, f"{name}@example.com", "a-long-password")
    user.is_staff = staff
    user.save()
    user.groups.add(Group.objects.get(name=policy.group_name(role)))
    if agent:
        user.groups.add(Group.objects.get_or_create(name="agents")[0])
    return user


def test_lead_builds_a_roadmap_and_sees_it(page: Page, live_server):
    user_with_role("lead", policy.Role.LEAD, staff=True)

    page.goto("/admin/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", "a-long-password")
    page.locator("input[type=submit]").click()
    expect(page.locator("#site-name")).to_be_visible()
    shot(page, "01-admin-home")

    add(
        page,
        "/admin/programs/program/add/",
        {"id": "PRG", "name": "Platform"},
        selects={"type_key": "software"},
    )
    add(
        page,
        "/admin/programs/product/add/",
        {"id": "PRD", "name": "Kernel"},
        autocompletes={"program": "Platform"},
    )
    add(
        page,
        "/admin/programs/feature/add/",
        {"id": "FTR", "name": "Leases"},
        autocompletes={"product": "Kernel"},
    )
    add(page, "/admin/programs/changerequest/add/", {"id": "CR-1", "title": "Lease store"})
    page.goto("/admin/programs/changerequest/add/")
    page.fill("#id_id", "CR-2")
    page.fill("#id_title", "Lease heartbeat")
    add_inline_row(page, "dependencies")
    pick(page, "id_dependencies-0-depends_on", "CR-1")
    shot(page, "02-change-request-with-dependency")
    save(page)
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert CrDependency.objects.filter(cr_id="CR-2", depends_on_id="CR-1").exists()

    add(
        page,
        "/admin/roadmap/roadmapitem/add/",
        {"id": "RM-1", "title": "Build the store"},
        selects={"phase_key": "phase_a"},
    )
    page.goto("/admin/roadmap/roadmapitem/add/")
    page.fill("#id_id", "RM-2")
    page.fill("#id_title", "Heartbeat on top")
    page.select_option("#id_phase_key", "phase_a")
    add_inline_row(page, "dependencies")
    pick(page, "id_dependencies-0-depends_on", "RM-1")
    save(page)
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert RoadmapDependency.objects.filter(item_id="RM-2", depends_on_id="RM-1").exists()

    page.goto("/")
    expect(page.locator("#total-ready")).to_have_text("1")
    expect(page.locator("#total-blocked")).to_have_text("1")
    expect(page.locator("#progress")).to_contain_text("Phase A")
    shot(page, "03-overview")

    page.goto("/roadmap/RM-2/")
    expect(page.locator("h1")).to_contain_text("Heartbeat on top")
    expect(page.locator("#dependencies")).to_contain_text("RM-1")
    expect(page.locator("#prerequisites")).to_contain_text("RM-1")
    shot(page, "04-item-page")

    page.goto("/admin/roadmap/roadmapitem/RM-2/change/")
    page.select_option("#id_status_key", "in_progress")
    page.fill("#id_reason", "Starting by hand")
    save(page)
    expect(page.locator(".errornote, .errorlist").first).to_be_visible()
    expect(page.locator("body")).to_contain_text(REFUSAL)
    shot(page, "05-refused-save")
    assert RoadmapItem.objects.get(pk="RM-2").status_key == "pending"

    page.goto("/roadmap/")
    expect(page.locator("#roadmap-items")).to_contain_text("RM-2")
    shot(page, "06-roadmap-list")
    page.goto("/programs/")
    expect(page.locator("#programs")).to_contain_text("Platform")
    shot(page, "07-programs")

    # An agent claims RM-1 and releases it blocked; the lead unblocks it from the admin.
    agent = Actor.of(user_with_role("ana", policy.Role.AGENT, agent=True))
    attempt = services.claim(agent, "RM-1")["attempt"]["id"]
    blocker = services.raise_blocker(
        agent,
        {"reason_code": "missing_credential", "title": "Need staging credentials"},
        attempt_id=attempt,
    )
    services.release(agent, attempt, "blocked")
    # The database wants the waiver strictly newer than the blocker (to the second).
    Blocker.objects.filter(pk=blocker["id"]).update(created_at=utc_now() - dt.timedelta(minutes=5))
    page.goto("/roadmap/RM-1/")
    expect(page.locator("body")).to_contain_text("Need staging credentials")
    page.goto(f"/admin/kernel/blocker/{blocker['id']}/change/")
    page.fill("#id_resolution", "Staging needs no credentials; waived by the lead")
    page.check("#id_waive")
    shot(page, "08-admin-unblock")
    save(page)
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert Blocker.objects.get(pk=blocker["id"]).resolved_by == "user:lead"
    assert Decision.objects.get(work_id="RM-1", decision_type="waiver").decided_by == "user:lead"
    assert RoadmapItem.objects.get(pk="RM-1").status_key == "pending"

    page.goto("/")
    expect(page.locator("#activity")).to_contain_text("user:lead")
    expect(page.locator("#activity")).to_contain_text(blocker["id"])
    shot(page, "09-overview-with-the-leads-audit-row")

    # A reader who is not staff logs in through the app's own login page.
    user_with_role("vera", policy.Role.VIEWER)
    context = page.context.browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}
    )
    reader = context.new_page()
    reader.goto("/roadmap/")
    assert "/login/?next=/roadmap/" in reader.url
    reader.fill("#id_username", "vera")
    reader.fill("#id_password", "a-long-password")
    reader.locator("button[type=submit], input[type=submit]").first.click()
    expect(reader.locator("#roadmap-items")).to_contain_text("RM-1")
    reader.screenshot(path=str(ARTIFACTS / "10-viewer-roadmap-phone.png"), full_page=True)
    context.close()


# --------------------------------------------------------------------------- the admin at 1400 px

LONG = "Make the lease store survive a crash of the coordinating process without losing claims"
WIDE_WINDOW = {"width": 1400, "height": 900}


def admin_rows() -> dict[str, str]:
    """A roadmap and a program tree with long texts and full inlines: one row of each table a
    lead works in daily. Returns name → its admin change page."""
    from kernel.models import Lease, WorkRequiredCapability
    from programs.models import (
        Bug,
        ChangeRequest,
        CharterDoc,
        ComplianceResult,
        Feature,
        Product,
        Program,
        Release,
        Standard,
        StandardAssignment,
    )
    from roadmap import services as roadmap_services
    from roadmap.models import Claim, RoadmapAssignment
    from system.models import InstanceConfig, Terminology

    lead = Actor.of(User.objects.get(username="lead"))
    agents = [user_with_role(f"agent-{n}", policy.Role.AGENT, agent=True) for n in range(3)]
    for n in range(4):
        roadmap_services.create_item(
            lead, id=f"RM-{n}", phase_key="phase_a", title=f"{LONG}, part {n}", description=LONG * 4
        )
    for n in range(3):
        roadmap_services.add_dependency(lead, "RM-3", f"RM-{n}", "blocks", LONG)
    for agent in agents:
        roadmap_services.create_assignment(
            lead, "RM-3", agent_id=f"agent:{agent.username}", role="implementer", notes=LONG
        )
    WorkRequiredCapability.objects.create(work_id="RM-3", capability_id="gpu", required_by=LONG)
    attempt = services.claim(Actor.of(agents[0]), "RM-0")["attempt"]["id"]
    blocker = services.raise_blocker(
        Actor.of(agents[0]),
        {"reason_code": "missing_credential", "title": LONG, "needs": LONG, "description": LONG},
        attempt_id=attempt,
    )
    program = Program.objects.create(id="PRG", name=LONG, description=LONG)
    products = [
        Product.objects.create(id=f"PRD-{n}", program=program, name=f"{LONG} {n}") for n in range(3)
    ]
    feature = Feature.objects.create(id="FTR", product=products[0], name=LONG)
    for n in range(3):
        Feature.objects.create(id=f"FTR-{n}", product=products[0], name=f"{LONG} {n}")
    release = Release.objects.create(
        id="REL", product=products[0], name=LONG, target_date="2026-10-01"
    )
    standard = Standard.objects.create(
        id="STD", name=LONG, level_key="release", check_type_key="boolean", failure_message=LONG
    )
    StandardAssignment.objects.create(standard=standard, entity_type="release", entity_id="REL")
    ComplianceResult.objects.create(
        standard=standard,
        release=release,
        entity_type="release",
        entity_id="REL",
        result="fail",
        result_value=LONG,
        checked_by="ci",
    )
    for n in range(3):
        ChangeRequest.objects.create(id=f"CR-{n}", title=f"{LONG} {n}", product=products[0])
    CrDependency.objects.create(cr_id="CR-2", depends_on_id="CR-1", dependency_type="blocks")
    Bug.objects.create(
        id="BUG", title=LONG, feature=feature, feature_version="1.0", description=LONG
    )
    CharterDoc.objects.create(
        id="DOC", doc_type_key="ethos", version="1", title=LONG, content_hash="a" * 64
    )
    Claim.objects.create(
        id="CLM", claim_text=LONG, page="/", claim_type="qualitative", test_function=None
    )
    lease = Lease.objects.filter(resource_id="RM-0").first()
    term = Terminology.objects.get(domain="roadmap_phase", internal_key="phase_a")
    config = InstanceConfig.objects.get(key="instance_id")
    assignment = RoadmapAssignment.objects.filter(item_id="RM-3").first()
    return {
        "item": "/admin/roadmap/roadmapitem/RM-3/change/",
        "item-in-progress": "/admin/roadmap/roadmapitem/RM-0/change/",
        "item-add": "/admin/roadmap/roadmapitem/add/",
        "blocker": f"/admin/kernel/blocker/{blocker['id']}/change/",
        "assignment": f"/admin/roadmap/roadmapassignment/{assignment.pk}/change/",
        "claim": "/admin/roadmap/claim/CLM/change/",
        "attempt": f"/admin/kernel/attempt/{attempt}/change/",
        "lease": f"/admin/kernel/lease/{lease.pk}/change/",
        "program": "/admin/programs/program/PRG/change/",
        "product": "/admin/programs/product/PRD-0/change/",
        "feature": "/admin/programs/feature/FTR/change/",
        "release": "/admin/programs/release/REL/change/",
        "change-request": "/admin/programs/changerequest/CR-2/change/",
        "bug": "/admin/programs/bug/BUG/change/",
        "standard": "/admin/programs/standard/STD/change/",
        "charter-doc": "/admin/programs/charterdoc/DOC/change/",
        "terminology": f"/admin/system/terminology/{term.pk}/change/",
        "instance-setting": f"/admin/system/instanceconfig/{config.pk}/change/",
        "item-delete": "/admin/roadmap/roadmapitem/RM-1/delete/",
        "item-list": "/admin/roadmap/roadmapitem/",
        "index": "/admin/",
    }


def test_admin_pages_fit_a_1400_px_window_and_a_soft_delete_asks_why(page: Page):
    user_with_role("lead", policy.Role.LEAD, staff=True)
    pages = admin_rows()
    page.set_viewport_size(WIDE_WINDOW)
    page.goto("/admin/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", "a-long-password")
    page.locator("input[type=submit]").click()
    expect(page.locator("#site-name")).to_have_text("Motus")

    widths = {}
    for name, url in pages.items():
        page.goto(url)
        expect(page.locator("#content")).to_be_visible()
        widths[name] = page.evaluate("document.scrollingElement.scrollWidth")
    assert {name: width for name, width in widths.items() if width > 1400} == {}

    page.goto("/admin/")
    expect(page.locator("#content-main .module caption").first).to_have_text("Roadmap")
    shot(page, "admin-01-index")
    page.goto(pages["item"])
    expect(page.locator("#id_roadmap_assignments-2-agent_id")).to_have_value("agent:agent-2")
    expect(page.locator(".viewsitelink")).to_have_attribute("href", "/roadmap/RM-3/")
    shot(page, "admin-02-item-change")

    # The lead soft-deletes RM-1, which RM-3 waits on: the page says so and asks why.
    page.goto("/admin/roadmap/roadmapitem/RM-1/change/")
    page.locator("a.deletelink").click()
    expect(page.locator("h1")).to_have_text("Soft-delete 1 roadmap item?")
    expect(page.locator("#deletion-obstacles")).to_contain_text("RM-3")
    page.locator("input[type=submit][value=Soft-delete]").click()
    expect(page.locator("#id_deletion_reason_error")).to_contain_text("Say why")
    page.fill("#id_deletion_reason", "Folded into RM-2")
    page.check("#id_detach_dependents")
    shot(page, "admin-03-soft-delete")
    page.locator("input[type=submit][value=Soft-delete]").click()
    expect(page.locator(".messagelist .success")).to_contain_text("Reason: Folded into RM-2")
    deleted = RoadmapItem.objects.get(pk="RM-1")
    assert deleted.deleted_at is not None
    assert not RoadmapDependency.objects.filter(depends_on_id="RM-1").exists()

    # Cancel goes back to the change page and deletes nothing.
    page.goto("/admin/roadmap/roadmapitem/RM-2/delete/")
    page.locator("a.cancel-link").click()
    expect(page).to_have_url(
        f"{page.url.split('/admin/')[0]}/admin/roadmap/roadmapitem/RM-2/change/"
    )
    assert RoadmapItem.objects.get(pk="RM-2").deleted_at is None
