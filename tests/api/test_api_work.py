"""The work compiler over HTTP: ready → claim → context → outcome → evidence → decision →
release, and every rule the database enforces on the way, as the agent sees it."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pytest
from api_support import error_of
from django.core.management import call_command

from kernel.models import (
    Attempt,
    Blocker,
    CompiledContract,
    Decision,
    Event,
    Evidence,
    KernelOutcome,
    Lease,
)
from roadmap.models import RoadmapAssignment, RoadmapItem
from system import policy
from system.fields import utc_now
from system.models import AuditLog, InstanceConfig

EVIDENCE = {"evidence_type": "test_result", "uri": "file:///tmp/report.xml", "content": "ok"}


def claim(client, item_id, **body):
    return client.post(f"/api/v1/work/{item_id}/claim/", body)


def claimed(client, item_id) -> dict:
    response = claim(client, item_id)
    assert response.status_code == 201, response.content
    return response.json()


def attempt_url(attempt_id, call=""):
    return f"/api/v1/attempts/{attempt_id}/{call + '/' if call else ''}"


def backdate(model, pk, seconds=5, field="created_at"):
    """Move a row's timestamp into the past: rules compare seconds strictly (RULES.md 1.3)."""
    model.objects.filter(pk=pk).update(**{field: utc_now() - dt.timedelta(seconds=seconds)})


def ready_ids(client):
    response = client.get("/api/v1/work/ready/")
    assert response.status_code == 200
    return [row["id"] for row in response.json()["results"]]


def test_full_agent_flow_makes_the_dependent_ready(alice, make_item):
    make_item("A", rank=1.0)
    make_item("B", rank=2.0, depends_on=["A"])
    instance_id = InstanceConfig.objects.get(key="instance_id").value

    ready = alice.get("/api/v1/work/ready/").json()["results"]
    assert [row["id"] for row in ready] == ["A"]
    assert ready[0]["claim"] == {
        "action": "claim",
        "method": "POST",
        "href": "/api/v1/work/A/claim/",
    }

    result = claimed(alice, "A")
    attempt = result["attempt"]
    assert attempt["worker_id"] == "agent:alice"
    assert attempt["worker_type"] == "agent"
    assert result["missing_prereqs"] == []
    assert result["contract"]["compiled"]["item"]["id"] == "A"
    assert {a["action"] for a in result["next_actions"]} >= {"record_evidence", "release"}
    stored = CompiledContract.objects.get(pk=result["contract"]["hash"])
    assert json.loads(stored.compiled_json) == result["contract"]["compiled"]
    assert RoadmapItem.objects.get(pk="A").status_key == "in_progress"
    assignment = RoadmapAssignment.objects.get(item_id="A", agent_id="agent:alice")
    assert (assignment.role, assignment.status) == ("implementer", "active")
    lease = Lease.objects.get(pk=result["lease"]["id"])
    assert (lease.attempt_id, lease.mode, lease.resource_type) == (
        attempt["id"],
        "exclusive",
        "work_item",
    )

    context = alice.get(attempt_url(attempt["id"], "context")).json()
    assert context["item"]["status"] == "in_progress"
    assert context["contract"]["hash"] == result["contract"]["hash"]
    assert context["open_blockers"] == [] and context["evidence"] == []

    outcome = alice.post(
        attempt_url(attempt["id"], "outcomes"),
        {"outcome_type": "file", "path": "src/a.py", "metadata": {"lines": 10}},
    )
    assert outcome.status_code == 201
    assert KernelOutcome.objects.get(attempt_id=attempt["id"]).metadata == '{"lines":10}'

    evidence = alice.post(attempt_url(attempt["id"], "evidence"), EVIDENCE)
    assert evidence.status_code == 201
    assert evidence.json()["record"]["sha256"] == hashlib.sha256(b"ok").hexdigest()

    decision = alice.post(
        attempt_url(attempt["id"], "decisions"),
        {"decision_type": "plan_committed", "decision_summary": "Do A the simple way"},
    )
    assert decision.status_code == 201
    assert Decision.objects.get(pk=decision.json()["record"]["id"]).decided_by == "agent:alice"

    context = alice.get(attempt_url(attempt["id"], "context")).json()
    assert [len(context[k]) for k in ("outcomes", "evidence", "decisions")] == [1, 1, 1]

    release = alice.post(attempt_url(attempt["id"], "release"), {"disposition": "completed"})
    assert release.status_code == 200
    assert release.json()["attempt"]["outcome"] == "completed"
    assert release.json()["item"] == {"id": "A", "status": "completed"}

    assert ready_ids(alice) == ["B"]
    assert RoadmapItem.objects.get(pk="A").completed_at is not None
    assert RoadmapAssignment.objects.get(pk=assignment.pk).status == "completed"
    assert Lease.objects.get(pk=lease.pk).released_at is not None
    assert list(
        Event.objects.filter(lease_id=lease.pk)
        .order_by("created_at", "event_type")
        .values_list("event_type", flat=True)
    ) == ["LEASE_CLAIMED", "LEASE_RELEASED"]
    api_actions = set(
        AuditLog.objects.filter(actor="agent:alice").values_list("resource_type", "action")
    )
    assert {
        ("attempt", "claim"),
        ("kernel_outcome", "create"),
        ("evidence", "create"),
        ("decision", "create"),
        ("attempt", "release"),
    } <= api_actions
    assert set(AuditLog.objects.values_list("instance_id", flat=True)) == {instance_id}


def test_event_rows_follow_the_upstream_conventions(alice, make_item):
    make_item("A")
    lease_id = claimed(alice, "A")["lease"]["id"]
    event = Event.objects.get(lease_id=lease_id)
    assert event.event_id.startswith("evt-") and len(event.event_id) == 16
    payload = json.loads(event.payload)
    assert list(payload) == sorted(payload)
    assert payload["attempt_id"] and payload["mode"] == "exclusive"
    assert dt.datetime.strptime(event.created_at, "%Y-%m-%dT%H:%M:%SZ")


def test_claim_refused_while_another_attempt_is_active(alice, bob, make_item):
    make_item("A")
    first = claimed(alice, "A")["attempt"]["id"]
    response = claim(bob, "A")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "kernel_rule"
    assert error["message"] == (
        "KERNEL: Work already has active attempt. Use handoff instead of new claim."
    )
    active = error["details"]["active_attempt"]
    assert (active["id"], active["worker_id"]) == (first, "agent:alice")
    assert Attempt.objects.filter(work_id="A").count() == 1


def test_claim_refused_with_unresolved_blockers(alice, staff, make_item):
    make_item("A")
    blocker = staff.post(
        "/api/v1/blockers/",
        {"work_id": "A", "reason_code": "missing_info", "title": "Which DB?"},
    )
    assert blocker.status_code == 201
    response = claim(alice, "A")
    error = error_of(response)
    assert response.status_code == 409
    assert error["message"] == (
        "KERNEL: Work has unresolved blockers. Resolve blockers before claiming."
    )
    blocker_id = blocker.json()["record"]["id"]
    assert error["details"]["open_blockers"] == [blocker_id]
    # Alice may not resolve someone else's blocker: only what would be accepted is offered.
    assert [a["action"] for a in error["details"]["next_actions"]] == ["find_ready_work"]
    assert not Attempt.objects.filter(work_id="A").exists()
    # A lead may, by waiving it (once the blocker is from an earlier second).
    backdate(Blocker, blocker_id)
    lead_actions = error_of(claim(staff, "A"))["details"]["next_actions"]
    assert lead_actions[0]["action"] == "resolve_blocker"
    assert lead_actions[0]["href"] == f"/api/v1/blockers/{blocker_id}/resolve/"
    assert "waive" in lead_actions[0]["note"]


def test_claim_refused_while_blocking_dependencies_are_open(alice, make_item):
    make_item("C")
    make_item("B", depends_on=["C"])
    make_item("A", depends_on=["B", "C"])
    response = claim(alice, "A")
    error = error_of(response)
    assert response.status_code == 409
    assert error["message"] == "Cannot start: blocking dependencies not complete"
    assert [(p["id"], p["depth"]) for p in error["details"]["missing_prereqs"]] == [
        ("B", 1),
        ("C", 1),
    ]
    # Rolled back whole: no attempt, no contract, no assignment, no lease.
    assert not Attempt.objects.exists()
    assert not CompiledContract.objects.exists()
    assert not RoadmapAssignment.objects.exists()
    assert not Lease.objects.exists()
    assert RoadmapItem.objects.get(pk="A").status_key == "pending"


def test_claim_of_a_completed_item_reports_the_policy(alice, make_item):
    make_item("A", status_key="completed")
    response = claim(alice, "A")
    assert response.status_code == 409
    assert error_of(response)["message"] == "POLICY: Completed items cannot be modified"


def test_claim_of_missing_or_deleted_item_is_404(alice, make_item):
    make_item("GONE", deleted_at=utc_now())
    for item_id in ("NOPE", "GONE"):
        response = claim(alice, item_id)
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_claim_validates_ttl(alice, make_item):
    make_item("A")
    response = claim(alice, "A", ttl_seconds=0)
    assert response.status_code == 400
    assert "ttl_seconds" in error_of(response)["fields"]


def test_same_contract_is_stored_once_and_reclaim_after_failure(alice, bob, make_item):
    make_item("A")
    first = claimed(alice, "A")
    failed = alice.post(attempt_url(first["attempt"]["id"], "release"), {"disposition": "failed"})
    assert failed.status_code == 200
    assert failed.json()["item"]["status"] == "pending"
    assert "A" in ready_ids(alice)
    second = claimed(bob, "A")
    assert second["contract"]["hash"] == first["contract"]["hash"]
    assert CompiledContract.objects.count() == 1
    assert Attempt.objects.filter(work_id="A").count() == 2


def test_reclaim_by_the_same_agent_reactivates_its_assignment(alice, make_item):
    make_item("A")
    first = claimed(alice, "A")["attempt"]["id"]
    alice.post(attempt_url(first, "release"), {"disposition": "handed_off"})
    assert RoadmapAssignment.objects.get(item_id="A").status == "dropped"
    claimed(alice, "A")
    assert RoadmapAssignment.objects.get(item_id="A").status == "active"


def test_completion_needs_evidence(alice, make_item):
    make_item("A")
    attempt_id = claimed(alice, "A")["attempt"]["id"]
    response = alice.post(attempt_url(attempt_id, "release"), {"disposition": "completed"})
    assert response.status_code == 409
    assert error_of(response)["message"] == (
        "KERNEL: Cannot mark attempt completed without evidence. Use record_evidence() first."
    )
    attempt = Attempt.objects.get(pk=attempt_id)
    assert attempt.ended_at is None and attempt.outcome is None
    assert RoadmapItem.objects.get(pk="A").status_key == "in_progress"


def test_blocked_release_needs_a_blocker_and_resolution_makes_the_item_ready(alice, make_item):
    make_item("A")
    attempt_id = claimed(alice, "A")["attempt"]["id"]
    response = alice.post(attempt_url(attempt_id, "release"), {"disposition": "blocked"})
    assert response.status_code == 409
    assert error_of(response)["message"] == (
        "KERNEL: Cannot mark attempt blocked without blocker record. Use create_blocker() first."
    )

    raised = alice.post(
        attempt_url(attempt_id, "blockers"),
        {"reason_code": "missing_credential", "title": "Need the API key", "severity": "warning"},
    )
    assert raised.status_code == 201
    blocker_id = raised.json()["record"]["id"]
    assert Blocker.objects.get(pk=blocker_id).attempt_id == attempt_id
    released = alice.post(attempt_url(attempt_id, "release"), {"disposition": "blocked"})
    assert released.status_code == 200
    assert RoadmapItem.objects.get(pk="A").status_key == "blocked"
    assert RoadmapAssignment.objects.get(item_id="A").status == "assigned"
    assert "A" not in ready_ids(alice)

    backdate(Blocker, blocker_id)
    Evidence.objects.create(
        id="evd-manual",
        work_id="A",
        evidence_type="attestation",
        uri="vault://key",
        sha256="0" * 64,
        created_by="user:ops",
    )
    resolved = alice.post(f"/api/v1/blockers/{blocker_id}/resolve/", {"resolution": "Key added"})
    assert resolved.status_code == 200
    assert resolved.json()["resolved_by"] == "agent:alice"
    assert resolved.json()["next_actions"][0]["href"] == "/api/v1/work/A/claim/"
    assert RoadmapItem.objects.get(pk="A").status_key == "pending"
    assert "A" in ready_ids(alice)


def test_blocker_resolution_rules(alice, staff, make_item):
    make_item("A")
    blocker_id = staff.post(
        "/api/v1/blockers/", {"work_id": "A", "reason_code": "missing_approval", "title": "OK?"}
    ).json()["record"]["id"]
    resolve = f"/api/v1/blockers/{blocker_id}/resolve/"

    empty = staff.post(resolve, {"resolution": ""})
    assert empty.status_code == 409
    assert error_of(empty)["message"] == (
        "KERNEL: Blocker resolution requires explanation in resolution field"
    )
    unjustified = staff.post(resolve, {"resolution": "Approved verbally"})
    assert unjustified.status_code == 409
    assert error_of(unjustified)["message"] == (
        "KERNEL: Blocker resolution requires evidence or waiver decision"
    )

    backdate(Blocker, blocker_id)
    waiver = staff.post(
        "/api/v1/decisions/",
        {"work_id": "A", "decision_type": "waiver", "decision_summary": "Approval waived"},
    )
    assert waiver.status_code == 201
    assert waiver.json()["record"]["decided_by"] == "user:sam"
    assert staff.post(resolve, {"resolution": "Waived"}).status_code == 200

    again = staff.post(resolve, {"resolution": "Twice"})
    assert again.status_code == 409
    assert error_of(again)["message"] == "KERNEL: Blocker resolution is immutable"

    assert staff.post("/api/v1/blockers/blk-none/resolve/", {"resolution": "x"}).status_code == 404
    missing = staff.post(resolve, {})
    assert missing.status_code == 400 and "resolution" in error_of(missing)["fields"]


def test_blocker_validation(alice, make_item):
    make_item("A")
    bad = alice.post("/api/v1/blockers/", {"work_id": "A", "reason_code": "bored", "title": "x"})
    assert bad.status_code == 400 and "reason_code" in error_of(bad)["fields"]
    unknown = alice.post(
        "/api/v1/blockers/", {"work_id": "NOPE", "reason_code": "other", "title": "x"}
    )
    assert unknown.status_code == 400 and "work_id" in error_of(unknown)["fields"]
    assert not Blocker.objects.exists()


def test_someone_elses_attempt_is_403_for_every_call(alice, bob, make_item):
    make_item("A")
    attempt_id = claimed(alice, "A")["attempt"]["id"]
    calls = {
        "outcomes": {"outcome_type": "file"},
        "evidence": EVIDENCE,
        "decisions": {"decision_type": "approval"},
        "blockers": {"reason_code": "other", "title": "x"},
        "release": {"disposition": "failed"},
        "heartbeat": {},
        "handoff": {"to_worker": "agent:bob", "reason": "mine now"},
    }
    for call, body in calls.items():
        response = bob.post(attempt_url(attempt_id, call), body)
        assert response.status_code == 403, call
        assert "agent:alice" in error_of(response)["message"]
    assert Attempt.objects.get(pk=attempt_id).ended_at is None
    assert not Evidence.objects.exists()


def test_calls_on_an_ended_attempt_are_409_and_unknown_attempt_404(alice, make_item):
    make_item("A")
    attempt_id = claimed(alice, "A")["attempt"]["id"]
    alice.post(attempt_url(attempt_id, "release"), {"disposition": "failed"})
    ended = alice.post(attempt_url(attempt_id, "evidence"), EVIDENCE)
    assert ended.status_code == 409 and error_of(ended)["code"] == "attempt_ended"
    again = alice.post(attempt_url(attempt_id, "release"), {"disposition": "failed"})
    assert again.status_code == 409
    assert alice.post(attempt_url("att-none", "evidence"), EVIDENCE).status_code == 404
    assert alice.get(attempt_url("att-none", "context")).status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"evidence_type": "vibes", "uri": "x", "content": "c"}, "evidence_type"),
        ({"evidence_type": "log", "content": "c"}, "uri"),
        ({"evidence_type": "log", "uri": "x"}, "sha256"),
        ({"evidence_type": "log", "uri": "x", "sha256": "abc"}, "sha256"),
        ({"evidence_type": "log", "uri": "x", "content": "c", "size_bytes": -1}, "size_bytes"),
    ],
)
def test_evidence_validation(alice, make_item, body, field):
    make_item("A")
    attempt_id = claimed(alice, "A")["attempt"]["id"]
    response = alice.post(attempt_url(attempt_id, "evidence"), body)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    assert not Evidence.objects.exists()


def test_evidence_with_given_hash_and_structured_results(alice, make_item):
    make_item("A")
    attempt_id = claimed(alice, "A")["attempt"]["id"]
    digest = "AB" * 32
    response = alice.post(
        attempt_url(attempt_id, "evidence"),
        {
            "evidence_type": "test_result",
            "uri": "ci://run/7",
            "sha256": digest,
            "test_results": {"passed": 3, "failed": 0},
        },
    )
    assert response.status_code == 201
    row = Evidence.objects.get(attempt_id=attempt_id)
    assert row.sha256 == digest.lower()
    assert json.loads(row.test_results) == {"failed": 0, "passed": 3}
    assert row.lease_id == Lease.objects.get(attempt_id=attempt_id).id


def test_decisions_supersede_and_validate(alice, make_item):
    make_item("A")
    attempt_id = claimed(alice, "A")["attempt"]["id"]
    url = attempt_url(attempt_id, "decisions")
    first = alice.post(url, {"decision_type": "plan_committed", "decision_summary": "v1"})
    first_id = first.json()["record"]["id"]
    second = alice.post(
        url,
        {
            "decision_type": "plan_committed",
            "decision_summary": "v2",
            "supersedes_decision_id": first_id,
        },
    )
    assert second.status_code == 201
    assert Decision.objects.get(pk=second.json()["record"]["id"]).supersedes_decision_id == first_id
    unknown = alice.post(
        url, {"decision_type": "plan_committed", "supersedes_decision_id": "dec-x"}
    )
    assert unknown.status_code == 400
    assert "supersedes_decision_id" in error_of(unknown)["fields"]
    bad_type = alice.post(url, {"decision_type": "veto"})
    assert bad_type.status_code == 400 and "decision_type" in error_of(bad_type)["fields"]
    listed = alice.get("/api/v1/decisions/", {"supersedes_decision_id": first_id}).json()
    assert [d["decision_summary"] for d in listed["results"]] == ["v2"]
    assert Decision.objects.count() == 2
    own_approval = alice.post(url, {"decision_type": "approval", "decision_summary": "mine"})
    assert own_approval.status_code == 403
    assert error_of(own_approval)["details"]["required_permission"] == policy.REVIEW_WORK
    assert Decision.objects.count() == 2


def test_outcome_validation(alice, make_item):
    make_item("A")
    attempt_id = claimed(alice, "A")["attempt"]["id"]
    response = alice.post(attempt_url(attempt_id, "outcomes"), {"path": "x"})
    assert response.status_code == 400 and "outcome_type" in error_of(response)["fields"]
    assert not KernelOutcome.objects.exists()


def test_release_validates_disposition(alice, make_item):
    make_item("A")
    attempt_id = claimed(alice, "A")["attempt"]["id"]
    response = alice.post(attempt_url(attempt_id, "release"), {"disposition": "done"})
    assert response.status_code == 400 and "disposition" in error_of(response)["fields"]


def test_handoff_moves_attempt_lease_and_assignment(alice, bob, make_item):
    make_item("A")
    first = claimed(alice, "A")
    response = alice.post(
        attempt_url(first["attempt"]["id"], "handoff"),
        {"to_worker": "agent:bob", "reason": "Bob knows the parser"},
    )
    assert response.status_code == 201
    successor = response.json()["attempt"]
    assert successor["worker_id"] == "agent:bob"
    assert successor["handoff_from_attempt_id"] == first["attempt"]["id"]
    assert successor["contract_hash"] == first["contract"]["hash"]
    old = Attempt.objects.get(pk=first["attempt"]["id"])
    assert (old.outcome, old.ended_at is not None) == ("handed_off", True)
    assert Lease.objects.get(pk=first["lease"]["id"]).released_at is not None
    new_lease = Lease.objects.get(attempt_id=successor["id"])
    assert new_lease.worker_id == "agent:bob" and new_lease.released_at is None
    statuses = dict(RoadmapAssignment.objects.filter(item_id="A").values_list("agent_id", "status"))
    assert statuses == {"agent:alice": "dropped", "agent:bob": "active"}
    assert bob.post(attempt_url(successor["id"], "evidence"), EVIDENCE).status_code == 201
    assert alice.post(attempt_url(successor["id"], "evidence"), EVIDENCE).status_code == 403
    assert RoadmapItem.objects.get(pk="A").status_key == "in_progress"


def test_handoff_requires_a_reason_and_a_known_worker(alice, bob, make_item):
    make_item("A")
    attempt_id = claimed(alice, "A")["attempt"]["id"]
    no_reason = alice.post(
        attempt_url(attempt_id, "handoff"), {"to_worker": "agent:bob", "reason": ""}
    )
    assert no_reason.status_code == 409
    assert error_of(no_reason)["message"] == (
        "KERNEL: Handoff requires explanation in handoff_reason field"
    )
    assert Attempt.objects.get(pk=attempt_id).ended_at is None
    for worker in ("agent:nobody", "bob", "robot:bob"):
        unknown = alice.post(
            attempt_url(attempt_id, "handoff"), {"to_worker": worker, "reason": "r"}
        )
        assert unknown.status_code == 400 and "to_worker" in error_of(unknown)["fields"]
    assert Attempt.objects.count() == 1


def test_heartbeat_extends_the_attempt_lease(alice, make_item):
    make_item("A")
    result = claimed(alice, "A")
    lease_id = result["lease"]["id"]
    Lease.objects.filter(pk=lease_id).update(expires_at=utc_now() + dt.timedelta(seconds=5))
    response = alice.post(attempt_url(result["attempt"]["id"], "heartbeat"), {"ttl_seconds": 600})
    assert response.status_code == 200
    lease = Lease.objects.get(pk=lease_id)
    assert lease.expires_at >= utc_now() + dt.timedelta(seconds=590)
    assert lease.last_heartbeat is not None and lease.ttl_seconds == 600
    assert Event.objects.filter(lease_id=lease_id, event_type="heartbeat").count() == 1


def test_stale_attempt_is_ended_by_expire_stale_and_the_item_claimed_again(alice, bob, make_item):
    make_item("A")
    result = claimed(alice, "A")
    attempt_id, lease_id = result["attempt"]["id"], result["lease"]["id"]
    Lease.objects.filter(pk=lease_id).update(expires_at=utc_now() - dt.timedelta(seconds=1))

    heartbeat = alice.post(attempt_url(attempt_id, "heartbeat"))
    assert heartbeat.status_code == 409 and error_of(heartbeat)["code"] == "lease_inactive"

    output = io.StringIO()
    call_command("expire_stale", stdout=output)
    assert f"{attempt_id}: agent:alice on A" in output.getvalue()
    assert "1 stale attempt(s) ended." in output.getvalue()
    attempt = Attempt.objects.get(pk=attempt_id)
    assert attempt.outcome == "failed" and attempt.ended_at is not None
    assert RoadmapItem.objects.get(pk="A").status_key == "pending"
    assert Lease.objects.get(pk=lease_id).released_at is not None
    assert AuditLog.objects.filter(
        resource_id=attempt_id, action="expire_stale", actor="system"
    ).exists()
    assert claimed(bob, "A")["attempt"]["worker_id"] == "agent:bob"


def test_staff_expires_a_stale_attempt_over_http(alice, staff, make_item):
    make_item("A")
    result = claimed(alice, "A")
    attempt_id = result["attempt"]["id"]
    expire = attempt_url(attempt_id, "expire")
    assert alice.post(expire).status_code == 403
    fresh = staff.post(expire)
    assert fresh.status_code == 409 and error_of(fresh)["code"] == "not_stale"
    Lease.objects.filter(pk=result["lease"]["id"]).update(
        expires_at=utc_now() - dt.timedelta(seconds=1)
    )
    ended = staff.post(expire)
    assert ended.status_code == 200 and ended.json()["outcome"] == "failed"
    assert AuditLog.objects.filter(resource_id=attempt_id, actor="user:sam").exists()


def test_my_work_lists_the_callers_attempts_assignments_and_leases(alice, bob, staff, make_item):
    make_item("A")
    make_item("B")
    claimed(alice, "A")
    staff.post(
        "/api/v1/assignments/", {"item_id": "B", "agent_id": "agent:alice", "role": "observer"}
    )
    alice.post(
        "/api/v1/leases/",
        {"resource_type": "file", "resource_id": "README", "mode": "write", "ttl_seconds": 60},
    )
    work = alice.get("/api/v1/my-work/").json()
    assert [a["work_id"] for a in work["attempts"]] == ["A"]
    assert work["attempts"][0]["lease_expires_at"].endswith("Z")
    assert sorted((a["item_id"], a["role"]) for a in work["assignments"]) == [
        ("A", "implementer"),
        ("B", "observer"),
    ]
    assert sorted(lease["resource_type"] for lease in work["leases"]) == ["file", "work_item"]
    assert work["next_actions"][0]["action"] == "context"
    assert bob.get("/api/v1/my-work/").json()["attempts"] == []


def test_governance_reads(alice, make_item):
    make_item("A")
    result = claimed(alice, "A")
    attempt_id = result["attempt"]["id"]
    alice.post(attempt_url(attempt_id, "evidence"), EVIDENCE)
    alice.post(attempt_url(attempt_id, "release"), {"disposition": "completed"})

    attempts = alice.get("/api/v1/attempts/", {"work_id": "A", "active": "false"}).json()
    assert [a["id"] for a in attempts["results"]] == [attempt_id]
    assert alice.get("/api/v1/attempts/", {"active": "true"}).json()["count"] == 0
    assert alice.get(f"/api/v1/attempts/{attempt_id}/").json()["outcome"] == "completed"
    assert alice.get("/api/v1/evidence/", {"attempt_id": attempt_id}).json()["count"] == 1
    assert alice.get("/api/v1/blockers/", {"open": "true"}).json()["count"] == 0
    contract = alice.get(f"/api/v1/contracts/{result['contract']['hash']}/").json()
    assert contract["compiled"]["item"]["id"] == "A"
    audit = alice.get("/api/v1/audit-log/", {"resource_id": attempt_id}).json()["results"]
    assert [row["action"] for row in audit] == ["release", "claim"]
    for path in (
        "/api/v1/kernel-decisions/",
        "/api/v1/kernel-evidence/",
        "/api/v1/kernel-outcomes/",
    ):
        assert alice.get(path).status_code == 200
    assert alice.get("/api/v1/kernel-outcomes/", {"work_id": "A"}).json()["count"] == 0
    for path in ("/api/v1/attempts/att-x/", "/api/v1/evidence/evd-x/", "/api/v1/contracts/x/"):
        assert alice.get(path).status_code == 404
    assert alice.get(f"/api/v1/audit-log/{audit[0]['id']}/").status_code == 200


def test_item_detail_shows_the_kernel_state(alice, bob, make_item):
    make_item("A")
    attempt_id = claimed(alice, "A")["attempt"]["id"]
    alice.post(attempt_url(attempt_id, "evidence"), EVIDENCE)
    detail = alice.get("/api/v1/items/A/").json()
    assert detail["active_attempt"]["id"] == attempt_id
    assert detail["counts"] == {"evidence": 1, "decisions": 0, "open_blockers": 0, "blockers": 0}
    assert len(detail["next_actions"]) > 1
    assert [a["action"] for a in bob.get("/api/v1/items/A/").json()["next_actions"]] == ["context"]
