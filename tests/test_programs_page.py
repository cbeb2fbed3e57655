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
    for release_id, (_, verdict, total, passed, failed) in status.items():
        row = re.search(rf'<tr data-release="{release_id}">(.*?)</tr>', html, re.S).group(1)
        cells = [" ".join(c.split()) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        assert re.sub(r"<[^>]+>", "", cells[2]) == verdict
        assert cells[3:] == [str(total), str(passed), str(failed)]


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
    assert "Faster leases Queue M — Kernel Leases" in text(response, "open-crs")
    assert "Crash Leases 1.0 Critical Open" in text(response, "bugs")


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
    assert query_count(reader, "/programs/") == small


def test_terminology_renames_show_up_on_the_pages(reader):
    item("R1")
    Terminology.objects.filter(domain="roadmap_phase", internal_key="phase_a").update(
        display_name="Groundwork"
    )
    assert text(reader.get("/roadmap/"), "group-phase_a-heading") == "Groundwork"
    assert "Groundwork" in text(reader.get("/roadmap/R1/"), "item-summary")
