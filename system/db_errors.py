"""What a refused write means, in the database's own words.

A trigger's ``RAISE(ABORT, msg)`` reaches Python as ``IntegrityError`` whose text is exactly
``msg`` (RULES.md: "rejects / aborts"); on PostgreSQL the trigger function raises ``msg``
with SQLSTATE 23000, which also arrives as ``IntegrityError``. The API turns it into a 409
and the admin into a form error, both carrying this message unchanged.

A database that cannot be used at all (busy past the wait, full, read-only, unreachable) is
told apart by :func:`database_unavailable`: the API answers it 503 naming the cause.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError

#: Prefixes of SQLite's own constraint errors, as opposed to the kernel's trigger messages.
_CONSTRAINT_PREFIXES = (
    "UNIQUE constraint failed",
    "FOREIGN KEY constraint failed",
    "CHECK constraint failed",
    "NOT NULL constraint failed",
)


#: The SQLSTATE the PostgreSQL trigger functions raise their messages with
#: (integrity_constraint_violation: psycopg and Django make it an IntegrityError); its own
#: key, foreign-key, check and not-null failures have codes of their own (23505, 23503, …).
KERNEL_RULE_SQLSTATE = "23000"


def _sqlstate(exc: BaseException) -> str | None:
    cause = exc.__cause__ or exc
    return getattr(cause, "sqlstate", None)


def database_message(exc: IntegrityError) -> str:
    """The message the database raised, without Python's decoration (PostgreSQL's primary
    message, without its CONTEXT lines)."""
    cause = exc.__cause__ or exc
    diag = getattr(cause, "diag", None)
    if diag is not None and diag.message_primary:
        return diag.message_primary
    return str(cause.args[0] if cause.args else cause)


def is_kernel_rule(exc: IntegrityError) -> bool:
    """True when a trigger refused the write (as opposed to a key/constraint failure)."""
    state = _sqlstate(exc)
    if state is not None:
        return state == KERNEL_RULE_SQLSTATE
    return not database_message(exc).startswith(_CONSTRAINT_PREFIXES)


# Why the database could not be used at all (as opposed to refusing one write): the API
# answers 503 with one of these codes, naming the cause, and nothing was written.

_UNAVAILABLE = {
    "database_busy": (
        "The database is busy: another process has held its write lock longer than this "
        "server waits for it. Nothing was written; retry shortly."
    ),
    "database_full": (
        "The database cannot grow: the disk is full (or the database reached its size "
        "limit). Nothing was written."
    ),
    "database_read_only": (
        "The database is read-only (file or folder permissions, a read-only disk, or a "
        "read-only connection). Nothing was written."
    ),
    "database_unavailable": (
        "The database cannot be opened or read (missing or unreadable file, disk I/O error, "
        "damaged file). Nothing was written."
    ),
}

#: Seconds a client should wait before retrying, per cause (``Retry-After``).
RETRY_AFTER = {
    "database_busy": 2,
    "database_full": 60,
    "database_read_only": 60,
    "database_unavailable": 30,
}

# SQLite's primary result codes (sqlite3.Error.sqlite_errorname, Python 3.11+) and, for
# errors raised without one, the text SQLite gives them.
_BY_NAME = (
    (("SQLITE_BUSY", "SQLITE_LOCKED"), "database_busy"),
    (("SQLITE_FULL",), "database_full"),
    (("SQLITE_READONLY",), "database_read_only"),
    (
        ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_PERM"),
        "database_unavailable",
    ),
)
_BY_TEXT = (
    (("database is locked", "database table is locked"), "database_busy"),
    (("database or disk is full",), "database_full"),
    (("readonly database", "read-only database"), "database_read_only"),
    (
        (
            "unable to open database",
            "disk i/o error",
            "file is not a database",
            "database disk image is malformed",
        ),
        "database_unavailable",
    ),
)


# PostgreSQL's SQLSTATEs (by class or exact code) for the same causes.
_BY_SQLSTATE = (
    (("55P03", "40001", "40P01", "57014"), "database_busy"),  # lock timeout, serialization
    (("53100", "53200", "54000"), "database_full"),  # disk full, out of memory
    (("25006",), "database_read_only"),  # read-only transaction (a standby)
    (("08", "57P", "53300", "3D000", "28"), "database_unavailable"),  # connection, shutdown
)


@dataclass(frozen=True)
class Unavailable:
    """The database could not be used: ``code``, a message naming the cause, and how long
    a client should wait before retrying."""

    code: str
    message: str
    retry_after: int
    detail: str


def database_unavailable(exc: BaseException | None) -> Unavailable | None:
    """What kept the database from being used, if ``exc`` says so (None otherwise: a
    refused write, a bad query, or not a database error at all)."""
    if not isinstance(exc, DatabaseError | sqlite3.Error) or isinstance(
        exc, IntegrityError | sqlite3.IntegrityError
    ):
        return None
    state = _sqlstate(exc)
    if state is not None or type(exc.__cause__).__module__.startswith("psycopg"):
        cause = exc.__cause__ or exc
        state = state or ""
        code = next((c for states, c in _BY_SQLSTATE if state.startswith(states)), None)
        if code is None and not state:
            code = "database_unavailable"  # no server answer at all: connection refused/lost
        if code is None:
            return None
        text = getattr(getattr(cause, "diag", None), "message_primary", None) or str(cause)
        return Unavailable(code, _UNAVAILABLE[code], RETRY_AFTER[code], text)
    cause = exc.__cause__ if isinstance(exc.__cause__, sqlite3.Error) else exc
    name = getattr(cause, "sqlite_errorname", "") or ""
    text = str(cause.args[0] if cause.args else cause)
    code = next((c for names, c in _BY_NAME if name.startswith(names)), None)
    if code is None:
        lowered = text.lower()
        code = next((c for needles, c in _BY_TEXT if any(n in lowered for n in needles)), None)
    if code is None:
        return None
    return Unavailable(code, _UNAVAILABLE[code], RETRY_AFTER[code], text)
