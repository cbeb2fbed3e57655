"""SQLite backend for coordination.db: Django's, with immediate foreign keys, a flush
that respects the contract's guard triggers, and a BEGIN that closes its cursor.

- Django declares SQLite foreign keys ``DEFERRABLE INITIALLY DEFERRED``, which moves a broken
  reference from the offending statement to COMMIT. The contract (RULES.md 1.4) and the
  `motus` tool use immediate foreign keys, so a bad reference fails at the statement that
  made it, in the app exactly as in the tool.
- ``flush`` (``manage.py flush`` and the test framework between transactional tests) must
  empty append-only tables whose triggers forbid DELETE, and must leave the required seed
  rows in place, as a fresh ``migrate`` would.
"""

from django.apps import apps
from django.db.backends.sqlite3 import base, operations, schema

from system.sqlfiles import read_statements

#: Migrations whose SQL files insert required rows (``INSERT OR IGNORE``), re-run after flush.
SEED_MIGRATIONS = (("system", "0003_seed"), ("roadmap", "0005_review_status"))


def seed_statements(vendor: str) -> list[str]:
    """The seed files' statements for ``vendor``: what ``flush`` re-runs (both backends)."""
    statements = []
    for app_label, name in SEED_MIGRATIONS:
        statements += read_statements(apps.get_app_config(app_label).path, vendor, name)
    return statements


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    sql_create_inline_fk = "REFERENCES %(to_table)s (%(to_column)s)"


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        deletes = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if not deletes:
            return deletes
        placeholders = ", ".join(["%s"] * len(tables))
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                f"AND tbl_name IN ({placeholders})",
                list(tables),
            )
            guards = [(n, sql) for n, sql in cursor.fetchall() if " DELETE " in sql.upper()]
        statements = ["PRAGMA defer_foreign_keys = ON"]
        statements += [f'DROP TRIGGER "{name}"' for name, _ in guards]
        statements += deletes
        statements += [sql for _, sql in guards]
        if "terminology" in tables:
            statements += seed_statements(self.connection.vendor)
        return statements


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
    ops_class = DatabaseOperations

    def _start_transaction_under_autocommit(self):
        # Django's leaves the BEGIN's cursor open. When BEGIN IMMEDIATE fails busy (as the
        # token's no-wait last_used_at write does under contention), that cursor becomes
        # garbage; another thread collecting it resets the statement on this connection and
        # waits for its mutex while holding the write lock the owner waits for: both stand
        # still until the busy timeout (threaded servers: runserver, the live test server).
        # The driver's own cursor (as system.sql's), so the BEGIN skips Django's wrappers.
        with self.wrap_database_errors:
            cursor = self.connection.cursor()
            try:
                cursor.execute(
                    f"BEGIN {self.transaction_mode}" if self.transaction_mode else "BEGIN"
                )
            finally:
                cursor.close()
