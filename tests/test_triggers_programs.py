"""Triggers of app `programs` (RULES.md §5.2) on a raw contract database."""

from __future__ import annotations

import json
import re
import sqlite3
import threading

import backends
import pytest
from kernel_rows import (
    OLD,
    ROOT,
    _code,
    _pg_trigger_facts,
    check_trigger_files,
    contract_triggers,
    insert,
    now,
    one,
    rows,
    scalar,
    versions,
)

LATER = "2001-01-02 00:00:00"


def test_sql_files_follow_contract(raw_db):
    """The SQL files of the backend under test follow the contract (the check every app's
    trigger tests share: ``kernel_rows.check_trigger_files``, live catalog included)."""
    check_trigger_files(raw_db, "programs", "0002_triggers")


@pytest.mark.postgresql_only
def test_postgresql_sql_files_keep_function_drop_create_order(raw_db):
    """On top of the shared check, the layout of programs' postgresql/ files: per contract
    trigger, in creation order, its function (every contract message raised as SQLSTATE
    23000), DROP TRIGGER IF EXISTS, CREATE TRIGGER executing that function; the reverse file
    drops trigger then function, in reverse order."""
    from system.sqlfiles import read_statements

    specs = contract_triggers("programs")
    app = ROOT / "programs"
    forward = [_code(s) for s in read_statements(app, "postgresql", "0002_triggers")]
    reverse = [_code(s) for s in read_statements(app, "postgresql", "0002_triggers", reverse=True)]

    expected = []
    for spec in specs:
        name, table = spec["name"], spec["table"]
        expected += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger",
            f"DROP TRIGGER IF EXISTS {name} ON {table};",
            f"CREATE TRIGGER {name} ",
        ]
    assert [s[: len(e)] for s, e in zip(forward, expected, strict=True)] == expected
    for spec, function, create in zip(specs, forward[0::3], forward[2::3], strict=True):
        name = spec["name"]
        assert _pg_trigger_facts(create) == (
            name,
            spec["table"],
            spec["timing"],
            spec["event"],
            spec["update_of"],
        )
        assert f"EXECUTE FUNCTION {name}();" in create
        for message in spec["raises"]:
            assert f"ERRCODE = '23000', MESSAGE = '{message}'" in function, (name, message)
    assert reverse == [
        s
        for spec in reversed(specs)
        for s in (
            f"DROP TRIGGER IF EXISTS {spec['name']} ON {spec['table']};",
            f"DROP FUNCTION IF EXISTS {spec['name']}();",
        )
    ]


@pytest.fixture
def hierarchy(raw_db):
    """Program P > product PR > feature F, plus change request CR and bug B on F."""
    insert(raw_db, "programs", id="P", name="Program")
    insert(raw_db, "products", id="PR", program_id="P", name="Product", updated_at=OLD)
    insert(raw_db, "features", id="F", product_id="PR", name="Feature", updated_at=OLD)
    insert(raw_db, "change_requests", id="CR", title="Change", product_id="PR", updated_at=OLD)
    insert(
        raw_db, "bugs", id="B", title="Bug", feature_id="F", feature_version="1.0", updated_at=OLD
    )
    return raw_db


# -- compliance_results ------------------------------------------------------------------
@pytest.fixture
def compliance_row(raw_db) -> int:
    insert(
        raw_db,
        "standards",
        id="S",
        name="Std",
        level_key="product",
        check_type_key="boolean",
        failure_message="failed",
    )
    return insert(
        raw_db,
        "compliance_results",
        standard_id="S",
        entity_type="product",
        entity_id="PR",
        result="pass",
        checked_by="ci",
    )


def test_compliance_immutable(raw_db, compliance_row):
    with pytest.raises(sqlite3.IntegrityError) as excinfo:
        raw_db.execute(
            "UPDATE compliance_results SET result = 'fail' WHERE id = ?", (compliance_row,)
        )
    assert str(excinfo.value) == "Compliance results are immutable"
    assert scalar(raw_db, "SELECT result FROM compliance_results") == "pass"


def test_compliance_no_delete(raw_db, compliance_row):
    with pytest.raises(sqlite3.IntegrityError) as excinfo:
        raw_db.execute("DELETE FROM compliance_results WHERE id = ?", (compliance_row,))
    assert str(excinfo.value) == "Compliance results cannot be deleted"
    assert scalar(raw_db, "SELECT count(*) FROM compliance_results") == 1


# -- entity_versions ---------------------------------------------------------------------
@pytest.fixture
def version_row(raw_db) -> int:
    return insert(
        raw_db,
        "entity_versions",
        entity_type="cr",
        entity_id="CR",
        version=1,
        data="{}",
        changed_by="system",
    )


def test_entity_versions_immutable(raw_db, version_row):
    with pytest.raises(sqlite3.IntegrityError) as excinfo:
        raw_db.execute("UPDATE entity_versions SET data = '[]' WHERE id = ?", (version_row,))
    assert str(excinfo.value) == "Entity version history is immutable"


def test_entity_versions_no_delete(raw_db, version_row):
    with pytest.raises(sqlite3.IntegrityError) as excinfo:
        raw_db.execute("DELETE FROM entity_versions WHERE id = ?", (version_row,))
    assert str(excinfo.value) == "Entity version history cannot be deleted"
    assert scalar(raw_db, "SELECT count(*) FROM entity_versions") == 1


# -- charter_singleton_enforce -----------------------------------------------------------
def _charter(conn, doc_id: str, doc_type: str = "ethos", **extra) -> None:
    insert(
        conn,
        "charter_docs",
        id=doc_id,
        doc_type_key=doc_type,
        version="1",
        title=f"Doc {doc_id}",
        content_hash="h",
        **extra,
    )


def _charters(conn) -> dict[str, tuple]:
    return {
        r["id"]: (r["is_active"], r["updated_at"])
        for r in rows(conn, "SELECT id, is_active, updated_at FROM charter_docs")
    }


def test_charter_singleton_deactivates_the_live_active_doc(raw_db):
    _charter(raw_db, "old", updated_at=OLD)
    _charter(raw_db, "other-type", doc_type="roadmap", updated_at=OLD)
    _charter(raw_db, "deleted", is_active=1, deleted_at=OLD, updated_at=OLD)
    before = now(raw_db)
    _charter(raw_db, "new")  # is_active omitted: the default 1 counts
    after = now(raw_db)
    docs = _charters(raw_db)
    assert docs["old"][0] == 0 and before <= docs["old"][1] <= after
    assert docs["new"][0] == 1
    assert docs["other-type"] == (1, OLD)
    assert docs["deleted"] == (1, OLD)  # soft-deleted rows are left alone


def test_charter_singleton_ignores_inactive_inserts(raw_db):
    _charter(raw_db, "old", updated_at=OLD)
    _charter(raw_db, "draft", is_active=0)
    _charter(raw_db, "odd", is_active=2)  # no CHECK: only 1 counts as active
    assert _charters(raw_db)["old"] == (1, OLD)


def test_charter_singleton_ignores_the_new_rows_deleted_at(raw_db):
    _charter(raw_db, "live", updated_at=OLD)
    _charter(raw_db, "born-deleted", deleted_at=OLD)
    docs = _charters(raw_db)
    assert docs["live"][0] == 0 and docs["live"][1] != OLD
    assert docs["born-deleted"][0] == 1
    # The type is left with no live active doc (verified in the reference).
    assert (
        scalar(
            raw_db, "SELECT count(*) FROM charter_docs WHERE is_active = 1 AND deleted_at IS NULL"
        )
        == 0
    )


def test_charter_activation_by_update_is_left_to_the_unique_index(raw_db):
    _charter(raw_db, "a")
    _charter(raw_db, "b", is_active=0)
    message = (
        'duplicate key value violates unique constraint "idx_charter_singleton"'
        if backends.POSTGRESQL
        else "UNIQUE constraint failed: charter_docs.doc_type_key"
    )
    with pytest.raises(sqlite3.IntegrityError, match=f"^{re.escape(message)}$"):
        raw_db.execute("UPDATE charter_docs SET is_active = 1 WHERE id = 'b'")


def _race(conn, first_sql, second_sql, params=((), ())) -> list[Exception]:
    """PostgreSQL: run ``second_sql`` (its own connection, autocommit) while a transaction that
    ran ``first_sql`` is still open; assert that it waits for that transaction, commit it, and
    return what the second statement raised (nothing: [])."""
    first, second = backends.PgConnection(conn.url), backends.PgConnection(conn.url)
    errors: list[Exception] = []

    def run_second():
        try:
            second.execute(second_sql, params[1])
        except Exception as exc:  # reported to the test
            errors.append(exc)

    worker = threading.Thread(target=run_second)
    try:
        first.execute("BEGIN")
        first.execute(first_sql, params[0])
        worker.start()
        worker.join(0.5)
        assert worker.is_alive(), "the second writer did not wait for the first"
        first.execute("COMMIT")
        worker.join(30)
        assert not worker.is_alive()
    finally:
        if first.in_transaction:
            first.execute("ROLLBACK")
        worker.join(30)
        first.close()
        second.close()
    return errors


CHARTER_INSERT = (
    "INSERT INTO charter_docs (id, doc_type_key, version, title, content_hash) "
    "VALUES (?, 'ethos', '1', ?, 'h')"
)


@pytest.mark.postgresql_only
def test_charter_singleton_concurrent_active_inserts_act_serially(raw_db):
    # Without the trigger's advisory lock the second insert would not see the first one's
    # doc and would fail on idx_charter_singleton; SQLite (one writer) deactivates it instead.
    _charter(raw_db, "old", updated_at=OLD)
    errors = _race(raw_db, CHARTER_INSERT, CHARTER_INSERT, (("one", "One"), ("two", "Two")))
    assert errors == []
    docs = _charters(raw_db)
    assert (docs["old"][0], docs["one"][0], docs["two"][0]) == (0, 0, 1)


# -- version capture ---------------------------------------------------------------------
# trigger -> (table, entity_type, id, expected data keys, changed_by column or None)
CAPTURES = {
    "cr_version_capture": (
        "change_requests",
        "cr",
        "CR",
        [
            "title",
            "status_key",
            "type_key",
            "size",
            "owner",
            "product_id",
            "feature_id",
            "target_version",
        ],
        "owner",
    ),
    "product_version_capture": (
        "products",
        "product",
        "PR",
        ["name", "status_key", "version", "program_id"],
        None,
    ),
    "feature_version_capture": (
        "features",
        "feature",
        "F",
        ["name", "status_key", "version", "product_id"],
        None,
    ),
    "bug_version_capture": (
        "bugs",
        "bug",
        "B",
        ["title", "status_key", "severity_key", "feature_id", "feature_version", "fix_cr_id"],
        "assigned_to",
    ),
}


@pytest.mark.parametrize("trigger", CAPTURES)
def test_version_capture_snapshots_the_new_row(hierarchy, trigger):
    table, entity_type, entity_id, keys, _ = CAPTURES[trigger]
    raw_db = hierarchy
    before = now(raw_db)
    raw_db.execute(
        f"UPDATE {table} SET status_key = 'x', updated_at = ? WHERE id = ?", (LATER, entity_id)
    )
    [snapshot] = versions(raw_db, entity_type, entity_id)
    current = one(raw_db, f"SELECT {', '.join(keys)} FROM {table} WHERE id = ?", (entity_id,))
    # Keys in RULES.md order, values of the new row, no whitespace between tokens.
    assert snapshot["raw_data"] == json.dumps(current, separators=(",", ":"))
    assert list(current) == keys and current["status_key"] == "x"
    assert snapshot["version"] == 1
    assert snapshot["changed_by"] == "system"
    assert snapshot["change_reason"] is None
    assert before <= snapshot["created_at"] <= now(raw_db)


@pytest.mark.parametrize("trigger", CAPTURES)
def test_version_capture_counts_versions_per_entity(hierarchy, trigger):
    table, entity_type, entity_id, _, _ = CAPTURES[trigger]
    raw_db = hierarchy
    for stamp in (LATER, "2001-01-03 00:00:00", "2001-01-04 00:00:00"):
        raw_db.execute(f"UPDATE {table} SET updated_at = ? WHERE id = ?", (stamp, entity_id))
    assert [v["version"] for v in versions(raw_db, entity_type, entity_id)] == [1, 2, 3]


@pytest.mark.parametrize("trigger", CAPTURES)
def test_version_capture_needs_a_changed_updated_at(hierarchy, trigger):
    table, entity_type, entity_id, _, _ = CAPTURES[trigger]
    raw_db = hierarchy
    raw_db.execute(f"UPDATE {table} SET status_key = 'y' WHERE id = ?", (entity_id,))
    raw_db.execute(
        f"UPDATE {table} SET status_key = 'z', updated_at = ? WHERE id = ?", (OLD, entity_id)
    )
    assert versions(raw_db, entity_type, entity_id) == []


@pytest.mark.parametrize("trigger", [t for t, spec in CAPTURES.items() if spec[4]])
def test_version_capture_changed_by_person(hierarchy, trigger):
    table, entity_type, entity_id, _, person_column = CAPTURES[trigger]
    raw_db = hierarchy
    raw_db.execute(
        f"UPDATE {table} SET {person_column} = 'user:ann', updated_at = ? WHERE id = ?",
        (LATER, entity_id),
    )
    [snapshot] = versions(raw_db, entity_type, entity_id)
    assert snapshot["changed_by"] == "user:ann"


def test_cr_version_capture_exact_json(hierarchy):
    hierarchy.execute(
        "UPDATE change_requests SET owner = 'ann', updated_at = ? WHERE id = 'CR'", (LATER,)
    )
    [snapshot] = versions(hierarchy, "cr", "CR")
    assert snapshot["raw_data"] == (
        '{"title":"Change","status_key":"queue","type_key":"enhancement","size":"M",'
        '"owner":"ann","product_id":"PR","feature_id":null,"target_version":null}'
    )


@pytest.mark.postgresql_only
def test_version_capture_concurrent_updates_number_versions_serially(hierarchy):
    # The UPDATE's row lock makes the second writer wait; its MAX(version) then sees the
    # first one's committed snapshot: versions 1 and 2, no unique violation.
    update = "UPDATE change_requests SET updated_at = ? WHERE id = 'CR'"
    errors = _race(hierarchy, update, update, ((LATER,), ("2001-01-03 00:00:00",)))
    assert errors == []
    assert [v["version"] for v in versions(hierarchy, "cr", "CR")] == [1, 2]
