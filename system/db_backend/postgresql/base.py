"""PostgreSQL backend for the Motus schema: Django's, with immediate foreign keys, 64-bit
integers (SQLite's INTEGER) and a flush that keeps the seed rows.

``flush`` (``manage.py flush`` and the test framework between transactional tests) empties
the tables with TRUNCATE, which fires no row triggers (the append-only guards stay in place
and are not in the way), then re-runs the seed files, as a fresh ``migrate`` would.
"""

from django.db.backends.postgresql import base, operations

from system.db_backend.base import seed_statements

#: The contract's INTEGER is SQLite's 64-bit integer: every integer column (keys included)
#: is a bigint here, so a value SQLite stores, PostgreSQL stores too (models do not fork).
BIGINT = (-(2**63), 2**63 - 1)


class DatabaseOperations(operations.DatabaseOperations):
    integer_field_ranges = {
        **operations.DatabaseOperations.integer_field_ranges,
        "SmallIntegerField": BIGINT,
        "IntegerField": BIGINT,
        "PositiveSmallIntegerField": (0, BIGINT[1]),
        "PositiveIntegerField": (0, BIGINT[1]),
    }

    def deferrable_sql(self):
        # Immediate foreign keys, as on SQLite (system.db_backend): a bad reference fails at
        # the statement that made it (RULES.md 1.4), not at COMMIT.
        return ""

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if statements and "terminology" in tables:
            statements += seed_statements(self.connection.vendor)
        return statements


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    data_types = {
        **base.DatabaseWrapper.data_types,
        "AutoField": "bigint",
        "IntegerField": "bigint",
        "SmallIntegerField": "bigint",
        "PositiveIntegerField": "bigint",
        "PositiveSmallIntegerField": "bigint",
    }
