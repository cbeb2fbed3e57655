"""A coordination.db as the `motus` tool leaves it, for adoption tests and the CI check.

Run as a script to build one: ``python tests/upstream_file.py TEMPLATE.db OUT.db`` where
TEMPLATE.db is a migrated file whose trigger/view SQL is copied (schema.json holds no SQL).
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from contract_ddl import create_contract_tables, insert_seed  # noqa: E402

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
        INSERT INTO attempts (id, work_id, worker_id, worker_type)
          VALUES ('att-1', 'B', 'agent:tool', 'agent');
        INSERT INTO evidence (id, work_id, attempt_id, evidence_type, uri, sha256, created_by)
          VALUES ('ev-1', 'B', 'att-1', 'test_result', 'file:///r.xml', 'abc', 'agent:tool');
        INSERT INTO decisions (id, work_id, decision_type) VALUES ('dec-1', 'B', 'approval');
        INSERT INTO coordination_leases VALUES ('cl-1', 'agent:tool', 'write', '[]',
          '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', '2026-01-01T00:05:00Z', 's', '1',
          'd', 'B', 'att-1', 'active', NULL, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
    """)
    conn.close()


if __name__ == "__main__":
    build_upstream_file(sys.argv[2], sys.argv[1])
