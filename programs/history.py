"""Readable history of a row from its ``entity_versions`` snapshots.

The ``*_version_capture`` triggers write a JSON snapshot of a few columns after each update
(RULES.md 5.2); the initial insert makes none, so version 1 is the state after the first
update. A timeline entry lists what changed since the previous snapshot, and who changed it.

Who: the triggers fill ``entity_versions.changed_by`` with the row's owner, not with whoever
made the change. The app writes an ``audit_log`` row in the transaction of every write it
makes (the admin just before its UPDATE, the service functions just after), so the actor is
that of the entity's audit row nearest in time to the snapshot: the nearest at or before
it, else the nearest after it, at most a second away either way (timestamps have whole
seconds). A snapshot with no such audit row was written outside the app (e.g. by the
``motus`` tool).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from programs.models import EntityVersion
from system.sql import per_vendor

#: Shown as the author of a snapshot no audit row accounts for.
UNKNOWN_ACTOR = "unknown (written outside the app)"

#: Versions of one entity, each with the actor of its audit row, in one query. The audit
#: row is the entity's nearest one at or before the snapshot (the admin audits just before
#: its UPDATE), else the nearest one just after it (the service functions audit just after
#: theirs); either at most a second away, or the snapshot was written outside the app.
#: ``v.created_at`` moved by a second, as the contract's text, per backend.
_SHIFTED = per_vendor(
    sqlite="datetime(v.created_at, '{} second')",
    postgresql="to_char(v.created_at::timestamp + interval '{} second', 'YYYY-MM-DD HH24:MI:SS')",
)
_VERSIONS_SQL = f"""
SELECT v.*, COALESCE(
    (SELECT a.actor FROM audit_log a
     WHERE a.resource_type = %s AND a.resource_id = v.entity_id
       AND a.timestamp <= v.created_at
       AND a.timestamp >= {_SHIFTED.format("-1")}
     ORDER BY a.timestamp DESC, a.id DESC LIMIT 1),
    (SELECT a.actor FROM audit_log a
     WHERE a.resource_type = %s AND a.resource_id = v.entity_id
       AND a.timestamp > v.created_at
       AND a.timestamp <= {_SHIFTED.format("+1")}
     ORDER BY a.timestamp, a.id LIMIT 1)
) AS audit_actor
FROM entity_versions v
WHERE v.entity_type = %s AND v.entity_id = %s
ORDER BY v.version
"""


@dataclass
class FieldChange:
    field: str
    old: object
    new: object


@dataclass
class VersionEntry:
    version: int
    created_at: object
    changed_by: str
    changes: list[FieldChange] = field(default_factory=list)
    is_first: bool = False
    #: False when no audit row says who wrote the snapshot (``changed_by`` then says so).
    actor_known: bool = True


def version_timeline(
    entity_type: str,
    entity_id: str,
    *,
    resource_type: str | None = None,
    titles: dict[str, str] | None = None,
    labels: dict[str, dict[str, str]] | None = None,
) -> list[VersionEntry]:
    """Snapshots of one entity, newest first, each with its changes from the one before and
    who made them (see the module docstring), read in one query.

    ``resource_type`` is the entity's ``audit_log.resource_type`` (``change_request`` for
    the ``cr`` versions; default: ``entity_type``). ``titles`` maps a snapshot key to the
    name shown for it (``status_key`` → "Status"); ``labels`` maps a snapshot key to
    {stored value: shown value}, e.g. a status key to its terminology display name.
    """
    titles, labels = titles or {}, labels or {}

    def shown(key, value):
        return labels.get(key, {}).get(value, value) if isinstance(value, str) else value

    entries, previous = [], None
    rows = EntityVersion.objects.raw(
        _VERSIONS_SQL,
        [resource_type or entity_type, resource_type or entity_type, entity_type, str(entity_id)],
    )
    for row in rows:
        snapshot = parse_snapshot(row.data)
        entry = VersionEntry(
            row.version,
            row.created_at,
            row.audit_actor or UNKNOWN_ACTOR,
            is_first=previous is None,
            actor_known=row.audit_actor is not None,
        )
        for key, value in snapshot.items():
            old = None if previous is None else previous.get(key)
            if previous is None or old != value:
                entry.changes.append(
                    FieldChange(titles.get(key, key), shown(key, old), shown(key, value))
                )
        entries.append(entry)
        previous = snapshot
    return entries[::-1]


def parse_snapshot(data: str) -> dict:
    """The snapshot as a dict; text that is not a JSON object is shown as-is."""
    try:
        parsed = json.loads(data)
    except (TypeError, ValueError):
        return {"data": data}
    return parsed if isinstance(parsed, dict) else {"data": parsed}
