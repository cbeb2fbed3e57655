"""The roadmap over HTTP: items, dependencies, assignments, claims, deployments and views."""

from __future__ import annotations

import pytest
from api_support import error_of

from roadmap.models import (
    Claim,
    DeploymentEvent,
    RoadmapAssignment,
    RoadmapDependency,
    RoadmapItem,
)
from system import policy
from system.fields import utc_now
from system.models import AuditLog


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_list_filters_and_search(alice, make_item):
    make_item("A", title="Login page", owner="ann", rank=2.0)
    make_item("B", title="Logout", status_key="in_progress", item_type="gate", rank=1.0)
    make_item("C", title="Billing", phase_key="phase_b", description="invoices and login")
    make_item("D", title="Old login", deleted_at=utc_now())

    def ids(**params):
        return [row["id"] for row in results(alice.get("/api/v1/items/", params))]

    assert ids() == ["B", "A", "C"]
    assert ids(status="in_progress") == ["B"]
    assert ids(phase="phase_b") == ["C"]
    assert ids(owner="ann") == ["A"]
    assert ids(item_type="gate") == ["B"]
    assert ids(q="login") == ["A", "C"]
    assert ids(ordering="-id") == ["C", "B", "A"]


def test_agent_creates_adhoc_items_only(alice):
    response = alice.post("/api/v1/items/", {"title": "Fix flaky test", "phase_key": "phase_a"})
    assert response.status_code == 201
    item = response.json()
    assert item["id"].startswith("ADHOC-")
    assert (item["created_by"], item["status_key"], item["rank"]) == ("agent:alice", "pending", 1.0)
    assert AuditLog.objects.get(resource_id=item["id"], action="create").actor == "agent:alice"
    named = alice.post("/api/v1/items/", {"id": "ADHOC-7", "title": "x", "phase_key": "phase_a"})
    assert named.status_code == 201 and named.json()["rank"] == 2.0
    refused = alice.post("/api/v1/items/", {"id": "RM-1", "title": "x", "phase_key": "phase_a"})
    assert refused.status_code == 403 and "ADHOC-" in error_of(refused)["message"]
    assert not RoadmapItem.objects.filter(pk="RM-1").exists()


def test_leads_choose_ids_and_duplicates_conflict(api_for):
    person = api_for("pat", agent=False, role=policy.Role.LEAD)
    body = {"id": "RM-1", "title": "Roadmap item", "phase_key": "phase_c", "item_type": "gate"}
    assert person.post("/api/v1/items/", body).status_code == 201
    assert RoadmapItem.objects.get(pk="RM-1").created_by == "user:pat"
    duplicate = person.post("/api/v1/items/", body)
    assert duplicate.status_code == 409
    assert error_of(duplicate)["code"] == "constraint"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"title": "x", "phase_key": "phase_z"}, "phase_key"),
        ({"title": "x", "phase_key": "phase_a", "status_key": "done"}, "status_key"),
        ({"title": "x", "phase_key": "phase_a", "item_type": "epic"}, "item_type"),
        ({"title": "x", "phase_key": "phase_a", "rank": "high"}, "rank"),
        ({"phase_key": "phase_a"}, "title"),
        ({"title": "x", "phase_key": "phase_a", "feature_id": "F-404"}, "feature_id"),
        ({"title": "x", "phase_key": "phase_a", "cr_id": "CR-404"}, "cr_id"),
    ],
)
def test_item_validation_happens_before_the_database(alice, body, field):
    response = alice.post("/api/v1/items/", body)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    assert not RoadmapItem.objects.exists()


def test_unknown_phase_lists_the_valid_keys(alice):
    error = error_of(alice.post("/api/v1/items/", {"title": "x", "phase_key": "later"}))
    assert "phase_a" in error["fields"]["phase_key"][0]


def test_phase_limit_is_a_409(alice):
    RoadmapItem.objects.bulk_create(
        RoadmapItem(id=f"P{n}", phase_key="phase_d", title=f"P{n}") for n in range(50)
    )
    response = alice.post("/api/v1/items/", {"title": "51st", "phase_key": "phase_d"})
    assert response.status_code == 409
    assert error_of(response)["message"] == "POLICY: Maximum 50 active items per phase"


def test_update_allowed_fields_with_audit(staff, make_item):
    alice = staff
    make_item("A")
    response = alice.patch("/api/v1/items/A/", {"title": "Renamed", "rank": 7.5})
    assert response.status_code == 200
    item = RoadmapItem.objects.get(pk="A")
    assert (item.title, item.rank) == ("Renamed", 7.5)
    audit = AuditLog.objects.get(resource_id="A", action="update")
    assert '"title":"Item A"' in audit.old_value and '"title":"Renamed"' in audit.new_value
    assert alice.put("/api/v1/items/A/", {"title": "x"}).status_code == 405
    assert alice.patch("/api/v1/items/NOPE/", {"title": "x"}).status_code == 404
    assert alice.patch("/api/v1/items/A/", {"phase_key": "soon"}).status_code == 400


def test_status_rules_surface_as_409(staff, make_item):
    make_item("DONE", status_key="completed")
    make_item("B")
    make_item("A", depends_on=["B"])
    why = {"reason": "moved by hand"}
    blocked = staff.patch("/api/v1/items/A/", {"status_key": "in_progress", **why})
    assert blocked.status_code == 409
    assert error_of(blocked)["message"] == "Cannot start: blocking dependencies not complete"
    reopened = staff.patch("/api/v1/items/DONE/", {"status_key": "pending", **why})
    assert reopened.status_code == 409
    assert error_of(reopened)["message"] == "POLICY: Completed items cannot be modified"
    done = staff.patch("/api/v1/items/B/", {"status_key": "completed", **why})
    assert done.status_code == 200 and done.json()["completed_at"] is not None
    assert staff.patch("/api/v1/items/A/", {"status_key": "in_progress", **why}).status_code == 200


def test_soft_delete(staff, make_item):
    alice = staff
    make_item("A")
    assert alice.delete("/api/v1/items/A/").status_code == 204
    assert RoadmapItem.objects.get(pk="A").deleted_at is not None
    assert alice.get("/api/v1/items/A/").status_code == 404
    assert alice.delete("/api/v1/items/A/").status_code == 404
    assert AuditLog.objects.filter(resource_id="A", action="delete").count() == 1


def test_dependencies_add_remove_and_refuse_cycles(staff, make_item):
    alice = staff
    for item_id in "ABC":
        make_item(item_id)

    def add(item, target, **extra):
        return alice.post(f"/api/v1/items/{item}/dependencies/", {"depends_on_id": target, **extra})

    response = add("B", "A", notes="needs the schema")
    assert response.status_code == 201
    assert response.json()["created_by"] == "user:sam"
    assert add("C", "B", dependency_type="soft").status_code == 201
    trigger_audit = AuditLog.objects.get(resource_id="B->A")
    assert (trigger_audit.actor, trigger_audit.action) == ("user:sam", "create")

    for item, target in (("A", "C"), ("A", "A")):
        cycle = add(item, target)
        assert cycle.status_code == 409
        error = error_of(cycle)
        assert (error["code"], error["message"]) == ("kernel_rule", "Circular dependency detected")
    duplicate = add("B", "A")
    assert duplicate.status_code == 409 and error_of(duplicate)["code"] == "constraint"
    assert add("B", "NOPE").status_code == 400
    assert add("NOPE", "A").status_code == 404
    assert add("A", "B", dependency_type="hard").status_code == 400

    assert alice.delete("/api/v1/items/B/dependencies/A/").status_code == 204
    assert not RoadmapDependency.objects.filter(item_id="B").exists()
    assert AuditLog.objects.get(resource_id="B->A", action="delete").actor == "user:sam"
    assert alice.delete("/api/v1/items/B/dependencies/A/").status_code == 404


def test_item_detail_lists_distinct_unmet_prerequisites_with_depth(alice, make_item):
    make_item("D", status_key="completed")
    make_item("E")
    make_item("C", depends_on=["D", "E"])
    make_item("B", depends_on=["C"])
    make_item("A", depends_on=["B", "C"])
    make_item("Z", depends_on=["A"])
    make_item("GONE", deleted_at=utc_now())
    RoadmapDependency.objects.create(item_id="A", depends_on_id="GONE")
    detail = alice.get("/api/v1/items/A/").json()
    assert [(d["id"], d["status"]) for d in detail["dependencies"]] == [
        ("B", "pending"),
        ("C", "pending"),
        ("GONE", "pending"),
    ]
    assert [d["id"] for d in detail["dependents"]] == ["Z"]
    assert [(p["id"], p["depth"]) for p in detail["unmet_prerequisites"]] == [
        ("B", 1),
        ("C", 1),
        ("E", 2),
    ]
    assert detail["active_attempt"] is None
    # Its prerequisites are open: a claim would be refused, so none is offered.
    assert detail["next_actions"] == []
    assert alice.get("/api/v1/items/E/").json()["next_actions"] == [
        {"action": "claim", "method": "POST", "href": "/api/v1/work/E/claim/"}
    ]


def test_ready_work_is_ordered_by_phase_then_rank(alice, make_item):
    make_item("A2", rank=2.0)
    make_item("A1", rank=1.0)
    make_item("A0")
    make_item("B1", phase_key="phase_b", rank=0.5)
    make_item("BLOCKED", depends_on=["A1"])
    make_item("WIP", status_key="in_progress")
    rows = results(alice.get("/api/v1/work/ready/"))
    assert [row["id"] for row in rows] == ["A0", "A1", "A2", "B1"]
    assert [
        row["id"] for row in results(alice.get("/api/v1/work/ready/", {"phase": "phase_b"}))
    ] == ["B1"]
    assert alice.get("/api/v1/work/ready/", {"limit": 1}).json()["count"] == 4


def test_assignment_lifecycle(alice, staff, make_item):
    make_item("A")
    created = staff.post("/api/v1/assignments/", {"item_id": "A", "agent_id": "agent:alice"})
    assert created.status_code == 201
    assignment = created.json()
    assert (assignment["agent_id"], assignment["assigned_by"], assignment["status"]) == (
        "agent:alice",
        "user:sam",
        "assigned",
    )
    url = f"/api/v1/assignments/{assignment['id']}"
    assert alice.post(f"{url}/complete/").status_code == 409
    started = alice.post(f"{url}/start/")
    assert started.status_code == 200 and started.json()["started_at"] is not None
    completed = alice.post(f"{url}/complete/")
    assert completed.json()["status"] == "completed"
    dropped = alice.post(f"{url}/drop/")
    assert dropped.status_code == 409 and error_of(dropped)["code"] == "invalid_transition"
    assert AuditLog.objects.filter(resource_id=str(assignment["id"]), action="start").exists()
    assert alice.post("/api/v1/assignments/999/start/").status_code == 404
    assert alice.get("/api/v1/assignments/", {"agent_id": "agent:alice"}).json()["count"] == 1
    assert alice.get(f"{url}/").json()["status"] == "completed"


def test_assignment_rules(alice, bob, api_for, make_item):
    make_item("A")
    mine = alice.post("/api/v1/assignments/", {"item_id": "A"}).json()
    assert mine["agent_id"] == "agent:alice" and mine["role"] == "implementer"
    carol = api_for("carol")
    forbidden = carol.post(f"/api/v1/assignments/{mine['id']}/drop/")
    assert forbidden.status_code == 403
    duplicate = alice.post("/api/v1/assignments/", {"item_id": "A"})
    assert duplicate.status_code == 409 and error_of(duplicate)["code"] == "constraint"
    bad_role = alice.post("/api/v1/assignments/", {"item_id": "A", "role": "boss"})
    assert bad_role.status_code == 400 and "role" in error_of(bad_role)["fields"]
    assert alice.post("/api/v1/assignments/", {"item_id": "NOPE"}).status_code == 404
    assert RoadmapAssignment.objects.count() == 1


def test_claims_and_the_deploy_gate(alice, staff):
    quantitative = {
        "id": "CL-1",
        "claim_text": "Handles 1000 rps",
        "page": "/",
        "claim_type": "quantitative",
        "test_function": "test_rps",
    }
    assert staff.post("/api/v1/claims/", quantitative).status_code == 201
    short = staff.post("/api/v1/claims/", {**quantitative, "id": "CL-2", "claim_text": "Fast"})
    assert short.status_code == 400 and "claim_text" in error_of(short)["fields"]
    untested = staff.post("/api/v1/claims/", {**quantitative, "id": "CL-3", "test_function": None})
    assert untested.status_code == 400 and "test_function" in error_of(untested)["fields"]

    website = {"target": "website", "version": "1.0.0"}
    pending = staff.post("/api/v1/deployments/", website)
    assert pending.status_code == 409
    assert error_of(pending)["message"] == (
        "POLICY-002: Cannot deploy - pending quantitative claims. "
        "Run: MOTUS_TRACK_CLAIMS=1 pytest -k claim"
    )
    assert staff.get("/api/v1/views/can-deploy/").json()[0]["status"] == "PENDING"

    failed = staff.patch("/api/v1/claims/CL-1/", {"test_status": "fail"})
    assert failed.status_code == 200 and failed.json()["last_verified_at"] is not None
    gate = staff.post("/api/v1/deployments/", website)
    assert gate.status_code == 409
    assert error_of(gate)["message"] == (
        "POLICY-001: Cannot deploy - failed claims exist. Run: pytest -k claim"
    )
    assert [c["id"] for c in staff.get("/api/v1/views/deploy-blockers/").json()] == ["CL-1"]
    assert staff.patch("/api/v1/claims/CL-1/", {"test_status": "flaky"}).status_code == 400
    assert staff.patch("/api/v1/claims/NOPE/", {"test_status": "pass"}).status_code == 404

    assert (
        staff.post("/api/v1/deployments/", {"target": "pypi", "version": "1.0.0"}).status_code
        == 201
    )
    staff.patch("/api/v1/claims/CL-1/", {"test_status": "pass"})
    deployed = staff.post("/api/v1/deployments/", website)
    assert deployed.status_code == 201 and deployed.json()["triggered_by"] == "user:sam"
    assert DeploymentEvent.objects.count() == 2
    assert staff.get("/api/v1/deployments/", {"target": "website"}).json()["count"] == 1
    assert staff.get("/api/v1/claims/", {"test_status": "pass"}).json()["count"] == 1
    assert Claim.objects.get(pk="CL-1").test_status == "pass"
    assert alice.post("/api/v1/deployments/", {"target": "moon", "version": "1"}).status_code == 400


def test_roadmap_views(alice, make_item):
    make_item("A", status_key="completed")
    make_item("B")
    make_item("C", depends_on=["B"])
    blocked = alice.get("/api/v1/views/blocked-items/").json()
    assert [(row["id"], row["blocking_items"]) for row in blocked] == [("C", "B")]
    progress = alice.get("/api/v1/views/roadmap-progress/").json()
    assert progress == [
        {
            "phase_key": "phase_a",
            "phase": "Phase A",
            "total_items": 3,
            "completed": 1,
            "in_progress": 0,
            "blocked": 0,
            "pct_complete": 33.3,
        }
    ]
