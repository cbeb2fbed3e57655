"""Migrations build the contract exactly, seed it, adopt existing files and reverse cleanly."""

from __future__ import annotations

import re
import sqlite3
import stat

import pytest
from conftest import copy_database, manage
from contract_ddl import contract, create_contract_tables, insert_seed
from schema_diff import schema_differences

UPSTREAM_LEASE_TABLE = """
CREATE TABLE coordination_leases (
  lease_id TEXT PRIMARY KEY, owner_agent_id TEXT NOT NULL, mode TEXT NOT NULL,
  resources TEXT NOT NULL, issued_at TEXT NOT NULL, expires_at TEXT NOT NULL,
  heartbeat_deadline TEXT NOT NULL, snapshot_id TEXT NOT NULL, policy_version TEXT NOT NULL,
  lens_digest TEXT NOT NULL, work_id TEXT, attempt_id TEXT,
  status TEXT NOT NULL DEFAULT 'active', outcome TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL
)"""
UPSTREAM_LEASE_INDEXES = {
    "idx_coordination_leases_status": "status",
    "idx_coordination_leases_owner": "owner_agent_id",
    "idx_coordination_leases_expires": "expires_at",
}


def contract_rows(path) -> dict[str, list[tuple]]:
    """Every row of every contract table, sorted, for before/after comparisons."""
    conn = sqlite3.connect(path)
    try:
        return {
            table: sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in contract()["tables"]
            if conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)
            ).fetchone()
        }
    finally:
        conn.close()


def schema_sql(path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
            "ORDER BY type, name"
        ).fetchall()
    finally:
        conn.close()


def test_fresh_migrate_matches_contract(migrated_template):
    assert schema_differences(migrated_template) == []


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
    assert terminology == [
        (r["id"], r["domain"], r["internal_key"], r["display_name"], r["description"],
         r["sort_order"], int(bool(r.get("deprecated"))), r.get("replaced_by"))
        for r in seed["terminology"]
    ]
    config = dict(raw_db.execute("SELECT key, value FROM instance_config"))
    assert re.fullmatch(r"[0-9a-f]{32}", config.pop("instance_id"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", config.pop("created_at"))
    assert config == {
        r["key"]: r["value"] for r in seed["instance_config"]
        if r["key"] not in ("instance_id", "created_at")
    }
    for table in ("resource_quotas", "circuit_breakers", "extension_points"):
        for row in seed[table]:
            cols = list(row)
            where = " AND ".join(f"{c} IS ?" for c in cols)
            assert raw_db.execute(
                f"SELECT count(*) FROM {table} WHERE {where}", [row[c] for c in cols]
            ).fetchone() == (1,), (table, row)
        count = raw_db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert count == len(seed[table])


def test_schema_version_rows_satisfy_the_motus_tool(raw_db):
    rows = raw_db.execute(
        "SELECT version, migration_name, checksum FROM schema_version ORDER BY rowid"
    ).fetchall()
    assert rows == [
        (r["version"], r["migration_name"], r["checksum"])
        for r in contract()["schema_version"]["rows"]
    ]
    assert rows[0][0] == 1  # the lease store reads the first row
    assert raw_db.execute("SELECT max(version) FROM schema_version").fetchone() == (20,)


def test_instance_id_is_random_per_install(migrated_template, tmp_path):
    other = tmp_path / "other.db"
    manage(other, "migrate", "--noinput", "-v0")
    query = "SELECT value FROM instance_config WHERE key = 'instance_id'"
    ids = {sqlite3.connect(p).execute(query).fetchone()[0] for p in (migrated_template, other)}
    assert len(ids) == 2


def test_migrate_twice_changes_nothing(migrated_template, tmp_path):
    path = copy_database(migrated_template, tmp_path / "coordination.db")
    before_schema, before_rows = schema_sql(path), contract_rows(path)
    result = manage(path, "migrate", "--noinput")
    assert "No migrations to apply" in result.stdout
    assert schema_sql(path) == before_schema
    assert contract_rows(path) == before_rows


def test_reverse_to_zero_and_back(migrated_template, tmp_path):
    path = copy_database(migrated_template, tmp_path / "coordination.db")
    manage(path, "migrate", "system", "zero", "--noinput", "-v0")
    manage(path, "migrate", "programs", "zero", "--noinput", "-v0")
    conn = sqlite3.connect(path)
    left = {
        name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view', 'trigger') "
            "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'django_%' AND name NOT LIKE 'auth_%'"
        )
    }
    conn.close()
    assert left == set()
    manage(path, "migrate", "--noinput", "-v0")
    assert schema_differences(path) == []
    keys = "SELECT id, domain, internal_key, display_name FROM terminology ORDER BY id"
    restored, original = (sqlite3.connect(p).execute(keys).fetchall() for p in (path, migrated_template))
    assert len(restored) == 76
    assert restored == original


# --- adopting a file the `motus` tool created -------------------------------------------


def build_upstream_file(path, migrated_template) -> None:
    """A coordination.db as the `motus` tool leaves it: its tables, triggers and views,
    its rows, its broken lease index and view, its own lease table, and no Django tables."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    create_contract_tables(conn, include_events=False)
    insert_seed(conn)
    template = sqlite3.connect(migrated_template)
    for (sql,) in template.execute(
        "SELECT sql FROM sqlite_master WHERE type IN ('trigger', 'view') ORDER BY rowid"
    ):
        conn.execute(sql)
    template.close()
    # The reference's lease index (now-relative condition) and unqueryable view.
    conn.execute("DROP INDEX idx_leases_active")
    conn.execute(
        "CREATE INDEX idx_leases_active ON leases (resource_type, resource_id) "
        "WHERE released_at IS NULL AND expires_at > datetime('now')"
    )
    conn.execute("DROP VIEW v_assignment_with_prerequisites")
    conn.execute(
        "CREATE VIEW v_assignment_with_prerequisites AS SELECT a.id AS assignment_id, "
        "a.item_id, i.title AS item_title, a.agent_id, a.role, a.status AS assignment_status, "
        "i.status_key AS item_status, 'ready' AS readiness, 0 AS unmet_prereq_count, "
        "NULL AS immediate_blockers, group_concat(DISTINCT a.agent_id, ', ') AS blocker_assignees "
        "FROM roadmap_assignments a JOIN roadmap_items i ON i.id = a.item_id GROUP BY a.id"
    )
    conn.execute(UPSTREAM_LEASE_TABLE)
    for name, column in UPSTREAM_LEASE_INDEXES.items():
        conn.execute(f"CREATE INDEX {name} ON coordination_leases ({column})")
    conn.executescript("""
        INSERT INTO programs (id, name) VALUES ('prg', 'Program');
        INSERT INTO products (id, program_id, name) VALUES ('prd', 'prg', 'Product');
        INSERT INTO features (id, product_id, name) VALUES ('ftr', 'prd', 'Feature');
        INSERT INTO change_requests (id, title, product_id) VALUES ('CR-1', 'A change', 'prd');
        INSERT INTO roadmap_items (id, phase_key, title, status_key)
          VALUES ('A', 'phase_a', 'First', 'completed'), ('B', 'phase_a', 'Second', 'pending');
        INSERT INTO roadmap_dependencies (item_id, depends_on_id, created_by)
          VALUES ('B', 'A', 'agent:tool');
        INSERT INTO roadmap_assignments (item_id, agent_id) VALUES ('B', 'agent:tool');
        INSERT INTO attempts (id, work_id, worker_id, worker_type) VALUES ('att-1', 'B', 'agent:tool', 'agent');
        INSERT INTO evidence (id, work_id, attempt_id, evidence_type, uri, sha256, created_by)
          VALUES ('ev-1', 'B', 'att-1', 'test_result', 'file:///r.xml', 'abc', 'agent:tool');
        INSERT INTO decisions (id, work_id, decision_type) VALUES ('dec-1', 'B', 'approval');
        INSERT INTO coordination_leases VALUES ('cl-1', 'agent:tool', 'write', '[]',
          '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', '2026-01-01T00:05:00Z', 's', '1',
          'd', 'B', 'att-1', 'active', NULL, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
    """)
    conn.close()


@pytest.fixture
def upstream_file(migrated_template, tmp_path):
    path = tmp_path / "coordination.db"
    build_upstream_file(path, migrated_template)
    return path


def test_upstream_file_is_adopted_without_losing_rows(upstream_file):
    before = contract_rows(upstream_file)
    assert "events" not in before

    manage(upstream_file, "migrate", "--noinput", "-v0")

    after = contract_rows(upstream_file)
    for table, rows in before.items():
        assert after[table] == rows, table
    assert after["events"] == []
    assert schema_differences(
        upstream_file,
        allowed_extra_tables={"coordination_leases"},
        allowed_extra_indexes=set(UPSTREAM_LEASE_INDEXES),
    ) == []
    conn = sqlite3.connect(upstream_file)
    assert conn.execute("SELECT count(*) FROM coordination_leases").fetchone() == (1,)
    assert conn.execute(
        "SELECT count(*) FROM django_migrations WHERE app IN ('system', 'kernel')"
    ).fetchone()[0] >= 6
    conn.close()


def test_adopted_file_gets_working_leases_and_view(upstream_file):
    conn = sqlite3.connect(upstream_file)
    with pytest.raises(sqlite3.OperationalError, match="non-deterministic"):
        conn.execute(
            "INSERT INTO leases (id, resource_type, resource_id, mode, worker_id, ttl_seconds, "
            "expires_at) VALUES ('l-0', 'file', 'x', 'read', 'w', 60, datetime('now', '+60 seconds'))"
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


def test_adopted_file_migrates_twice_without_change(upstream_file):
    manage(upstream_file, "migrate", "--noinput", "-v0")
    before_schema, before_rows = schema_sql(upstream_file), contract_rows(upstream_file)
    result = manage(upstream_file, "migrate", "--noinput")
    assert "No migrations to apply" in result.stdout
    assert schema_sql(upstream_file) == before_schema
    assert contract_rows(upstream_file) == before_rows


def test_empty_file_is_migrated(tmp_path):
    path = tmp_path / "coordination.db"
    path.touch(mode=0o600)
    manage(path, "migrate", "--noinput", "-v0")
    assert schema_differences(path) == []


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
    assert schema_differences(
        upstream_file,
        allowed_extra_tables={"coordination_leases"},
        allowed_extra_indexes=set(UPSTREAM_LEASE_INDEXES),
    ) == []
