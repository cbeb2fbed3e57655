"""What a refused write means, in the database's own words.

A trigger's ``RAISE(ABORT, msg)`` reaches Python as ``IntegrityError`` whose text is exactly
``msg`` (RULES.md: "rejects / aborts"). The API turns it into a 409 and the admin into a form
error, both carrying this message unchanged.
"""

from __future__ import annotations

from django.db import IntegrityError

#: Prefixes of SQLite's own constraint errors, as opposed to the kernel's trigger messages.
_CONSTRAINT_PREFIXES = (
    "UNIQUE constraint failed",
    "FOREIGN KEY constraint failed",
    "CHECK constraint failed",
    "NOT NULL constraint failed",
)


def database_message(exc: IntegrityError) -> str:
    """The message the database raised, without Python's decoration."""
    cause = exc.__cause__ or exc
    return str(cause.args[0] if cause.args else cause)


def is_kernel_rule(exc: IntegrityError) -> bool:
    """True when a trigger refused the write (as opposed to a key/constraint failure)."""
    return not database_message(exc).startswith(_CONSTRAINT_PREFIXES)
