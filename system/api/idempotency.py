"""Safe retries: ``Idempotency-Key`` on any POST, kept in the contract's ``idempotency_keys``.

Every POST handler of the API carries :func:`idempotent` (a test walks the URLconf to
check that none lacks it).

The lookup, the work and the stored response share one write transaction. Two requests
with the same key are serialised: on SQLite transactions begin IMMEDIATE (the write lock
is taken at BEGIN); on PostgreSQL the transaction first takes an advisory lock on the key
(``system.sql.serialize``), so the second one's lookup runs after the first one commits.
Either way the second one sees the first one's stored response and replays it. The work
itself runs in a savepoint, so a refused request leaves nothing behind but a ``failed``
row; retrying it with the same key runs it again (nothing was done the first time).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json

from django.db import transaction
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from system.api.errors import IdempotencyKeyReused
from system.fields import format_timestamp, utc_now
from system.sql import serialize, sqlite_cursor

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
RETENTION = dt.timedelta(hours=24)
REPLAY_HEADER = "Idempotent-Replayed"


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), cls=JSONEncoder)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(handler):
    """A POST handler (``def post(self, request, ...)``, a viewset's ``create`` or POST
    ``@action``) that a request with ``Idempotency-Key`` runs through :func:`replay_or_run`;
    without the header it runs as it is. Put it next to the ``def``, under ``@action``."""

    @functools.wraps(handler)
    def run(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        return replay_or_run(view, key, functools.partial(handler, view), request, *args, **kwargs)

    run.idempotent = True
    return run


def replay_or_run(view, raw_key: str, handler, request, *args, **kwargs) -> Response:
    """Return the stored response for this key, or run ``handler`` once and store its result."""
    raw_key = raw_key.strip()
    if not raw_key or len(raw_key) > MAX_KEY_LENGTH:
        raise exceptions.ValidationError({HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} characters."]})
    actor = view.actor.identity
    # Keys are scoped per caller: one client can never replay another's response.
    key = f"{actor} {raw_key}"
    request_hash = _fingerprint(request)
    now = utc_now()
    with transaction.atomic(), sqlite_cursor() as cursor:
        serialize("idempotency", key)
        cursor.execute(
            "SELECT request_hash, status, response FROM idempotency_keys"
            " WHERE key = ? AND expires_at > ?",
            [key, format_timestamp(now)],
        )
        prior = cursor.fetchone()
        if prior is not None:
            prior_hash, prior_status, prior_response = prior
            if prior_hash != request_hash:
                raise IdempotencyKeyReused()
            if prior_status == "complete":
                stored = json.loads(prior_response)
                return Response(
                    stored["body"], status=stored["status"], headers={REPLAY_HEADER: "true"}
                )
        try:
            with transaction.atomic():
                response = handler(request, *args, **kwargs)
        except Exception as exc:  # the client gets the error response
            response = view.handle_exception(exc)
        succeeded = 200 <= response.status_code < 300
        stored = json.dumps(
            {"status": response.status_code, "body": response.data}, cls=JSONEncoder
        )
        created_at = format_timestamp(now)
        cursor.execute(
            "INSERT INTO idempotency_keys (key, operation, request_hash, response, status,"
            " created_at, updated_at, expires_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET request_hash = excluded.request_hash,"
            " response = excluded.response, status = excluded.status,"
            " created_at = excluded.created_at, updated_at = excluded.updated_at,"
            " expires_at = excluded.expires_at",
            [
                key,
                f"{request.method} {request.path}",
                request_hash,
                stored,
                "complete" if succeeded else "failed",
                created_at,
                created_at,
                format_timestamp(now + RETENTION),
                actor,
            ],
        )
    return response
