"""Writes to the roadmap: items, dependencies, assignments, claims and deployments.

Each function is one short transaction with its audit row. The triggers judge what is
allowed (phase limit, cycles, completed items, dependency order, the deploy gate); their
refusal arrives as ``IntegrityError`` and rolls the transaction back.
"""

from __future__ import annotations

from django.db import transaction

from roadmap.models import (
    Claim,
    DeploymentEvent,
    RoadmapAssignment,
    RoadmapDependency,
    RoadmapItem,
    VNextRank,
)
from system import audit
from system.errors import Conflict, Forbidden, Invalid, NotFound
from system.fields import utc_now
from system.identity import Actor
from system.ids import new_id

#: Agents create ad-hoc items only; their ids say so.
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


def create_item(actor: Actor, *, id: str | None = None, **fields) -> RoadmapItem:
    """A new item; agents get (or must use) an ``ADHOC-`` id. Rank defaults to the end."""
    if id is None:
        id = new_id(ADHOC_PREFIX.rstrip("-"))
    elif actor.worker_type == "agent" and not id.startswith(ADHOC_PREFIX):
        raise Invalid(
            "Agents create ad-hoc items only.",
            details={"fields": {"id": [f"Must start with {ADHOC_PREFIX!r} (or be omitted)."]}},
        )
    if fields.get("rank") is None:
        fields["rank"] = next_rank(fields["phase_key"])
    if fields.get("status_key") == "completed":
        fields.setdefault("completed_at", utc_now())
    item = RoadmapItem(id=id, created_by=actor.identity, **fields)
    with transaction.atomic():
        item.save(force_insert=True)
        audit.record(
            actor.identity, "roadmap_item", id, "create", new=_snapshot(item, _ITEM_AUDIT_FIELDS)
        )
    return item


def update_item(actor: Actor, item_id: str, changes: dict) -> RoadmapItem:
    """Change allowed fields; a status change meets the status triggers."""
    with transaction.atomic():
        item = live_item(item_id)
        old = _snapshot(item, changes)
        for name, value in changes.items():
            setattr(item, name, value)
        if changes.get("status_key") == "completed" and old.get("status_key") != "completed":
            item.completed_at = utc_now()
            changes = {**changes, "completed_at": item.completed_at}
        if changes:
            item.save(update_fields=list(changes))
            audit.record(actor.identity, "roadmap_item", item_id, "update", old=old, new=changes)
    return item


def delete_item(actor: Actor, item_id: str) -> None:
    """Soft delete: the row stays, with ``deleted_at`` set (RULES.md 1.4)."""
    with transaction.atomic():
        if not RoadmapItem.objects.filter(pk=item_id).soft_delete(by=actor.identity):
            raise NotFound(f"No roadmap item {item_id!r}.")
        audit.record(actor.identity, "roadmap_item", item_id, "delete")


def add_dependency(
    actor: Actor, item_id: str, depends_on_id: str, dependency_type: str, notes: str | None
) -> RoadmapDependency:
    """ "item depends on depends_on". A cycle is refused by ``roadmap_dep_no_cycles``; the
    audit row is written by ``roadmap_dep_audit_insert``."""
    with transaction.atomic():
        existing = set(
            RoadmapItem.objects.filter(pk__in=[item_id, depends_on_id]).values_list("pk", flat=True)
        )
        if item_id not in existing:
            raise NotFound(f"No roadmap item {item_id!r}.")
        if depends_on_id not in existing:
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
    surface the item's open prerequisites."""
    with transaction.atomic():
        live_item(item_id)
        return RoadmapAssignment.objects.create(
            item_id=item_id,
            agent_id=agent_id or actor.identity,
            role=role,
            assigned_by=actor.identity,
            notes=notes,
        )


#: action → (statuses it starts from, status it leads to, timestamp column it sets)
ASSIGNMENT_TRANSITIONS = {
    "start": (("assigned",), "active", "started_at"),
    "complete": (("active",), "completed", "completed_at"),
    "drop": (("assigned", "active"), "dropped", None),
}


def transition_assignment(actor: Actor, assignment_id: int, action: str) -> RoadmapAssignment:
    """Move an assignment along assigned → active → completed (or → dropped).

    Only the assignee, whoever assigned it, or staff may do so. The conditional UPDATE makes
    two concurrent transitions safe: the second finds the status already changed.
    """
    from_statuses, to_status, stamp = ASSIGNMENT_TRANSITIONS[action]
    with transaction.atomic():
        assignment = RoadmapAssignment.objects.filter(pk=assignment_id).first()
        if assignment is None:
            raise NotFound(f"No assignment {assignment_id}.")
        if not actor.is_staff and actor.identity not in (
            assignment.agent_id,
            assignment.assigned_by,
        ):
            raise Forbidden("Only the assignee, the assigner or staff may change it.")
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
    with transaction.atomic():
        claim = Claim.objects.create(**fields)
        audit.record(
            actor.identity, "claim", claim.id, "create", new=_snapshot(claim, fields.keys())
        )
    return claim


def update_claim(actor: Actor, claim_id: str, changes: dict) -> Claim:
    """Record a verification result (``test_status``, stamped ``last_verified_at``) or edit."""
    with transaction.atomic():
        claim = Claim.objects.filter(pk=claim_id).first()
        if claim is None:
            raise NotFound(f"No claim {claim_id!r}.")
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
