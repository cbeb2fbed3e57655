"""Connection settings on a live connection, and start-up configuration errors."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
from conftest import ROOT
from django.conf import settings
from django.db import connection, transaction

EXPECTED_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 1,  # NORMAL
    "foreign_keys": 1,
    "busy_timeout": 30000,
    "cache_size": -64000,
    "temp_store": 2,  # MEMORY
    "mmap_size": 268435456,
    "recursive_triggers": 0,  # must stay OFF (RULES.md 1.2)
}


@pytest.mark.sqlite_only
@pytest.mark.django_db
def test_every_connection_gets_the_contract_pragmas():
    with connection.cursor() as cursor:
        for pragma, expected in EXPECTED_PRAGMAS.items():
            cursor.execute(f"PRAGMA {pragma}")
            assert cursor.fetchone()[0] == expected, pragma


@pytest.mark.postgresql_only
@pytest.mark.django_db
def test_every_postgresql_connection_waits_for_locks_as_sqlite_does_and_speaks_utc():
    """PostgreSQL's counterparts of the pragmas that matter to the app: a lock wait ends
    after MOTUS_BUSY_TIMEOUT_MS as SQLite's busy timeout does (then 503 database_busy), the
    session's time zone is UTC, and foreign keys are immediate (RULES.md 1.4)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setting FROM pg_settings WHERE name = 'lock_timeout'"
            " UNION ALL SELECT current_setting('TimeZone')"
        )
        assert [row[0] for row in cursor.fetchall()] == [
            str(settings.MOTUS_BUSY_TIMEOUT_MS),
            "UTC",
        ]
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferrable"
            " AND connamespace = current_schema()::regnamespace"
        )
        assert cursor.fetchall() == []


@pytest.mark.sqlite_only
@pytest.mark.django_db(transaction=True)
def test_transactions_take_the_write_lock_at_begin():
    """transaction_mode IMMEDIATE: an atomic block holds the write lock before it writes,
    so two writers never deadlock on a lock upgrade."""
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0, isolation_level=None)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM terminology")
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def run_check(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_public_host_without_secret_key_refuses_to_start(tmp_path):
    result = run_check(MOTUS_DB_PATH=str(tmp_path / "c.db"), DJANGO_ALLOWED_HOSTS="motus.example")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_public_host_with_secret_key_starts(tmp_path):
    result = run_check(
        MOTUS_DB_PATH=str(tmp_path / "c.db"),
        DJANGO_ALLOWED_HOSTS="motus.example",
        DJANGO_SECRET_KEY="x" * 50,
    )
    assert result.returncode == 0, result.stderr


def test_local_install_needs_no_configuration(tmp_path):
    result = run_check(MOTUS_DB_PATH=str(tmp_path / "c.db"))
    assert result.returncode == 0, result.stderr
