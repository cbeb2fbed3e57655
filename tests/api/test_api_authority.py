"""Who may do what over HTTP (system.policy): every scenario of the authority issue refused
for an agent with nothing written, the legitimate path for the role that holds it, the review
step, and a role × write-endpoint matrix derived from the same table the README prints."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from api_support import error_of
from django.db import connection
from django.test import override_settings

from kernel.models import Attempt, Blocker, Decision, Lease
from roadmap.models import Claim, DeploymentEvent, RoadmapDependency, RoadmapItem
from system import policy
from system.fields import format_timestamp, utc_now
from system.models import AuditLog, InstanceConfig

API = "/api/v1"
EVIDENCE = {"evidence_type": "test_result", "uri": "file:///tmp/report.xml", "content": "ok"}
ROOT = Path(__file__).resolve().parents[2]

#: Tables whose content a refused call must leave exactly as it was.
WATCHED_TABLES = (
    "roadmap_items",
    "roadmap_dependencies",
    "roadmap_assignments",
    "attempts",
    "evidence",
    "decisions",
    "blockers",
    "leases",
    "claims",
    "deployment_events",
    "bugs",
    "kernel_outcomes",
    "audit_log",
)


def fingerprint() -> str:
    """A hash of every row of the watched tables: equal before and after = nothing written.
    (Rows sorted by their text: PostgreSQL has no rowid to read them in order.)"""
    digest = hashlib.sha256()
    with connection.cursor() as cursor:
        for table in WATCHED_TABLES:
            cursor.execute(f"SELECT * FROM {table}")
            digest.update(repr(sorted(map(repr, cursor.fetchall()))).encode())
    return digest.hexdigest()


def refused(response, status=403, code=None) -> dict:
    assert response.status_code == status, response.content
    error = error_of(response)
    if code:
        assert error["code"] == code, error
    return error


def claimed(client, item_id) -> dict:
    response = client.post(f"{API}/work/{item_id}/claim/", {})
    assert response.status_code == 201, response.content
    return response.json()


def ready_ids(client) -> list[str]:
    return [row["id"] for row in client.get(f"{API}/work/ready/").json()["results"]]


def backdate(model, pk, seconds=60, field="created_at"):
    model.objects.filter(pk=pk).update(**{field: utc_now() - dt.timedelta(seconds=seconds)})


@pytest.fixture
def lead(api_for):
    return api_for("lee", agent=False, staff=True, role=policy.Role.LEAD)


@pytest.fixture
def reviewer(api_for):
    return api_for("rita", role=policy.Role.REVIEWER)


@pytest.fixture
def lead_item(make_item):
    """Items a lead created: B depends on A."""
    make_item("A", created_by="user:lee")
    make_item("B", created_by="user:lee", depends_on=["A"])


# --------------------------------------------------------------------------- the scenarios


def test_agent_cannot_complete_an_item_directly(alice, bob, lead, lead_item):
    attempt = claimed(alice, "A")["attempt"]
    before = fingerprint()
    refused(bob.patch(f"{API}/items/A/", {"status_key": "completed"}))
    refused(bob.patch(f"{API}/items/A/", {"status_key": "completed", "reason": "done"}))
    refused(
        bob.post(f"{API}/items/", {"title": "x", "phase_key": "phase_a", "status_key": "completed"})
    )
    assert fingerprint() == before
    # Not even a lead overrides the status under someone's open attempt.
    error = refused(
        lead.patch(f"{API}/items/A/", {"status_key": "completed", "reason": "x"}),
        409,
        "active_attempt",
    )
    assert "agent:alice" in error["message"]
    assert fingerprint() == before
    assert Attempt.objects.get(pk=attempt["id"]).ended_at is None


def test_lead_overrides_status_with_a_reason_audited(lead, lead_item):
    missing = refused(lead.patch(f"{API}/items/A/", {"status_key": "deferred"}), 400)
    assert "reason" in missing["fields"]
    open_prereq = refused(
        lead.patch(f"{API}/items/B/", {"status_key": "completed", "reason": "shipped"}),
        409,
        "prerequisites_open",
    )
    assert open_prereq["message"] == "Cannot complete B: blocking dependencies not complete (A)."
    done = lead.patch(f"{API}/items/A/", {"status_key": "completed", "reason": "shipped by hand"})
    assert done.status_code == 200
    row = AuditLog.objects.get(resource_id="A", action="status_override")
    assert row.actor == "user:lee" and '"reason":"shipped by hand"' in row.context


def test_agent_cannot_rename_delete_or_rewire_a_leads_items(alice, bob, lead, lead_item):
    assert ready_ids(bob) == ["A"]
    before = fingerprint()
    refused(bob.patch(f"{API}/items/A/", {"title": "Mine now"}))
    refused(bob.delete(f"{API}/items/A/"))
    refused(bob.delete(f"{API}/items/B/dependencies/A/"))
    refused(bob.post(f"{API}/items/A/dependencies/", {"depends_on_id": "B"}))
    assert fingerprint() == before
    assert ready_ids(bob) == ["A"]
    # The lead does it.
    assert lead.delete(f"{API}/items/B/dependencies/A/").status_code == 204
    assert sorted(ready_ids(bob)) == ["A", "B"]


def test_agents_edit_their_own_adhoc_items_until_someone_works_on_them(alice, bob):
    created = alice.post(f"{API}/items/", {"title": "Flaky test", "phase_key": "phase_a"}).json()
    url = f"{API}/items/{created['id']}/"
    assert alice.patch(url, {"title": "Flaky login test"}).status_code == 200
    refused(bob.patch(url, {"title": "Bob's"}))
    claimed(bob, created["id"])
    error = refused(alice.patch(url, {"title": "again"}))
    assert "agent:bob" in error["message"]
    refused(alice.delete(url))
    assert RoadmapItem.objects.get(pk=created["id"]).title == "Flaky login test"


def test_waiver_and_blocker_of_someone_elses_work_need_a_reviewer(alice, bob, reviewer, make_item):
    make_item("A")
    attempt = claimed(alice, "A")["attempt"]
    blocker = alice.post(
        f"{API}/attempts/{attempt['id']}/blockers/",
        {"reason_code": "missing_credential", "title": "Need staging credentials"},
    ).json()["record"]
    backdate(Blocker, blocker["id"])
    before = fingerprint()
    waiver = {"work_id": "A", "decision_type": "waiver", "decision_summary": "Not needed"}
    refused(bob.post(f"{API}/decisions/", waiver))
    refused(bob.post(f"{API}/blockers/{blocker['id']}/resolve/", {"resolution": "nah"}))
    refused(
        bob.post(f"{API}/blockers/{blocker['id']}/resolve/", {"resolution": "x", "waive": True})
    )
    # Nor does the implementer waive its own blocker.
    own = refused(
        alice.post(f"{API}/attempts/{attempt['id']}/decisions/", {"decision_type": "waiver"})
    )
    assert own["details"]["required_permission"] == policy.REVIEW_WORK
    assert fingerprint() == before
    # A reviewer waives and resolves in one call.
    resolved = reviewer.post(
        f"{API}/blockers/{blocker['id']}/resolve/",
        {"resolution": "Credentials not needed for staging", "waive": True},
    )
    assert resolved.status_code == 200, resolved.content
    decision = Decision.objects.get(work_id="A", decision_type="waiver")
    assert decision.decided_by == "agent:rita"
    assert Blocker.objects.get(pk=blocker["id"]).resolved_by == "agent:rita"


def test_agent_resolves_its_own_blocker_with_evidence(alice, make_item):
    make_item("A")
    attempt = claimed(alice, "A")["attempt"]
    blocker = alice.post(
        f"{API}/attempts/{attempt['id']}/blockers/",
        {"reason_code": "missing_info", "title": "Which port?"},
    ).json()["record"]
    backdate(Blocker, blocker["id"])
    alice.post(f"{API}/attempts/{attempt['id']}/evidence/", EVIDENCE)
    resolved = alice.post(f"{API}/blockers/{blocker['id']}/resolve/", {"resolution": "8080"})
    assert resolved.status_code == 200


def test_deploy_gate_is_not_decoration(bob, lead, api_for):
    Claim.objects.create(
        id="CLM-1", claim_text="Loads in 1s", page="/", claim_type="qualitative", test_status="fail"
    )
    before = fingerprint()
    refused(bob.patch(f"{API}/claims/CLM-1/", {"test_status": "pass"}))
    refused(bob.post(f"{API}/deployments/", {"target": "website", "version": "1.0"}))
    refused(
        bob.post(
            f"{API}/claims/",
            {"id": "CLM-2", "claim_text": "Fast!", "page": "/", "claim_type": "qualitative"},
        )
    )
    assert fingerprint() == before
    gated = lead.post(f"{API}/deployments/", {"target": "website", "version": "1.0"})
    assert refused(gated, 409)["message"].startswith("POLICY-001")
    # A reviewer given record_test_result alone records the verification.
    tester = api_for("tess", role=policy.Role.REVIEWER)
    from django.contrib.auth.models import Permission

    tester.user.user_permissions.add(
        Permission.objects.get(codename="record_test_result", content_type__app_label="roadmap")
    )
    assert tester.patch(f"{API}/claims/CLM-1/", {"test_status": "pass"}).status_code == 200
    assert (
        tester.post(f"{API}/deployments/", {"target": "website", "version": "1.0"}).status_code
        == 201
    )
    assert DeploymentEvent.objects.get().triggered_by == "agent:tess"


def test_bare_leases_cannot_hold_work_and_have_a_bounded_ttl(alice, bob, make_item):
    make_item("X")
    before = fingerprint()
    work_lease = bob.post(
        f"{API}/leases/",
        {"resource_type": "work_item", "resource_id": "X", "mode": "exclusive", "ttl_seconds": 60},
    )
    assert "resource_type" in refused(work_lease, 400)["fields"]
    week = bob.post(
        f"{API}/leases/",
        {
            "resource_type": "file",
            "resource_id": "a.py",
            "mode": "exclusive",
            "ttl_seconds": 604800,
        },
    )
    assert "ttl_seconds" in refused(week, 400)["fields"]
    assert fingerprint() == before
    with override_settings(MOTUS_MAX_LEASE_TTL_SECONDS=30):
        capped = bob.post(
            f"{API}/leases/",
            {
                "resource_type": "file",
                "resource_id": "a.py",
                "mode": "exclusive",
                "ttl_seconds": 60,
            },
        )
        assert "30" in refused(capped, 400)["fields"]["ttl_seconds"][0]


def tool_lease(item_id: str, worker: str, *, minutes=30) -> str:
    """An exclusive work_item lease without an attempt, as the `motus` tool's claim takes."""
    expires = format_timestamp(utc_now() + dt.timedelta(minutes=minutes))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO leases (id, resource_type, resource_id, mode, worker_id, acquired_at,"
            " ttl_seconds, expires_at) VALUES (%s, 'work_item', %s, 'exclusive', %s,"
            " %s, 1800, %s)",
            [f"lease-tool-{item_id}", item_id, worker, format_timestamp(utc_now()), expires],
        )
    return expires


def test_work_claimed_by_the_tool_is_not_ready_and_the_refusal_names_the_holder(alice, make_item):
    make_item("X")
    make_item("Y")
    expires = tool_lease("X", "agent:toolbot")
    # The tool may also open an attempt without setting in_progress.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO attempts (id, work_id, worker_id, worker_type) "
            "VALUES ('att-tool', 'Y', 'agent:toolbot', 'agent')"
        )
    assert ready_ids(alice) == []
    before = fingerprint()
    error = refused(alice.post(f"{API}/work/X/claim/", {}), 409, "kernel_rule")
    assert error["message"] == (
        "KERNEL: Cannot acquire exclusive lease - resource has active leases "
        f"(held by agent:toolbot until {expires} UTC)"
    )
    assert error["details"]["leases"][0]["worker_id"] == "agent:toolbot"
    assert fingerprint() == before


@override_settings(MOTUS_MAX_OPEN_ADHOC_ITEMS=3, MOTUS_PHASE_RESERVED_FOR_LEADS=10)
def test_an_agent_cannot_fill_a_phase(alice, bob, lead):
    for n in range(3):
        assert (
            alice.post(f"{API}/items/", {"title": f"t{n}", "phase_key": "phase_a"}).status_code
            == 201
        )
    before = fingerprint()
    refused(
        alice.post(f"{API}/items/", {"title": "t4", "phase_key": "phase_a"}), 409, "adhoc_limit"
    )
    assert fingerprint() == before
    RoadmapItem.objects.bulk_create(
        RoadmapItem(id=f"P{n}", phase_key="phase_a", title=f"P{n}") for n in range(37)
    )
    # 40 active: the last 10 places are the leads'.
    error = refused(
        bob.post(f"{API}/items/", {"title": "b", "phase_key": "phase_a"}), 409, "phase_reserved"
    )
    assert "phase_a" in error["message"]
    assert (
        lead.post(
            f"{API}/items/", {"id": "RM-1", "title": "Lead's", "phase_key": "phase_a"}
        ).status_code
        == 201
    )


def test_moving_an_item_into_a_full_phase_gets_the_policy_message(lead, make_item):
    RoadmapItem.objects.bulk_create(
        RoadmapItem(id=f"P{n}", phase_key="phase_b", title=f"P{n}") for n in range(50)
    )
    make_item("A", phase_key="phase_a")
    error = refused(lead.patch(f"{API}/items/A/", {"phase_key": "phase_b"}), 409)
    assert error["message"] == "POLICY: Maximum 50 active items per phase"
    assert RoadmapItem.objects.get(pk="A").phase_key == "phase_a"


def test_deleting_a_prerequisite_lists_its_dependents_or_detaches_them(lead, bob, lead_item):
    before = fingerprint()
    error = refused(lead.delete(f"{API}/items/A/"), 409, "has_dependents")
    assert [d["id"] for d in error["details"]["dependents"]] == ["B"]
    assert "B" in error["message"]
    assert fingerprint() == before
    assert lead.delete(f"{API}/items/A/?detach_dependents=true&reason=dropped").status_code == 204
    assert not RoadmapDependency.objects.filter(item_id="B").exists()
    assert RoadmapItem.objects.get(pk="A").deleted_at is not None
    assert ready_ids(bob) == ["B"]
    assert AuditLog.objects.filter(resource_id="B->A", action="delete", actor="user:lee").exists()


def test_no_blocker_on_a_deleted_item(alice, make_item):
    make_item("GONE", deleted_at=utc_now())
    before = fingerprint()
    response = alice.post(
        f"{API}/blockers/", {"work_id": "GONE", "reason_code": "other", "title": "x"}
    )
    assert "work_id" in refused(response, 400)["fields"]
    assert fingerprint() == before


def test_handoff_needs_an_identity_that_can_act(alice, api_for, make_item):
    make_item("A")
    api_for("carol")
    api_for("vic", role=policy.Role.VIEWER)
    attempt = claimed(alice, "A")["attempt"]
    url = f"{API}/attempts/{attempt['id']}/handoff/"
    before = fingerprint()
    for target in ("user:carol", "agent:nobody", "agent:vic", "carol"):
        response = alice.post(url, {"to_worker": target, "reason": "end of shift"})
        assert "to_worker" in refused(response, 400)["fields"], target
    assert fingerprint() == before
    moved = alice.post(url, {"to_worker": "agent:carol", "reason": "end of shift"})
    assert moved.status_code == 201 and moved.json()["attempt"]["worker_id"] == "agent:carol"


def test_assignments_name_known_identities(alice, lead, make_item):
    make_item("A")
    before = fingerprint()
    unknown = lead.post(f"{API}/assignments/", {"item_id": "A", "agent_id": "agent:ghost"})
    assert "agent_id" in refused(unknown, 400)["fields"]
    not_a_reviewer = lead.post(
        f"{API}/assignments/", {"item_id": "A", "agent_id": "agent:alice", "role": "reviewer"}
    )
    assert "agent_id" in refused(not_a_reviewer, 400)["fields"]
    refused(alice.post(f"{API}/assignments/", {"item_id": "A", "agent_id": "user:lee"}))
    assert fingerprint() == before


def test_accounts_without_a_role_read_nothing(api_for, make_item):
    make_item("A")
    nobody = api_for("nora", agent=False, role="")
    error = refused(nobody.get(f"{API}/items/"))
    assert "role" in error["message"]
    assert nobody.get(f"{API}/whoami/").json()["roles"] == []
    viewer = api_for("vera", agent=False, role=policy.Role.VIEWER)
    assert viewer.get(f"{API}/items/").status_code == 200
    refused(viewer.post(f"{API}/work/A/claim/", {}))


# --------------------------------------------------------------------------- the review step


def finish(client, item_id) -> str:
    attempt = claimed(client, item_id)["attempt"]
    assert client.post(f"{API}/attempts/{attempt['id']}/evidence/", EVIDENCE).status_code == 201
    released = client.post(f"{API}/attempts/{attempt['id']}/release/", {"disposition": "completed"})
    assert released.status_code == 200, released.content
    return released.json()["item"]["status"]


def test_review_step_pass(alice, reviewer, lead, make_item):
    make_item("A")
    make_item("B", depends_on=["A"])
    assert (
        lead.post(
            f"{API}/assignments/", {"item_id": "A", "agent_id": "agent:rita", "role": "reviewer"}
        ).status_code
        == 201
    )
    assert finish(alice, "A") == "review"
    assert RoadmapItem.objects.get(pk="A").status_key == "review"
    assert ready_ids(alice) == []
    refused(alice.post(f"{API}/work/A/claim/", {}), 409, "not_claimable")
    review = {"work_id": "A", "decision_type": "review_passed", "decision_summary": "LGTM"}
    # Not by the implementer, not by an agent without the reviewer role.
    assert (
        refused(alice.post(f"{API}/decisions/", review))["details"]["required_permission"]
        == policy.REVIEW_WORK
    )
    passed = reviewer.post(f"{API}/decisions/", review)
    assert passed.status_code == 201, passed.content
    item = RoadmapItem.objects.get(pk="A")
    assert item.status_key == "completed" and item.completed_at is not None
    assert ready_ids(alice) == ["B"]
    assert AuditLog.objects.filter(
        resource_id="A", action="review_passed", actor="agent:rita"
    ).exists()
    again = reviewer.post(f"{API}/decisions/", review)
    refused(again, 409, "not_in_review")


def test_review_step_reject_shows_the_reasons_to_the_next_claimer(alice, bob, reviewer, make_item):
    make_item("A")
    InstanceConfig.objects.filter(key="review_required").update(value="true")
    assert finish(alice, "A") == "review"
    rejected = reviewer.post(
        f"{API}/decisions/",
        {
            "work_id": "A",
            "decision_type": "review_rejected",
            "decision_summary": "Tests missing",
            "rationale": "Add a test for the empty input.",
        },
    )
    assert rejected.status_code == 201
    assert RoadmapItem.objects.get(pk="A").status_key == "pending"
    attempt = claimed(bob, "A")["attempt"]
    context = bob.get(f"{API}/attempts/{attempt['id']}/context/").json()
    assert [(f["decision_type"], f["rationale"]) for f in context["review_feedback"]] == [
        ("review_rejected", "Add a test for the empty input.")
    ]


def test_a_reviewer_cannot_pass_its_own_work(reviewer, make_item):
    make_item("A")
    InstanceConfig.objects.filter(key="review_required").update(value="true")
    assert finish(reviewer, "A") == "review"
    error = refused(
        reviewer.post(f"{API}/decisions/", {"work_id": "A", "decision_type": "review_passed"}),
        403,
        "own_work",
    )
    assert "own work" in error["message"]


def test_without_review_completion_is_immediate(alice, make_item):
    make_item("A")
    assert finish(alice, "A") == "completed"


# --------------------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class Case:
    """One write endpoint: the permission it takes and how to call it on a fresh world."""

    name: str
    permission: str
    method: str
    path: str
    body: dict | None = None
    ok: int = 200


def world(other):
    """Items, an attempt, a blocker, a lease, an assignment and a claim that belong to
    ``other`` (an agent) or to a lead, so every call is on someone else's rows."""
    RoadmapItem.objects.create(id="A", phase_key="phase_a", title="A", created_by="user:boss")
    RoadmapItem.objects.create(id="B", phase_key="phase_a", title="B", created_by="user:boss")
    RoadmapItem.objects.create(id="C", phase_key="phase_a", title="C", created_by="user:boss")
    RoadmapItem.objects.create(id="D", phase_key="phase_a", title="D", created_by="user:boss")
    RoadmapDependency.objects.create(item_id="B", depends_on_id="A")
    attempt = claimed(other, "C")["attempt"]
    blocker = other.post(
        f"{API}/blockers/", {"work_id": "A", "reason_code": "other", "title": "Wait"}
    ).json()["record"]
    backdate(Blocker, blocker["id"])
    lease = other.post(
        f"{API}/leases/",
        {"resource_type": "file", "resource_id": "x.py", "mode": "exclusive", "ttl_seconds": 60},
    ).json()["lease"]
    assignment = other.post(f"{API}/assignments/", {"item_id": "B", "role": "observer"}).json()
    Claim.objects.create(id="CLM-1", claim_text="Works fine", page="/", claim_type="qualitative")
    stale = Attempt.objects.create(
        id="att-stale", work_id="B", worker_id="agent:ghost", worker_type="agent"
    )
    Lease.objects.create(
        id="lease-stale",
        resource_type="work_item",
        resource_id="B",
        mode="exclusive",
        worker_id="agent:ghost",
        attempt_id=stale.pk,
        ttl_seconds=1,
        expires_at=utc_now() - dt.timedelta(minutes=1),
    )
    return {
        "attempt": attempt["id"],
        "blocker": blocker["id"],
        "lease": lease["id"],
        "assignment": assignment["id"],
    }


def cases(ids) -> list[Case]:
    lease_file = {
        "resource_type": "file",
        "resource_id": "mine.py",
        "mode": "read",
        "ttl_seconds": 60,
    }
    return [
        Case(
            "create ad-hoc item",
            policy.ADD_ADHOC_ITEM,
            "post",
            "/items/",
            {"title": "t", "phase_key": "phase_b"},
            201,
        ),
        Case(
            "create item with an id",
            policy.MANAGE_ROADMAP,
            "post",
            "/items/",
            {"id": "RM-9", "title": "t", "phase_key": "phase_b"},
            201,
        ),
        Case("change any item", policy.MANAGE_ROADMAP, "patch", "/items/A/", {"title": "Renamed"}),
        Case(
            "override status",
            policy.OVERRIDE_STATUS,
            "patch",
            "/items/A/",
            {"status_key": "deferred", "reason": "later"},
        ),
        Case("delete any item", policy.MANAGE_ROADMAP, "delete", "/items/D/", None, 204),
        Case(
            "add dependency",
            policy.MANAGE_ROADMAP,
            "post",
            "/items/A/dependencies/",
            {"depends_on_id": "C", "dependency_type": "soft"},
            201,
        ),
        Case(
            "remove dependency",
            policy.MANAGE_ROADMAP,
            "delete",
            "/items/B/dependencies/A/",
            None,
            204,
        ),
        Case(
            "claim", policy.CLAIM_WORK, "post", "/work/B/claim/", {}, 409
        ),  # held by the stale attempt
        Case(
            "raise blocker",
            policy.CLAIM_WORK,
            "post",
            "/blockers/",
            {"work_id": "B", "reason_code": "other", "title": "Hm"},
            201,
        ),
        Case(
            "self-assign",
            policy.CLAIM_WORK,
            "post",
            "/assignments/",
            {"item_id": "A", "role": "observer"},
            201,
        ),
        Case(
            "assign others",
            policy.MANAGE_ROADMAP,
            "post",
            "/assignments/",
            {"item_id": "A", "agent_id": "agent:other", "role": "observer"},
            201,
        ),
        Case(
            "start others' assignment",
            policy.MANAGE_ROADMAP,
            "post",
            f"/assignments/{ids['assignment']}/start/",
            {},
        ),
        Case(
            "waiver",
            policy.REVIEW_WORK,
            "post",
            "/decisions/",
            {"work_id": "A", "decision_type": "waiver"},
            201,
        ),
        Case(
            "resolve others' blocker",
            policy.REVIEW_WORK,
            "post",
            f"/blockers/{ids['blocker']}/resolve/",
            {"resolution": "ok", "waive": True},
        ),
        Case(
            "add claim",
            policy.MANAGE_CLAIMS,
            "post",
            "/claims/",
            {"id": "CLM-2", "claim_text": "Works too", "page": "/", "claim_type": "qualitative"},
            201,
        ),
        Case(
            "record test result",
            policy.RECORD_TEST_RESULT,
            "patch",
            "/claims/CLM-1/",
            {"test_status": "pass"},
        ),
        Case(
            "record deployment",
            policy.RECORD_TEST_RESULT,
            "post",
            "/deployments/",
            {"target": "docs", "version": "1"},
            201,
        ),
        Case("bare lease", policy.HOLD_LEASE, "post", "/leases/", lease_file, 201),
        Case(
            "force-release",
            policy.FORCE_RELEASE_LEASE,
            "post",
            f"/leases/{ids['lease']}/force-release/",
            {"reason": "stuck"},
        ),
        Case("expire attempt", policy.EXPIRE_ATTEMPT, "post", "/attempts/att-stale/expire/", {}),
        Case("file bug", policy.FILE_BUG, "post", "/bugs/", None, 201),
        # Someone else's attempt, lease and heartbeat: nobody's role reaches them.
        Case(
            "others' attempt: evidence",
            "nobody",
            "post",
            f"/attempts/{ids['attempt']}/evidence/",
            EVIDENCE,
        ),
        Case(
            "others' attempt: release",
            "nobody",
            "post",
            f"/attempts/{ids['attempt']}/release/",
            {"disposition": "failed"},
        ),
        Case(
            "others' attempt: handoff",
            "nobody",
            "post",
            f"/attempts/{ids['attempt']}/handoff/",
            {"to_worker": "agent:other", "reason": "x"},
        ),
        Case(
            "others' lease: release",
            "nobody",
            "post",
            f"/leases/{ids['lease']}/release/",
            {"reason": "x"},
        ),
        # Someone else's attempt, lease and assignment, the rest of the calls.
        Case(
            "others' attempt: outcome",
            "nobody",
            "post",
            f"/attempts/{ids['attempt']}/outcomes/",
            {"outcome_type": "file", "path": "a.py"},
        ),
        Case(
            "others' attempt: decision",
            "nobody",
            "post",
            f"/attempts/{ids['attempt']}/decisions/",
            {"decision_type": "plan_committed"},
        ),
        Case(
            "others' attempt: blocker",
            "nobody",
            "post",
            f"/attempts/{ids['attempt']}/blockers/",
            {"reason_code": "other", "title": "Not mine"},
        ),
        Case(
            "others' attempt: heartbeat",
            "nobody",
            "post",
            f"/attempts/{ids['attempt']}/heartbeat/",
            {},
        ),
        Case(
            "others' lease: heartbeat", "nobody", "post", f"/leases/{ids['lease']}/heartbeat/", {}
        ),
        Case(
            "drop others' assignment",
            policy.MANAGE_ROADMAP,
            "post",
            f"/assignments/{ids['assignment']}/drop/",
            {},
        ),
        # The caller's own attempt (opened for it before the call): its role must still
        # allow work, so a role taken away mid-attempt stops the work.
        Case(
            "own attempt: evidence",
            policy.CLAIM_WORK,
            "post",
            "/attempts/att-own/evidence/",
            EVIDENCE,
            201,
        ),
        Case(
            "own attempt: outcome",
            policy.CLAIM_WORK,
            "post",
            "/attempts/att-own/outcomes/",
            {"outcome_type": "file", "path": "a.py"},
            201,
        ),
        Case(
            "own attempt: decision",
            policy.CLAIM_WORK,
            "post",
            "/attempts/att-own/decisions/",
            {"decision_type": "plan_committed"},
            201,
        ),
        Case(
            "own attempt: blocker",
            policy.CLAIM_WORK,
            "post",
            "/attempts/att-own/blockers/",
            {"reason_code": "other", "title": "Stuck"},
            201,
        ),
        Case(
            "own attempt: release",
            policy.CLAIM_WORK,
            "post",
            "/attempts/att-own/release/",
            {"disposition": "failed"},
        ),
    ]


ROLES = [None, *policy.Role]
CASE_NAMES = [
    "create ad-hoc item",
    "create item with an id",
    "change any item",
    "override status",
    "delete any item",
    "add dependency",
    "remove dependency",
    "claim",
    "raise blocker",
    "self-assign",
    "assign others",
    "start others' assignment",
    "waiver",
    "resolve others' blocker",
    "add claim",
    "record test result",
    "record deployment",
    "bare lease",
    "force-release",
    "expire attempt",
    "file bug",
    "others' attempt: evidence",
    "others' attempt: release",
    "others' attempt: handoff",
    "others' lease: release",
    "others' attempt: outcome",
    "others' attempt: decision",
    "others' attempt: blocker",
    "others' attempt: heartbeat",
    "others' lease: heartbeat",
    "drop others' assignment",
    "own attempt: evidence",
    "own attempt: outcome",
    "own attempt: decision",
    "own attempt: blocker",
    "own attempt: release",
]


def expected_status(role, case: Case) -> int:
    if role is None or case.permission == "nobody":
        return 403
    if case.permission == policy.MANAGE_CLAIMS:
        allowed = role == policy.Role.LEAD
    else:
        allowed = policy.role_has(role, case.permission)
    return case.ok if allowed else 403


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "no-role")
@pytest.mark.parametrize("name", CASE_NAMES)
def test_role_matrix(api_for, make_item, role, name):
    from programs.models import Feature, Product, Program

    other = api_for("other")
    ids = world(other)
    Program.objects.create(id="P", name="P")
    Product.objects.create(id="PR", program_id="P", name="PR")
    Feature.objects.create(id="F", product_id="PR", name="F", version="1.0")
    case = next(c for c in cases(ids) if c.name == name)
    body = case.body
    if name == "file bug":
        body = {"title": "It breaks", "feature_id": "F", "severity_key": "high"}
    caller = api_for(
        "caller", agent=role != policy.Role.LEAD, staff=role == policy.Role.LEAD, role=role or ""
    )
    RoadmapItem.objects.create(id="E", phase_key="phase_a", title="E", created_by="user:boss")
    Attempt.objects.create(
        id="att-own",
        work_id="E",
        worker_id=caller.identity,
        worker_type="human" if role == policy.Role.LEAD else "agent",
    )
    before = fingerprint()
    path = API + case.path
    response = (
        caller.delete(path) if case.method == "delete" else getattr(caller, case.method)(path, body)
    )
    want = expected_status(role, case)
    assert response.status_code == want, (role, name, response.content)
    if want == 403:
        error_of(response)
        assert fingerprint() == before


def test_the_matrix_covers_every_rule_and_the_readme_shows_it():
    covered = {
        c.permission
        for c in cases(dict.fromkeys(("attempt", "blocker", "lease", "assignment"), "x"))
    }
    assert {rule.permission for rule in policy.MATRIX} - {policy.READ} <= covered
    assert [
        c.name for c in cases(dict.fromkeys(("attempt", "blocker", "lease", "assignment"), "x"))
    ] == CASE_NAMES
    readme = (ROOT / "README.md").read_text()
    assert policy.matrix_table() in readme, (
        "README's role table differs: run manage.py policy_table"
    )


def test_permission_checks_go_through_the_policy():
    """One place asks Django whether a user holds a permission (``policy.user_can``): the
    API, the pages, the admin's own rules and the services call it, never ``has_perm``."""
    callers = []
    for app in ("system", "kernel", "roadmap", "programs", "motus_site"):
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts or path == ROOT / "system" / "policy.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if ".has_perm(" in line and not line.lstrip().startswith("#"):
                    callers.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert callers == []


def test_a_token_request_asks_no_backend_for_permissions(alice, make_item, monkeypatch):
    """Token authentication hands the policy the permission set its one query read: no
    authentication backend is asked during the request (each would be imported and built
    anew for every check)."""
    from django.contrib.auth import backends

    asked = []
    for backend in (backends.BaseBackend, backends.ModelBackend):
        original = backend.get_all_permissions

        def counting(self, user_obj, obj=None, _original=original):
            asked.append(type(self).__name__)
            return _original(self, user_obj, obj)

        monkeypatch.setattr(backend, "get_all_permissions", counting)
    make_item("W1")
    response = alice.post(f"{API}/work/W1/claim/", {})
    assert response.status_code == 201, response.content
    assert asked == []
    # Without the token's set (a user loaded anew, as the admin and pages load theirs), the
    # backends answer, once per user object, and agree.
    assert policy.user_can(alice.user, policy.CLAIM_WORK)
    assert "ModelBackend" in asked
    answers = len(asked)
    assert not policy.user_can(alice.user, policy.MANAGE_ROADMAP)
    assert len(asked) == answers
