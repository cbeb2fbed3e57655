"""The progress pages, read like a user would: real requests through Django's test client on a
real SQLite file with the contract's triggers and views. Numbers on the pages are checked
against the database, and each page's query count against the amount of data."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth.models import Group
from django.test.utils import override_settings
from django.urls import reverse

from kernel import services
from kernel.models import Attempt, Blocker, Decision, Evidence, KernelOutcome, Lease
from roadmap.links import item_url
from roadmap.models import (
    Claim,
    RoadmapAssignment,
    RoadmapItem,
    VReadyItems,
)
from system import policy
from system.fields import utc_now
from system.models import AuditLog
from tests.page_support import (
    PAGES,
    T0,
    depend,
    item,
    many_items,
    parse,
    query_count,
    raw,
    text,
    viewer_group,
)

# -- access --------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(MOTUS_ANONYMOUS_READ=False)
@pytest.mark.parametrize("url", [*PAGES, "/roadmap/R1/", "/roadmap/R1/graph.svg"])
def test_anonymous_users_are_sent_to_the_login_page(client, url):
    item("R1")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


@pytest.mark.django_db
@override_settings(MOTUS_ANONYMOUS_READ=True)
@pytest.mark.parametrize("url", [*PAGES, "/roadmap/R1/", "/roadmap/R1/graph.svg"])
def test_anonymous_read_setting_opens_the_pages_to_anonymous_users(client, url):
    item("R1")
    response = client.get(url)
    assert response.status_code == 200
    if not url.endswith(".svg"):
        assert "Read-only access" in response.content.decode()


@pytest.mark.parametrize("url", PAGES)
def test_logged_in_users_read_every_page_without_the_setting(reader, url):
    with override_settings(MOTUS_ANONYMOUS_READ=False):
        assert reader.get(url).status_code == 200


@pytest.mark.parametrize(
    "url", ["/", "/roadmap/", "/roadmap/graph/", "/programs/", "/roadmap/R1/", "/login/"]
)
def test_pages_are_well_formed_html_with_a_title_one_h1_and_labelled_fields(reader, url):
    item("R1")
    response = reader.get(url)
    html = response.content.decode()
    parsed = parse(response)
    assert html.startswith("<!doctype html>")
    assert '<html lang="en">' in html
    assert re.search(r"<title>[^<]+ · Motus</title>", html)
    assert [tag for tag, _ in parsed.tags].count("h1") == 1
    assert parsed.texts["page-title"].strip()
    assert '<meta name="viewport"' in html
    # Every visible form field has a <label for=...>.
    labels = {attrs.get("for") for tag, attrs in parsed.tags if tag == "label"}
    fields = [
        attrs["id"]
        for tag, attrs in parsed.tags
        if tag in {"input", "select"} and attrs.get("type") != "hidden"
    ]
    assert set(fields) <= labels
    # No script, no CDN: only our own stylesheet.
    assert "<script" not in html
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', html) == ["/static/pages/site.css"]


PASSWORD = "a-long-password-1"
READ_PAGES = ["/", "/roadmap/", "/roadmap/R1/", "/programs/"]


def assert_plain_page(html: str) -> None:
    """Our own look: the base template's stylesheet, one h1, no script."""
    assert html.startswith("<!doctype html>")
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', html) == ["/static/pages/site.css"]
    assert html.count("<h1") == 1
    assert "<script" not in html


@override_settings(MOTUS_ANONYMOUS_READ=False)
def test_a_non_staff_viewer_logs_in_through_the_login_page_and_reads_the_pages(
    client, django_user_model
):
    item("R1")
    viewer = django_user_model.objects.create_user("vera", password=PASSWORD)
    viewer.groups.add(viewer_group())
    assert not viewer.is_staff

    response = client.get("/roadmap/R1/")
    assert response["Location"] == "/login/?next=/roadmap/R1/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert_plain_page(html)
    assert text(page, "page-title") == "Log in"
    assert '<input type="hidden" name="next" value="/roadmap/R1/">' in html
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert "staff" not in html.lower()
    assert "Read-only access" not in html  # no "Log in" link to the page itself

    wrong = client.post("/login/", {"username": "vera", "password": "nope", "next": "/roadmap/R1/"})
    assert wrong.status_code == 200
    assert "correct username and password" in text(wrong, "login-errors")

    done = client.post(
        "/login/", {"username": "vera", "password": PASSWORD, "next": "/roadmap/R1/"}
    )
    assert done.status_code == 302
    assert done["Location"] == "/roadmap/R1/"
    for url in READ_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        session = text(response, "session")
        assert session.startswith("Signed in as vera")
        assert "Log out" in session
    html = client.get("/").content.decode()
    assert '<form method="post" action="/logout/" class="logout">' in html
    assert 'href="/admin/"' not in html  # not staff: the admin would refuse them

    # Without ?next= the login comes to the overview.
    client.logout()
    assert client.post("/login/", {"username": "vera", "password": PASSWORD})["Location"] == "/"


@override_settings(MOTUS_ANONYMOUS_READ=False)
def test_logging_out_takes_a_post_and_comes_back_to_the_login_page(reader):
    response = reader.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert reader.get("/")["Location"] == "/login/?next=/"
    assert reader.get("/logout/").status_code == 405  # no logging out by a link


@override_settings(MOTUS_ANONYMOUS_READ=False)
@pytest.mark.parametrize("url", READ_PAGES + ["/roadmap/graph/", "/roadmap/R1/graph.svg"])
def test_a_user_with_no_role_gets_a_styled_403_page(client, django_user_model, url):
    item("R1")
    client.force_login(django_user_model.objects.create_user("nobody"))
    response = client.get(url)
    assert response.status_code == 403
    html = response.content.decode()
    assert_plain_page(html)
    reason = text(response, "refusal-reason")
    assert "signed in as nobody" in reason
    assert "have no role that may read them" in reason
    assert "Ask a lead" in text(response, "refusal")
    assert "Log out" in text(response, "session")
    assert "R1" not in text(response, "main")


@override_settings(MOTUS_ANONYMOUS_READ=False)
def test_the_403_page_names_the_roles_that_do_not_read(client, django_user_model):
    """A lead may take the read permission away from a role; its members are told so."""
    user = django_user_model.objects.create_user("odd")
    group = Group.objects.create(name=policy.group_name("odd"))  # not a policy role
    user.groups.add(group)
    client.force_login(user)
    assert "have no role that may read them" in text(client.get("/"), "refusal-reason")


@override_settings(MOTUS_ANONYMOUS_READ=False)
@pytest.mark.parametrize("role", list(policy.Role))
def test_every_role_reads_the_pages(client, django_user_model, role):
    item("R1")
    user = django_user_model.objects.create_user(f"with-{role}")
    user.groups.add(Group.objects.get(name=policy.group_name(role)))
    client.force_login(user)
    for url in READ_PAGES:
        assert client.get(url).status_code == 200, url


@override_settings(MOTUS_ANONYMOUS_READ=False)
def test_a_superuser_reads_the_pages_without_a_role(client, django_user_model):
    item("R1")
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "x"))
    for url in READ_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
    assert 'href="/admin/"' in response.content.decode()


@override_settings(MOTUS_ANONYMOUS_READ=True)
def test_anonymous_read_lets_a_user_without_a_role_read_too(client, django_user_model):
    """Logging in never gives less than the install gives anonymous visitors."""
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.get("/").status_code == 200


@override_settings(MOTUS_ANONYMOUS_READ=True)
def test_anonymous_readers_get_a_log_in_link_back_to_the_page(db, client):
    response = client.get("/roadmap/?status=pending")
    assert "Read-only access" in text(response, "session")
    assert 'href="/login/?next=/roadmap/%3Fstatus%3Dpending"' in response.content.decode()


def test_the_stylesheet_is_served_by_the_app(reader):
    response = reader.get("/static/pages/site.css")
    assert response.status_code == 200
    assert b".graph-box" in b"".join(response.streaming_content)


# -- overview ------------------------------------------------------------------------------


def test_overview_shows_the_progress_counts_of_v_roadmap_progress(reader):
    # phase_a: 1 of 16 completed (6.25% rounds half away from zero to 6.3), 2 in progress,
    # 1 blocked; phase_b: 2 of 2 completed.
    item("A00", status="completed")
    for i in range(1, 16):
        status = "in_progress" if i <= 2 else "blocked" if i == 3 else "pending"
        item(f"A{i:02d}", status=status)
    item("B1", phase="phase_b", status="completed")
    item("B2", phase="phase_b", status="completed")
    item("GONE", phase="phase_d", deleted_at=T0)

    response = reader.get("/")
    assert response.status_code == 200
    rows = raw(
        "SELECT phase_key, phase, total_items, completed, in_progress, blocked, "
        "pct_complete FROM v_roadmap_progress"
    )
    assert [r[0] for r in rows] == ["phase_a", "phase_b"]
    for phase_key, phase, total, completed, in_progress, blocked, pct in rows:
        shown = text(response, f"phase-{phase_key}")
        assert shown == (
            f"{phase} {pct}% {completed} of {total} completed ({pct}%) · "
            f"{in_progress} in progress · 0 in review · {blocked} with status blocked"
        )
    assert text(response, "phase-phase_a").startswith("Phase A 6.3%")
    assert '<progress max="16" value="1"' in response.content.decode()
    # Phases in terminology order, and no row for a phase with only deleted items.
    html = response.content.decode()
    assert html.index('id="phase-phase_a"') < html.index('id="phase-phase_b"')
    assert 'id="phase-phase_d"' not in html


def test_overview_totals_match_the_readiness_views(reader):
    item("DONE", status="completed")
    item("OPEN")  # pending, not started: blocks others
    item("READY1", phase="phase_b")  # pending, depends on a completed item: ready
    depend("READY1", "DONE")
    item("READY2", phase="phase_b")  # a soft dependency never blocks
    depend("READY2", "OPEN", "soft")
    item("WAIT1", phase="phase_b")  # blocked by OPEN
    depend("WAIT1", "OPEN")
    item("WAIT2", phase="phase_b", status="blocked")
    depend("WAIT2", "OPEN")
    item("BUSY", phase="phase_c", status="in_progress")

    response = reader.get("/")
    ready = raw("SELECT COUNT(*) FROM v_ready_items")[0][0]
    blocked = raw("SELECT COUNT(*) FROM v_blocked_items")[0][0]
    in_progress = raw(
        "SELECT COUNT(*) FROM roadmap_items WHERE status_key = 'in_progress' AND deleted_at IS NULL"
    )[0][0]
    assert (ready, blocked, in_progress) == (3, 2, 1)  # OPEN, READY1, READY2; WAIT1, WAIT2
    assert text(response, "total-ready") == str(ready)
    assert text(response, "total-blocked") == str(blocked)
    assert text(response, "total-in-progress") == str(in_progress)


def test_overview_shows_deploy_readiness_with_the_blocking_claims(reader):
    response = reader.get("/")
    assert text(response, "deploy-status") == "READY"

    Claim.objects.create(
        id="C-FAIL",
        claim_text="Loads in 2 s",
        page="home",
        claim_type="quantitative",
        test_function="test_speed",
        test_status="fail",
        last_verified_at=T0,
    )
    Claim.objects.create(
        id="C-STALE",
        claim_text="Works offline",
        page="docs",
        claim_type="qualitative",
        test_status="stale",
    )
    Claim.objects.create(
        id="C-PASS",
        claim_text="Has a logo",
        page="home",
        claim_type="qualitative",
        test_status="pass",
    )
    response = reader.get("/")
    status, failed = raw("SELECT status, failed_count FROM v_can_deploy")[0]
    assert (status, failed) == ("BLOCKED", 1)
    assert text(response, "deploy-status") == status
    assert text(response, "deploy-failed-count") == str(failed)
    listed = [attrs["data-claim"] for tag, attrs in parse(response).tags if "data-claim" in attrs]
    # v_deploy_blockers' order: never verified (NULL) first.
    assert listed == [row[0] for row in raw("SELECT id FROM v_deploy_blockers")]
    assert listed == ["C-STALE", "C-FAIL"]


def test_overview_lists_the_latest_twenty_audit_entries_newest_first(reader):
    instance = raw("SELECT value FROM instance_config WHERE key = 'instance_id'")[0][0]
    later = utc_now() + dt.timedelta(hours=1)  # after any row the migrations wrote
    AuditLog.objects.bulk_create(
        AuditLog(
            timestamp=later + dt.timedelta(minutes=i),
            event_type="test",
            actor=f"agent:{i}",
            action="poke",
            resource_type="roadmap_assignment",
            resource_id="R1",
            instance_id=instance,
        )
        for i in range(25)
    )
    item("R1")
    response = reader.get("/")
    shown = [int(a["data-audit-id"]) for tag, a in parse(response).tags if "data-audit-id" in a]
    expected = AuditLog.objects.order_by("-timestamp", "-id").values_list("id", flat=True)[:20]
    assert shown == list(expected)
    assert "agent:24" in text(response, "activity")
    assert "agent:4 " not in text(response, "activity") + " "
    assert 'href="/roadmap/R1/"' in response.content.decode()


def test_overview_query_count_is_flat_in_the_number_of_items(reader):
    many_items(5, prefix="S")
    small = query_count(reader, "/")
    many_items(200, prefix="L")
    assert query_count(reader, "/") == small


# -- roadmap list --------------------------------------------------------------------------


def rows_of(response) -> list[str]:
    return [a["data-item"] for tag, a in parse(response).tags if tag == "tr" and "data-item" in a]


def test_roadmap_groups_items_by_phase_in_terminology_order(reader):
    item("B1", phase="phase_b", rank=2.0)
    item("B0", phase="phase_b", rank=1.0)
    item("A1", phase="phase_a")
    item("X1", phase="mystery_phase")  # no terminology row: first, under its key
    item("GONE", phase="phase_a", deleted_at=T0)
    response = reader.get("/roadmap/")
    assert rows_of(response) == ["X1", "A1", "B0", "B1"]
    groups = [
        a["data-phase"] for tag, a in parse(response).tags if tag == "section" and "data-phase" in a
    ]
    assert groups == ["mystery_phase", "phase_a", "phase_b"]
    assert text(response, "group-phase_b-heading") == "Phase B"
    assert text(response, "group-mystery_phase-heading") == "mystery_phase"
    assert text(response, "result-count") == "4 items"


def test_roadmap_badges_follow_the_readiness_views(reader):
    item("DONE", status="completed")
    item("OPEN")
    item("WAIT")
    depend("WAIT", "OPEN")
    item("GO")
    depend("GO", "DONE")
    response = reader.get("/roadmap/")
    html = response.content.decode()

    def badge(item_id):
        row = re.search(rf'<tr data-item="{item_id}">(.*?)</tr>', html, re.S).group(1)
        found = re.search(r'class="badge (\w+)"', row)
        return found.group(1) if found else None

    ready = {r[0] for r in raw("SELECT id FROM v_ready_items")}
    blocked = {r[0] for r in raw("SELECT id FROM v_blocked_items")}
    assert (ready, blocked) == ({"OPEN", "GO"}, {"WAIT"})
    assert {i: badge(i) for i in ["DONE", "OPEN", "WAIT", "GO"]} == {
        "DONE": None,
        "OPEN": "ready",
        "WAIT": "blocked",
        "GO": "ready",
    }


def test_roadmap_filters_by_status_owner_type_and_text(reader):
    item("R1", owner="ann", title="Parser rewrite")
    item("R2", owner="bob", status="in_progress", title="Lexer")
    item("R3", owner="ann", item_type="gate", title="Release gate", description="parser done")
    item("R4", status="completed", title="Docs")

    def shown(**params):
        response = reader.get("/roadmap/", params)
        assert response.status_code == 200
        return rows_of(response)

    assert shown(status="in_progress") == ["R2"]
    assert shown(owner="ann") == ["R1", "R3"]
    assert shown(item_type="gate") == ["R3"]
    assert shown(q="parser") == ["R1", "R3"]  # title or description, any case
    assert shown(q="r4") == ["R4"]  # the id too
    assert shown(owner="ann", status="pending", q="gate") == ["R3"]
    # An unknown value is reported and ignored rather than failing the page.
    response = reader.get("/roadmap/", {"status": "nonsense", "owner": "bob"})
    assert rows_of(response) == ["R2"]
    assert "Select a valid choice" in response.content.decode()


def test_roadmap_filter_form_offers_terminology_choices_with_labels(reader):
    item("R1", owner="zoe")
    html = reader.get("/roadmap/").content.decode()
    assert '<label for="id_status">Status</label>' in html
    assert '<option value="in_progress">In Progress</option>' in html
    assert '<option value="gate">Gate</option>' in html
    assert '<option value="zoe">zoe</option>' in html
    assert '<label for="id_q">Text</label>' in html


def test_roadmap_pages_by_one_hundred_and_keeps_the_filters(reader):
    RoadmapItem.objects.bulk_create(
        RoadmapItem(
            id=f"P{i:03d}",
            phase_key="phase_c",
            title=f"Paged {i}",
            owner="ann",
            status_key="completed",
            rank=float(i),
        )
        for i in range(150)
    )
    first = reader.get("/roadmap/", {"owner": "ann"})
    assert rows_of(first) == [f"P{i:03d}" for i in range(100)]
    assert text(first, "result-count") == "150 items"
    assert 'href="?owner=ann&amp;page=2"' in first.content.decode()
    second = reader.get("/roadmap/", {"owner": "ann", "page": 2})
    assert rows_of(second) == [f"P{i:03d}" for i in range(100, 150)]
    assert reader.get("/roadmap/", {"page": "99"}).status_code == 200  # last page instead


def test_roadmap_query_count_is_flat_in_the_number_of_items(reader):
    many_items(5, prefix="S")
    small = query_count(reader, "/roadmap/")
    many_items(200, prefix="L")
    assert query_count(reader, "/roadmap/") == small
    assert query_count(reader, "/roadmap/?page=2&q=L0") == small


# -- item page -----------------------------------------------------------------------------


@pytest.mark.parametrize("item_id", ["R1", "with space", "a/b", "ünï", "50%", "x?y#z"])
def test_item_links_match_reverse_and_reach_the_item_page(reader, item_id):
    assert item_url(item_id) == reverse("roadmap-item", args=[item_id])
    item(item_id)
    response = reader.get(item_url(item_id))
    assert response.status_code == 200
    assert response.context["item"].id == item_id


def test_unknown_item_is_404(reader):
    assert reader.get("/roadmap/NOPE/").status_code == 404
    assert reader.get("/roadmap/NOPE/graph.svg").status_code == 404


def test_item_page_shows_dependencies_dependents_and_readiness(reader):
    item("BASE", status="completed", title="Base done")
    item("LIB", title="Library")
    item("SPEC", title="Spec")
    item("GONE", title="Deleted prerequisite", deleted_at=T0)
    item("APP", title="Application", owner="ann")
    depend("APP", "BASE")
    depend("APP", "LIB")
    depend("APP", "SPEC", "soft")
    depend("APP", "GONE")
    item("UI", title="User interface")
    depend("UI", "APP")
    response = reader.get("/roadmap/APP/")
    assert response.status_code == 200
    assert text(response, "page-title") == "APP: Application"
    deps = re.findall(
        r'<tr data-item="([^"]+)" data-kind="([^"]+)">',
        response.content.decode().split('id="dependents"')[0],
    )
    assert deps == [("BASE", "blocks"), ("GONE", "blocks"), ("LIB", "blocks"), ("SPEC", "soft")]
    assert "(deleted)" in text(response, "dependencies")
    assert "Completed" in text(response, "dependencies")
    assert "UI User interface" in text(response, "dependents")
    assert "Blocked" in text(response, "item-summary")
    assert "ann" in text(response, "item-summary")


def test_item_page_lists_each_unmet_prerequisite_once_at_its_shallowest_depth(reader):
    # TOP -> MID -> LOW -> ROOT and TOP -> LOW (a diamond): LOW is at depth 1, not 2.
    # DONE is completed (walked through, not listed); SOFT is only a soft dependency.
    for item_id in ["ROOT", "LOW", "MID", "TOP", "SOFT"]:
        item(item_id)
    item("DONE", status="completed")
    depend("LOW", "ROOT")
    depend("MID", "LOW")
    depend("TOP", "MID")
    depend("TOP", "LOW")
    depend("TOP", "DONE")
    item("UNDER", status="pending")
    depend("DONE", "UNDER")
    depend("TOP", "SOFT", "soft")
    response = reader.get("/roadmap/TOP/")
    html = response.content.decode().split('id="prerequisites"')[1].split("</section>")[0]
    shown = re.findall(r'<tr data-item="([^"]+)" data-depth="(\d+)">', html)
    assert shown == [("LOW", "1"), ("MID", "1"), ("ROOT", "2"), ("UNDER", "2")]


def test_item_page_shows_assignments(reader):
    item("R1")
    RoadmapAssignment.objects.create(
        item_id="R1", agent_id="agent-7", role="reviewer", status="active", assigned_by="user:lead"
    )
    response = reader.get("/roadmap/R1/")
    shown = text(response, "assignments")
    assert "agent-7 Reviewer Active" in shown
    assert "user:lead" in shown


def make_attempt_history(work_id: str) -> None:
    """Two ended attempts and an active handoff, each with records; plus loose records."""
    first = Attempt.objects.create(
        id="AT-1",
        work_id=work_id,
        worker_id="agent-a",
        worker_type="agent",
        started_at=T0,
        ended_at=T0 + dt.timedelta(hours=1),
        outcome="handed_off",
    )
    Evidence.objects.create(
        id="EV-1",
        work_id=work_id,
        attempt=first,
        evidence_type="log",
        uri="file:///log.txt",
        sha256="ab" * 32,
        created_by="agent-a",
        title="Build log",
        created_at=T0 + dt.timedelta(minutes=5),
    )
    Decision.objects.create(
        id="DE-1",
        work_id=work_id,
        attempt=first,
        decision_type="escalation",
        decision_summary="Needs a human",
        decided_at=T0,
    )
    Blocker.objects.create(
        id="BL-1",
        work_id=work_id,
        attempt=first,
        reason_code="missing_info",
        title="No API key",
        created_by="agent-a",
        created_at=T0,
        resolved_at=T0 + dt.timedelta(minutes=30),
        resolved_by="user:lead",
        resolution="Key added",
    )
    # The legacy outcome log names the attempt in free text, possibly without the work id.
    KernelOutcome.objects.create(
        id="OC-1",
        attempt_id="AT-1",
        outcome_type="patch",
        description="Half a patch",
        created_by="agent-a",
    )
    Attempt.objects.create(
        id="AT-2",
        work_id=work_id,
        worker_id="human-b",
        worker_type="human",
        handoff_from_attempt=first,
        handoff_reason="Agent out of ideas",
        started_at=T0 + dt.timedelta(hours=2),
    )
    Decision.objects.create(
        id="DE-LOOSE",
        work_id=work_id,
        decision_type="waiver",
        decision_summary="Waive the perf claim",
        decided_at=T0,
    )


def test_item_page_shows_the_attempt_timeline_with_its_records(reader):
    item("R1")
    item("OTHER")
    make_attempt_history("R1")
    KernelOutcome.objects.create(
        id="OC-X", work_id="OTHER", attempt_id="AT-OTHER", outcome_type="patch", created_by="x"
    )
    response = reader.get("/roadmap/R1/")
    first, second = text(response, "attempt-at-1"), text(response, "attempt-at-2")
    assert first.startswith("Attempt AT-1 by agent-a (Agent)")
    assert "outcome: Handed off" in first
    assert "Build log" in first and "Log" in first
    assert "Escalation Needs a human" in first
    assert "No API key" in first and "Resolved" in first and "Key added" in first
    assert "patch Half a patch" in first
    assert "Handed off to: AT-2 (human-b)" in first
    assert second.startswith("Attempt AT-2 by human-b (Human)")
    assert "not yet (active)" in second
    assert "Took over from AT-1 (agent-a): Agent out of ideas" in second
    assert "Waive the perf claim" in text(response, "other-records")
    assert "Waive" not in first + second
    html = response.content.decode()
    assert html.index('id="attempt-at-1"') < html.index('id="attempt-at-2"')
    assert "OC-X" not in html


def test_item_page_embeds_the_neighbourhood_graph(reader):
    item("A")
    item("B")
    item("C")
    item("FAR")
    depend("B", "A")
    depend("C", "B")
    depend("FAR", "C")
    response = reader.get("/roadmap/B/")
    svg = re.search(r"<svg .*?</svg>", response.content.decode(), re.S).group(0)
    nodes = {a.get("data-id") for a in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}a")}
    assert nodes == {"A", "B", "C", "FAR"}  # depth 2 by default
    response = reader.get("/roadmap/B/?depth=1")
    svg = re.search(r"<svg .*?</svg>", response.content.decode(), re.S).group(0)
    nodes = {a.get("data-id") for a in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}a")}
    assert nodes == {"A", "B", "C"}
    assert 'href="/roadmap/C/"' in svg


def test_item_page_query_count_is_flat_in_the_amount_of_related_data(reader):
    def build(prefix, count):
        focus = f"{prefix}FOCUS"
        item(focus)
        for i in range(count):
            item(f"{prefix}D{i}", status="completed")
            depend(focus, f"{prefix}D{i}")
            item(f"{prefix}U{i}", phase="phase_b", status="completed")
            depend(f"{prefix}U{i}", focus, "soft")
            RoadmapAssignment.objects.create(item_id=focus, agent_id=f"agent-{i}")
        for i in range(count):
            attempt = Attempt.objects.create(
                id=f"{prefix}AT{i}",
                work_id=focus,
                worker_id="w",
                worker_type="agent",
                started_at=T0 + dt.timedelta(minutes=i),
                ended_at=T0,
                outcome="failed",
                handoff_from_attempt_id=f"{prefix}AT{i - 1}" if i else None,
                handoff_reason="retry" if i else None,
            )
            Evidence.objects.create(
                id=f"{prefix}EV{i}",
                work_id=focus,
                attempt=attempt,
                evidence_type="log",
                uri="u",
                sha256="s",
                created_by="w",
            )
            Decision.objects.create(
                id=f"{prefix}DE{i}", work_id=focus, attempt=attempt, decision_type="approval"
            )
            KernelOutcome.objects.create(
                id=f"{prefix}OC{i}", attempt_id=attempt.id, outcome_type="patch", created_by="w"
            )
        return f"/roadmap/{focus}/"

    small = query_count(reader, build("S", 3))
    assert query_count(reader, build("L", 40)) == small


# -- review and held items -----------------------------------------------------------------


def badge_of(html: str, item_id: str) -> tuple[str, str] | None:
    """The (class, text) of the readiness badge in the item's row of /roadmap/."""
    row = re.search(rf'<tr data-item="{re.escape(item_id)}">(.*?)</tr>', html, re.S).group(1)
    found = re.search(r'<span class="badge (\w+)">([^<]*)</span>', row)
    return (found.group(1), found.group(2)) if found else None


def review_decision(decision_id, work_id, kind, at, by="user:rita", **fields):
    return Decision.objects.create(
        id=decision_id, work_id=work_id, decision_type=kind, decided_by=by, decided_at=at, **fields
    )


def test_items_in_review_have_their_own_badge_and_count(reader):
    item("DONE", status="completed")
    item("OPEN")
    item("REV", status="review", owner="ann")
    item("REV-B", phase="phase_b", status="review")
    item("REV-WAIT", phase="phase_b", status="review")  # in review with an unmet dependency
    depend("REV-WAIT", "OPEN")
    item("REV-GONE", status="review", deleted_at=T0)

    html = reader.get("/roadmap/").content.decode()
    for item_id in ["REV", "REV-B", "REV-WAIT"]:
        assert badge_of(html, item_id) == ("review", "In review")
    assert badge_of(html, "OPEN") == ("ready", "Ready")
    assert badge_of(html, "DONE") is None
    assert '<span class="status status-review">In Review</span>' in html
    assert '<option value="review">In Review</option>' in html
    assert rows_of(reader.get("/roadmap/", {"status": "review"})) == ["REV", "REV-B", "REV-WAIT"]

    page = reader.get("/roadmap/REV/")
    assert text(page, "readiness-badge") == "In review"
    assert "In Review" in text(page, "item-summary")
    assert "waiting for a reviewer" in text(page, "review-waiting")
    assert "No review decision yet." in text(page, "review")

    overview = reader.get("/")
    assert text(overview, "total-in-review") == "3"
    assert " 1 in review " in f" {text(overview, 'phase-phase_a')} "
    assert " 2 in review " in f" {text(overview, 'phase-phase_b')} "


def test_item_page_shows_review_decisions_and_the_reasons_of_a_rejection(reader):
    item("R1", status="review")
    item("OTHER", status="review")
    review_decision(
        "DEC-REJ",
        "R1",
        "review_rejected",
        T0,
        decision_summary="Not done yet",
        rationale="The parser still crashes on empty input; add a test for it.",
        conditions="A regression test for empty input",
    )
    review_decision("DEC-OTHER", "OTHER", "review_passed", T0, rationale="Someone else's")
    response = reader.get("/roadmap/R1/")

    callout = text(response, "review-rejected")
    assert callout.startswith("Last review rejected the work")
    assert "By user:rita on 2026-01-01 09:00:00: Not done yet" in callout
    assert "The parser still crashes on empty input; add a test for it." in callout
    assert "To pass: A regression test for empty input" in callout
    html = response.content.decode()
    # Prominent: under the item's summary, before its dependencies.
    assert html.index('id="item-summary"') < html.index('id="review-rejected"')
    assert html.index('id="review-rejected"') < html.index('id="dependencies"')

    reviews = text(response, "review")
    assert "Review rejected by user:rita · 2026-01-01 09:00:00" in reviews
    assert "Reasons: The parser still crashes on empty input" in reviews
    assert "Someone else's" not in html
    # Listed once: in the review section, not again among the records of no attempt.
    assert html.count('data-decision="DEC-REJ"') == 1


def test_a_passed_review_after_a_rejection_lists_both_newest_first(reader):
    item("R1", status="completed")
    review_decision("DEC-1", "R1", "review_rejected", T0, rationale="Missing docs", by="user:a")
    review_decision(
        "DEC-2",
        "R1",
        "review_passed",
        T0 + dt.timedelta(days=1),
        rationale="Docs added, all good",
        by="user:b",
    )
    response = reader.get("/roadmap/R1/")
    assert "review-rejected" not in parse(response).texts  # the latest review passed
    listed = [a["data-decision"] for tag, a in parse(response).tags if "data-decision" in a]
    assert listed == ["DEC-2", "DEC-1"]
    reviews = text(response, "review")
    assert "Review passed by user:b · 2026-01-02 09:00:00 Docs added, all good" in reviews
    assert "Review rejected by user:a · 2026-01-01 09:00:00 Reasons: Missing docs" in reviews


def test_a_superseded_rejection_is_not_shown_as_the_latest_review(reader):
    item("R1", status="review")
    review_decision("DEC-1", "R1", "review_passed", T0, rationale="Fine")
    review_decision("DEC-2", "R1", "review_rejected", T0 + dt.timedelta(hours=1), rationale="Oops")
    review_decision(
        "DEC-3",
        "R1",
        "review_passed",
        T0 + dt.timedelta(hours=2),
        rationale="Rejected by mistake",
        supersedes_decision_id="DEC-2",
    )
    response = reader.get("/roadmap/R1/")
    assert "review-rejected" not in parse(response).texts
    assert "superseded by DEC-3" in text(response, "review")


def test_a_rejection_is_shown_prominently_while_the_work_is_redone(reader):
    """Sent back to pending, claimed again: the reasons stay on top for the next worker."""
    item("R1")
    review_decision("DEC-1", "R1", "review_rejected", T0, rationale="Handle timeouts")
    Attempt.objects.create(
        id="AT-AGAIN", work_id="R1", worker_id="agent:bo", worker_type="agent", started_at=T0
    )
    response = reader.get("/roadmap/R1/")
    assert "Handle timeouts" in text(response, "review-rejected")


def lease(lease_id, item_id, *, mode="exclusive", resource_type="work_item", **fields):
    now = utc_now()
    return Lease.objects.create(
        id=lease_id,
        resource_type=resource_type,
        resource_id=item_id,
        mode=mode,
        worker_id=fields.pop("worker_id", "user:ann"),
        acquired_at=now,
        ttl_seconds=600,
        expires_at=fields.pop("expires_at", now + dt.timedelta(minutes=10)),
        **fields,
    )


def test_held_items_are_not_ready_on_the_pages_as_in_the_api(reader):
    for item_id in ["FREE", "ATTEMPT", "TOOL", "ENDED", "EXPIRED", "RELEASED", "SHARED", "FILE"]:
        item(item_id)
    Attempt.objects.create(
        id="AT-1", work_id="ATTEMPT", worker_id="agent:al", worker_type="agent", started_at=T0
    )
    Attempt.objects.create(
        id="AT-2",
        work_id="ENDED",
        worker_id="agent:al",
        worker_type="agent",
        started_at=T0,
        ended_at=T0 + dt.timedelta(hours=1),
        outcome="failed",
    )
    lease("L-TOOL", "TOOL", worker_id="user:ann")  # a `motus` tool claim: no attempt
    lease("L-EXP", "EXPIRED", expires_at=utc_now() - dt.timedelta(seconds=1))
    lease("L-REL", "RELEASED", released_at=utc_now())
    lease("L-SHARED", "SHARED", mode="read")
    lease("L-FILE", "FILE", resource_type="file")

    held = {"ATTEMPT", "TOOL"}
    ready = {"FREE", "ENDED", "EXPIRED", "RELEASED", "SHARED", "FILE"}
    api_ready = set(services.unheld(VReadyItems.objects.all()).values_list("id", flat=True))
    assert api_ready == ready

    html = reader.get("/roadmap/").content.decode()
    for item_id in ready:
        assert badge_of(html, item_id) == ("ready", "Ready"), item_id
    for item_id in held:
        assert badge_of(html, item_id) == ("held", "Claimed"), item_id
    assert text(reader.get("/"), "total-ready") == str(len(ready))

    tool = reader.get("/roadmap/TOOL/")
    assert text(tool, "readiness-badge") == "Claimed"
    assert text(tool, "held-by").startswith("by user:ann (lease until ")
    attempt = reader.get("/roadmap/ATTEMPT/")
    assert text(attempt, "held-by") == "by agent:al (active attempt)"
    assert text(reader.get("/roadmap/FREE/"), "readiness-badge") == "Ready"


def test_held_and_review_badges_keep_the_query_counts_flat(reader):
    def build(prefix, count):
        RoadmapItem.objects.bulk_create(
            RoadmapItem(
                id=f"{prefix}{i:03d}",
                phase_key=f"{prefix}-phase-{i // 40}",  # at most 50 active items a phase
                title="x",
                status_key="review" if i % 3 == 0 else "pending",
                rank=float(i),
            )
            for i in range(count)
        )
        Attempt.objects.bulk_create(
            Attempt(
                id=f"{prefix}AT{i}",
                work_id=f"{prefix}{i:03d}",
                worker_id="w",
                worker_type="agent",
                started_at=T0,
            )
            for i in range(1, count, 3)
        )
        for i in range(2, count, 3):
            lease(f"{prefix}L{i}", f"{prefix}{i:03d}")

    build("S", 6)
    small = [query_count(reader, url) for url in ["/", "/roadmap/"]]
    build("L", 120)
    assert [query_count(reader, url) for url in ["/", "/roadmap/"]] == small
    assert query_count(reader, "/roadmap/?page=2") == small[1]
