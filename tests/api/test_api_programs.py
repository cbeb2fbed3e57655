"""What agents work for, over HTTP: programs, products, features, releases, change requests,
bugs, standards and charters (read-only, live rows only), and filing bugs."""

from __future__ import annotations

import io
import json

import pytest
from api_support import error_of
from django.contrib.auth.models import Group
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS

from programs.models import (
    Bug,
    ChangeRequest,
    CharterDoc,
    CrDependency,
    Feature,
    Product,
    Program,
    Release,
    Standard,
    StandardAssignment,
)
from system import policy
from system.fields import utc_now
from system.models import AuditLog

API = "/api/v1"


@pytest.fixture(autouse=True)
def role_groups(db):
    """The role groups come with ``migrate``; make sure of them whatever ran before."""
    if not Group.objects.filter(name=policy.group_name(policy.Role.AGENT)).exists():
        policy.sync_role_groups()


@pytest.fixture
def viewer(api_for):
    return api_for("vic", agent=False, role=policy.Role.VIEWER)


@pytest.fixture
def catalog(db):
    """Two live programs with products, features, releases, CRs, bugs, standards and
    charters, and a soft-deleted row of each kind."""
    deleted = {"deleted_at": utc_now()}
    Program.objects.create(id="P1", name="Motus", type_key="software", owner="ann")
    Program.objects.create(id="P2", name="Blog", type_key="content", description="Writing")
    Program.objects.create(id="P-DEL", name="Gone", **deleted)
    Product.objects.create(id="PR1", program_id="P1", name="Kernel", description="the core")
    Product.objects.create(id="PR2", program_id="P2", name="Posts", status_key="maintenance")
    Product.objects.create(id="PR-DEL", program_id="P1", name="Old", **deleted)
    Feature.objects.create(
        id="F1", product_id="PR1", name="Claims", version="1.2.0", status_key="stable"
    )
    Feature.objects.create(id="F2", product_id="PR2", name="Drafts", description="login flow")
    Feature.objects.create(id="F-DEL", product_id="PR1", name="Old", version="0.1", **deleted)
    Release.objects.create(id="R1", product_id="PR1", name="1.2.0")
    Release.objects.create(
        id="R2", product_id="PR2", name="Launch post", type_key="post", status_key="published"
    )
    Release.objects.create(id="R-DEL", product_id="PR1", name="0.1", **deleted)
    ChangeRequest.objects.create(
        id="CR-1",
        title="Faster claims",
        status_key="in_progress",
        size="S",
        owner="ann",
        product_id="PR1",
        feature_id="F1",
        target_version="1.3.0",
    )
    ChangeRequest.objects.create(id="CR-2", title="Lease index", size="L", product_id="PR1")
    ChangeRequest.objects.create(id="CR-3", title="Drafts sync", type_key="defect")
    ChangeRequest.objects.create(id="CR-DEL", title="Abandoned", **deleted)
    CrDependency.objects.create(cr_id="CR-1", depends_on_id="CR-2")
    CrDependency.objects.create(cr_id="CR-3", depends_on_id="CR-1", dependency_type="related")
    CrDependency.objects.create(cr_id="CR-1", depends_on_id="CR-DEL")
    Bug.objects.create(
        id="BUG-1",
        title="Claim times out",
        feature_id="F1",
        feature_version="1.2.0",
        severity_key="high",
        reported_by="agent:bob",
    )
    Bug.objects.create(
        id="BUG-2",
        title="Draft lost",
        description="after login",
        feature_id="F2",
        feature_version="0.9",
        severity_key="low",
        status_key="fixed",
        fix_cr_id="CR-3",
        assigned_to="user:ann",
    )
    Bug.objects.create(
        id="BUG-DEL", title="Dup", feature_id="F1", feature_version="1.2.0", **deleted
    )
    Standard.objects.create(
        id="STD-1",
        name="Tests pass",
        level_key="feature",
        check_type_key="boolean",
        failure_message="Tests fail.",
        sort_order=1,
    )
    Standard.objects.create(
        id="STD-2",
        name="Coverage",
        level_key="release",
        check_type_key="threshold",
        failure_message="Coverage too low.",
        threshold_min=80.0,
        is_blocking=False,
        sort_order=2,
    )
    Standard.objects.create(
        id="STD-DEL",
        name="Old",
        level_key="feature",
        check_type_key="manual",
        failure_message="x",
        **deleted,
    )
    StandardAssignment.objects.create(standard_id="STD-1", entity_type="feature", entity_id="F1")
    StandardAssignment.objects.create(standard_id="STD-2", entity_type="product", entity_id="F1")
    StandardAssignment.objects.create(
        standard_id="STD-2", entity_type="release", entity_id="R1", is_inherited=True
    )
    CharterDoc.objects.create(
        id="CH-0", doc_type_key="roadmap", version="0.9", title="Old roadmap", content_hash="a"
    )
    # Inserting an active doc of the same type deactivates CH-0 (charter_singleton_enforce).
    CharterDoc.objects.create(
        id="CH-1", doc_type_key="roadmap", version="1.0", title="Roadmap", content_hash="b"
    )
    CharterDoc.objects.create(
        id="CH-2", doc_type_key="ethos", version="1.0", title="Ethos", content_hash="c"
    )
    CharterDoc.objects.create(
        id="CH-DEL",
        doc_type_key="release_checklist",
        version="1.0",
        title="Gone",
        content_hash="d",
        **deleted,
    )


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def ids(client, resource, **params):
    return [row["id"] for row in results(client.get(f"{API}/{resource}/", params))]


# Reading.


@pytest.mark.parametrize(
    "resource, listed",
    [
        ("programs", ["P1", "P2"]),
        ("products", ["PR1", "PR2"]),
        ("features", ["F1", "F2"]),
        ("releases", ["R1", "R2"]),
        ("change-requests", ["CR-1", "CR-2", "CR-3"]),
        ("bugs", ["BUG-2", "BUG-1"]),
        ("standards", ["STD-1", "STD-2"]),
        ("charters", ["CH-2", "CH-0", "CH-1"]),
    ],
)
def test_lists_hold_live_rows_only(alice, catalog, resource, listed):
    response = alice.get(f"{API}/{resource}/")
    body = response.json()
    assert body["count"] == len(listed)
    if resource == "bugs":
        # Newest first; rows created in the same second fall back to the id, descending.
        assert sorted(row["id"] for row in body["results"]) == sorted(listed)
    else:
        assert [row["id"] for row in body["results"]] == listed
    deleted = next(iter(m for m in _DELETED if m[0] == resource))[1]
    gone = alice.get(f"{API}/{resource}/{deleted}/")
    assert gone.status_code == 404
    error = error_of(gone)
    assert error["code"] == "not_found" and deleted in error["message"]


_DELETED = [
    ("programs", "P-DEL"),
    ("products", "PR-DEL"),
    ("features", "F-DEL"),
    ("releases", "R-DEL"),
    ("change-requests", "CR-DEL"),
    ("bugs", "BUG-DEL"),
    ("standards", "STD-DEL"),
    ("charters", "CH-DEL"),
]


@pytest.mark.parametrize("resource", [resource for resource, _ in _DELETED])
def test_unknown_ids_are_404_in_the_error_shape(alice, catalog, resource):
    response = alice.get(f"{API}/{resource}/NOPE.1/")
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "not_found"
    assert "'NOPE.1'" in error["message"]


def test_retrieve_shows_columns_and_links(alice, catalog):
    program = alice.get(f"{API}/programs/P1/").json()
    assert (program["name"], program["type_key"], program["status_key"]) == (
        "Motus",
        "software",
        "active",
    )
    assert program["owner"] == "ann" and program["deleted_at"] is None
    product = alice.get(f"{API}/products/PR1/").json()
    assert (product["program_id"], product["version"]) == ("P1", "0.0.0")
    assert "program" not in product
    feature = alice.get(f"{API}/features/F1/").json()
    assert (feature["product_id"], feature["version"], feature["status_key"]) == (
        "PR1",
        "1.2.0",
        "stable",
    )
    release = alice.get(f"{API}/releases/R2/").json()
    assert (release["product_id"], release["type_key"], release["status_key"]) == (
        "PR2",
        "post",
        "published",
    )
    bug = alice.get(f"{API}/bugs/BUG-2/").json()
    assert bug["feature_id"] == "F2" and bug["fix_cr_id"] == "CR-3"
    assert (bug["severity_key"], bug["status_key"], bug["assigned_to"]) == (
        "low",
        "fixed",
        "user:ann",
    )
    assert bug["created_at"].endswith("Z")
    charter = alice.get(f"{API}/charters/CH-1/").json()
    assert (charter["doc_type_key"], charter["is_active"]) == ("roadmap", True)
    assert alice.get(f"{API}/charters/CH-0/").json()["is_active"] is False


def test_change_request_detail_has_its_live_dependencies(alice, catalog):
    response = alice.get(f"{API}/change-requests/CR-1/")
    assert response.status_code == 200
    cr = response.json()
    assert (cr["product_id"], cr["feature_id"], cr["size"], cr["status_key"]) == (
        "PR1",
        "F1",
        "S",
        "in_progress",
    )
    # CR-DEL is soft-deleted: its edge stays in the table but is not shown.
    assert [
        (d["id"], d["title"], d["status_key"], d["dependency_type"]) for d in cr["dependencies"]
    ] == [("CR-2", "Lease index", "queue", "blocks")]
    assert [(d["id"], d["dependency_type"]) for d in cr["dependents"]] == [("CR-3", "related")]
    assert cr["dependencies"][0]["created_at"].endswith("Z")
    lone = alice.get(f"{API}/change-requests/CR-2/").json()
    assert lone["dependencies"] == [] and [d["id"] for d in lone["dependents"]] == ["CR-1"]
    # The list stays flat.
    listed = results(alice.get(f"{API}/change-requests/"))
    assert "dependencies" not in listed[0]


def test_standard_detail_lists_its_assignments(alice, catalog):
    standard = alice.get(f"{API}/standards/STD-2/").json()
    assert (standard["is_blocking"], standard["threshold_min"]) == (False, 80.0)
    assert standard["assignments"] == [
        {"entity_type": "product", "entity_id": "F1", "is_inherited": False},
        {"entity_type": "release", "entity_id": "R1", "is_inherited": True},
    ]


@pytest.mark.parametrize(
    "resource, params, expected",
    [
        ("programs", {"type": "content"}, ["P2"]),
        ("programs", {"owner": "ann"}, ["P1"]),
        ("programs", {"q": "writ"}, ["P2"]),
        ("programs", {"ordering": "-id"}, ["P2", "P1"]),
        ("products", {"program_id": "P1"}, ["PR1"]),
        ("products", {"status": "maintenance"}, ["PR2"]),
        ("products", {"q": "core"}, ["PR1"]),
        ("features", {"product_id": "PR2"}, ["F2"]),
        ("features", {"program_id": "P1"}, ["F1"]),
        ("features", {"status": "stable"}, ["F1"]),
        ("features", {"version": "1.2.0"}, ["F1"]),
        ("features", {"q": "LOGIN"}, ["F2"]),
        ("releases", {"product_id": "PR1"}, ["R1"]),
        ("releases", {"program_id": "P2"}, ["R2"]),
        ("releases", {"type": "post"}, ["R2"]),
        ("releases", {"status": "pending"}, ["R1"]),
        ("change-requests", {"status": "queue"}, ["CR-2", "CR-3"]),
        ("change-requests", {"type": "defect"}, ["CR-3"]),
        ("change-requests", {"size": "L"}, ["CR-2"]),
        ("change-requests", {"owner": "ann"}, ["CR-1"]),
        ("change-requests", {"product_id": "PR1"}, ["CR-1", "CR-2"]),
        ("change-requests", {"feature_id": "F1"}, ["CR-1"]),
        ("change-requests", {"target_version": "1.3.0"}, ["CR-1"]),
        ("change-requests", {"q": "sync"}, ["CR-3"]),
        ("bugs", {"severity": "high"}, ["BUG-1"]),
        ("bugs", {"status": "fixed"}, ["BUG-2"]),
        ("bugs", {"feature_id": "F2"}, ["BUG-2"]),
        ("bugs", {"product_id": "PR1"}, ["BUG-1"]),
        ("bugs", {"feature_version": "1.2.0"}, ["BUG-1"]),
        ("bugs", {"reported_by": "agent:bob"}, ["BUG-1"]),
        ("bugs", {"assigned_to": "user:ann"}, ["BUG-2"]),
        ("bugs", {"fix_cr_id": "CR-3"}, ["BUG-2"]),
        ("bugs", {"q": "login"}, ["BUG-2"]),
        ("bugs", {"ordering": "id"}, ["BUG-1", "BUG-2"]),
        ("standards", {"level": "release"}, ["STD-2"]),
        ("standards", {"check_type": "boolean"}, ["STD-1"]),
        ("standards", {"is_blocking": "false"}, ["STD-2"]),
        ("standards", {"is_blocking": "true"}, ["STD-1"]),
        ("standards", {"entity_id": "F1"}, ["STD-1", "STD-2"]),
        ("standards", {"entity_type": "release"}, ["STD-2"]),
        # Type and id must match the same assignment (STD-2 is on product "F1", not feature).
        ("standards", {"entity_type": "feature", "entity_id": "F1"}, ["STD-1"]),
        ("standards", {"q": "cover"}, ["STD-2"]),
        ("charters", {"doc_type": "roadmap"}, ["CH-0", "CH-1"]),
        ("charters", {"is_active": "true"}, ["CH-2", "CH-1"]),
        ("charters", {"q": "ethos"}, ["CH-2"]),
    ],
)
def test_filters(alice, catalog, resource, params, expected):
    assert ids(alice, resource, **params) == expected


@pytest.mark.parametrize(
    "resource, params",
    [
        ("programs", {"type": "spaceship"}),
        ("products", {"program_id": "NOPE"}),
        ("features", {"status": "nope"}),
        ("change-requests", {"status": "nope"}),
        ("bugs", {"severity": "apocalyptic"}),
        ("bugs", {"feature_id": "NOPE"}),
        ("standards", {"entity_id": "NOPE"}),
        ("charters", {"doc_type": "nope"}),
    ],
)
def test_unknown_filter_values_match_nothing(alice, catalog, resource, params):
    assert ids(alice, resource, **params) == []


def test_bad_filter_values_of_closed_sets(alice, catalog):
    response = alice.get(f"{API}/change-requests/", {"size": "XXL"})
    assert response.status_code == 400
    assert "size" in error_of(response)["fields"]
    # A boolean that is not true/false/1/0 is no filter at all.
    assert ids(alice, "standards", is_blocking="maybe") == ["STD-1", "STD-2"]
    # An unknown parameter is refused, naming the valid ones.
    unknown = alice.get(f"{API}/programs/", {"colour": "blue"})
    assert unknown.status_code == 400
    error = error_of(unknown)
    assert error["fields"] == {"colour": ["Unknown query parameter."]}
    assert "type" in error["details"]["valid_parameters"] and "type" in error["message"]
    # Paging works as everywhere else.
    page = alice.get(f"{API}/change-requests/", {"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and [row["id"] for row in page["results"]] == ["CR-2"]


def test_reading_needs_a_role(api_for, viewer, catalog, anonymous):
    assert ids(viewer, "programs") == ["P1", "P2"]
    assert viewer.get(f"{API}/change-requests/CR-1/").status_code == 200
    nobody = api_for("nora", agent=False, role="")
    refused = nobody.get(f"{API}/bugs/")
    assert refused.status_code == 403 and error_of(refused)["code"] == "permission_denied"
    assert anonymous.get(f"{API}/bugs/").status_code == 401


def test_reads_are_read_only(alice, catalog):
    for path in (f"{API}/programs/P1/", f"{API}/bugs/BUG-1/"):
        assert alice.patch(path, {"name": "x"}).status_code == 405
        assert alice.delete(path).status_code == 405
    assert alice.post(f"{API}/programs/", {"id": "P9", "name": "x"}).status_code == 405
    assert error_of(alice.post(f"{API}/features/", {}))["status"] == 405


# Filing bugs.


def test_an_agent_files_a_bug(alice, catalog):
    body = {
        "title": "Heartbeat ignored",
        "description": "Steps: claim, heartbeat, wait.",
        "feature_id": "F1",
        "severity_key": "critical",
        "reported_by": "agent:mallory",
        "id": "BUG-MINE",
    }
    response = alice.post(f"{API}/bugs/", body)
    assert response.status_code == 201, response.content
    filed = response.json()
    assert filed["id"].startswith("BUG-") and filed["id"] != "BUG-MINE"
    assert (filed["reported_by"], filed["status_key"], filed["severity_key"]) == (
        "agent:alice",
        "open",
        "critical",
    )
    # The version defaults to the feature's current one.
    assert (filed["feature_id"], filed["feature_version"]) == ("F1", "1.2.0")
    assert filed["assigned_to"] is None and filed["fix_cr_id"] is None
    bug = Bug.objects.get(pk=filed["id"])
    assert (bug.title, bug.description, bug.reported_by) == (
        "Heartbeat ignored",
        "Steps: claim, heartbeat, wait.",
        "agent:alice",
    )
    audit = AuditLog.objects.get(resource_type="bug", resource_id=bug.pk)
    assert (audit.actor, audit.action) == ("agent:alice", "create")
    new = json.loads(audit.new_value)
    assert new["reported_by"] == "agent:alice" and new["severity_key"] == "critical"
    assert not AuditLog.objects.filter(actor="agent:mallory").exists()
    assert alice.get(f"{API}/bugs/{bug.pk}/").json() == filed


def test_a_filed_bug_has_default_severity_and_given_version(alice, catalog):
    response = alice.post(
        f"{API}/bugs/",
        {"title": "Typo", "feature_id": "F2", "feature_version": "0.9", "status_key": "open"},
    )
    assert response.status_code == 201, response.content
    filed = response.json()
    assert (filed["severity_key"], filed["status_key"], filed["feature_version"]) == (
        "medium",
        "open",
        "0.9",
    )


def test_a_viewer_may_not_file_bugs(viewer, catalog):
    response = viewer.post(f"{API}/bugs/", {"title": "x", "feature_id": "F1"})
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "permission_denied"
    assert error["message"] == "You may not file bugs."
    assert error["details"] == {"required_permission": policy.FILE_BUG}
    assert Bug.objects.count() == 3
    assert not AuditLog.objects.filter(resource_type="bug").exists()


def test_filing_rights_can_be_granted_to_a_viewer(viewer, catalog):
    from django.contrib.auth.models import Permission

    viewer.user.user_permissions.add(Permission.objects.get(codename="add_bug"))
    response = viewer.post(f"{API}/bugs/", {"title": "x", "feature_id": "F1"})
    assert response.status_code == 201
    assert response.json()["reported_by"] == "user:vic"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"title": "x", "feature_id": "F1", "severity_key": "apocalyptic"}, "severity_key"),
        ({"title": "x", "feature_id": "F1", "severity_key": 3}, "severity_key"),
        ({"feature_id": "F1"}, "title"),
        ({"title": "x"}, "feature_id"),
        ({"title": "x", "feature_id": "F-404"}, "feature_id"),
        ({"title": "x", "feature_id": "F-DEL"}, "feature_id"),
        # F2 has no current version, so one must be given.
        ({"title": "x", "feature_id": "F2"}, "feature_version"),
        ({"title": "x", "feature_id": "F1", "status_key": "fixed"}, "status_key"),
        ({"title": "x", "feature_id": "F1", "assigned_to": "agent:alice"}, "assigned_to"),
        ({"title": "x", "feature_id": "F1", "fix_cr_id": "CR-1"}, "fix_cr_id"),
        ({"title": "x", "feature_id": "F1", "fixed_in_version": "1.3"}, "fixed_in_version"),
        ({"title": "x", "feature_id": "F1", "resolved_at": "2024-01-01"}, "resolved_at"),
    ],
)
def test_bug_validation_happens_before_the_database(alice, catalog, body, field):
    response = alice.post(f"{API}/bugs/", body)
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert field in error["fields"]
    assert Bug.objects.count() == 3


def test_the_severity_error_names_the_keys(alice, catalog):
    response = alice.post(
        f"{API}/bugs/", {"title": "x", "feature_id": "F1", "severity_key": "apocalyptic"}
    )
    [message] = error_of(response)["fields"]["severity_key"]
    assert "critical, high, medium, low" in message


def test_filing_a_bug_is_idempotent_with_a_key(alice, catalog):
    body = {"title": "Once", "feature_id": "F1"}
    first = alice.post(f"{API}/bugs/", body, HTTP_IDEMPOTENCY_KEY="bug-once")
    again = alice.post(f"{API}/bugs/", body, HTTP_IDEMPOTENCY_KEY="bug-once")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Bug.objects.filter(title="Once").count() == 1


def test_the_service_refuses_lead_fields(catalog):
    from programs import services
    from system.errors import Invalid
    from system.identity import SYSTEM

    with pytest.raises(Invalid) as refused:
        services.file_bug(
            SYSTEM, title="x", feature_id="F1", feature_version="1", assigned_to="user:ann"
        )
    assert set(refused.value.details["fields"]) == {"assigned_to"}
    bug = services.file_bug(SYSTEM, title="x", feature_id="F1", feature_version="1")
    assert (bug.reported_by, bug.status_key) == ("system", "open")


# OpenAPI.


def test_openapi_schema_documents_the_programs_api_without_warnings(alice, tmp_path):
    GENERATOR_STATS.reset()
    output = tmp_path / "schema.json"
    # Raises SchemaGenerationError on any warning, and validates against the OpenAPI spec.
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(output),
        stderr=io.StringIO(),
    )
    paths = json.loads(output.read_text())["paths"]
    for resource in (
        "programs",
        "products",
        "features",
        "releases",
        "change-requests",
        "bugs",
        "standards",
        "charters",
    ):
        listing = paths[f"/api/v1/{resource}/"]["get"]
        detail = paths[f"/api/v1/{resource}/{{id}}/"]["get"]
        assert listing["tags"] == detail["tags"] == ["programs"], resource
        assert {"401", "403"} <= set(listing["responses"])
        assert "404" in detail["responses"]
    filing = paths["/api/v1/bugs/"]["post"]
    assert filing["tags"] == ["programs"]
    assert {"201", "400", "403"} <= set(filing["responses"])
    cr = paths["/api/v1/change-requests/{id}/"]["get"]["responses"]["200"]
    assert cr["content"]["application/json"]["schema"]["$ref"].endswith("/ChangeRequestDetail")
