"""Frozen, per-migration SQL files for triggers and views.

Layout: ``<app>/migrations/sql/<vendor>/<migration>.sql`` with its reverse in
``<migration>.reverse.sql``. The ORM cannot express triggers or views, and their SQL must not
change once a migration has shipped, so each migration owns its own file; a later change is a
new migration with a new file. Organising by vendor lets another engine be added by writing
its files, without touching models.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from django.db import migrations


def split_statements(sql: str, vendor: str = "sqlite") -> list[str]:
    """Split a script into statements, keeping ``CREATE TRIGGER ... BEGIN ... END;`` whole
    (SQLite) and ``$$``-quoted function bodies whole (PostgreSQL, with sqlparse)."""
    if vendor != "sqlite":
        import sqlparse

        return [s.strip() for s in sqlparse.split(sql) if _has_code(s)]
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if _has_code(statement):
                statements.append(statement)
            buffer = ""
    if _has_code(buffer):
        raise ValueError(f"incomplete SQL statement at end of file: {buffer.strip()[:80]!r}")
    return statements


def _has_code(text: str) -> bool:
    lines = [ln.split("--", 1)[0].strip() for ln in text.splitlines()]
    return any(ln and ln != ";" for ln in lines)


def sql_path(app_path: str | Path, vendor: str, name: str, *, reverse: bool = False) -> Path:
    suffix = ".reverse.sql" if reverse else ".sql"
    return Path(app_path) / "migrations" / "sql" / vendor / f"{name}{suffix}"


def read_statements(app_path: str | Path, vendor: str, name: str, *, reverse: bool = False):
    return split_statements(sql_path(app_path, vendor, name, reverse=reverse).read_text(), vendor)


class LoadSQL(migrations.operations.base.Operation):
    """Run ``<app>/migrations/sql/<vendor>/<name>.sql``; the reverse runs ``<name>.reverse.sql``.

    The files are read when the migration runs, so the migration module stays small and the
    SQL is reviewed as SQL.
    """

    reduces_to_sql = True
    reversible = True

    def __init__(self, name: str):
        self.name = name

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.name], {})

    def state_forwards(self, app_label, state):
        pass

    def _run(self, app_label, schema_editor, reverse):
        from django.apps import apps as global_apps

        app_path = global_apps.get_app_config(app_label).path
        vendor = schema_editor.connection.vendor
        for statement in read_statements(app_path, vendor, self.name, reverse=reverse):
            schema_editor.execute(statement, params=None)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._run(app_label, schema_editor, reverse=False)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._run(app_label, schema_editor, reverse=True)

    def describe(self):
        return f"Load SQL file {self.name}.sql (triggers/views)"

    @property
    def migration_name_fragment(self):
        return f"sql_{self.name}"
