"""Leases: locks on resources, and their lifecycle log in ``events`` (RULES.md 3.8, 3.11).

A lease is a plain INSERT that the lease triggers refuse while a conflicting lease is active
(the refusal arrives as ``IntegrityError`` with the trigger's message). Active means not
released and ``expires_at`` later than now, compared as text as the triggers do, so expired
leases stop counting without anyone cleaning up. Every step appends to ``events`` in the
`motus` lease store's conventions.
"""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.db import transaction

from system import audit, policy
from system.errors import Conflict, Forbidden, Invalid, NotFound
from system.fields import format_timestamp, utc_now
from system.identity import Actor
from system.ids import new_id
from system.sql import per_vendor, serialize, sqlite_cursor

DEFAULT_TTL_SECONDS = 900

#: Work items are leased by claiming them (the claim's lease belongs to its attempt).
WORK_LEASE_TYPE = "work_item"

LEASE_COLUMNS = (
    "id",
    "resource_type",
    "resource_id",
    "mode",
    "worker_id",
    "attempt_id",
    "acquired_at",
    "ttl_seconds",
    "expires_at",
    "last_heartbeat",
    "released_at",
)


def row_dict(columns, values) -> dict:
    return dict(zip(columns, values, strict=True))


def canonical_json(value) -> str:
    """Sorted keys, no whitespace: the events' payload form, and what contract hashes hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# Events: the lease lifecycle log shared with the `motus` lease store (RULES.md 3.11).


def append_event(cursor, lease_id: str, event_type: str, payload: dict, now: dt.datetime):
    cursor.execute(
        "INSERT INTO events (event_id, lease_id, event_type, payload, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            new_id("evt"),
            lease_id,
            event_type,
            canonical_json(payload),
            now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        ],
    )


# Leases.


def max_ttl_seconds() -> int:
    """``MOTUS_MAX_LEASE_TTL_SECONDS``: no lease, a claim's or a bare one, lasts longer."""
    return settings.MOTUS_MAX_LEASE_TTL_SECONDS


def check_ttl(ttl_seconds: int) -> int:
    limit = max_ttl_seconds()
    if not 1 <= ttl_seconds <= limit:
        raise Invalid(
            "Invalid TTL.",
            details={"fields": {"ttl_seconds": [f"Must be 1 to {limit} seconds."]}},
        )
    return ttl_seconds


def insert_lease(
    cursor,
    *,
    worker_id: str,
    resource_type: str,
    resource_id: str,
    mode: str,
    ttl_seconds: int,
    attempt_id: str | None,
    now: dt.datetime,
) -> dict:
    """INSERT the lease; the lease triggers refuse it while a conflicting one is active."""
    lease = {
        "id": new_id("lease"),
        "resource_type": resource_type,
        "resource_id": resource_id,
        "mode": mode,
        "worker_id": worker_id,
        "attempt_id": attempt_id,
        "acquired_at": format_timestamp(now),
        "ttl_seconds": ttl_seconds,
        "expires_at": format_timestamp(now + dt.timedelta(seconds=ttl_seconds)),
        "last_heartbeat": None,
        "released_at": None,
    }
    cursor.execute(
        "INSERT INTO leases (id, resource_type, resource_id, mode, worker_id, attempt_id,"
        " acquired_at, ttl_seconds, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [lease[name] for name in LEASE_COLUMNS[:9]],
    )
    append_event(
        cursor,
        lease["id"],
        "LEASE_CLAIMED",
        {k: lease[k] for k in LEASE_COLUMNS[1:9]} | {"lease_id": lease["id"]},
        now,
    )
    return lease


def release_leases(cursor, where: str, params: list, *, reason: str, by: str, now, forced=False):
    """Set ``released_at`` on the unreleased leases matching ``where``; log each release."""
    cursor.execute(
        f"UPDATE leases SET released_at = ? WHERE released_at IS NULL AND {where}"
        " RETURNING id, worker_id",
        [format_timestamp(now), *params],
    )
    released = cursor.fetchall()
    for lease_id, worker_id in released:
        payload = {"lease_id": lease_id, "worker_id": worker_id, "reason": reason, "by": by}
        if forced:
            payload["forced"] = True
        append_event(cursor, lease_id, "LEASE_RELEASED", payload, now)
    return [lease_id for lease_id, _ in released]


def get_lease(lease_id: str) -> dict:
    with sqlite_cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(LEASE_COLUMNS)} FROM leases WHERE id = ?", [lease_id])
        row = cursor.fetchone()
    if row is None:
        raise NotFound(f"No lease {lease_id!r}.")
    return row_dict(LEASE_COLUMNS, row)


def lease_is_active(released_at, expires_at: str, now: dt.datetime | None = None) -> bool:
    """Not released and not expired (``expires_at`` compared as text, as the triggers do)."""
    return released_at is None and expires_at > format_timestamp(now or utc_now())


def acquire_lease(
    actor: Actor, *, resource_type: str, resource_id: str, mode: str, ttl_seconds: int
) -> dict:
    """A bare lease (``hold_lease``): on anything but a work item, which is leased by
    claiming it, so that a lease can never keep work from being claimed unseen."""
    policy.require(actor, policy.HOLD_LEASE, "Your role may not hold leases.")
    if resource_type == WORK_LEASE_TYPE:
        raise Invalid(
            "Work items are leased by claiming them.",
            details={
                "fields": {
                    "resource_type": [
                        "Claim the item (POST /api/v1/work/{id}/claim/) instead of leasing it."
                    ]
                }
            },
        )
    check_ttl(ttl_seconds)
    now = utc_now()
    with transaction.atomic(), sqlite_cursor() as cursor:
        serialize("lease", resource_type, resource_id)
        lease = insert_lease(
            cursor,
            worker_id=actor.identity,
            resource_type=resource_type,
            resource_id=resource_id,
            mode=mode,
            ttl_seconds=ttl_seconds,
            attempt_id=None,
            now=now,
        )
        audit.record(actor.identity, "lease", lease["id"], "acquire", new=lease)
    return lease


def _held_lease(cursor, actor: Actor, lease_id: str) -> dict:
    cursor.execute(f"SELECT {', '.join(LEASE_COLUMNS)} FROM leases WHERE id = ?", [lease_id])
    row = cursor.fetchone()
    if row is None:
        raise NotFound(f"No lease {lease_id!r}.")
    lease = row_dict(LEASE_COLUMNS, row)
    if lease["worker_id"] != actor.identity:
        raise Forbidden(f"Lease {lease_id} is held by {lease['worker_id']}.")
    return lease


def heartbeat_lease(actor: Actor, lease_id: str, ttl_seconds: int | None = None) -> dict:
    """Extend an active lease held by the caller to now + TTL."""
    now = utc_now()
    with transaction.atomic(), sqlite_cursor() as cursor:
        lease = _held_lease(cursor, actor, lease_id)
        if serialize("lease", lease["resource_type"], lease["resource_id"]):
            # PostgreSQL: waited for the resource's other writers (a new lease, a stale
            # attempt's expiry); the UPDATE below re-checks the lease as of now.
            now = utc_now()
        if not lease_is_active(lease["released_at"], lease["expires_at"], now):
            raise Conflict(
                f"Lease {lease_id} is no longer active (released or expired); acquire a new one.",
                code="lease_inactive",
            )
        ttl = check_ttl(ttl_seconds or lease["ttl_seconds"])
        lease.update(
            ttl_seconds=ttl,
            expires_at=format_timestamp(now + dt.timedelta(seconds=ttl)),
            last_heartbeat=format_timestamp(now),
        )
        cursor.execute(
            "UPDATE leases SET ttl_seconds = ?, expires_at = ?, last_heartbeat = ?"
            " WHERE id = ? AND released_at IS NULL AND expires_at > ?",
            [ttl, lease["expires_at"], lease["last_heartbeat"], lease_id, format_timestamp(now)],
        )
        if cursor.rowcount != 1:  # released or expired since it was read (PostgreSQL)
            raise Conflict(
                f"Lease {lease_id} is no longer active (released or expired); acquire a new one.",
                code="lease_inactive",
            )
        append_event(
            cursor,
            lease_id,
            "heartbeat",
            {"lease_id": lease_id, "worker_id": actor.identity, "expires_at": lease["expires_at"]},
            now,
        )
        audit.record(
            actor.identity, "lease", lease_id, "heartbeat", new={"expires_at": lease["expires_at"]}
        )
    return lease


def release_lease(actor: Actor, lease_id: str, *, reason: str = "", force: bool = False) -> dict:
    """The holder releases its lease; a lead (``force_release_lease``) may force-release
    anyone's, with a reason.

    A claim's lease belongs to its attempt: the holder releases the attempt instead.
    """
    now = utc_now()
    with transaction.atomic(), sqlite_cursor() as cursor:
        if force:
            policy.require(
                actor, policy.FORCE_RELEASE_LEASE, "Only a lead may force-release a lease."
            )
            if not reason.strip():
                raise Invalid(
                    "A reason is required.",
                    details={"fields": {"reason": ["Say why the lease is force-released."]}},
                )
            lease = get_lease(lease_id)
        else:
            lease = _held_lease(cursor, actor, lease_id)
        # (PostgreSQL: after a heartbeat of the same lease, not beside it.)
        serialize("lease", lease["resource_type"], lease["resource_id"])
        if not force and lease["attempt_id"]:
            raise Conflict(
                f"Lease {lease_id} belongs to attempt {lease['attempt_id']}; release the "
                "attempt instead.",
                code="attempt_lease",
            )
        if not release_leases(
            cursor, "id = ?", [lease_id], reason=reason, by=actor.identity, now=now, forced=force
        ):
            raise Conflict(f"Lease {lease_id} is already released.", code="lease_released")
        lease["released_at"] = format_timestamp(now)
        audit.record(
            actor.identity,
            "lease",
            lease_id,
            "force_release" if force else "release",
            new={"released_at": lease["released_at"]},
            context={"reason": reason} if reason else None,
        )
    return lease


#: A lease's events in the order they happened: by time (to the second), then as written
#: (SQLite's rowid); PostgreSQL has no insertion order, so within a second the lifecycle's
#: (claimed, heartbeats, released), then the payload (a later heartbeat's expiry sorts
#: later) and the id.
_LEASE_EVENTS_SQL = (
    "SELECT event_id, event_type, payload, created_at FROM events WHERE lease_id = ?"
    + per_vendor(
        sqlite=" ORDER BY created_at, rowid",
        postgresql=" ORDER BY created_at, CASE event_type WHEN 'LEASE_CLAIMED' THEN 0"
        " WHEN 'LEASE_RELEASED' THEN 2 ELSE 1 END, payload, event_id",
    )
)


def lease_events(lease_id: str) -> list[dict]:
    with sqlite_cursor() as cursor:
        cursor.execute(_LEASE_EVENTS_SQL, [lease_id])
        return [
            {"event_id": e, "event_type": t, "payload": json.loads(p), "created_at": c}
            for e, t, p, c in cursor.fetchall()
        ]
