"""Plain SQL on the hot path, on SQLite and PostgreSQL: the one place where their dialects
meet in Python.

:func:`sql_cursor` hands out a cursor of the DB-API connection Django already opened, so
statements run in Django's current transaction (``transaction.atomic`` works as usual) but
skip Django's per-statement cursor wrappers (placeholder rewriting, debug bookkeeping),
which cost three times what SQLite itself needs for a small statement. Errors still arrive
as ``django.db`` exceptions. Placeholders are ``?`` on both backends (rewritten once per
statement text for psycopg); write SQL both dialects share (``ON CONFLICT``, ``RETURNING``,
``COALESCE``, ``||``, CTEs) and take what differs from the functions below.

What differs, and where it lives:

- the current time as the contract's text (``now()``), JSON building (``json_array()``,
  ``json_object()``), an aggregate of strings (``string_agg()``);
- a statement that must differ as a whole (``rowid`` order, SQLite's ``COLLATE RTRIM``
  walk): two named constants, chosen once at import by :func:`per_vendor`;
- writers: SQLite serializes them (every transaction is ``BEGIN IMMEDIATE``);
  PostgreSQL runs them side by side, so a check-then-write that relies on being alone takes
  :func:`serialize` first (a transaction-scoped advisory lock; nothing on SQLite);
- the triggers and views themselves: ``<app>/migrations/sql/<vendor>/``.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import F
from django.db.models.functions import Collate


def vendor() -> str:
    """``sqlite`` or ``postgresql``."""
    return connection.vendor


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


@lru_cache(maxsize=1024)
def to_format_style(sql: str) -> str:
    """``?`` placeholders → psycopg's ``%s`` (a literal ``%`` doubled). A ``?`` inside a
    quoted string would be rewritten too: pass such values as parameters."""
    return sql.replace("%", "%%").replace("?", "%s")


class _FormatCursor:
    """A psycopg cursor that takes ``?`` placeholders, as sqlite3's does."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor):
        self._cursor = cursor

    def execute(self, sql, params=None):
        if params is None:
            return self._cursor.execute(sql.replace("%", "%%"))
        return self._cursor.execute(to_format_style(sql), params)

    def executemany(self, sql, seq_of_params):
        return self._cursor.executemany(to_format_style(sql), seq_of_params)

    def __getattr__(self, name):
        return getattr(self._cursor, name)

    def __iter__(self):
        return iter(self._cursor)


class sql_cursor:  # noqa: N801 (used as a function: ``with sql_cursor() as cursor``)
    """A cursor on Django's own connection (its transaction), ``?`` placeholders, closed at
    the end of the ``with`` block; the driver's errors arrive as ``django.db`` exceptions.

    A class rather than a ``@contextmanager`` generator: every service call opens several,
    and the generator's machinery cost more than the statement it served."""

    __slots__ = ("_wrapper", "_cursor")

    def __enter__(self):
        # The wrapper once: each attribute of ``django.db.connection`` looks it up again.
        wrapper = self._wrapper = connections[DEFAULT_DB_ALIAS]
        wrapper.ensure_connection()
        with wrapper.wrap_database_errors:
            cursor = self._cursor = wrapper.connection.cursor()
        return cursor if wrapper.vendor == "sqlite" else _FormatCursor(cursor)

    def __exit__(self, exc_type, exc_value, traceback):
        errors = self._wrapper.wrap_database_errors
        try:
            self._cursor.close()
        finally:
            errors.__exit__(exc_type, exc_value, traceback)  # re-raises a driver error as Django's


#: The former name, from when only SQLite was served.
sqlite_cursor = sql_cursor


def now() -> str:
    """SQL for the current time as the contract's text, ``YYYY-MM-DD HH:MM:SS`` UTC."""
    if connection.vendor == "sqlite":
        return "datetime('now')"
    return "to_char(timezone('UTC', statement_timestamp()), 'YYYY-MM-DD HH24:MI:SS')"


def json_object(*pairs: str) -> str:
    """SQL building a JSON object from ``'key', expression, …`` (SQL fragments)."""
    function = "json_object" if connection.vendor == "sqlite" else "json_build_object"
    return f"{function}({', '.join(pairs)})"


def json_array(expression: str) -> str:
    """SQL aggregating ``expression`` over the rows into a JSON array *as text* (``[]`` for
    no rows), as SQLite's ``json_group_array`` gives it."""
    if connection.vendor == "sqlite":
        return f"json_group_array({expression})"
    return f"COALESCE(json_agg({expression})::text, '[]')"


def string_agg(expression: str, separator: str = ",") -> str:
    """SQL joining ``expression`` over the rows with ``separator`` (NULL for no rows)."""
    quoted = "'" + separator.replace("'", "''") + "'"
    if connection.vendor == "sqlite":
        return f"group_concat({expression}, {quoted})"
    return f"string_agg(({expression})::text, {quoted})"


def per_vendor(*, sqlite: str, postgresql: str) -> str:
    """The SQL text for the current backend, out of its two forms: for a statement that
    cannot be written once for both. Choose at import (a module constant), not per call."""
    return sqlite if connection.vendor == "sqlite" else postgresql


@lru_cache(maxsize=1)
def _serialized_by_sqlite() -> bool:
    """The backend never changes within a process: asked once, so that :func:`serialize`
    costs SQLite's hot path next to nothing."""
    return connection.vendor == "sqlite"


def serialize(*key: str) -> bool:
    """Hold writers that name the same ``key`` back until this transaction ends.

    SQLite needs nothing: each write transaction begins IMMEDIATE, so writers already take
    turns. On PostgreSQL this takes ``pg_advisory_xact_lock(hashtextextended(key, 0))``, the
    same lock the PostgreSQL trigger functions take for the same ``a:b`` key, so
    a check-then-write (is the item free? then claim it) sees the other writer's committed
    rows, as it would on SQLite. Call it first thing inside ``transaction.atomic()``.

    Keys in use (``a:b``): ``work:<item>`` (claims: the attempt triggers' key),
    ``lease:<resource_type>:<resource_id>`` (the lease triggers'), ``phase:<phase_key>``
    (``enforce_phase_limit``'s), and the Python-only ``idempotency:<caller> <key>`` and
    ``adhoc:<identity>``. Take ``work:`` before ``lease:`` when a transaction needs both.

    Returns whether it waited in line (True on PostgreSQL): a caller that read rows or the
    time before taking it reads them again.
    """
    if _serialized_by_sqlite():
        return False
    with sql_cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", [":".join(key)])
    return True


# Text order and id lists, for the pages' queries (ORM and raw SQL).
#
# Text orders bytewise on SQLite (BINARY); a PostgreSQL database sorts by its collation,
# which is "C" (bytewise) in the test cluster but may be a language's elsewhere ("a" < "B",
# punctuation ignored). The pages order ids and names in SQLite's order on both through
# these helpers, which add nothing on SQLite. NULLs: write ``NULLS FIRST`` /
# ``nulls_first=True`` where SQLite's default (NULLs first ascending) matters.


def bytewise(field: str):
    """``field`` for ``order_by`` in SQLite's (bytewise) text order: the field itself on
    SQLite, ``field COLLATE "C"`` on PostgreSQL. ``.desc()`` works on either."""
    if connection.vendor == "sqlite":
        return F(field)
    return Collate(F(field), "C")


def bytewise_sql(expression: str) -> str:
    """The SQL ``expression`` for an ORDER BY in SQLite's (bytewise) text order."""
    if connection.vendor == "sqlite":
        return expression
    return f'{expression} COLLATE "C"'


def id_list_sql() -> str:
    """A subquery of the strings in a JSON array (one parameter, the array as text), for
    ``x IN (...)`` with any number of ids in one statement."""
    if connection.vendor == "sqlite":
        return "SELECT value FROM json_each(%s)"
    return "SELECT json_array_elements_text(CAST(%s AS json))"
