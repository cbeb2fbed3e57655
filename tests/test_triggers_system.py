"""Triggers of app `system` (RULES.md §1.7, §1.9, §2.2) on a raw contract database."""

from __future__ import annotations

import sqlite3

import pytest
from kernel_rows import OLD, check_trigger_files, insert, now, one, rows, scalar

OTHER_OLD = "2002-02-02 00:00:00"


def test_sql_files_follow_contract(raw_db):
    check_trigger_files(raw_db, "system", "0002_triggers")


# -- audit_log ---------------------------------------------------------------------------
def _audit_entry(conn) -> int:
    return insert(
        conn, "audit_log", event_type="test", actor="system", action="create", instance_id="x" * 32
    )


def test_audit_log_immutable(raw_db):
    entry = _audit_entry(raw_db)
    with pytest.raises(sqlite3.IntegrityError) as excinfo:
        raw_db.execute("UPDATE audit_log SET actor = 'someone' WHERE id = ?", (entry,))
    assert str(excinfo.value) == "Audit log entries are immutable"
    assert scalar(raw_db, "SELECT actor FROM audit_log WHERE id = ?", (entry,)) == "system"


def test_audit_log_no_delete(raw_db):
    entry = _audit_entry(raw_db)
    with pytest.raises(sqlite3.IntegrityError) as excinfo:
        raw_db.execute("DELETE FROM audit_log WHERE id = ?", (entry,))
    assert str(excinfo.value) == "Audit log entries cannot be deleted"
    assert scalar(raw_db, "SELECT count(*) FROM audit_log WHERE id = ?", (entry,)) == 1


# -- health_check_cleanup ----------------------------------------------------------------
def _health_check(conn, name: str, checked_at: str | None = None) -> int:
    values = {"check_name": name, "status": "pass"}
    if checked_at is not None:
        values["checked_at"] = checked_at
    return insert(conn, "health_check_results", **values)


def _health_names(conn) -> set[str]:
    return {r["check_name"] for r in rows(conn, "SELECT check_name FROM health_check_results")}


def test_health_check_cleanup_deletes_an_old_row_on_its_own_insert(raw_db):
    _health_check(raw_db, "old", now(raw_db, "-8 days"))
    assert _health_names(raw_db) == set()


def test_health_check_cleanup_deletes_rows_older_than_seven_days(raw_db):
    aged = _health_check(raw_db, "aged")
    _health_check(raw_db, "recent", now(raw_db, "-6 days"))
    # An UPDATE does not run the cleanup: the aged row stays until the next insert.
    raw_db.execute("UPDATE health_check_results SET checked_at = ? WHERE id = ?", (OLD, aged))
    assert _health_names(raw_db) == {"aged", "recent"}
    _health_check(raw_db, "fresh")
    assert _health_names(raw_db) == {"recent", "fresh"}


def test_health_check_cleanup_keeps_a_row_exactly_seven_days_old(raw_db):
    # datetime('now') is fixed for one statement, triggers included: exactly the boundary.
    raw_db.execute(
        "INSERT INTO health_check_results (check_name, status, checked_at) "
        "VALUES ('boundary', 'pass', datetime('now', '-7 days'))"
    )
    assert _health_names(raw_db) == {"boundary"}


# -- the 30 helper triggers (RULES.md §1.7) ----------------------------------------------
# table -> (minimal row, an UPDATE assignment that changes something else)
HELPER_TABLES = {
    "sessions": ({}, "commands_run = 3"),
    "session_cache_state": ({"key": "k", "value": "v"}, "value = 'w'"),
    "session_event_cache": (
        {"session_id": "file-1", "sequence": 1, "type": "msg"},
        "type = 'tool'",
    ),
    "session_file_cache": (
        {
            "id": "f",
            "source": "s",
            "file_path": "/f",
            "file_hash": "h",
            "file_mtime_ns": 1,
            "file_size_bytes": 1,
            "ingested_at": OLD,
        },
        "status = 'archived'",
    ),
    "circuit_breakers": ({"name": "cb"}, "failure_count = 1"),
    "detected_patterns": (
        {"pattern_type": "t", "pattern_value": "v", "confidence": "high"},
        "confidence = 'low'",
    ),
    "learned_patterns": (
        {"pattern_type": "t", "pattern_value": "v", "source": "detection"},
        "frequency = 2",
    ),
    "ground_rules": (
        {"rule_type": "t", "rule_value": "v", "source": "default"},
        "source = 'imported'",
    ),
    "skills": ({"skill_name": "s", "unlock_threshold": 1}, "progress_count = 1"),
    "preferences": ({"key": "k", "value": "v", "source": "cli"}, "value = 'w'"),
    "instance_config": ({"key": "k", "value": "v"}, "value = 'w'"),
    "health_check_results": ({"check_name": "c", "status": "pass"}, "status = 'warn'"),
    "idempotency_keys": (
        {"key": "k", "operation": "op", "request_hash": "h", "expires_at": "2999-01-01 00:00:00"},
        "status = 'complete'",
    ),
    "resource_quotas": (
        {"resource_type": "r", "soft_limit": 1, "hard_limit": 2},
        "current_usage = 1",
    ),
    "terminology": (
        {"domain": "d", "internal_key": "k", "display_name": "D"},
        "display_name = 'E'",
    ),
}
# Tables whose created_at has its own NOT NULL DEFAULT datetime('now').
CREATED_AT_DEFAULT = {"terminology", "resource_quotas", "idempotency_keys", "ground_rules"}


def _add(conn, table: str, **overrides) -> int:
    if table == "session_event_cache":
        _add(conn, "session_file_cache", id="file-1", file_path="/file-1")
    values, _ = HELPER_TABLES[table]
    return insert(conn, table, **{**values, **overrides})


def _stamps(conn, table: str, rowid: int) -> tuple[str, str]:
    row = one(conn, f"SELECT created_at, updated_at FROM {table} WHERE rowid = ?", (rowid,))
    return row["created_at"], row["updated_at"]


def _is_now(value: str, before: str, after: str) -> bool:
    return value is not None and before <= value <= after


def test_helper_triggers_cover_the_fifteen_tables(raw_db):
    names = {r["name"] for r in rows(raw_db, "SELECT name FROM sqlite_master WHERE type='trigger'")}
    expected = {f"{t}_{kind}" for t in HELPER_TABLES for kind in ("audit_insert", "updated_at")}
    assert expected <= names
    assert not {n for n in names if n.startswith(("metrics_", "extension_points_"))}


@pytest.mark.parametrize("table", HELPER_TABLES)
def test_audit_insert_fills_omitted_timestamps(raw_db, table):
    before = now(raw_db)
    rowid = _add(raw_db, table)
    after = now(raw_db)
    created, updated = _stamps(raw_db, table, rowid)
    assert _is_now(created, before, after)
    assert _is_now(updated, before, after)


@pytest.mark.parametrize("table", HELPER_TABLES)
def test_audit_insert_replaces_empty_strings_and_keeps_supplied_created_at(raw_db, table):
    before = now(raw_db)
    rowid = _add(raw_db, table, created_at=OLD, updated_at="")
    after = now(raw_db)
    created, updated = _stamps(raw_db, table, rowid)
    assert created == OLD
    assert _is_now(updated, before, after)


@pytest.mark.parametrize("table", HELPER_TABLES)
def test_audit_insert_then_updated_at_overwrite_a_supplied_updated_at(raw_db, table):
    # created_at '' makes the helper fire; its UPDATE leaves the supplied updated_at alone,
    # so <table>_updated_at replaces it with now.
    before = now(raw_db)
    rowid = _add(raw_db, table, created_at="", updated_at=OLD)
    after = now(raw_db)
    created, updated = _stamps(raw_db, table, rowid)
    assert _is_now(created, before, after)
    assert _is_now(updated, before, after)


@pytest.mark.parametrize("table", HELPER_TABLES)
def test_supplied_updated_at_survives_only_with_a_non_empty_created_at(raw_db, table):
    rowid = _add(raw_db, table, updated_at=OLD)  # created_at omitted
    created, updated = _stamps(raw_db, table, rowid)
    assert created is not None and created != ""
    if table in CREATED_AT_DEFAULT:
        assert updated == OLD  # the helper did not fire
    else:
        assert updated != OLD  # e.g. instance_config: both end up now (verified)


@pytest.mark.parametrize("table", HELPER_TABLES)
def test_updated_at_set_to_now_when_an_update_leaves_it_alone(raw_db, table):
    rowid = _add(raw_db, table, created_at=OLD, updated_at=OLD)
    assert _stamps(raw_db, table, rowid) == (OLD, OLD)  # helper did not fire
    _, change = HELPER_TABLES[table]
    before = now(raw_db)
    raw_db.execute(f"UPDATE {table} SET {change} WHERE rowid = ?", (rowid,))
    after = now(raw_db)
    created, updated = _stamps(raw_db, table, rowid)
    assert created == OLD
    assert _is_now(updated, before, after)
    # A second update in the same second works too (recursive_triggers stays OFF).
    raw_db.execute(f"UPDATE {table} SET {change} WHERE rowid = ?", (rowid,))
    assert _is_now(_stamps(raw_db, table, rowid)[1], before, now(raw_db))


@pytest.mark.parametrize("table", HELPER_TABLES)
def test_updated_at_keeps_a_value_the_update_writes(raw_db, table):
    rowid = _add(raw_db, table, created_at=OLD, updated_at=OLD)
    _, change = HELPER_TABLES[table]
    raw_db.execute(
        f"UPDATE {table} SET {change}, updated_at = ? WHERE rowid = ?", (OTHER_OLD, rowid)
    )
    assert _stamps(raw_db, table, rowid) == (OLD, OTHER_OLD)


def test_updated_at_never_touches_a_null_updated_at(raw_db):
    rowid = _add(raw_db, "skills", created_at=OLD, updated_at=OLD)
    raw_db.execute("UPDATE skills SET updated_at = NULL WHERE rowid = ?", (rowid,))
    raw_db.execute("UPDATE skills SET progress_count = 5 WHERE rowid = ?", (rowid,))
    assert _stamps(raw_db, "skills", rowid) == (OLD, None)


def test_no_helper_triggers_on_metrics(raw_db):
    rowid = insert(
        raw_db,
        "metrics",
        timestamp=OLD,
        operation="op",
        elapsed_ms=1.0,
        created_at=OLD,
        updated_at=OLD,
    )
    raw_db.execute("UPDATE metrics SET elapsed_ms = 2.0 WHERE rowid = ?", (rowid,))
    assert _stamps(raw_db, "metrics", rowid) == (OLD, OLD)
