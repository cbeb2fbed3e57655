"""Authority in the admin: who may do what there, every write audited as the acting user, and
the roadmap and kernel rows written through the same service functions as the API.

Users are staff accounts in the role groups of ``system.policy`` (not superusers), logged in
with the test client; forms are submitted with the values the page renders."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from admin_forms import action, add_inline_row, add_url, change_url, changelist_url, submit
from django.apps import apps
from django.contrib import admin as django_admin
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kernel.models import Blocker, Decision
from programs.models import (
    Bug,
    ChangeRequest,
    CharterDoc,
    CrDependency,
    EntityVersion,
    Feature,
    Product,
    Program,
    Release,
    Standard,
)
from roadmap.models import Claim, RoadmapAssignment, RoadmapDependency, RoadmapItem
from system import policy
from system.identity import AGENT_GROUP
from system.models import AuditLog, InstanceConfig, Terminology

# --------------------------------------------------------------------------- people


def make_staff(username: str, role: str | None, *, agent: bool = False) -> User:
    """A staff account in ``role``'s group (``None``: no role at all)."""
    user = User.objects.create_user(username, is_staff=not agent)
    if agent:
        user.groups.add(Group.objects.get_or_create(name=AGENT_GROUP)[0])
    if role:
        user.groups.add(Group.objects.get(name=policy.group_name(role)))
    return user


@pytest.fixture
def lead(db, client):
    """The test client, logged in as ``lena``, a staff user with the lead role."""
    client.force_login(make_staff("lena", policy.Role.LEAD))
    return client


@pytest.fixture
def viewer(db, client):
    client.force_login(make_staff("vic", policy.Role.VIEWER))
    return client


@pytest.fixture
def nobody(db, client):
    """A staff user in no role group."""
    client.force_login(make_staff("nora", None))
    return client


LEAD = "user:lena"
#: Rows last updated in the past: an update in the same second as the previous one leaves
#: updated_at unchanged, and then no version is recorded (RULES.md 1.8).
PAST = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)


def item(pk, status="pending") -> RoadmapItem:
    return RoadmapItem.objects.create(
        id=pk, phase_key="phase_a", title=f"Item {pk}", status_key=status, updated_at=PAST
    )


def product_tree():
    program = Program.objects.create(id="P1", name="Motus", updated_at=PAST)
    product = Product.objects.create(id="PR1", program=program, name="Kernel", updated_at=PAST)
    feature = Feature.objects.create(id="F1", product=product, name="Leases", updated_at=PAST)
    return program, product, feature


def audit_rows(resource_type: str, resource_id: str) -> list[AuditLog]:
    return list(
        AuditLog.objects.filter(resource_type=resource_type, resource_id=resource_id).order_by("id")
    )


def values(text: str | None):
    return None if text is None else json.loads(text)


def errors_of(response) -> dict:
    """The change form's errors by field ("__all__": the form's own)."""
    assert response.status_code == 200, response.status_code
    return {name: list(errs) for name, errs in response.context["adminform"].form.errors.items()}


def messages_of(client, response) -> list[str]:
    assert response.status_code == 302
    return [str(m) for m in client.get(response.url).context["messages"]]


# --------------------------------------------------------------------------- audit


def test_admin_create_change_soft_delete_restore_each_write_one_audit_row(lead):
    assert submit(lead, add_url(ChangeRequest), id="CR1", title="Sync faster").status_code == 302
    (created,) = audit_rows("change_request", "CR1")
    assert (created.actor, created.action, created.event_type) == (
        LEAD,
        "create",
        "change_request",
    )
    assert values(created.new_value)["title"] == "Sync faster"
    assert values(created.new_value)["status_key"] == "queue"

    response = submit(lead, change_url(ChangeRequest, "CR1"), title="Sync much faster", size="L")
    assert response.status_code == 302
    changed = audit_rows("change_request", "CR1")[-1]
    assert (changed.actor, changed.action) == (LEAD, "update")
    # Old → new of the changed columns only.
    assert values(changed.old_value) == {"title": "Sync faster", "size": "M"}
    assert values(changed.new_value) == {"title": "Sync much faster", "size": "L"}

    # An unchanged form writes nothing, so no audit row either.
    assert submit(lead, change_url(ChangeRequest, "CR1")).status_code == 302
    assert len(audit_rows("change_request", "CR1")) == 2

    response = action(
        lead,
        ChangeRequest,
        "soft_delete_selected",
        ["CR1"],
        deletion_reason="duplicate",
        post="yes",
    )
    assert response.status_code == 302
    deleted = audit_rows("change_request", "CR1")[-1]
    assert (deleted.actor, deleted.action, values(deleted.context)) == (
        LEAD,
        "delete",
        {"reason": "duplicate"},
    )
    assert ChangeRequest.objects.get(pk="CR1").deleted_at is not None

    response = action(lead, ChangeRequest, "restore_selected", ["CR1"], query="?deleted=only")
    assert response.status_code == 302
    restored = audit_rows("change_request", "CR1")[-1]
    assert (restored.actor, restored.action) == (LEAD, "restore")
    assert ChangeRequest.objects.get(pk="CR1").deleted_at is None
    assert len(audit_rows("change_request", "CR1")) == 4


def test_inline_rows_created_changed_and_deleted_are_audited(lead):
    product_tree()
    url = change_url(Program, "P1")
    changes = add_inline_row(
        {}, "products", 1, id="PR2", name="Pages", status_key="active", version="0.1.0"
    )
    assert submit(lead, url, **changes).status_code == 302
    (created,) = audit_rows("product", "PR2")
    assert (created.actor, created.action) == (LEAD, "create")
    assert values(created.new_value)["program_id"] == "P1"

    assert submit(lead, url, **{"products-0-name": "Kernel v2"}).status_code == 302
    (changed,) = audit_rows("product", "PR1")
    assert (changed.actor, changed.action) == (LEAD, "update")
    assert (values(changed.old_value), values(changed.new_value)) == (
        {"name": "Kernel"},
        {"name": "Kernel v2"},
    )

    for pk in ("X", "Y"):
        ChangeRequest.objects.create(id=pk, title=f"CR {pk}")
    url = change_url(ChangeRequest, "X")
    changes = add_inline_row({}, "dependencies", 0, depends_on="Y", dependency_type="blocks")
    assert submit(lead, url, **changes).status_code == 302
    assert submit(lead, url, **{"dependencies-0-DELETE": "on"}).status_code == 302
    assert not CrDependency.objects.exists()
    rows = audit_rows("cr_dependency", "X->Y")
    assert [(row.actor, row.action) for row in rows] == [(LEAD, "create"), (LEAD, "delete")]
    assert values(rows[1].old_value)["dependency_type"] == "blocks"


def test_a_refused_save_leaves_no_audit_row(lead):
    response = submit(lead, add_url(Claim), id="C1", claim_text="Fast", page="/")
    assert errors_of(response)  # claim_text is too short for the CHECK
    assert not AuditLog.objects.filter(resource_type="claim").exists()


# --------------------------------------------------------------------------- roadmap items


def test_items_are_created_and_changed_through_the_service_with_one_audit_row(lead):
    response = submit(lead, add_url(RoadmapItem), id="R1", title="Write docs", phase_key="phase_a")
    assert response.status_code == 302
    r1 = RoadmapItem.objects.get(pk="R1")
    assert (r1.created_by, r1.status_key, r1.rank) == (LEAD, "pending", 1.0)
    (created,) = audit_rows("roadmap_item", "R1")
    assert (created.actor, created.action) == (LEAD, "create")

    assert submit(lead, change_url(RoadmapItem, "R1"), title="Write the docs").status_code == 302
    changed = audit_rows("roadmap_item", "R1")[1:]
    assert [(row.actor, row.action) for row in changed] == [(LEAD, "update")]
    assert values(changed[0].old_value) == {"title": "Write docs"}
    assert values(changed[0].new_value) == {"title": "Write the docs"}


def test_an_item_created_with_a_status_other_than_pending_is_an_override(lead):
    fields = {"id": "R1", "title": "Done already", "phase_key": "phase_a"}
    response = submit(lead, add_url(RoadmapItem), status_key="completed", **fields)
    assert errors_of(response)["reason"] == ["Say why the status is set directly."]
    assert not RoadmapItem.objects.exists()
    response = submit(
        lead, add_url(RoadmapItem), status_key="completed", reason="Done last year", **fields
    )
    assert response.status_code == 302
    r1 = RoadmapItem.objects.get(pk="R1")
    assert (r1.status_key, r1.created_by) == ("completed", LEAD)
    assert r1.completed_at is not None
    (created,) = audit_rows("roadmap_item", "R1")
    assert values(created.context) == {"reason": "Done last year"}


def test_a_status_change_needs_a_reason_shown_on_the_reason_field(lead):
    item("R1")
    response = submit(lead, change_url(RoadmapItem, "R1"), status_key="deferred")
    errors = errors_of(response)
    assert errors["reason"] == ["Say why the status is set directly."]
    assert "A reason is required." in errors["__all__"]
    assert RoadmapItem.objects.get(pk="R1").status_key == "pending"
    assert not audit_rows("roadmap_item", "R1")

    response = submit(
        lead, change_url(RoadmapItem, "R1"), status_key="deferred", reason="Next quarter"
    )
    assert response.status_code == 302
    assert RoadmapItem.objects.get(pk="R1").status_key == "deferred"
    (override,) = audit_rows("roadmap_item", "R1")
    assert (override.actor, override.action) == (LEAD, "status_override")
    assert values(override.context) == {"reason": "Next quarter"}
    assert values(override.old_value) == {"status_key": "pending"}


def test_completing_an_item_with_an_open_prerequisite_is_refused_and_nothing_saved(lead):
    item("A", status="in_progress")
    item("B")
    RoadmapDependency.objects.create(item_id="B", depends_on_id="A", dependency_type="blocks")
    changes = add_inline_row({}, "dependencies", 1, depends_on="C", dependency_type="soft")
    item("C")
    response = submit(
        lead,
        change_url(RoadmapItem, "B"),
        status_key="completed",
        title="B done",
        reason="Shipped",
        **changes,
    )
    errors = errors_of(response)
    assert errors["__all__"] == [
        "Cannot complete B: blocking dependencies not complete (A).",
        f'Unfinished blocking prerequisites: <a href="{change_url(RoadmapItem, "A")}">A</a> '
        "Item A (In Progress).",
    ]
    assert "errornote" in response.content.decode()
    b = RoadmapItem.objects.get(pk="B")
    assert (b.status_key, b.title, b.completed_at) == ("pending", "Item B", None)
    # The inline row of the same request was not saved either.
    assert list(RoadmapDependency.objects.values_list("item_id", "depends_on_id")) == [("B", "A")]
    assert not audit_rows("roadmap_item", "B")


def test_adding_a_dependency_and_removing_it_go_through_the_service(lead):
    item("A")
    item("B")
    url = change_url(RoadmapItem, "B")
    changes = add_inline_row({}, "dependencies", 0, depends_on="A", dependency_type="blocks")
    assert submit(lead, url, **changes).status_code == 302
    assert RoadmapDependency.objects.get().created_by == LEAD
    assert submit(lead, url, **{"dependencies-0-DELETE": "on"}).status_code == 302
    assert not RoadmapDependency.objects.exists()
    rows = audit_rows("roadmap_dependency", "B->A")
    # The insert trigger's row, then the service's: one each, no second admin row.
    assert [(row.actor, row.action) for row in rows] == [(LEAD, "create"), (LEAD, "delete")]


def test_an_assignment_to_an_unknown_identity_is_refused_as_a_form_error(lead):
    item("R1")
    changes = add_inline_row(
        {"title": "Renamed"},
        "roadmap_assignments",
        0,
        agent_id="agent:ghost",
        role="implementer",
        status="assigned",
    )
    response = submit(lead, change_url(RoadmapItem, "R1"), **changes)
    message, field_message = errors_of(response)["__all__"]
    assert message == "Unknown identity."
    assert field_message.startswith("agent_id: No active account 'agent:ghost'")
    assert not RoadmapAssignment.objects.exists()
    assert RoadmapItem.objects.get(pk="R1").title == "Item R1"


def test_an_assignment_added_inline_goes_through_the_service_and_its_status(lead):
    make_staff("ada", policy.Role.AGENT, agent=True)
    item("R1")
    changes = add_inline_row(
        {}, "roadmap_assignments", 0, agent_id="agent:ada", role="implementer", status="active"
    )
    assert submit(lead, change_url(RoadmapItem, "R1"), **changes).status_code == 302
    assignment = RoadmapAssignment.objects.get()
    assert (assignment.agent_id, assignment.assigned_by, assignment.status) == (
        "agent:ada",
        LEAD,
        "active",
    )
    assert assignment.started_at is not None
    rows = AuditLog.objects.filter(resource_type="roadmap_assignment").order_by("id")
    assert [(row.actor, row.action) for row in rows] == [(LEAD, "assign"), (LEAD, "start")]


def test_soft_deleting_a_prerequisite_is_refused_with_its_dependents_listed(lead):
    item("A")
    item("B")
    item("C")
    for dependent in ("B", "C"):
        RoadmapDependency.objects.create(
            item_id=dependent, depends_on_id="A", dependency_type="blocks"
        )
    # The confirmation page lists them before anything is tried ...
    page = action(lead, RoadmapItem, "soft_delete_selected", ["A"])
    obstacles = page.context["obstacles"]
    assert [(o.row, [text for text, _ in o.links]) for o in obstacles] == [
        ("A", ["B Item B", "C Item C"])
    ]
    # ... and confirming without detaching them is refused, the page saying so.
    response = action(
        lead, RoadmapItem, "soft_delete_selected", ["A"], deletion_reason="dup", post="yes"
    )
    assert response.status_code == 200
    assert response.context["refusal"].startswith("Cannot delete A: B, C depend on it.")
    assert RoadmapItem.objects.get(pk="A").deleted_at is None
    assert RoadmapDependency.objects.count() == 2
    assert not audit_rows("roadmap_item", "A")

    # Detaching the dependents removes their edges (each audited) and deletes the item.
    response = action(
        lead,
        RoadmapItem,
        "soft_delete_selected",
        ["A"],
        deletion_reason="dup",
        detach_dependents="on",
        post="yes",
    )
    assert messages_of(lead, response) == ["Soft-deleted 1 roadmap item. Reason: dup"]
    assert RoadmapItem.objects.get(pk="A").deleted_at is not None
    assert not RoadmapDependency.objects.exists()
    (deleted,) = audit_rows("roadmap_item", "A")
    assert (deleted.actor, deleted.action, values(deleted.context)) == (
        LEAD,
        "delete",
        {"reason": "dup"},
    )
    removed = audit_rows("roadmap_dependency", "B->A")[-1]
    assert (removed.actor, removed.action) == (LEAD, "delete")

    response = action(lead, RoadmapItem, "restore_selected", ["A"], query="?deleted=only")
    assert messages_of(lead, response) == ["Restored 1 item(s)."]
    assert RoadmapItem.objects.get(pk="A").deleted_at is None
    assert [row.action for row in audit_rows("roadmap_item", "A")] == ["delete", "restore"]


# --------------------------------------------------------------------------- version history


def timeline_of(client, model, pk) -> str:
    page = client.get(change_url(model, pk)).content.decode()
    return page[page.index('class="version-history"') :]


def test_version_history_shows_who_made_each_change_from_the_audit_trail(lead):
    RoadmapItem.objects.create(
        id="R1", phase_key="phase_a", title="Docs", owner="agent:owner", updated_at=PAST
    )
    # A snapshot the `motus` tool wrote long ago: no audit row accounts for it.
    EntityVersion.objects.create(
        entity_type="roadmap_item",
        entity_id="R1",
        version=1,
        data=json.dumps({"title": "Docs", "status_key": "pending"}),
        changed_by="agent:owner",
        created_at=PAST,
    )
    assert submit(lead, change_url(RoadmapItem, "R1"), title="The docs").status_code == 302
    version = EntityVersion.objects.get(entity_id="R1", version=2)
    assert version.changed_by == "agent:owner"  # what the trigger writes: the owner

    with CaptureQueriesContext(connection) as queries:
        timeline = timeline_of(lead, RoadmapItem, "R1")
    assert sum("entity_versions" in q["sql"] for q in queries.captured_queries) == 1
    rows = timeline.split("<tr>")[2:]  # newest first, after the header row
    assert "<td>2</td>" in rows[0] and f"<td>{LEAD}</td>" in rows[0]
    assert "<td>1</td>" in rows[1]
    assert "<em>unknown (written outside the app)</em>" in rows[1]
    assert "<td>agent:owner</td>" not in timeline  # the owner is no author


def test_version_history_of_a_cr_takes_the_change_request_audit_rows(lead):
    ChangeRequest.objects.create(id="CR1", title="Sync", updated_at=PAST)
    assert submit(lead, change_url(ChangeRequest, "CR1"), title="Sync v2").status_code == 302
    assert f"<td>{LEAD}</td>" in timeline_of(lead, ChangeRequest, "CR1")


# --------------------------------------------------------------------------- blockers


def open_blocker(pk="BL1", work="W", **fields) -> Blocker:
    # Older than now at second precision: evidence or a waiver must be newer than it.
    return Blocker.objects.create(
        id=pk,
        work_id=work,
        reason_code="missing_info",
        title="Need spec",
        created_by="agent:ada",
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1),
        **fields,
    )


def test_a_lead_unblocks_an_item_with_a_waiver_in_one_save(lead):
    item("W", status="blocked")
    open_blocker()
    page = lead.get(change_url(Blocker, "BL1"))
    assert "waive" in page.context["adminform"].form.fields
    response = submit(
        lead, change_url(Blocker, "BL1"), resolution="Spec agreed by phone", waive="on"
    )
    assert response.status_code == 302

    blocker = Blocker.objects.get(pk="BL1")
    assert (blocker.resolution, blocker.resolved_by) == ("Spec agreed by phone", LEAD)
    assert blocker.resolved_at is not None
    waiver = Decision.objects.get(work_id="W", decision_type="waiver")
    assert (waiver.decided_by, waiver.rationale) == (LEAD, "Spec agreed by phone")
    assert RoadmapItem.objects.get(pk="W").status_key == "pending"
    resolved = audit_rows("blocker", "BL1")[-1]
    assert (resolved.actor, resolved.action) == (LEAD, "resolve")
    assert values(resolved.new_value)["waived"] is True

    # Resolved: frozen, and no waiver box any more.
    page = lead.get(change_url(Blocker, "BL1"))
    assert not {"resolution", "waive"} & set(page.context["adminform"].form.fields)


def test_a_waiver_needs_a_resolution(lead):
    item("W", status="blocked")
    open_blocker()
    response = submit(lead, change_url(Blocker, "BL1"), waive="on")
    assert errors_of(response)["resolution"] == [
        "Write the resolution: it is the waiver's rationale."
    ]
    assert Blocker.objects.get(pk="BL1").resolved_at is None
    assert not Decision.objects.exists()


def test_resolving_without_a_waiver_still_needs_evidence(lead):
    item("W", status="blocked")
    open_blocker()
    response = submit(lead, change_url(Blocker, "BL1"), resolution="Asked around")
    assert errors_of(response)["__all__"] == [
        "KERNEL: Blocker resolution requires evidence or waiver decision"
    ]
    assert Blocker.objects.get(pk="BL1").resolved_at is None
    assert RoadmapItem.objects.get(pk="W").status_key == "blocked"


def test_a_blocker_added_in_the_admin_is_raised_through_the_service(lead):
    item("W")
    page = lead.get(add_url(Blocker))
    assert not {"id", "attempt", "resolution", "waive"} & set(page.context["adminform"].form.fields)
    response = submit(
        lead, add_url(Blocker), work="W", reason_code="external_wait", title="Vendor API down"
    )
    assert response.status_code == 302
    blocker = Blocker.objects.get()
    assert blocker.id.startswith("blk")
    assert (blocker.work_id, blocker.created_by, blocker.title) == ("W", LEAD, "Vendor API down")
    (raised,) = audit_rows("blocker", blocker.id)
    assert (raised.actor, raised.action) == (LEAD, "create")


def test_decisions_stay_read_only(lead):
    assert lead.get(add_url(Decision)).status_code == 403


# --------------------------------------------------------------------------- review


def test_a_lead_passes_and_rejects_reviews_from_the_item_list(lead):
    item("R1", status="review")
    item("R2", status="review")
    response = action(lead, RoadmapItem, "pass_review", ["R1"], deletion_reason="Looks right")
    assert messages_of(lead, response) == ["Passed review of 1 item(s)."]
    assert RoadmapItem.objects.get(pk="R1").status_key == "completed"
    passed = Decision.objects.get(work_id="R1")
    assert (passed.decision_type, passed.decided_by, passed.rationale) == (
        "review_passed",
        LEAD,
        "Looks right",
    )

    # Rejecting says why: the feedback for whoever takes the item next.
    response = action(lead, RoadmapItem, "reject_review", ["R2"])
    assert messages_of(lead, response) == [
        "Say why in Reason: it is the feedback for whoever takes the item next."
    ]
    assert RoadmapItem.objects.get(pk="R2").status_key == "review"
    response = action(lead, RoadmapItem, "reject_review", ["R2"], deletion_reason="No tests")
    assert messages_of(lead, response) == ["Rejected review of 1 item(s)."]
    assert RoadmapItem.objects.get(pk="R2").status_key == "pending"
    rejected = Decision.objects.get(work_id="R2")
    assert (rejected.decision_type, rejected.rationale) == ("review_rejected", "No tests")


def test_a_review_of_an_item_not_in_review_is_refused_and_changes_nothing(lead):
    item("R1", status="review")
    item("R2")
    response = action(lead, RoadmapItem, "pass_review", ["R1", "R2"], deletion_reason="ok")
    (message,) = messages_of(lead, response)
    assert message == "Only an item in review takes a review_passed decision; R2 is pending."
    assert RoadmapItem.objects.get(pk="R1").status_key == "review"  # all or nothing
    assert not Decision.objects.exists()


# --------------------------------------------------------------------------- claims


def test_claims_go_through_the_service_and_test_results_need_their_permission(db, client):
    tester = make_staff("rita", policy.Role.REVIEWER)
    client.force_login(make_staff("lena", policy.Role.LEAD))
    response = submit(
        client, add_url(Claim), id="C1", claim_text="Feels fast", page="/", claim_type="qualitative"
    )
    assert response.status_code == 302
    (created,) = audit_rows("claim", "C1")
    assert (created.actor, created.action) == (LEAD, "create")

    # A reviewer may look, not record a result ...
    client.force_login(tester)
    assert client.get(change_url(Claim, "C1")).status_code == 200
    assert client.post(change_url(Claim, "C1"), {"test_status": "pass"}).status_code == 403
    # ... until granted record_test_result alone: then only the test status is editable.
    app_label, codename = policy.RECORD_TEST_RESULT.split(".")
    tester.user_permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    tester = User.objects.get(pk=tester.pk)  # no cached permissions
    client.force_login(tester)
    page = client.get(change_url(Claim, "C1"))
    assert set(page.context["adminform"].form.fields) == {"test_status"}
    assert submit(client, change_url(Claim, "C1"), test_status="pass").status_code == 302
    claim = Claim.objects.get(pk="C1")
    assert (claim.test_status, claim.claim_text) == ("pass", "Feels fast")
    assert claim.last_verified_at is not None
    recorded = audit_rows("claim", "C1")[-1]
    assert (recorded.actor, recorded.action) == ("user:rita", "update")


def test_revoking_an_api_token_is_audited(db, client):
    from system.models import ApiToken

    client.force_login(User.objects.create_superuser("root"))
    token, _ = ApiToken.issue(make_staff("ada", policy.Role.AGENT, agent=True), name="ci")
    response = action(client, ApiToken, "revoke_selected", [token.pk])
    assert messages_of(client, response) == ["Revoked 1 token(s)."]
    (revoked,) = audit_rows("api_token", str(token.pk))
    assert (revoked.actor, revoked.action) == ("user:root", "revoke")
    assert values(revoked.context)["user"] == "ada"


# --------------------------------------------------------------------------- roles × views


def sample_rows() -> dict[str, object]:
    """One row of each lead-edited model registered in the admin: its key."""
    _, product, feature = product_tree()
    Release.objects.create(id="REL1", product=product, name="1.0")
    ChangeRequest.objects.create(id="CR1", title="Sync")
    Bug.objects.create(id="B1", title="Crash", feature=feature, feature_version="1.0")
    Standard.objects.create(
        id="S1", name="Tests", level_key="product", check_type_key="boolean", failure_message="x"
    )
    CharterDoc.objects.create(
        id="E1", doc_type_key="ethos", version="1", title="Ethos", content_hash="a"
    )
    item("R1")
    assignment = RoadmapAssignment.objects.create(item_id="R1", agent_id="agent:ada")
    Claim.objects.create(id="C1", claim_text="Feels fast", page="/", claim_type="qualitative")
    open_blocker(work="R1")
    return {
        "programs.program": "P1",
        "programs.product": "PR1",
        "programs.feature": "F1",
        "programs.release": "REL1",
        "programs.changerequest": "CR1",
        "programs.bug": "B1",
        "programs.standard": "S1",
        "programs.charterdoc": "E1",
        "roadmap.roadmapitem": "R1",
        "roadmap.roadmapassignment": assignment.pk,
        "roadmap.claim": "C1",
        "kernel.blocker": "BL1",
        "system.terminology": Terminology.objects.order_by("id").first().pk,
        "system.instanceconfig": InstanceConfig.objects.get(key="instance_id").pk,
    }


def lead_edited_admin_models():
    registered = {m._meta.label_lower: m for m in django_admin.site._registry}
    return [registered[label] for label in policy.LEAD_EDITED_MODELS if label in registered]


@pytest.mark.parametrize(
    ("role", "add_get", "add_post", "change_get", "change_post"),
    [
        (policy.Role.LEAD, 200, None, 200, None),
        (policy.Role.VIEWER, 403, 403, 200, 403),
        (policy.Role.AGENT, 403, 403, 200, 403),
        (None, 403, 403, 403, 403),
    ],
    ids=["lead", "viewer", "agent", "no-role"],
)
def test_role_by_admin_view_matrix(db, client, role, add_get, add_post, change_get, change_post):
    rows = sample_rows()
    models = lead_edited_admin_models()
    assert {m._meta.label_lower for m in models} == set(rows)
    client.force_login(make_staff("someone", role))
    for model in models:
        pk = rows[model._meta.label_lower]
        before = model.objects.count()
        label = model._meta.label
        assert client.get(add_url(model)).status_code == add_get, label
        assert client.get(change_url(model, pk)).status_code == change_get, label
        if add_post:
            assert client.post(add_url(model), {"title": "x"}).status_code == add_post, label
        if change_post:
            assert client.post(change_url(model, pk), {"title": "x"}).status_code == change_post
        assert model.objects.count() == before, label


def test_a_viewer_sees_every_table_but_no_action_that_writes(viewer):
    sample_rows()
    for model in django_admin.site._registry:
        if model._meta.app_label not in policy.READABLE_APPS:
            continue  # Django's own users and groups: not a role's business
        listing = viewer.get(changelist_url(model))
        if model._meta.label_lower in policy.PRIVATE_MODELS:
            assert listing.status_code == 403
            continue
        assert listing.status_code == 200, model._meta.label
        assert listing.context["action_form"] is None, model._meta.label
        assert listing.context["has_add_permission"] is False, model._meta.label
    page = viewer.get(change_url(RoadmapItem, "R1"))
    assert 'name="_save"' not in page.content.decode()


def test_a_staff_user_with_no_role_sees_nothing(nobody):
    index = nobody.get(reverse("admin:index"))
    assert index.status_code == 200
    assert index.context["app_list"] == []
    item("R1")
    assert nobody.get(changelist_url(RoadmapItem)).status_code == 403


def test_a_lead_sees_the_write_actions(lead):
    actions = dict(
        lead.get(changelist_url(RoadmapItem)).context["action_form"].fields["action"].choices
    )
    assert {"soft_delete_selected", "restore_selected", "pass_review", "reject_review"} <= set(
        actions
    )
    model_admin = django_admin.site._registry[apps.get_model("roadmap.RoadmapItem")]
    assert model_admin.get_audit_resource_type() == "roadmap_item"
