"""The progress pages, read like a user would: real requests through Django's test client on a
real SQLite file with the contract's triggers and views. Numbers on the pages are checked
against the database, and each page's query count against the amount of data."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
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
from system.identity import Actor
from system.models import AuditLog
from tests.page_support import (
    PAGES,
    T0,
    demo_user,
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
    # No CDN, no inline script: our own stylesheets, and on the live pages our own script.
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert sheets[0] == "/static/pages/site.css"
    assert all(sheet.startswith("/static/") for sheet in sheets)
    scripts = re.findall(r'<script src="([^"]+)" defer></script>', html)
    assert html.count("<script") == len(scripts)
    assert all(script.startswith("/static/") for script in scripts)
    assert ("/static/pages/live.js" in scripts) == (url in LIVE_PAGES)


LIVE_PAGES = ["/", "/roadmap/", "/roadmap/R1/"]
PASSWORD = "a-long-password-1"
READ_PAGES = ["/", "/roadmap/", "/roadmap/R1/", "/programs/"]


def assert_plain_page(html: str) -> None:
    """Our own look: the base template's stylesheet, one h1, no script (not a live page)."""
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
        "SELECT phase_key, phase, total_items, completed, pct_complete FROM v_roadmap_progress"
    )
    assert [r[0] for r in rows] == ["phase_a", "phase_b"]
    for phase_key, phase, total, completed, pct in rows:
        shown = text(response, f"phase-{phase_key}")
        assert shown.startswith(f"{phase} {pct}% {completed} of {total} completed ({pct}%)")
    assert text(response, "phase-phase_a").startswith("Phase A 6.3%")
    # Its open items by readiness: 2 in progress, 12 pending (ready), 1 status blocked with
    # nothing in its way has no readiness; phase_b has nothing open.
    assert text(response, "phase-phase_a").endswith("12 ready to start 2 being worked on")
    assert text(response, "phase-phase_b").endswith("Nothing open.")
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
    assert text(response, "total-link-blocked") == f"{blocked} Waiting on prerequisites"


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
    assert text(response, "result-count") == "4 items in 3 phases"


def test_text_sorts_as_on_sqlite_and_unranked_items_come_first_on_every_backend(reader):
    """Ids and names order bytewise, as SQLite's BINARY does (capitals, then "_", then
    lower case; "-" counts), whatever a PostgreSQL database's collation would say (most
    languages put "a3" before "B2" and skip the "-"); unranked items before ranked ones
    (SQLite's NULLs first, PostgreSQL's last by default)."""
    ids = ["b-1", "B2", "a3", "A4", "_x", "a-0", "b0"]
    for n, item_id in enumerate(ids):
        item(item_id, owner=["zed", "Zoe", "_bot", "ann"][n % 4])
    item("FIRST-RANKED", rank=0.5)
    expected = [*sorted(ids), "FIRST-RANKED"]
    assert expected[:4] == ["A4", "B2", "_x", "a-0"]

    response = reader.get("/roadmap/")
    assert rows_of(response) == expected
    owners = re.search(r'<select name="owner"[^>]*>(.*?)</select>', response.content.decode(), re.S)
    assert re.findall(r'<option value="([^"]+)"', owners.group(1)) == ["Zoe", "_bot", "ann", "zed"]

    exported = reader.get("/roadmap/export.json").json()
    assert [i["id"] for phase in exported["phases"] for i in phase["items"]] == expected

    graph = parse(reader.get("/roadmap/graph/"))
    assert [a["data-id"] for tag, a in graph.tags if tag == "li" and "data-id" in a] == expected

    for item_id in ids:
        depend("FIRST-RANKED", item_id, "related")
    item_page = reader.get(item_url("FIRST-RANKED")).content.decode()
    assert [item_page.index(f'href="{item_url(i)}"') for i in sorted(ids)] == sorted(
        item_page.index(f'href="{item_url(i)}"') for i in ids
    )


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
        found = re.search(r'class="readiness readiness-(\w+)"', row)
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


def open_items(prefix, count, phase, **fields):
    """``count`` pending items in ``phase`` (inserted deferred, then opened: the phase
    limit's trigger checks only inserts), ranked in order."""
    RoadmapItem.objects.bulk_create(
        RoadmapItem(
            id=f"{prefix}{i:03d}",
            phase_key=phase,
            title=f"Open {i}",
            status_key="deferred",
            rank=float(i),
            **fields,
        )
        for i in range(count)
    )
    RoadmapItem.objects.filter(id__startswith=prefix).update(status_key="pending")


def test_roadmap_pages_each_phase_on_its_own_and_keeps_the_filters(reader):
    RoadmapItem.objects.bulk_create(
        RoadmapItem(
            id=f"D{i:03d}", phase_key="phase_c", title="Done", status_key="completed", rank=i
        )
        for i in range(55)
    )
    open_items("C", 60, "phase_c", owner="ann")
    item("A1", owner="ann")
    item("A2", owner="bob")

    first = reader.get("/roadmap/", {"owner": "ann"})
    assert text(first, "result-count") == "61 items in 2 phases"
    assert text(first, "group-phase_c-counts") == "60 open · 0 completed"
    assert rows_of(first) == ["A1"] + [f"C{i:03d}" for i in range(50)]  # phases stay whole
    html = first.content.decode()
    assert 'href="?owner=ann&amp;page_phase_c=2#group-phase_c"' in html
    assert "Page 1 of 2 (60 open items)" in text(first, "group-phase_c")

    second = reader.get("/roadmap/", {"owner": "ann", "page_phase_c": 2})
    assert rows_of(second) == ["A1"] + [f"C{i:03d}" for i in range(50, 60)]
    assert 'href="?owner=ann&amp;page_phase_c=1#group-phase_c"' in second.content.decode()
    # Past the last page: the last page, as for the other lists; nonsense: the first.
    assert rows_of(reader.get("/roadmap/", {"owner": "ann", "page_phase_c": 9})) == rows_of(second)
    assert rows_of(reader.get("/roadmap/", {"owner": "ann", "page_phase_c": "x"})) == rows_of(first)

    # Completed items fold away under each phase, paged on their own.
    everything = reader.get("/roadmap/", {"page_phase_c": 2})
    completed = parse(everything).texts["completed-phase_c"]
    assert "Completed items (55)" in completed and "D049" in completed and "D050" not in completed
    assert '<details class="completed" id="completed-phase_c">' in everything.content.decode()
    done_2 = reader.get("/roadmap/", {"page_phase_c": 2, "done_phase_c": 2})
    assert '<details class="completed" id="completed-phase_c" open>' in done_2.content.decode()
    assert rows_of(done_2)[-5:] == [f"D{i:03d}" for i in range(50, 55)]
    assert "C050" in rows_of(done_2)  # the open items' page is kept


def test_roadmap_query_count_is_flat_in_the_number_of_items(reader):
    many_items(5, prefix="S")
    small = query_count(reader, "/roadmap/")
    many_items(200, prefix="L")
    assert query_count(reader, "/roadmap/") == small
    assert query_count(reader, "/roadmap/?done_phase_c=2&q=L0") == small


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
    assert "Waiting on prerequisites" in text(response, "item-summary")
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
    """The (readiness, text) of the readiness badge in the item's row of /roadmap/."""
    row = re.search(rf'<tr data-item="{re.escape(item_id)}">(.*?)</tr>', html, re.S).group(1)
    found = re.search(r'<span class="readiness readiness-(\w+)">([^<]*)</span>', row)
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
        assert badge_of(html, item_id) == ("review", "Awaiting review")
    assert badge_of(html, "OPEN") == ("ready", "Ready to start")
    assert badge_of(html, "DONE") is None
    assert '<span class="status status-review">In Review</span>' in html
    assert '<option value="review">In Review</option>' in html
    assert rows_of(reader.get("/roadmap/", {"status": "review"})) == ["REV", "REV-B", "REV-WAIT"]

    page = reader.get("/roadmap/REV/")
    assert text(page, "readiness-badge") == "Awaiting review"
    assert text(page, "status-badge") == "In Review"
    assert "In Review" in text(page, "item-summary")
    assert "waiting for a reviewer" in text(page, "review-waiting")
    assert "No review decision yet." in text(page, "review")

    overview = reader.get("/")
    assert text(overview, "total-in-review") == "3"
    assert " 1 awaiting review" in f" {text(overview, 'phase-phase_a')} "
    assert " 2 awaiting review" in f" {text(overview, 'phase-phase_b')} "


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
        assert badge_of(html, item_id) == ("ready", "Ready to start"), item_id
    for item_id in held:
        assert badge_of(html, item_id) == ("held", "Claimed"), item_id
    assert text(reader.get("/"), "total-ready") == str(len(ready))
    assert text(reader.get("/"), "total-held") == str(len(held))

    tool = reader.get("/roadmap/TOOL/")
    assert text(tool, "readiness-badge") == "Claimed"
    assert text(tool, "status-banner-heading") == "Claimed by user:ann"
    assert re.fullmatch(
        r"user:ann — a claim without an attempt \(the motus tool\) · lease until [-\d: ]+",
        text(tool, "holders"),
    )
    attempt = reader.get("/roadmap/ATTEMPT/")
    assert text(attempt, "holders") == (
        "agent:al — attempt AT-1 since 2026-01-01 09:00:00 · no lease"
    )
    assert text(reader.get("/roadmap/FREE/"), "readiness-badge") == "Ready to start"


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
    assert query_count(reader, "/roadmap/?page_L-phase-1=2") == small[1]


# -- readiness: one value, the same on badges, filters and counts --------------------------


def readiness_world() -> dict[str, str]:
    """One item per readiness (and some with none); returns id → expected readiness."""
    item("DONE", status="completed")
    item("OPEN")  # pending, nothing in its way
    item("WAIT")  # a blocking prerequisite unfinished
    depend("WAIT", "OPEN")
    item("GONE-PRE", deleted_at=T0)  # deleted, unfinished: still blocks
    item("WAIT-GONE", phase="phase_b")
    depend("WAIT-GONE", "GONE-PRE")
    item("SOFT", phase="phase_b")  # a soft dependency never blocks
    depend("SOFT", "OPEN", "soft")
    item("BUSY", phase="phase_b", status="in_progress")
    item("REV", phase="phase_b", status="review")
    item("STUCK", phase="phase_b", status="blocked")
    Blocker.objects.create(
        id="BL-OPEN", work_id="STUCK", reason_code="missing_info", title="?", created_by="a"
    )
    item("STUCK-WAIT", phase="phase_b")  # an open blocker wins over a prerequisite
    depend("STUCK-WAIT", "OPEN")
    Blocker.objects.create(
        id="BL-2", work_id="STUCK-WAIT", reason_code="other", title="?", created_by="a"
    )
    item("FIXED", phase="phase_c")  # its blocker is resolved: ready again
    Blocker.objects.create(
        id="BL-DONE",
        work_id="FIXED",
        reason_code="other",
        title="?",
        created_by="a",
        resolved_at=T0,
        resolved_by="b",
        resolution="done",
    )
    item("HELD", phase="phase_c")
    Attempt.objects.create(
        id="AT-H", work_id="HELD", worker_id="agent:al", worker_type="agent", started_at=T0
    )
    item("MARKED", phase="phase_c", status="blocked")  # status only: no readiness
    item("LATER", phase="phase_c", status="deferred")
    return {
        "OPEN": "ready",
        "SOFT": "ready",
        "FIXED": "ready",
        "WAIT": "blocked",
        "WAIT-GONE": "blocked",
        "BUSY": "in_progress",
        "REV": "review",
        "STUCK": "blocker",
        "STUCK-WAIT": "blocker",
        "HELD": "held",
    }


def test_readiness_is_one_value_per_item_consistent_with_the_views(reader):
    from roadmap import pages_queries

    expected = readiness_world()
    all_ids = [r[0] for r in raw("SELECT id FROM roadmap_items WHERE deleted_at IS NULL")]
    assert pages_queries.readiness(all_ids) == expected
    # The views' sets, less the items an earlier rule claims.
    ready_view = {r[0] for r in raw("SELECT id FROM v_ready_items")}
    blocked_view = {r[0] for r in raw("SELECT id FROM v_blocked_items")}
    with_blockers = {r[0] for r in raw("SELECT work_id FROM blockers WHERE resolved_at IS NULL")}
    by_value = {
        value: {i for i, v in expected.items() if v == value} for value in expected.values()
    }
    assert by_value["ready"] | by_value["held"] == ready_view - with_blockers
    assert by_value["blocked"] == blocked_view - with_blockers - {"BUSY", "REV"}
    assert by_value["blocker"] == with_blockers
    api_ready = set(
        services.unheld(VReadyItems.objects.all())
        .exclude(services.open_blockers_exist())
        .values_list("id", flat=True)
    )
    assert by_value["ready"] == api_ready  # what an agent may claim now

    # The list's readiness filter, the badges and the overview's counts say the same.
    overview = reader.get("/")
    for value, ids in by_value.items():
        response = reader.get("/roadmap/", {"readiness": value})
        assert set(rows_of(response)) == ids, value
        html = response.content.decode()
        assert all(badge_of(html, i)[0] == value for i in ids)
        slug = pages_queries.READINESS[value].slug
        assert text(overview, f"total-{slug}") == str(len(ids))


def test_status_and_readiness_badges_differ_in_words_and_look(reader):
    readiness_world()
    html = reader.get("/roadmap/").content.decode()
    # STUCK: status Blocked (a square status tag), readiness Open blocker (a round tag).
    row = re.search(r'<tr data-item="STUCK">(.*?)</tr>', html, re.S).group(1)
    assert '<span class="status status-blocked">Blocked</span>' in row
    assert '<span class="readiness readiness-blocker">Open blocker</span>' in row
    # WAIT: waiting on prerequisites is never called "Blocked".
    row = re.search(r'<tr data-item="WAIT">(.*?)</tr>', html, re.S).group(1)
    assert '<span class="readiness readiness-blocked">Waiting on prerequisites</span>' in row
    legend = text(reader.get("/roadmap/"), "legend")
    assert "Status (a square tag)" in legend and "Readiness (a round tag)" in legend
    assert "Open blocker Someone raised a blocker" in legend
    page = reader.get("/roadmap/STUCK/")
    assert text(page, "status-badge") == "Blocked"
    assert text(page, "readiness-badge") == "Open blocker"
    assert 'title="Someone raised a blocker that nobody has resolved yet."' in page.content.decode()
    css = b"".join(reader.get("/static/pages/site.css").streaming_content).decode()
    assert re.search(r"\.readiness \{[^}]*border-radius: 999px", css)  # round
    assert re.search(r"\.badge, \.status \{[^}]*border-radius: 0\.15rem", css)  # square


# -- roadmap list: more filters, working on it ---------------------------------------------


def test_roadmap_filters_by_phase_assignee_and_readiness_together(reader):
    item("A1", title="Parser")
    item("A2", title="Lexer")
    item("B1", phase="phase_b", title="Parser docs")
    item("B2", phase="phase_b", status="in_progress")
    for item_id, who, status in [
        ("A1", "agent:ann", "assigned"),
        ("B1", "agent:ann", "active"),
        ("B2", "agent:ann", "dropped"),  # not open: not listed for ann
        ("A2", "agent:bob", "completed"),
    ]:
        RoadmapAssignment.objects.create(item_id=item_id, agent_id=who, status=status)

    def shown(**params):
        response = reader.get("/roadmap/", params)
        assert response.status_code == 200
        assert "ignored-filters" not in parse(response).texts
        return rows_of(response)

    assert shown(phase="phase_b") == ["B1", "B2"]
    assert shown(assignee="agent:ann") == ["A1", "B1"]
    assert shown(assignee="agent:ann", phase="phase_b") == ["B1"]
    assert shown(readiness="ready", q="parser") == ["A1", "B1"]
    assert shown(readiness="in_progress", phase="phase_b") == ["B2"]
    html = reader.get("/roadmap/").content.decode()
    assert '<option value="agent:ann">agent:ann</option>' in html
    assert '<option value="agent:bob">' not in html  # only open assignments
    assert '<option value="phase_b">Phase B</option>' in html
    assert '<option value="blocked">Waiting on prerequisites</option>' in html
    assert '<label for="id_assignee">Assigned to</label>' in html


def test_unknown_filter_values_are_named_and_ignored_not_a_500(reader):
    item("A1")
    item("B1", phase="phase_b")
    response = reader.get(
        "/roadmap/", {"readiness": "sleepy", "phase": "phase_zz", "assignee": "nobody", "q": "1"}
    )
    assert response.status_code == 200
    assert rows_of(response) == ["A1", "B1"]  # only the text filter applied
    ignored = text(response, "ignored-filters")
    for label, value in [("Readiness", "sleepy"), ("Phase", "phase_zz"), ("Assigned to", "nobody")]:
        assert f"{label}: Select a valid choice. {value} is not one of the available" in ignored
    assert ignored.count("This filter was not applied.") == 3
    assert reader.get("/roadmap/", {"q": "x" * 201}).status_code == 200


def test_working_on_it_column_names_who_holds_each_item(reader):
    for item_id in ["FREE", "CLAIMED", "TOOL", "ASSIGNED", "BOTH"]:
        item(item_id)
    Attempt.objects.create(
        id="AT-1", work_id="CLAIMED", worker_id="agent:al", worker_type="agent", started_at=T0
    )
    lease("L-TOOL", "TOOL", worker_id="user:ann")
    RoadmapAssignment.objects.create(item_id="ASSIGNED", agent_id="agent:cy", role="reviewer")
    Attempt.objects.create(
        id="AT-2", work_id="BOTH", worker_id="agent:al", worker_type="agent", started_at=T0
    )
    lease("L-BOTH", "BOTH", worker_id="agent:al", attempt_id="AT-2")
    RoadmapAssignment.objects.create(item_id="BOTH", agent_id="agent:al", status="active")

    html = reader.get("/roadmap/").content.decode()

    def working(item_id):
        row = re.search(rf'<tr data-item="{item_id}">(.*?)</tr>', html, re.S).group(1)
        cell = re.search(r'<td class="workers">(.*?)</td>', row, re.S).group(1)
        return re.sub(r"<[^>]+>", "", cell)

    assert working("FREE") == ""
    assert working("CLAIMED") == "agent:al"
    assert working("TOOL") == "user:ann (claim)"
    assert working("ASSIGNED") == "assigned: agent:cy"
    assert working("BOTH") == "agent:al"  # once, as the attempt's worker
    assert '<th scope="col">Working on it</th>' in html


def test_list_query_count_is_flat_with_every_filter_and_the_fragment(reader):
    urls = [
        "/roadmap/?readiness=ready",
        "/roadmap/?readiness=blocked&phase=phase_c",
        "/roadmap/?assignee=agent:x&status=pending",
        "/roadmap/?live=1",
        "/?live=1",
    ]

    def build(prefix, count):
        open_items(f"{prefix}O", count, "phase_b")
        many_items(count, prefix=prefix)
        RoadmapAssignment.objects.bulk_create(
            RoadmapAssignment(item_id=f"{prefix}O{i:03d}", agent_id="agent:x") for i in range(count)
        )
        Attempt.objects.bulk_create(
            Attempt(
                id=f"{prefix}AT{i}",
                work_id=f"{prefix}O{i:03d}",
                worker_id="w",
                worker_type="agent",
                started_at=T0,
            )
            for i in range(0, count, 2)
        )

    build("S", 4)
    small = [query_count(reader, url) for url in urls]
    build("L", 45)
    assert [query_count(reader, url) for url in urls] == small


# -- overview links ------------------------------------------------------------------------


def test_every_overview_count_opens_the_list_with_that_many_items(reader):
    readiness_world()
    overview = reader.get("/")
    html = overview.content.decode()
    totals = re.findall(
        r'<a href="(/roadmap/\?readiness=\w+)" id="total-link-[\w-]+">\s*'
        r'<span class="count" id="total-[\w-]+">(\d+)</span>',
        html,
    )
    assert len(totals) == 6
    chips = re.findall(r'<a href="(/roadmap/\?phase=\w+&amp;readiness=\w+)"[^>]*>(\d+) ', html)
    assert len(chips) == 9  # phase_a: ready, blocked; phase_b: 5 kinds; phase_c: ready, held
    for href, count in totals + chips:
        listed = reader.get(href.replace("&amp;", "&"))
        assert len(rows_of(listed)) == int(count), href
    # Each phase's name (and, through it, its whole card and bar) opens its list, and its
    # completed count the list of its completed items.
    assert '<a class="phase-link" href="/roadmap/?phase=phase_b">Phase B</a>' in html
    assert 'href="/roadmap/?phase=phase_a&amp;status=completed"' in html


def test_empty_progress_bars_look_empty(reader):
    css = b"".join(reader.get("/static/pages/site.css").streaming_content).decode()
    # A light track and a green fill, set for every engine (no dark default track).
    assert "progress::-webkit-progress-bar { background: #f3f4f6; }" in css
    assert "progress::-webkit-progress-value { background: #16a34a; }" in css
    assert "progress::-moz-progress-bar { background: #16a34a; }" in css


# -- item page: the status banner ----------------------------------------------------------


def test_banner_says_why_an_item_is_blocked_with_the_blockers_needs(reader):
    item("PRE", title="Staging environment")
    item("R1", status="blocked", title="Payments")
    depend("R1", "PRE")
    Attempt.objects.create(
        id="AT-1",
        work_id="R1",
        worker_id="agent:ada",
        worker_type="agent",
        started_at=T0,
        ended_at=T0 + dt.timedelta(hours=1),
        outcome="blocked",
    )
    Blocker.objects.create(
        id="BL-1",
        work_id="R1",
        attempt_id="AT-1",
        reason_code="missing_credential",
        title="Need staging credentials",
        description="The sandbox refuses us.",
        needs="Credentials for the payments sandbox (ask ops).",
        created_by="agent:ada",
        created_at=T0 + dt.timedelta(minutes=30),
    )
    Blocker.objects.create(  # resolved: not in the banner
        id="BL-0",
        work_id="R1",
        reason_code="other",
        title="Old trouble",
        created_by="agent:ada",
        created_at=T0,
        resolved_at=T0 + dt.timedelta(minutes=1),
        resolved_by="user:lead",
        resolution="fixed",
    )
    response = reader.get("/roadmap/R1/")
    html = response.content.decode()
    assert html.index('id="status-banner"') < html.index('id="item-summary"')
    assert text(response, "status-banner-heading") == "Blocked: 1 open blocker"
    assert text(response, "open-blockers") == (
        "Need staging credentials Missing credential The sandbox refuses us. "
        "Needs: Credentials for the payments sandbox (ask ops). "
        "Raised by agent:ada on 2026-01-01 09:30:00 during attempt AT-1 · BL-1"
    )
    assert 'href="#attempt-at-1"' in text_html(html, "open-blockers")
    assert "Old trouble" not in text(response, "status-banner")
    # Its prerequisite too, linked, even though the blocker wins the readiness.
    assert text(response, "unfinished-prerequisites") == "PRE Staging environment Pending"
    assert 'href="/roadmap/PRE/"' in text_html(html, "unfinished-prerequisites")


def text_html(html: str, element_id: str) -> str:
    """The HTML from the element with this id to the end of its list."""
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</ul>", start)]


def test_banner_lists_unfinished_prerequisites_deleted_ones_included(reader):
    item("P1", title="First")
    item("P2", status="in_progress", title="Second")
    item("P3", title="Deleted one", deleted_at=T0)
    item("DONE", status="completed")
    item("DEEP")
    depend("P1", "DEEP")
    item("R1")
    for target in ["P1", "P2", "P3", "DONE"]:
        depend("R1", target)
    depend("R1", "DEEP", "soft")
    response = reader.get("/roadmap/R1/")
    assert text(response, "status-banner-heading") == "Waiting on 3 unfinished prerequisites"
    assert text(response, "unfinished-prerequisites") == (
        "P1 First Pending P2 Second In Progress P3 Deleted one Pending (deleted, still blocks)"
    )
    assert "and 1 more further down the chain" in text(response, "status-banner")  # DEEP


def test_banner_names_the_holder_with_attempt_and_lease_expiry(reader):
    item("R1", status="in_progress")
    Attempt.objects.create(
        id="AT-9", work_id="R1", worker_id="agent:bo", worker_type="agent", started_at=T0
    )
    expires = utc_now().replace(microsecond=0) + dt.timedelta(minutes=9)
    lease("L-9", "R1", worker_id="agent:bo", attempt_id="AT-9", expires_at=expires)
    response = reader.get("/roadmap/R1/")
    assert text(response, "status-banner-heading") == "Being worked on by agent:bo"
    assert text(response, "holders") == (
        f"agent:bo — attempt AT-9 since 2026-01-01 09:00:00 · lease until "
        f"{expires:%Y-%m-%d %H:%M:%S}"
    )
    Lease.objects.filter(id="L-9").update(expires_at=utc_now() - dt.timedelta(minutes=1))
    assert "lease expired" in text(reader.get("/roadmap/R1/"), "holders")


def test_banner_says_who_reviews_and_points_at_the_last_rejection(reader):
    item("R1", status="review")
    RoadmapAssignment.objects.create(item_id="R1", agent_id="agent:rita", role="reviewer")
    response = reader.get("/roadmap/R1/")
    assert text(response, "status-banner-heading") == "Awaiting review by agent:rita"
    assert text(response, "review-pending") == (
        "Done by its implementer; waiting for agent:rita to pass or reject it."
    )
    item("R2")
    review_decision("DEC-1", "R2", "review_rejected", T0, rationale="Add tests")
    response = reader.get("/roadmap/R2/")
    assert text(response, "status-banner-heading") == "Ready to start: anyone may claim it"
    assert "The last review sent the work back: its reasons." in text(response, "status-banner")
    assert "Add tests" in text(response, "review-rejected")


def test_edit_in_admin_link_only_for_those_who_may_edit_items(client, django_user_model):
    item("R1")
    url = reverse("admin:roadmap_roadmapitem_change", args=["R1"])

    def page_as(username, role=None, *, staff=False, superuser=False):
        user = django_user_model.objects.create_user(username, is_staff=staff)
        user.is_superuser = superuser
        user.save()
        if role:
            user.groups.add(Group.objects.get(name=policy.group_name(role)))
        client.force_login(user)
        return client.get("/roadmap/R1/")

    lead = page_as("lead", policy.Role.LEAD, staff=True)
    assert text(lead, "edit-in-admin") == "Edit in admin"
    assert f'href="{url}"' in lead.content.decode()
    assert page_as("root", staff=True, superuser=True).context["admin_url"] == url
    for name, role, staff in [
        ("viewer", policy.Role.VIEWER, True),
        ("reviewer", policy.Role.REVIEWER, True),
        ("lead-no-staff", policy.Role.LEAD, False),  # the admin would refuse them
    ]:
        response = page_as(name, role, staff=staff)
        assert "edit-in-admin" not in parse(response).texts, name


# -- live pages ----------------------------------------------------------------------------


def live_source(response) -> tuple[str, str, str]:
    (attrs,) = [a for tag, a in parse(response).tags if a.get("id") == "live-status"]
    return attrs["data-live-src"], attrs["data-live-version"], attrs["data-live-interval"]


@pytest.mark.parametrize(
    "url, regions",
    [
        ("/", ["overview"]),
        ("/roadmap/?readiness=ready&phase=phase_a", ["roadmap"]),
        ("/roadmap/R1/", ["item-status", "item-relations", "item-timeline"]),
    ],
)
def test_live_pages_poll_a_fragment_that_answers_304_until_the_data_changes(reader, url, regions):
    item("R1")
    item("R2")
    page = reader.get(url)
    src, version, interval = live_source(page)
    path, _, query = url.partition("?")
    assert src == f"{path}?{query + '&' if query else ''}live=1"
    assert interval == "4000"
    for region in regions:
        assert page.content.decode().count(f'data-live="{region}"') == 1

    fragment = reader.get(src)
    assert fragment.status_code == 200
    assert fragment["ETag"] == version and fragment["Cache-Control"] == "no-cache"
    html = fragment.content.decode()
    assert "<html" not in html and "<h1" not in html
    assert re.findall(r'data-live="([\w-]+)"', html) == regions

    unchanged = reader.get(src, HTTP_IF_NONE_MATCH=version)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged["ETag"] == version

    agent = Actor.of(demo_user("ada", policy.Role.AGENT, agent=True))
    services.claim(agent, "R1")
    changed = reader.get(src, HTTP_IF_NONE_MATCH=version)
    assert changed.status_code == 200 and changed["ETag"] != version


def test_a_304_poll_costs_a_fixed_handful_of_queries(reader):
    many_items(5, prefix="S")
    version = reader.get("/?live=1")["ETag"]
    with CaptureQueriesContext(connection) as small:
        assert reader.get("/?live=1", HTTP_IF_NONE_MATCH=version).status_code == 304
    many_items(300, prefix="L")
    version = reader.get("/?live=1")["ETag"]
    with CaptureQueriesContext(connection) as large:
        assert reader.get("/?live=1", HTTP_IF_NONE_MATCH=version).status_code == 304
    # The session, the user, the user's and the groups' permissions, the data version.
    assert len(small) == len(large) == 5


def test_the_live_fragment_of_the_list_keeps_its_filters_and_pages(reader):
    open_items("C", 55, "phase_c")
    item("A1")
    src, _, _ = live_source(reader.get("/roadmap/", {"phase": "phase_c", "page_phase_c": 2}))
    fragment = reader.get(src)
    assert rows_of(fragment) == [f"C{i:03d}" for i in range(50, 55)]
    # Its page links lead to the page, not to the fragment.
    assert "live=1" not in re.sub(r'data-live="[^"]*"', "", fragment.content.decode())


def test_the_data_version_moves_with_what_the_pages_show(reader):
    from roadmap.pages_queries import data_version

    item("R1")
    item("R2")
    seen = [data_version()]

    def changed():
        seen.append(data_version())
        return seen[-1] != seen[-2]

    RoadmapItem.objects.filter(id="R1").update(status_key="in_progress")
    assert changed()
    depend("R2", "R1")
    assert changed()
    Blocker.objects.create(id="B1", work_id="R2", reason_code="other", title="t", created_by="a")
    assert changed()
    lease("L1", "R2")
    assert changed()
    Lease.objects.filter(id="L1").update(expires_at=utc_now() - dt.timedelta(seconds=1))
    assert changed()  # a lease running out changes readiness without a write to the item
    RoadmapAssignment.objects.create(item_id="R1", agent_id="agent:x")
    assert changed()
    assert not changed()  # and nothing else moves it
