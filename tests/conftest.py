"""Shared fixtures.

``raw_db`` is a fresh coordination.db built by this project's own ``manage.py migrate``
(tables, indexes, triggers, views, seed rows), opened as a plain ``sqlite3`` connection in
autocommit mode with ``foreign_keys=ON``: what the `motus` tool sees. Trigger and view tests
use it so they test the database, not the ORM. Under ``make test-postgres`` (``DATABASE_URL``
set) it is a fresh PostgreSQL database copied from a migrated template, spoken to through
``backends.PgConnection`` (same calls, same exception classes and messages).

Tests marked ``sqlite_only`` (the file itself: WAL, PRAGMAs, backups, the `motus` tool's
files) are not collected on PostgreSQL, and ``postgresql_only`` ones (the PostgreSQL parity
and race checks) not on SQLite: the run's header says how many were left out and why.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import backends  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config, items):
    other = "sqlite_only" if backends.POSTGRESQL else "postgresql_only"
    kept, left_out = [], []
    for item in items:
        (left_out if item.get_closest_marker(other) else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def pytest_report_header(config):
    if backends.POSTGRESQL:
        return f"database: PostgreSQL ({backends.DATABASE_URL}); sqlite_only tests left out"
    return "database: SQLite files; postgresql_only tests left out (make test-postgres runs them)"


def manage(db_path: Path | str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``manage.py`` in a subprocess against ``db_path`` (as a user would): a SQLite file,
    or a ``postgres://`` URL."""
    if str(db_path).startswith("postgres"):
        env = {**os.environ, "DATABASE_URL": str(db_path)}
    else:
        env = {**os.environ, "MOTUS_DB_PATH": str(db_path)}
        env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """A database migrated from nothing, built once per test session: a SQLite file, or on
    PostgreSQL the name of a template database."""
    if backends.POSTGRESQL:
        name = backends.new_database_name("motus_template")
        url = backends.create_database(name)
        try:
            manage(url, "migrate", "--noinput", "-v0")
            yield name
        finally:
            backends.drop_database(name)
        return
    path = tmp_path_factory.mktemp("template") / "coordination.db"
    manage(path, "migrate", "--noinput", "-v0")
    yield path


def copy_database(source: Path, target: Path) -> Path:
    """Copy a (checkpointed) SQLite file; WAL side files are folded in first."""
    conn = sqlite3.connect(source)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copy(source, target)
    return target


@pytest.fixture
def raw_db_path(migrated_template, tmp_path):
    """A fresh migrated database: a SQLite file's path, or a PostgreSQL URL."""
    if backends.POSTGRESQL:
        name = backends.new_database_name("motus_raw")
        url = backends.create_database(name, template=migrated_template)
        yield url
        backends.drop_database(name)
        return
    yield copy_database(migrated_template, tmp_path / "coordination.db")


@pytest.fixture
def raw_db(raw_db_path):
    if backends.POSTGRESQL:
        conn = backends.PgConnection(raw_db_path)
    else:
        conn = sqlite3.connect(raw_db_path, isolation_level=None)
        conn.execute("PRAGMA foreign_keys=ON")
    yield conn
    conn.close()


def limit_work(conn, instructions: int) -> None:
    """Abort (``sqlite3.OperationalError: interrupted``) any statement once the connection has
    run this many SQLite VM instructions in total."""
    used = 0

    def tick() -> bool:
        nonlocal used
        used += 1000
        return used > instructions

    conn.set_progress_handler(tick, 1000)


@pytest.fixture
def reader(db, client, django_user_model):
    """The test client, logged in as an ordinary (non-staff) user with the viewer role."""
    from django.contrib.auth.models import Group

    from system import policy

    user = django_user_model.objects.create_user("reader")
    user.groups.add(Group.objects.get(name=policy.group_name(policy.Role.VIEWER)))
    client.force_login(user)
    return client
