"""Plain SQL on the hot path.

:func:`sqlite_cursor` hands out a cursor of the DB-API connection Django already opened, so
statements run in Django's current transaction (``transaction.atomic`` works as usual) but
skip Django's per-statement cursor wrappers (placeholder rewriting, debug bookkeeping),
which cost three times what SQLite itself needs for a small statement. Errors still arrive
as ``django.db`` exceptions. Placeholders are SQLite's ``?``.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection


@contextmanager
def sqlite_cursor():
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = connection.connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
