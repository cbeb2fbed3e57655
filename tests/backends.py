"""The database the suite runs on: SQLite (``make test``) or PostgreSQL (``make test-postgres``,
which sets ``DATABASE_URL``).

The trigger and view tests talk to the database without Django, as the `motus` tool does:
on SQLite through ``sqlite3``; on PostgreSQL through :class:`PgConnection`, a psycopg
connection that takes the same calls (``execute`` with ``?`` placeholders, ``fetchone``,
``lastrowid``) and raises the same ``sqlite3`` exception classes with the database's primary
message, so one test body checks both backends word for word.
"""

from __future__ import annotations

import os
import re
import sqlite3
import uuid
from urllib.parse import quote, urlsplit, urlunsplit

DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
POSTGRESQL = bool(DATABASE_URL)
VENDOR = "postgresql" if POSTGRESQL else "sqlite"


def url_for(name: str) -> str:
    """``DATABASE_URL`` with another database name."""
    parts = urlsplit(DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + quote(name)))


def admin_execute(sql: str) -> None:
    """Run one statement on the cluster's ``postgres`` database (CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(url_for("postgres"), autocommit=True) as conn:  # libpq reads URLs
        conn.execute(sql)


def new_database_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def create_database(name: str, template: str | None = None) -> str:
    template_sql = f' TEMPLATE "{template}"' if template else ""
    admin_execute(f'CREATE DATABASE "{name}"{template_sql}')
    return url_for(name)


def drop_database(name: str) -> None:
    admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_TRANSLATE = re.compile(r"%|\?")
_INSERT = re.compile(r"^\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+(\w+)", re.IGNORECASE)


def _autoincrement_tables() -> set[str]:
    import json
    from pathlib import Path

    contract = json.loads((Path(__file__).parent / "data" / "schema.json").read_text())
    return {name for name, table in contract["tables"].items() if table["autoincrement"]}


#: Tables whose ``id`` an INSERT returns as ``lastrowid`` (their INTEGER AUTOINCREMENT key).
AUTOINCREMENT_TABLES = _autoincrement_tables()


def _format_style(sql: str) -> str:
    return _TRANSLATE.sub(lambda m: "%%" if m.group() == "%" else "%s", sql)


def _as_sqlite_error(exc):
    """The sqlite3 exception class a test expects, with PostgreSQL's primary message."""
    import psycopg

    message = exc.diag.message_primary or str(exc)
    if isinstance(exc, psycopg.IntegrityError):
        return sqlite3.IntegrityError(message)
    if isinstance(exc, psycopg.OperationalError):
        return sqlite3.OperationalError(message)
    return sqlite3.DatabaseError(message)


class PgCursor:
    def __init__(self, cursor, lastrowid=None):
        self._cursor = cursor
        self.lastrowid = lastrowid

    @property
    def description(self):
        return self._cursor.description

    @property
    def rowcount(self):
        return self._cursor.rowcount

    def fetchone(self):
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self):
        return self._cursor.fetchall() if self._cursor.description else []

    def __iter__(self):
        return iter(self.fetchall())


class PgConnection:
    """A psycopg connection in autocommit mode, spoken to like ``sqlite3.connect(...,
    isolation_level=None)``."""

    def __init__(self, url: str):
        import psycopg

        self.url = url
        self._conn = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, params=()):
        import psycopg

        params = tuple(params) if params else None
        insert = _INSERT.match(sql)
        returning = bool(
            insert and insert.group(1) in AUTOINCREMENT_TABLES and "RETURNING" not in sql.upper()
        )
        if returning:
            sql = sql.rstrip().rstrip(";") + " RETURNING id"
        try:
            cursor = self._conn.execute(_format_style(sql) if params else sql, params)
        except psycopg.Error as exc:
            raise _as_sqlite_error(exc) from exc
        if returning:
            row = cursor.fetchone()
            return PgCursor(cursor, lastrowid=row[0] if row else None)
        return PgCursor(cursor)

    def executescript(self, script: str):
        from system.sqlfiles import split_statements

        for statement in split_statements(script, "postgresql"):
            self.execute(statement)

    def close(self):
        self._conn.close()

    @property
    def in_transaction(self) -> bool:
        import psycopg

        return self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
