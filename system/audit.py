"""Audit rows the app writes (the triggers write their own, RULES.md 4.2).

Each row carries ``instance_config.instance_id``, read once per process: it is generated at
install time and never changes (RULES.md 2.1).
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache

from system.fields import format_timestamp, utc_now
from system.models import InstanceConfig
from system.sql import sqlite_cursor


@cache
def instance_id() -> str:
    return InstanceConfig.objects.values_list("value", flat=True).get(key="instance_id")


def _stored_form(value):
    """A value JSON has no form for, as the database writes it: a timestamp as
    ``YYYY-MM-DD HH:MM:SS`` (UTC, the form the triggers write into their own audit rows), a
    date as ``YYYY-MM-DD``, anything else as its text."""
    if isinstance(value, dt.datetime):
        return format_timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def as_json(value) -> str | None:
    """Compact JSON with sorted keys, the way the audit columns hold it."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_stored_form)


def record(
    actor: str,
    resource_type: str,
    resource_id: str,
    action: str,
    *,
    old=None,
    new=None,
    context=None,
) -> None:
    """Append one ``audit_log`` row in the caller's transaction."""
    with sqlite_cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_log (timestamp, event_type, actor, resource_type, resource_id,"
            " action, old_value, new_value, context, instance_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                format_timestamp(utc_now()),
                resource_type,
                actor,
                resource_type,
                resource_id,
                action,
                as_json(old),
                as_json(new),
                as_json(context),
                instance_id(),
            ],
        )
