"""Writes to the roadmap: items, dependencies, assignments, claims and deployments.

Each function is one short transaction with its audit row. The triggers judge what is
allowed (phase limit, cycles, completed items, dependency order, the deploy gate); their
refusal arrives as ``IntegrityError`` and rolls the transaction back.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from roadmap import queries
from roadmap.models import (
    Claim,
    DeploymentEvent,
    RoadmapAssignment,
    RoadmapDependency,
    RoadmapItem,
    VNextRank,
)
from system import audit, policy
from system.errors import Conflict, Forbidden, Invalid, NotFound
from system.fields import utc_now
from system.identity import Actor
from system.ids import new_id
from system.sql import serialize

#: People and agents who are not leads create ad-hoc items only; their ids say so.
ADHOC_PREFIX = "ADHOC-"

#: Item fields recorded in the audit trail.
_ITEM_AUDIT_FIELDS = ("title", "phase_key", "status_key", "owner", "item_type", "rank")


def _snapshot(obj, names) -> dict:
    return {name: getattr(obj, name) for name in names}


def live_item(item_id: str) -> RoadmapItem:
    try:
        return RoadmapItem.objects.live().get(pk=item_id)
    except RoadmapItem.DoesNotExist:
        raise NotFound(f"No roadmap item {item_id!r}.") from None


def next_rank(phase_key: str) -> float:
    """Rank that appends to the phase (``v_next_rank``; 1.0 for an empty phase)."""
    rank = VNextRank.objects.filter(phase_key=phase_key).values_list("next_rank", flat=True)
    return next(iter(rank), None) or 1.0


def _require_phase_room(actor: Actor, phase_key: str, *, moving: str | None = None) -> None:
    """The phase limit, for a new item or one moved in by UPDATE (which the trigger does not
    check), with the places kept for leads (``MOTUS_PHASE_RESERVED_FOR_LEADS``).

    Inside the caller's transaction, before its write: on PostgreSQL the count waits for the
    phase's other writers (``enforce_phase_limit``'s lock) and sees what they committed."""
    serialize("phase", phase_key)
    active = queries.active_items_in_phase(phase_key, excluding=moving)
    if active >= queries.PHASE_LIMIT:
        raise Conflict(
            queries.PHASE_LIMIT_MESSAGE, code="kernel_rule", details={"phase_key": phase_key}
        )
    reserved = settings.MOTUS_PHASE_RESERVED_FOR_LEADS
    if not policy.can(actor, policy.MANAGE_ROADMAP) and active >= queries.PHASE_LIMIT - reserved:
        raise Conflict(
            f"Phase {phase_key} has {active} active items; its last {reserved} places are kept "
            "for leads.",
            code="phase_reserved",
            details={"phase_key": phase_key, "active_items": active},
        )


def _require_adhoc_room(actor: Actor) -> None:
    """``MOTUS_MAX_OPEN_ADHOC_ITEMS`` open items per non-lead creator, counted inside the
    creating transaction (on PostgreSQL after the creator's other writes: ``adhoc:`` lock)."""
    serialize("adhoc", actor.identity)
    limit = settings.MOTUS_MAX_OPEN_ADHOC_ITEMS
    if queries.open_items_created_by(actor.identity) >= limit:
        raise Conflict(
            f"You already have {limit} open items; finish or defer one first.",
            code="adhoc_limit",
        )


def _require_status_change(actor: Actor, item: RoadmapItem, status: str, reason) -> None:
    """A direct status change: a lead's, with a reason, never under someone's attempt, and
    never to ``completed`` while blocking prerequisites are unfinished."""
    policy.require(
        actor,
        policy.OVERRIDE_STATUS,
        "Only a lead changes an item's status directly; agents move it by claiming and "
        "releasing work.",
    )
    if not (reason or "").strip():
        raise Invalid(
            "A reason is required.",
            details={"fields": {"reason": ["Say why the status is set directly."]}},
        )
    workers = [w for w in queries.workers_on(item.pk) if w["kind"] == "attempt"]
    if workers:
        raise Conflict(
            f"Item {item.pk} has an active attempt ({workers[0]['id']}) by "
            f"{workers[0]['worker_id']}; it must be released or expired first.",
            code="active_attempt",
            details={"active_attempt": workers[0]},
        )
    if status == "completed":
        _require_prerequisites_done(item.pk)


def _require_prerequisites_done(item_id: str) -> None:
    """No completion, by anyone, while a blocking prerequisite is unfinished."""
    open_deps = queries.open_blocking_dependencies(item_id)
    if open_deps:
        raise Conflict(
            f"Cannot complete {item_id}: blocking dependencies not complete "
            f"({', '.join(d['id'] for d in open_deps)}).",
            code="prerequisites_open",
            details={"open_dependencies": open_deps},
        )


def create_item(actor: Actor, *, id: str | None = None, reason=None, **fields) -> RoadmapItem:
    """A new item. Leads create any; others (``add_adhoc_item``) create ``ADHOC-`` items,
    pending, up to ``MOTUS_MAX_OPEN_ADHOC_ITEMS`` open ones each and outside the phase places
    kept for leads. Rank defaults to the end of the phase."""
    lead = policy.can(actor, policy.MANAGE_ROADMAP)
    if not lead:
        policy.require(actor, policy.ADD_ADHOC_ITEM, "You may not create roadmap items.")
        if id is not None and not id.startswith(ADHOC_PREFIX):
            raise Forbidden(
                f"Only leads choose item ids; others create ad-hoc items (ids starting with "
                f"{ADHOC_PREFIX!r}, or omit the id).",
                details={"required_permission": policy.MANAGE_ROADMAP},
            )
    with transaction.atomic():
        # Inside the write transaction, so that the counts (open ad-hoc items, the phase
        # limit) and the rank see the other writers' committed items (system.sql.serialize).
        if not lead:
            _require_adhoc_room(actor)
        if id is None:
            id = new_id(ADHOC_PREFIX.rstrip("-"))
        status = fields.get("status_key") or "pending"
        if status != "pending":
            item = RoadmapItem(id=id, **fields)
            _require_status_change(actor, item, status, reason)
        if status not in ("completed", "deferred"):
            _require_phase_room(actor, fields["phase_key"])
        if fields.get("rank") is None:
            fields["rank"] = next_rank(fields["phase_key"])
        if status == "completed":
            fields["completed_at"] = fields.get("completed_at") or utc_now()
        item = RoadmapItem(id=id, created_by=actor.identity, **fields)
        item.save(force_insert=True)
        audit.record(
            actor.identity,
            "roadmap_item",
            id,
            "create",
            new=_snapshot(item, _ITEM_AUDIT_FIELDS),
            context={"reason": reason} if reason else None,
        )
    return item


def _require_editor(actor: Actor, item: RoadmapItem) -> None:
    policy.require_item_editor(
        actor,
        item_id=item.pk,
        created_by=item.created_by,
        worked_by=[w["worker_id"] for w in queries.workers_on(item.pk)],
    )


def update_item(actor: Actor, item_id: str, changes: dict, *, reason=None) -> RoadmapItem:
    """Change an item: leads any item, others their own ad-hoc item nobody else works on.
    A status change is a lead's override (reason required, audited as ``status_override``);
    a phase change meets the phase limit. Unchanged values are left out."""
    with transaction.atomic():
        item = live_item(item_id)
        _require_editor(actor, item)
        changes = {k: v for k, v in changes.items() if getattr(item, k) != v}
        if not changes:
            return item
        old = _snapshot(item, changes)
        status = changes.get("status_key")
        if status is not None:
            _require_status_change(actor, item, status, reason)
        new_status = status or item.status_key
        if "phase_key" in changes and new_status not in ("completed", "deferred"):
            _require_phase_room(actor, changes["phase_key"], moving=item_id)
        for name, value in changes.items():
            setattr(item, name, value)
        if status == "completed":
            item.completed_at = utc_now()
            changes = {**changes, "completed_at": item.completed_at}
        item.save(update_fields=list(changes))
        audit.record(
            actor.identity,
            "roadmap_item",
            item_id,
            "status_override" if status is not None else "update",
            old=old,
            new=changes,
            context={"reason": reason} if reason else None,
        )
    return item


def delete_item(actor: Actor, item_id: str, *, detach: bool = False, reason=None) -> None:
    """Soft delete (the row stays with ``deleted_at``, RULES.md 1.4). Refused while someone
    works on it, and while unfinished items wait on it unless ``detach`` removes those
    ``blocks`` edges too (each audited): a deleted prerequisite would block them for good."""
    with transaction.atomic():
        item = live_item(item_id)
        _require_editor(actor, item)
        attempts = [w for w in queries.workers_on(item_id) if w["kind"] == "attempt"]
        if attempts:
            raise Conflict(
                f"Item {item_id} has an active attempt by {attempts[0]['worker_id']}; it must "
                "be released or expired first.",
                code="active_attempt",
            )
        dependents = queries.waiting_dependents(item_id)
        if dependents and not detach:
            raise Conflict(
                f"Cannot delete {item_id}: {', '.join(d['id'] for d in dependents)} depend on "
                "it. Remove those dependencies first, or delete with detach_dependents.",
                code="has_dependents",
                details={"dependents": dependents},
            )
        for dependent in dependents:
            remove_dependency(actor, dependent["id"], item_id)
        RoadmapItem.objects.filter(pk=item_id).soft_delete(by=actor.identity)
        audit.record(
            actor.identity,
            "roadmap_item",
            item_id,
            "delete",
            context={"reason": reason} if reason else None,
        )


def restore_item(actor: Actor, item_id: str) -> None:
    """Undo a soft delete (leads)."""
    policy.require(actor, policy.MANAGE_ROADMAP, "Only a lead restores deleted items.")
    with transaction.atomic():
        if not RoadmapItem.objects.filter(pk=item_id).restore():
            raise NotFound(f"No deleted roadmap item {item_id!r}.")
        audit.record(actor.identity, "roadmap_item", item_id, "restore")


def add_dependency(
    actor: Actor, item_id: str, depends_on_id: str, dependency_type: str, notes: str | None
) -> RoadmapDependency:
    """ "item depends on depends_on" (by whoever may change the item). A cycle is refused by
    ``roadmap_dep_no_cycles``; the audit row is written by ``roadmap_dep_audit_insert``."""
    with transaction.atomic():
        _require_editor(actor, live_item(item_id))
        if not RoadmapItem.objects.filter(pk=depends_on_id).exists():
            raise Invalid(
                "Unknown item.",
                details={"fields": {"depends_on_id": [f"No roadmap item {depends_on_id!r}."]}},
            )
        return RoadmapDependency.objects.create(
            item_id=item_id,
            depends_on_id=depends_on_id,
            dependency_type=dependency_type,
            created_by=actor.identity,
            notes=notes,
        )


def remove_dependency(actor: Actor, item_id: str, depends_on_id: str) -> None:
    with transaction.atomic():
        item = RoadmapItem.objects.filter(pk=item_id).first()
        if item is None:
            raise NotFound(f"No roadmap item {item_id!r}.")
        _require_editor(actor, item)
        edges = RoadmapDependency.objects.filter(item_id=item_id, depends_on_id=depends_on_id)
        old = edges.values("dependency_type", "notes").first()
        if old is None:
            raise NotFound(f"{item_id!r} does not depend on {depends_on_id!r}.")
        edges.delete()
        audit.record(
            actor.identity,
            "roadmap_dependency",
            f"{item_id}->{depends_on_id}",
            "delete",
            old={"item_id": item_id, "depends_on_id": depends_on_id, **old},
        )


def create_assignment(
    actor: Actor, item_id: str, *, agent_id: str | None, role: str, notes: str | None
) -> RoadmapAssignment:
    """Assign an item (to the caller by default); the triggers write the audit row and
    surface the item's open prerequisites.

    The assignee must be an active account that can do the role (an implementer or owner
    claims work, a reviewer reviews; an observer only reads). Assigning yourself takes
    ``claim_work``; assigning anybody else is a lead's."""
    agent_id = agent_id or actor.identity
    if agent_id == actor.identity:
        policy.require(actor, policy.CLAIM_WORK, "You may not take assignments.")
    else:
        policy.require(actor, policy.MANAGE_ROADMAP, "Only a lead assigns work to others.")
    policy.acting_identity(agent_id, field="agent_id", permission=ASSIGNEE_PERMISSION.get(role))
    with transaction.atomic():
        live_item(item_id)
        return RoadmapAssignment.objects.create(
            item_id=item_id,
            agent_id=agent_id,
            role=role,
            assigned_by=actor.identity,
            notes=notes,
        )


#: What an assignee of each role must be able to do (observers only read).
ASSIGNEE_PERMISSION = {
    "implementer": policy.CLAIM_WORK,
    "owner": policy.CLAIM_WORK,
    "reviewer": policy.REVIEW_WORK,
    "observer": policy.READ,
}

#: action → (statuses it starts from, status it leads to, timestamp column it sets)
ASSIGNMENT_TRANSITIONS = {
    "start": (("assigned",), "active", "started_at"),
    "complete": (("active",), "completed", "completed_at"),
    "drop": (("assigned", "active"), "dropped", None),
}


def transition_assignment(actor: Actor, assignment_id: int, action: str) -> RoadmapAssignment:
    """Move an assignment along assigned → active → completed (or → dropped).

    Only the assignee, whoever assigned it, or a lead may do so. The conditional UPDATE makes
    two concurrent transitions safe: the second finds the status already changed.
    """
    from_statuses, to_status, stamp = ASSIGNMENT_TRANSITIONS[action]
    with transaction.atomic():
        assignment = RoadmapAssignment.objects.filter(pk=assignment_id).first()
        if assignment is None:
            raise NotFound(f"No assignment {assignment_id}.")
        if actor.identity not in (assignment.agent_id, assignment.assigned_by):
            policy.require(
                actor,
                policy.MANAGE_ROADMAP,
                "Only the assignee, the assigner or a lead may change an assignment.",
            )
        changes = {"status": to_status}
        if stamp:
            changes[stamp] = utc_now()
        updated = RoadmapAssignment.objects.filter(
            pk=assignment_id, status__in=from_statuses
        ).update(**changes)
        if not updated:
            raise Conflict(
                f"Cannot {action} an assignment that is {assignment.status}.",
                code="invalid_transition",
            )
        audit.record(
            actor.identity,
            "roadmap_assignment",
            str(assignment_id),
            action,
            old={"status": assignment.status},
            new=changes,
        )
        assignment.refresh_from_db()
    return assignment


def create_claim(actor: Actor, **fields) -> Claim:
    policy.require(actor, policy.MANAGE_CLAIMS, "Only a lead adds deploy-gate claims.")
    with transaction.atomic():
        claim = Claim.objects.create(**fields)
        audit.record(
            actor.identity, "claim", claim.id, "create", new=_snapshot(claim, fields.keys())
        )
    return claim


#: What recording a verification may change.
TEST_RESULT_FIELDS = {"id", "test_status"}


def update_claim(actor: Actor, claim_id: str, changes: dict) -> Claim:
    """Record a verification result (``test_status``, stamped ``last_verified_at``: the
    ``record_test_result`` permission) or edit the claim itself (a lead's)."""
    if set(changes) <= TEST_RESULT_FIELDS:
        policy.require(actor, policy.RECORD_TEST_RESULT, "You may not record claims' test results.")
    else:
        policy.require(actor, policy.MANAGE_CLAIMS, "Only a lead edits deploy-gate claims.")
    with transaction.atomic():
        claim = Claim.objects.filter(pk=claim_id).first()
        if claim is None:
            raise NotFound(f"No claim {claim_id!r}.")
        if changes.get("id", claim_id) != claim_id:
            raise Invalid("A claim's id cannot change.", details={"fields": {"id": ["Read-only."]}})
        changes = {k: v for k, v in changes.items() if k != "id"}
        if "test_status" in changes:
            changes = {**changes, "last_verified_at": utc_now()}
        old = _snapshot(claim, changes)
        for name, value in changes.items():
            setattr(claim, name, value)
        claim.save(update_fields=list(changes))
        audit.record(actor.identity, "claim", claim_id, "update", old=old, new=changes)
    return claim


def record_deployment(actor: Actor, *, target: str, version: str, status: str) -> DeploymentEvent:
    """A deployment; a website deploy meets the claims gate (``POLICY-00x`` → refused)."""
    policy.require(actor, policy.RECORD_TEST_RESULT, "You may not record deployments.")
    with transaction.atomic():
        event = DeploymentEvent.objects.create(
            target=target, version=version, status=status, triggered_by=actor.identity
        )
        audit.record(
            actor.identity,
            "deployment_event",
            str(event.id),
            "create",
            new={"target": target, "version": version, "status": status},
        )
    return event
