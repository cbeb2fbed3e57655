"""Writes of the programs app outside the admin: filing bugs.

Leads edit programs, products, features, releases, change requests, bugs and standards in
the admin; agents and people may file bugs (:data:`system.policy.FILE_BUG`).
"""

from __future__ import annotations

from django.db import transaction

from programs.models import Bug
from system import audit, policy
from system.errors import Invalid
from system.identity import Actor
from system.ids import new_id

BUG_ID_PREFIX = "BUG"

#: What whoever files a bug may say; the rest (status, assignee, fix) is a lead's.
REPORTER_FIELDS = frozenset(
    {"title", "description", "feature_id", "feature_version", "severity_key", "status_key"}
)
DEFAULT_BUG_STATUS = "open"

_BUG_AUDIT_FIELDS = (
    "title",
    "description",
    "feature_id",
    "feature_version",
    "severity_key",
    "status_key",
    "reported_by",
)


def file_bug(actor: Actor, **fields) -> Bug:
    """A new ``open`` bug reported by the caller, with a generated ``BUG-…`` id.

    ``fields`` are reporter fields only (:data:`REPORTER_FIELDS`), already validated
    (terminology keys, a live feature); anything a lead owns is refused.
    """
    with transaction.atomic():
        policy.require(actor, policy.FILE_BUG, "You may not file bugs.")
        refused = sorted(set(fields) - REPORTER_FIELDS)
        if fields.get("status_key", DEFAULT_BUG_STATUS) != DEFAULT_BUG_STATUS:
            refused.append("status_key")
        if refused:
            raise Invalid(
                "Only a lead sets these fields of a bug.",
                details={
                    "fields": {name: ["Set by a lead, not when filing a bug."] for name in refused}
                },
            )
        bug = Bug(id=new_id(BUG_ID_PREFIX), reported_by=actor.identity, **fields)
        bug.save(force_insert=True)
        audit.record(
            actor.identity,
            "bug",
            bug.pk,
            "create",
            new={name: getattr(bug, name) for name in _BUG_AUDIT_FIELDS},
        )
    return bug
