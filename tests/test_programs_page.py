"""The programs page, through real requests on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import re

import pytest

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
from system.models import Terminology
from tests.api_support import make_user
from tests.page_support import (
    T0,
    item,
    parse,
    query_count,
    raw,
    text,
)

# -- programs ------------------------------------------------------------------------------


@pytest.fixture
def programs_data(db):
    program = Program.objects.create(id="PG1", name="Motus", owner="lead")
    Program.objects.create(id="PG-GONE", name="Gone", deleted_at=T0)
    product = Product.objects.create(id="PR1", program=program, name="Kernel", version="1.2.0")
    Product.objects.create(id="PR2", program=program, name="Website")
    Product.objects.create(id="PR-GONE", program=program, name="Old", deleted_at=T0)
    feature = Feature.objects.create(
        id="F1", product=product, name="Leases", version="1.0", status_key="stable"
    )
    Feature.objects.create(id="F-GONE", product=product, name="Dropped", deleted_at=T0)
    r1 = Release.objects.create(id="REL1", product=product, name="v1.2.0", status_key="ready")
    Release.objects.create(id="REL2", product=product, name="v1.3.0")
    blocking = Standard.objects.create(
        id="S1",
        name="Tests pass",
        level_key="release",
        check_type_key="boolean",
        failure_message="failing",
    )
    advisory = Standard.objects.create(
        id="S2",
        name="Docs",
        level_key="release",
        check_type_key="manual",
        failure_message="missing",
        is_blocking=False,
    )
    for standard, result in [(blocking, "pass"), (advisory, "fail"), (blocking, "fail")]:
        ComplianceResult.objects.create(
            standard=standard,
            entity_type="release",
            entity_id="REL1",
            release=r1,
            result=result,
            checked_by="ci",
        )
    ChangeRequest.objects.create(
        id="CR1", title="Faster leases", product=product, feature=feature, created_at=T0
    )
    ChangeRequest.objects.create(
        id="CR2", title="Newer", status_key="review", created_at=T0 + dt.timedelta(days=1)
    )
    ChangeRequest.objects.create(id="CR-DONE", title="Shipped", status_key="done")
    Bug.objects.create(
        id="BUG-LOW", title="Typo", feature=feature, feature_version="1.0", severity_key="low"
    )
    Bug.objects.create(
        id="BUG-CRIT",
        title="Crash",
        feature=feature,
        feature_version="1.0",
        severity_key="critical",
    )


def test_programs_page_shows_programs_products_features_and_releases(reader, programs_data):
    response = reader.get("/programs/")
    assert response.status_code == 200
    program = text(response, "program-pg1")
    count = raw("SELECT product_count FROM v_programs_summary WHERE id = 'PG1'")[0][0]
    assert count == 2
    assert f"{count} products" in program
    assert "Motus" in program and "Software · Active · owner lead" in program
    assert "program-pg-gone" not in parse(response).texts
    kernel = text(response, "product-pr1")
    assert "Kernel 1.2.0 Active" in kernel
    assert "Leases 1.0 Stable" in kernel and "Dropped" not in kernel
    assert "Old" not in text(response, "programs")


def test_programs_page_shows_each_release_with_its_compliance_status(reader, programs_data):
    response = reader.get("/programs/")
    html = response.content.decode()
    status = {
        r[0]: r
        for r in raw(
            "SELECT release_id, status, total_checks, passed, failed FROM v_compliance_status"
        )
    }
    assert status["REL1"][1:] == ("blocked", 2, 1, 2)
    assert status["REL2"][1:] == ("clear", 0, 0, 0)
    # The view calls a release nobody checked "clear"; the page says so in words.
    shown = {"REL1": "blocked", "REL2": "no checks yet"}
    for release_id, (_, _, total, passed, failed) in status.items():
        row = re.search(rf'<tr [^>]*data-release="{release_id}">(.*?)</tr>', html, re.S).group(1)
        cells = [" ".join(c.split()) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        assert re.sub(r"<[^>]+>", "", cells[2]) == shown[release_id]
        assert cells[3:] == [str(total), str(passed), str(failed)]
    assert "compliance-clear" not in html


def test_programs_page_lists_open_change_requests_and_bugs_in_view_order(reader, programs_data):
    response = reader.get("/programs/")
    tags = parse(response).tags
    crs = [a["data-cr"] for tag, a in tags if "data-cr" in a]
    bugs = [a["data-bug"] for tag, a in tags if "data-bug" in a]
    assert crs == [r[0] for r in raw("SELECT id FROM v_open_crs")] == ["CR2", "CR1"]
    assert (
        bugs
        == [r[0] for r in raw("SELECT id FROM v_bugs_by_version")]
        == [
            "BUG-CRIT",
            "BUG-LOW",
        ]
    )
    assert "Faster leases Queue M — Kernel Leases — —" in text(response, "open-crs")
    assert "Crash Leases 1.0 Critical Open — — —" in text(response, "bugs")


#: Each row the page lists: (data attribute, admin URL part, anchor prefix).
ROWS = [
    ("data-program", "program", "program"),
    ("data-product", "product", "product"),
    ("data-feature", "feature", "feature"),
    ("data-release", "release", "release"),
    ("data-cr", "changerequest", "cr"),
    ("data-bug", "bug", "bug"),
]


def row_links(response) -> dict[tuple[str, str], tuple[str, str]]:
    """(data attribute, row id) → (the row's element id, the href of the row's first link)."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    current = None
    for tag, attrs in parse(response).tags:
        for attribute, _, _ in ROWS:
            if attribute in attrs:
                current = (attribute, attrs[attribute])
                found[current] = (attrs.get("id"), None)
        if tag == "a" and current and found[current][1] is None:
            found[current] = (found[current][0], attrs["href"])
    return found


@pytest.fixture
def lead_client(client, db):
    lead, _ = make_user("lead", agent=False, staff=True)
    client.force_login(lead)
    return client


def test_every_row_links_to_its_own_anchor_for_a_reader(reader, programs_data):
    response = reader.get("/programs/")
    links = row_links(response)
    assert {attribute for attribute, _ in links} == {attribute for attribute, _, _ in ROWS}
    ids = parse(response).texts
    for (attribute, pk), (element_id, href) in links.items():
        prefix = next(p for a, _, p in ROWS if a == attribute)
        assert element_id == f"{prefix}-{pk.lower()}", (attribute, pk)
        assert href == f"#{element_id}" and element_id in ids
    assert "/admin/" not in response.content.decode()


def test_every_row_links_to_its_admin_page_for_a_lead(lead_client, programs_data):
    response = lead_client.get("/programs/")
    links = row_links(response)
    assert len(links) == 1 + 2 + 1 + 2 + 2 + 2  # programs, products, features, ...
    for (attribute, pk), (element_id, href) in links.items():
        model = next(m for a, m, _ in ROWS if a == attribute)
        assert href == f"/admin/programs/{model}/{pk}/change/", (attribute, pk)
        assert element_id  # the anchor stays, for shared links
    for _, href in list(links.values())[:: len(links) // 4]:
        assert lead_client.get(href).status_code == 200, href


def test_a_staff_user_without_the_change_permission_gets_anchors(client, programs_data):
    reviewer, _ = make_user("rita", agent=True, staff=True, role="reviewer")
    client.force_login(reviewer)
    links = row_links(client.get("/programs/"))
    assert all(href.startswith("#") for _, href in links.values())


def test_change_requests_and_bugs_link_to_their_roadmap_items(reader, programs_data):
    item("R1", title="Lease index", cr_id="CR1")
    item("R2", title="Lease store", cr_id="CR1", rank=0.5)
    item("R-GONE", cr_id="CR1", deleted_at=T0)
    ChangeRequest.objects.create(id="CR-FIX", title="Fix the crash", status_key="done")
    item("R3", title="Crash fix", cr_id="CR-FIX")
    Bug.objects.filter(pk="BUG-CRIT").update(fix_cr_id="CR1")
    Bug.objects.filter(pk="BUG-LOW").update(fix_cr_id="CR-FIX")
    response = reader.get("/programs/")
    html = response.content.decode()
    assert text(response, "cr-cr1").endswith("R2, R1")
    assert '<a href="/roadmap/R2/" title="Lease store">R2</a>' in html
    assert "R-GONE" not in html
    assert reader.get("/roadmap/R2/").status_code == 200
    # A bug's fix CR links to its row when it is open (on the page), and its items show.
    crit = text(response, "bug-bug-crit")
    assert crit.endswith("CR1 — R2, R1")
    assert '<a href="#cr-cr1">CR1</a>' in html
    # A done fix CR is not on the page: plain text for a reader.
    assert text(response, "bug-bug-low").endswith("CR-FIX — R3")
    assert 'href="#cr-cr-fix"' not in html


def test_programs_query_count_is_flat_in_the_amount_of_data(reader, programs_data):
    small = query_count(reader, "/programs/")
    program = Program.objects.create(id="PG2", name="Second")
    for p in range(5):
        product = Product.objects.create(id=f"X{p}", program=program, name=f"P{p}")
        for f in range(5):
            feature = Feature.objects.create(id=f"X{p}F{f}", product=product, name=f"F{f}")
            Bug.objects.create(id=f"X{p}B{f}", title="b", feature=feature, feature_version="1")
            Release.objects.create(id=f"X{p}R{f}", product=product, name=f"r{f}")
            ChangeRequest.objects.create(id=f"X{p}C{f}", title="c", product=product)
            item(f"X{p}I{f}", cr_id=f"X{p}C{f}")
            Bug.objects.filter(pk=f"X{p}B{f}").update(fix_cr_id=f"X{p}C{f}")
    assert query_count(reader, "/programs/") == small


def test_programs_query_count_for_a_lead_is_flat_too(lead_client, programs_data):
    small = query_count(lead_client, "/programs/")
    program = Program.objects.create(id="PG2", name="Second")
    for p in range(5):
        product = Product.objects.create(id=f"X{p}", program=program, name=f"P{p}")
        Release.objects.create(id=f"X{p}R", product=product, name="r")
        ChangeRequest.objects.create(id=f"X{p}C", title="c", product=product)
        item(f"X{p}I", cr_id=f"X{p}C")
    assert query_count(lead_client, "/programs/") == small


def test_terminology_renames_show_up_on_the_pages(reader):
    item("R1")
    Terminology.objects.filter(domain="roadmap_phase", internal_key="phase_a").update(
        display_name="Groundwork"
    )
    assert text(reader.get("/roadmap/"), "group-phase_a-heading") == "Groundwork"
    assert "Groundwork" in text(reader.get("/roadmap/R1/"), "item-summary")
