"""Migrations build the contract exactly, seed it, adopt existing files and reverse cleanly.

On PostgreSQL (``DATABASE_URL``) the same tests run on databases of the test cluster: a fresh
migrate matches the contract, migrating twice changes nothing, reversing to zero leaves
nothing and migrating again rebuilds it. What is about the SQLite file (its mode and folder,
an empty file, adopting a file the `motus` tool created) is ``sqlite_only``.
"""

from __future__ import annotations

import re
import sqlite3
import stat

import backends
import pytest
from conftest import manage
from contract_ddl import contract
from schema_diff import connect, is_url, schema_differences, schema_snapshot, table_rows
from upstream_file import UPSTREAM_LEASE_INDEXES, build_upstream_file

#: The former names, for the adoption tests below (SQLite files).
contract_rows = table_rows
schema_sql = schema_snapshot


@pytest.fixture
def fresh_database(tmp_path):
    """Where a new install goes: a path for a new SQLite file, or an empty PostgreSQL
    database (dropped afterwards)."""
    if backends.POSTGRESQL:
        name = backends.new_database_name("motus_fresh")
        url = backends.create_database(name)
        yield url
        backends.drop_database(name)
        return
    yield tmp_path / "fresh" / "coordination.db"


def test_fresh_migrate_matches_contract(raw_db_path):
    assert schema_differences(raw_db_path) == []


@pytest.mark.sqlite_only
def test_fresh_migrate_creates_private_folder_and_file(tmp_path):
    path = tmp_path / "new" / "motus" / "coordination.db"
    manage(path, "migrate", "--noinput", "-v0")
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert schema_differences(path) == []


def test_seed_rows_match_contract(raw_db):
    seed = contract()["seed"]
    terminology = raw_db.execute(
        "SELECT id, domain, internal_key, display_name, description, sort_order, "
        "deprecated_at IS NOT NULL, replaced_by FROM terminology ORDER BY id"
    ).fetchall()
    # The contract's 76 rows, then this app's own: the review status (roadmap 0005).
    assert terminology[76:] == [
        (
            77,
            "roadmap_status",
            "review",
            "In Review",
            "Done by its implementer; waiting for a reviewer",
            6,
            0,
            None,
        )
    ]
    assert terminology[:76] == [
        (
            r["id"],
            r["domain"],
            r["internal_key"],
            r["display_name"],
            r["description"],
            r["sort_order"],
            int(bool(r.get("deprecated"))),
            r.get("replaced_by"),
        )
        for r in seed["terminology"]
    ]
    config = dict(raw_db.execute("SELECT key, value FROM instance_config").fetchall())
    assert re.fullmatch(r"[0-9a-f]{32}", config.pop("instance_id"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", config.pop("created_at"))
    assert config.pop("review_required") == "false"  # this app's setting (roadmap 0005)
    assert config == {
        r["key"]: r["value"]
        for r in seed["instance_config"]
        if r["key"] not in ("instance_id", "created_at")
    }
    for table in ("resource_quotas", "circuit_breakers", "extension_points"):
        for row in seed[table]:
            cols = list(row)
            where = " AND ".join(f"{c} IS NOT DISTINCT FROM ?" for c in cols)
            assert raw_db.execute(
                f"SELECT count(*) FROM {table} WHERE {where}", [row[c] for c in cols]
            ).fetchone() == (1,), (table, row)
        count = raw_db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert count == len(seed[table])


def test_schema_version_rows_satisfy_the_motus_tool(raw_db):
    # The lease store reads the first row in storage order (SQLite's rowid); PostgreSQL's
    # table has no such order: by version there.
    order = "version" if backends.POSTGRESQL else "rowid"
    rows = raw_db.execute(
        f"SELECT version, migration_name, checksum FROM schema_version ORDER BY {order}"
    ).fetchall()
    assert rows == [
        (r["version"], r["migration_name"], r["checksum"])
        for r in contract()["schema_version"]["rows"]
    ]
    assert rows[0][0] == 1  # the lease store reads the first row
    assert raw_db.execute("SELECT max(version) FROM schema_version").fetchone() == (20,)


def _instance_id(target) -> str:
    conn = connect(target)
    try:
        query = "SELECT value FROM instance_config WHERE key = 'instance_id'"
        return conn.execute(query).fetchone()[0]
    finally:
        conn.close()


def test_instance_id_is_random_per_install(raw_db_path, fresh_database):
    manage(fresh_database, "migrate", "--noinput", "-v0")
    assert _instance_id(raw_db_path) != _instance_id(fresh_database)


def test_migrate_twice_changes_nothing(raw_db_path):
    before_schema, before_rows = schema_snapshot(raw_db_path), table_rows(raw_db_path)
    result = manage(raw_db_path, "migrate", "--noinput")
    assert "No migrations to apply" in result.stdout
    assert schema_snapshot(raw_db_path) == before_schema
    assert table_rows(raw_db_path) == before_rows


#: Every table, view and trigger left in a database (not Django's own), per backend.
_LEFT_SQL = {
    False: (
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view', 'trigger') "
        "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'django_%' AND name NOT LIKE 'auth_%'"
    ),
    True: (
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
        " AND c.relkind IN ('r', 'v') AND c.relname NOT LIKE 'django\\_%'"
        " AND c.relname NOT LIKE 'auth\\_%'"
        " UNION ALL SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"
        " UNION ALL SELECT p.proname FROM pg_proc p"
        " WHERE p.pronamespace = current_schema()::regnamespace"
    ),
}


def test_reverse_to_zero_and_back(raw_db_path):
    keys = "SELECT id, domain, internal_key, display_name FROM terminology ORDER BY id"
    conn = connect(raw_db_path)
    original = [tuple(r) for r in conn.execute(keys).fetchall()]
    conn.close()
    fresh_schema = schema_snapshot(raw_db_path)

    manage(raw_db_path, "migrate", "system", "zero", "--noinput", "-v0")
    manage(raw_db_path, "migrate", "programs", "zero", "--noinput", "-v0")
    conn = connect(raw_db_path)
    left = {name for (name,) in conn.execute(_LEFT_SQL[is_url(raw_db_path)]).fetchall()}
    conn.close()
    assert left == set()  # on PostgreSQL: no trigger function (motus_now) either

    manage(raw_db_path, "migrate", "--noinput", "-v0")
    assert schema_differences(raw_db_path) == []
    if is_url(raw_db_path):  # every definition as a fresh migrate makes it
        assert schema_snapshot(raw_db_path) == fresh_schema
    conn = connect(raw_db_path)
    restored = [tuple(r) for r in conn.execute(keys).fetchall()]
    conn.close()
    assert len(restored) == 77
    assert restored == original


# --- adopting a file the `motus` tool created (SQLite: the tool's own file) --------------


@pytest.fixture
def upstream_file(migrated_template, tmp_path):
    path = tmp_path / "coordination.db"
    build_upstream_file(path, migrated_template)
    return path


@pytest.mark.sqlite_only
def test_upstream_file_is_adopted_without_losing_rows(upstream_file):
    before = contract_rows(upstream_file)
    assert "events" not in before

    manage(upstream_file, "migrate", "--noinput", "-v0")

    after = contract_rows(upstream_file)
    # What this app adds to a file (roadmap 0005): the review status and setting.
    added = {
        "instance_config": [r for r in after["instance_config"] if r[0] == "review_required"],
        "terminology": [r for r in after["terminology"] if "review" in r and "roadmap_status" in r],
    }
    assert [len(rows) for rows in added.values()] == [1, 1]
    for table, rows in before.items():
        kept = [r for r in after[table] if r not in added.get(table, [])]
        assert kept == rows, table
    assert after["events"] == []
    assert (
        schema_differences(
            upstream_file,
            allowed_extra_tables={"coordination_leases"},
            allowed_extra_indexes=set(UPSTREAM_LEASE_INDEXES),
        )
        == []
    )
    conn = sqlite3.connect(upstream_file)
    assert conn.execute("SELECT count(*) FROM coordination_leases").fetchone() == (1,)
    assert (
        conn.execute(
            "SELECT count(*) FROM django_migrations WHERE app IN ('system', 'kernel')"
        ).fetchone()[0]
        >= 6
    )
    conn.close()


@pytest.mark.sqlite_only
def test_adopted_file_gets_working_leases_and_view(upstream_file):
    conn = sqlite3.connect(upstream_file)
    with pytest.raises(sqlite3.OperationalError, match="non-deterministic"):
        conn.execute(
            "INSERT INTO leases (id, resource_type, resource_id, mode, worker_id, ttl_seconds, "
            "expires_at) VALUES ('l-0', 'file', 'x', 'read', 'w', 60, "
            "datetime('now', '+60 seconds'))"
        )
    conn.close()

    manage(upstream_file, "migrate", "--noinput", "-v0")

    conn = sqlite3.connect(upstream_file)
    conn.execute(
        "INSERT INTO leases (id, resource_type, resource_id, mode, worker_id, ttl_seconds, "
        "expires_at) VALUES ('l-1', 'file', 'x', 'read', 'w', 60, datetime('now', '+60 seconds'))"
    )
    assert conn.execute(
        "SELECT assignment_id, item_id, readiness, unmet_prereq_count "
        "FROM v_assignment_with_prerequisites"
    ).fetchall() == [(1, "B", "ready", 0)]
    conn.close()


@pytest.mark.sqlite_only
def test_adopted_file_migrates_twice_without_change(upstream_file):
    manage(upstream_file, "migrate", "--noinput", "-v0")
    before_schema, before_rows = schema_sql(upstream_file), contract_rows(upstream_file)
    result = manage(upstream_file, "migrate", "--noinput")
    assert "No migrations to apply" in result.stdout
    assert schema_sql(upstream_file) == before_schema
    assert contract_rows(upstream_file) == before_rows


@pytest.mark.sqlite_only
def test_empty_file_is_migrated(tmp_path):
    path = tmp_path / "coordination.db"
    path.touch(mode=0o600)
    manage(path, "migrate", "--noinput", "-v0")
    assert schema_differences(path) == []


@pytest.mark.sqlite_only
def test_events_created_by_the_lease_store_lose_their_foreign_key(upstream_file):
    conn = sqlite3.connect(upstream_file)
    conn.execute(
        "CREATE TABLE events (event_id TEXT PRIMARY KEY, lease_id TEXT NOT NULL "
        "REFERENCES coordination_leases(lease_id), event_type TEXT NOT NULL, "
        "payload TEXT NOT NULL, created_at TEXT NOT NULL)"
    )
    conn.execute("CREATE INDEX idx_events_lease ON events (lease_id)")
    conn.execute(
        "INSERT INTO events VALUES ('evt-000000000001', 'cl-1', 'LEASE_CLAIMED', '{}', "
        "'2026-01-01T00:00:00Z')"
    )
    conn.commit()
    conn.close()

    manage(upstream_file, "migrate", "--noinput", "-v0")

    conn = sqlite3.connect(upstream_file)
    assert conn.execute("PRAGMA foreign_key_list(events)").fetchall() == []
    assert conn.execute("SELECT event_id, lease_id FROM events").fetchall() == [
        ("evt-000000000001", "cl-1")
    ]
    conn.close()
    assert (
        schema_differences(
            upstream_file,
            allowed_extra_tables={"coordination_leases"},
            allowed_extra_indexes=set(UPSTREAM_LEASE_INDEXES),
        )
        == []
    )
