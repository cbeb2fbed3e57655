"""Triggers of app `system` (RULES.md §1.7, §1.9, §2.2) on a raw contract database.

The same tests run on SQLite and, with ``DATABASE_URL`` set, on PostgreSQL (the counterparts in
system/migrations/sql/postgresql/): rows are addressed by primary key, not rowid.
"""

from __future__ import annotations

import re
import sqlite3

import backends
import pytest
from kernel_rows import (
    CONTRACT,
    OLD,
    ROOT,
    _code,
    check_trigger_files,
    contract_triggers,
    insert,
    now,
    one,
    rows,
    scalar,
)

OTHER_OLD = "2002-02-02 00:00:00"


def _trigger_names(conn) -> set[str]:
    if backends.POSTGRESQL:
        sql = "SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type='trigger'"
    return {r["name"] for r in rows(conn, sql)}


@pytest.mark.sqlite_only
def test_sql_files_follow_contract(raw_db):
    check_trigger_files(raw_db, "system", "0002_triggers")


PG_FUNCTION = re.compile(
    r"CREATE OR REPLACE FUNCTION (\w+)\(\) RETURNS trigger LANGUAGE plpgsql AS"
)
PG_TRIGGER = re.compile(
    r"CREATE TRIGGER (\w+) (BEFORE|AFTER) (INSERT|UPDATE|DELETE)(?: OF ([\w, ]+))? ON (\w+) "
    r"FOR EACH ROW\b.* EXECUTE FUNCTION (\w+)\(\);$",
    re.DOTALL,
)


@pytest.mark.postgresql_only
def test_postgresql_sql_files_follow_contract(raw_db):
    """The PostgreSQL files, as check_trigger_files checks the SQLite ones: motus_now() and
    motus_json() first;
    then per contract trigger, in creation order, its function, DROP TRIGGER IF EXISTS and
    CREATE TRIGGER (contract table, event, UPDATE OF columns and timing, except the
    <table>_updated_at helpers: BEFORE UPDATE setting NEW.updated_at, see the file); every
    message raised with SQLSTATE 23000. The reverse drops them in reverse order, motus_json()
    and motus_now() last; the forward file re-runs in place and the reverse removes exactly
    these triggers."""
    from system.sqlfiles import read_statements

    specs = contract_triggers("system")
    names = [t["name"] for t in specs]
    forward = [_code(s) for s in read_statements(ROOT / "system", "postgresql", "0002_triggers")]
    reverse = [
        _code(s)
        for s in read_statements(ROOT / "system", "postgresql", "0002_triggers", reverse=True)
    ]

    assert forward[0].startswith("CREATE OR REPLACE FUNCTION motus_now(")
    assert forward[1].startswith("CREATE OR REPLACE FUNCTION motus_json(")
    body = forward[2:]
    assert len(body) == 3 * len(specs)
    for spec, (function, drop, create) in zip(
        specs, zip(body[0::3], body[1::3], body[2::3], strict=True), strict=True
    ):
        name, table = spec["name"], spec["table"]
        assert PG_FUNCTION.match(function).group(1) == name
        assert drop == f"DROP TRIGGER IF EXISTS {name} ON {table};"
        found = PG_TRIGGER.match(" ".join(create.split()))
        assert found, create
        trigger, timing, event, update_of, on, calls = found.groups()
        columns = [c.strip() for c in update_of.split(",")] if update_of else []
        expected_timing = "BEFORE" if spec["kind"] == "updated_at_helper" else spec["timing"]
        assert (trigger, on, timing, event, columns, calls) == (
            name, table, expected_timing, spec["event"], spec["update_of"], name
        )  # fmt: skip
        for message in spec["raises"]:
            quoted = message.replace("'", "''")
            assert f"ERRCODE = '23000', MESSAGE = '{quoted}'" in function, (name, message)
    expected_reverse = []
    for spec in reversed(specs):
        expected_reverse += [
            f"DROP TRIGGER IF EXISTS {spec['name']} ON {spec['table']};",
            f"DROP FUNCTION IF EXISTS {spec['name']}();",
        ]
    assert reverse == [
        *expected_reverse,
        "DROP FUNCTION IF EXISTS motus_json(json);",
        "DROP FUNCTION IF EXISTS motus_now(interval);",
    ]

    def functions() -> set[str]:
        return {r["proname"] for r in rows(raw_db, "SELECT proname FROM pg_proc")}

    before = _trigger_names(raw_db)
    assert set(names) <= before and set(names) <= functions()
    for statement in forward:
        raw_db.execute(statement)
    assert _trigger_names(raw_db) == before
    # Not the final DROP FUNCTIONs motus_json, motus_now: other apps' triggers and views still
    # use them here (a real rollback drops them first).
    for statement in reverse[:-2]:
        raw_db.execute(statement)
    assert _trigger_names(raw_db) == before - set(names)
    assert not set(names) & functions()


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


def test_health_check_cleanup_in_a_multi_row_insert(raw_db):
    # PostgreSQL runs AFTER ROW triggers at the end of the statement, SQLite after each row:
    # either way the old row goes and the fresh one stays.
    raw_db.execute(
        "INSERT INTO health_check_results (check_name, status, checked_at) "
        "VALUES ('old', 'pass', ?), ('fresh', 'pass', ?)",
        (now(raw_db, "-8 days"), now(raw_db)),
    )
    assert _health_names(raw_db) == {"fresh"}


def test_health_check_cleanup_keeps_a_row_exactly_seven_days_old(raw_db):
    # SQLite: datetime('now') is fixed for one statement, triggers included: exactly the
    # boundary. PostgreSQL's motus_now() reads the clock at each call, so the check only holds
    # when the statement ran within one second: retried (rarely needed) when the second ticked.
    seven_days_ago = (
        "motus_now(interval '-7 days')" if backends.POSTGRESQL else "datetime('now', '-7 days')"
    )
    for _ in range(5):
        before = now(raw_db)
        raw_db.execute(
            "INSERT INTO health_check_results (check_name, status, checked_at) "
            f"VALUES ('boundary', 'pass', {seven_days_ago})"
        )
        if now(raw_db) == before:
            break
        raw_db.execute("DELETE FROM health_check_results")
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
# Each table's (single-column) primary key: rows are addressed by it on both backends.
PK = {table: CONTRACT["tables"][table]["primary_key"][0] for table in HELPER_TABLES}


def _add(conn, table: str, **overrides):
    """Insert the table's minimal row; returns its primary key value."""
    if table == "session_event_cache":
        _add(conn, "session_file_cache", id="file-1", file_path="/file-1")
    values, _ = HELPER_TABLES[table]
    values = {**values, **overrides}
    rowid = insert(conn, table, **values)
    return values[PK[table]] if PK[table] in values else rowid


def _stamps(conn, table: str, key) -> tuple[str, str]:
    row = one(conn, f"SELECT created_at, updated_at FROM {table} WHERE {PK[table]} = ?", (key,))
    return row["created_at"], row["updated_at"]


def _update(conn, table: str, assignments: str, key, params=()) -> None:
    conn.execute(f"UPDATE {table} SET {assignments} WHERE {PK[table]} = ?", (*params, key))


def _is_now(value: str, before: str, after: str) -> bool:
    return value is not None and before <= value <= after


def test_helper_triggers_cover_the_fifteen_tables(raw_db):
    names = _trigger_names(raw_db)
    expected = {f"{t}_{kind}" for t in HELPER_TABLES for kind in ("audit_insert", "updated_at")}
    assert expected <= names
    assert not {n for n in names if n.startswith(("metrics_", "extension_points_"))}


@pytest.mark.parametrize("table", HELPER_TABLES)
def test_audit_insert_fills_omitted_timestamps(raw_db, table):
    before = now(raw_db)
    key = _add(raw_db, table)
    after = now(raw_db)
    created, updated = _stamps(raw_db, table, key)
    assert _is_now(created, before, after)
    assert _is_now(updated, before, after)


@pytest.mark.parametrize("table", HELPER_TABLES)
def test_audit_insert_replaces_empty_strings_and_keeps_supplied_created_at(raw_db, table):
    before = now(raw_db)
    key = _add(raw_db, table, created_at=OLD, updated_at="")
    after = now(raw_db)
    created, updated = _stamps(raw_db, table, key)
    assert created == OLD
    assert _is_now(updated, before, after)


@pytest.mark.parametrize("table", HELPER_TABLES)
def test_audit_insert_then_updated_at_overwrite_a_supplied_updated_at(raw_db, table):
    # created_at '' makes the helper fire; its UPDATE leaves the supplied updated_at alone,
    # so <table>_updated_at replaces it with now.
    before = now(raw_db)
    key = _add(raw_db, table, created_at="", updated_at=OLD)
    after = now(raw_db)
    created, updated = _stamps(raw_db, table, key)
    assert _is_now(created, before, after)
    assert _is_now(updated, before, after)


@pytest.mark.parametrize("table", HELPER_TABLES)
def test_supplied_updated_at_survives_only_with_a_non_empty_created_at(raw_db, table):
    key = _add(raw_db, table, updated_at=OLD)  # created_at omitted
    created, updated = _stamps(raw_db, table, key)
    assert created is not None and created != ""
    if table in CREATED_AT_DEFAULT:
        assert updated == OLD  # the helper did not fire
    else:
        assert updated != OLD  # e.g. instance_config: both end up now (verified)


@pytest.mark.parametrize(
    "table, column",
    [(t, "created_at") for t in sorted(CREATED_AT_DEFAULT)]
    + [(t, "updated_at") for t in ("circuit_breakers", "instance_config", "session_cache_state")],
)
def test_audit_insert_does_not_rescue_an_explicit_null_in_a_not_null_column(raw_db, table, column):
    # The NOT NULL constraint rejects the row before any AFTER INSERT helper could fill it.
    with pytest.raises(sqlite3.IntegrityError):
        _add(raw_db, table, **{column: None})
    assert scalar(raw_db, f"SELECT count(*) FROM {table} WHERE created_at IS NULL") == 0


def test_audit_insert_fills_created_at_before_checks_see_it(raw_db):
    # idempotency_keys CHECK (expires_at > created_at): an expires_at in the past passes the
    # insert with created_at '' but not the helper's update that sets created_at to now.
    with pytest.raises(sqlite3.IntegrityError):
        _add(raw_db, "idempotency_keys", created_at="", expires_at=OLD)
    assert scalar(raw_db, "SELECT count(*) FROM idempotency_keys") == 0


@pytest.mark.parametrize("table", HELPER_TABLES)
def test_updated_at_set_to_now_when_an_update_leaves_it_alone(raw_db, table):
    key = _add(raw_db, table, created_at=OLD, updated_at=OLD)
    assert _stamps(raw_db, table, key) == (OLD, OLD)  # helper did not fire
    _, change = HELPER_TABLES[table]
    before = now(raw_db)
    _update(raw_db, table, change, key)
    after = now(raw_db)
    created, updated = _stamps(raw_db, table, key)
    assert created == OLD
    assert _is_now(updated, before, after)
    # A second update in the same second works too (recursive_triggers stays OFF).
    _update(raw_db, table, change, key)
    assert _is_now(_stamps(raw_db, table, key)[1], before, now(raw_db))


@pytest.mark.parametrize("table", HELPER_TABLES)
def test_updated_at_keeps_a_value_the_update_writes(raw_db, table):
    key = _add(raw_db, table, created_at=OLD, updated_at=OLD)
    _, change = HELPER_TABLES[table]
    _update(raw_db, table, f"{change}, updated_at = ?", key, (OTHER_OLD,))
    assert _stamps(raw_db, table, key) == (OLD, OTHER_OLD)


def test_updated_at_never_touches_a_null_updated_at(raw_db):
    key = _add(raw_db, "skills", created_at=OLD, updated_at=OLD)
    _update(raw_db, "skills", "updated_at = NULL", key)
    _update(raw_db, "skills", "progress_count = 5", key)
    assert _stamps(raw_db, "skills", key) == (OLD, None)


def test_no_helper_triggers_on_metrics(raw_db):
    metric = insert(
        raw_db,
        "metrics",
        timestamp=OLD,
        operation="op",
        elapsed_ms=1.0,
        created_at=OLD,
        updated_at=OLD,
    )
    raw_db.execute("UPDATE metrics SET elapsed_ms = 2.0 WHERE id = ?", (metric,))
    row = one(raw_db, "SELECT created_at, updated_at FROM metrics WHERE id = ?", (metric,))
    assert (row["created_at"], row["updated_at"]) == (OLD, OLD)


# -- seed (RULES.md §6) ------------------------------------------------------------------
def test_seed_rows_are_stamped_with_the_install_time(raw_db):
    # The seed runs after the triggers: terminology_audit_insert fills the seed rows' empty
    # updated_at, and the two deprecated entries carry the install time too.
    assert scalar(raw_db, "SELECT count(*) FROM terminology WHERE id BETWEEN 1 AND 76") == 76
    stamped = rows(
        raw_db,
        "SELECT created_at, updated_at FROM terminology WHERE created_at IS NULL"
        " OR updated_at IS NULL OR created_at = '' OR updated_at = ''",
    )
    assert stamped == []
    deprecated = rows(
        raw_db,
        "SELECT internal_key, replaced_by, deprecated_at FROM terminology"
        " WHERE deprecated_at IS NOT NULL ORDER BY id",
    )
    assert [(r["internal_key"], r["replaced_by"]) for r in deprecated] == [
        ("dna", "flight_rule"),
        ("skill_pack", "playbook"),
    ]
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r["deprecated_at"]) for r in deprecated
    )


def test_seed_instance_id_is_32_lowercase_hex(raw_db):
    value = scalar(raw_db, "SELECT value FROM instance_config WHERE key = 'instance_id'")
    assert re.fullmatch(r"[0-9a-f]{32}", value)
    seeded = ("instance_id", "instance_name", "protocol_version", "federation_enabled",
              "federation_upstream_url", "federation_api_key", "created_at")  # fmt: skip
    keys = {r["key"] for r in rows(raw_db, "SELECT key FROM instance_config")}
    assert set(seeded) <= keys
    assert scalar(raw_db, "SELECT max(version) FROM schema_version") == 20


def test_terminology_ids_continue_after_the_seed(raw_db):
    # PostgreSQL: the seed inserts explicit ids, then moves the identity sequence past them
    # (roadmap's 0005 seed then adds its row without an id).
    highest = scalar(raw_db, "SELECT max(id) FROM terminology")
    assert highest >= 76
    new_id = insert(raw_db, "terminology", domain="d", internal_key="k", display_name="D")
    assert new_id == highest + 1
