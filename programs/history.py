"""Readable history of a row from its ``entity_versions`` snapshots.

The ``*_version_capture`` triggers write a JSON snapshot of a few columns after each update
(RULES.md 5.2); the initial insert makes none, so version 1 is the state after the first
update. A timeline entry lists what changed since the previous snapshot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from programs.models import EntityVersion


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


def version_timeline(
    entity_type: str,
    entity_id: str,
    *,
    titles: dict[str, str] | None = None,
    labels: dict[str, dict[str, str]] | None = None,
) -> list[VersionEntry]:
    """Snapshots of one entity, newest first, each with its changes from the one before.

    ``titles`` maps a snapshot key to the name shown for it (``status_key`` → "Status");
    ``labels`` maps a snapshot key to {stored value: shown value}, e.g. a status key to its
    terminology display name.
    """
    titles, labels = titles or {}, labels or {}

    def shown(key, value):
        return labels.get(key, {}).get(value, value) if isinstance(value, str) else value

    entries, previous = [], None
    rows = EntityVersion.objects.filter(entity_type=entity_type, entity_id=entity_id)
    for row in rows.order_by("version"):
        snapshot = parse_snapshot(row.data)
        entry = VersionEntry(row.version, row.created_at, row.changed_by, is_first=previous is None)
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
