"""How API callers prove who they are: a per-client token, or a staff admin session."""

from __future__ import annotations

import operator

from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from rest_framework.authentication import BaseAuthentication, SessionAuthentication

from system import policy
from system.api.throttling import FailedTokenThrottle
from system.fields import parse_timestamp
from system.identity import AGENT_GROUP
from system.models import ApiToken
from system.sql import sqlite_cursor, string_agg

_USER_FIELDS = [field.attname for field in User._meta.concrete_fields]
_TOKEN_LOOKUP_SQL = (
    "SELECT t.id AS token_id, t.last_used_at AS token_last_used_at, "
    + ", ".join(f"u.{name}" for name in _USER_FIELDS)
    + ", EXISTS (SELECT 1 FROM auth_user_groups m JOIN auth_group g ON g.id = m.group_id"
    "           WHERE m.user_id = u.id AND g.name = ?) AS is_agent"
    # The ids of every permission the user holds, directly or through its groups (its
    # role): what ModelBackend would load in two more queries on the first has_perm().
    # (``string_agg``: SQLite's group_concat, PostgreSQL's string_agg; read at import.)
    f", (SELECT {string_agg('held.permission_id')} FROM ("
    "   SELECT permission_id FROM auth_user_user_permissions WHERE user_id = u.id"
    "   UNION ALL SELECT gp.permission_id FROM auth_user_groups ug"
    "   JOIN auth_group_permissions gp ON gp.group_id = ug.group_id WHERE ug.user_id = u.id"
    " ) AS held) AS permission_ids"
    " FROM web_api_tokens t JOIN auth_user u ON u.id = t.user_id"
    " WHERE t.key_digest = ? AND t.revoked_at IS NULL AND u.is_active"
)

#: The user's columns of a token query's row (a dict by column name), in model order.
_user_values = operator.itemgetter(*_USER_FIELDS)
_token_columns: tuple[str, ...] | None = None


def _column_names(cursor) -> tuple[str, ...]:
    """The token query's column names, read from the first cursor that ran it (the SQL is
    one constant, so they never change)."""
    global _token_columns
    if _token_columns is None:
        _token_columns = tuple(column[0] for column in cursor.description)
    return _token_columns


#: ``auth_permission.id`` → ``"app_label.codename"``, as ``has_perm`` names them. Permission
#: rows are only added (by migrations) and never renamed, so the map is read once and again
#: when a token brings an id it has not seen; it is forgotten when a database connection
#: opens or the tables are migrated or flushed (another file, re-created rows).
_permission_names: dict[int, str] = {}
#: The token query's list of ids → the names: a role's list is the same for all its users.
_permission_sets: dict[str, frozenset[str]] = {}
_PERMISSION_SETS_KEPT = 256


@receiver(connection_created)
@receiver(post_migrate)
def _forget_permission_names(**kwargs) -> None:
    _permission_names.clear()
    _permission_sets.clear()


def _names_of_permissions(cursor, ids_text: str | None) -> frozenset[str]:
    if not ids_text:
        return frozenset()
    names = _permission_sets.get(ids_text)
    if names is not None:
        return names
    ids = [int(part) for part in ids_text.split(",")]
    if any(pk not in _permission_names for pk in ids):
        cursor.execute(
            "SELECT p.id, ct.app_label || '.' || p.codename FROM auth_permission p"
            " JOIN django_content_type ct ON ct.id = p.content_type_id"
        )
        _permission_names.update(cursor.fetchall())
    names = frozenset(_permission_names[pk] for pk in ids if pk in _permission_names)
    if len(_permission_sets) >= _PERMISSION_SETS_KEPT:
        _permission_sets.clear()
    _permission_sets[ids_text] = names
    return names


class TokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>`` (``Token <token>`` is accepted too).

    Every API request passes here, so it is one indexed SQL query (on the driver's cursor,
    ``system.sql``) for the token, its user, whether the user is an agent and the ids of the
    permissions it holds (handed to ``policy.hold_permissions``, so no authentication
    backend is asked during the request; the ids named through a map read once per process),
    and no write unless ``last_used_at`` is a minute old (and that write never waits for the
    database's write lock: ``ApiToken.note_use``).
    Failed attempts are counted per client address (``FailedTokenThrottle``): past the
    rate they are answered 429 instead of 401.
    """

    schemes = ("bearer", "token")

    def authenticate(self, request):
        scheme, _, raw_key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() not in self.schemes:
            return None
        raw_key = raw_key.strip()
        if not raw_key:
            FailedTokenThrottle().refuse(request, "The Authorization header has no token.")
        digest = ApiToken.digest(raw_key)
        with sqlite_cursor() as cursor:
            cursor.execute(_TOKEN_LOOKUP_SQL, [AGENT_GROUP, digest])
            values = cursor.fetchone()
            if values is None:
                FailedTokenThrottle().refuse(request, "Unknown or revoked token.")
            row = dict(zip(_column_names(cursor), values, strict=True))
            permissions = _names_of_permissions(cursor, row["permission_ids"])
        user = User.from_db(DEFAULT_DB_ALIAS, _USER_FIELDS, _user_values(row))
        user._motus_is_agent = bool(row["is_agent"])
        policy.hold_permissions(user, permissions)
        token = ApiToken(
            id=row["token_id"],
            user=user,
            key_digest=digest,
            last_used_at=parse_timestamp(row["token_last_used_at"] or ""),
        )
        token.note_use()
        return user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class StaffSessionAuthentication(SessionAuthentication):
    """Staff may use the API from their admin session (with its CSRF protection)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None or not result[0].is_staff:
            return None
        return result
