"""Small helpers for the trigger tests: insert and read rows of coordination.db (the kernel
database) through a plain ``sqlite3`` connection, and read the contract's trigger facts.

Every helper takes the connection first and uses contract column names, so a test reads like
the rule it checks. Timestamps are SQLite ``datetime('now')`` text (RULES.md §1.3).
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = json.loads((Path(__file__).parent / "data" / "schema.json").read_text())

# An instant far enough in the past / future for "old" and "not expired" rows.
OLD = "2001-01-01 00:00:00"
FUTURE = "2999-01-01 00:00:00"


# -- generic -----------------------------------------------------------------------------
def raises(message: str):
    """Expect a trigger error (``sqlite3.IntegrityError``) whose text is exactly ``message``."""
    return pytest.raises(sqlite3.IntegrityError, match=f"^{re.escape(message)}$")


def now(conn: sqlite3.Connection, modifier: str | None = None) -> str:
    """SQLite's current UTC time, optionally shifted (e.g. ``'-7 days'``)."""
    if modifier is None:
        return conn.execute("SELECT datetime('now')").fetchone()[0]
    return conn.execute("SELECT datetime('now', ?)", (modifier,)).fetchone()[0]


def insert(conn: sqlite3.Connection, table: str, **values) -> int:
    """INSERT one row with the given columns; returns its rowid."""
    cols = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    sql = (
        f"INSERT INTO {table} ({cols}) VALUES ({marks})"
        if values
        else (f"INSERT INTO {table} DEFAULT VALUES")
    )
    return conn.execute(sql, tuple(values.values())).lastrowid


def rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def one(conn: sqlite3.Connection, sql: str, params=()) -> dict:
    found = rows(conn, sql, params)
    assert len(found) == 1, f"expected one row, got {found}"
    return found[0]


def scalar(conn: sqlite3.Connection, sql: str, params=()):
    return conn.execute(sql, params).fetchone()[0]


def instance_id(conn: sqlite3.Connection) -> str:
    return scalar(conn, "SELECT value FROM instance_config WHERE key = 'instance_id'")


def audit_rows(conn: sqlite3.Connection, event_type: str) -> list[dict]:
    return rows(conn, "SELECT * FROM audit_log WHERE event_type = ? ORDER BY id", (event_type,))


def versions(conn: sqlite3.Connection, entity_type: str, entity_id: str) -> list[dict]:
    """entity_versions rows of one entity, oldest first, with ``data`` decoded."""
    found = rows(
        conn,
        "SELECT * FROM entity_versions WHERE entity_type = ? AND entity_id = ? ORDER BY version",
        (entity_type, entity_id),
    )
    for row in found:
        row["raw_data"] = row["data"]
        row["data"] = json.loads(row["data"])
    return found


# -- roadmap -----------------------------------------------------------------------------
def add_item(conn, item_id: str, *, phase: str = "phase_a", status: str = "pending", **extra):
    insert(
        conn,
        "roadmap_items",
        id=item_id,
        phase_key=phase,
        title=f"Item {item_id}",
        status_key=status,
        **extra,
    )
    return item_id


def add_items(conn, *item_ids: str, **kwargs) -> None:
    for item_id in item_ids:
        add_item(conn, item_id, **kwargs)


def add_chain(conn, prefix: str, length: int) -> list[str]:
    """Items prefix0..prefix<length-1> where each depends on the next (``blocks``).

    Items are spread over phases so that enforce_phase_limit (50 per phase) never interferes.
    """
    ids = [f"{prefix}{i}" for i in range(length)]
    for i, item_id in enumerate(ids):
        add_item(conn, item_id, phase=f"{prefix}-phase-{i // 50}")
    for a, b in zip(ids, ids[1:], strict=False):
        depend(conn, a, b)
    return ids


def depend(conn, item_id: str, depends_on_id: str, dependency_type: str = "blocks", **extra):
    insert(
        conn,
        "roadmap_dependencies",
        item_id=item_id,
        depends_on_id=depends_on_id,
        dependency_type=dependency_type,
        **extra,
    )


def assign(conn, item_id: str, agent_id: str = "agent-1", **extra) -> int:
    return insert(conn, "roadmap_assignments", item_id=item_id, agent_id=agent_id, **extra)


def prerequisites(conn, assignment_id: int) -> dict[str, int]:
    """{prerequisite_item_id: depth} surfaced by one assignment (asserting one row each)."""
    found = rows(
        conn,
        "SELECT prerequisite_item_id, depth FROM assignment_prerequisites "
        "WHERE source_assignment_id = ?",
        (assignment_id,),
    )
    result = {r["prerequisite_item_id"]: r["depth"] for r in found}
    assert len(result) == len(found), f"duplicate prerequisite rows: {found}"
    return result


# -- kernel ------------------------------------------------------------------------------
def add_attempt(conn, attempt_id: str, work_id: str, **extra) -> str:
    extra.setdefault("worker_id", "worker-1")
    extra.setdefault("worker_type", "agent")
    insert(conn, "attempts", id=attempt_id, work_id=work_id, **extra)
    return attempt_id


def end_attempt(conn, attempt_id: str, outcome: str = "handed_off") -> None:
    conn.execute(
        "UPDATE attempts SET outcome = ?, ended_at = datetime('now') WHERE id = ?",
        (outcome, attempt_id),
    )


def add_blocker(conn, blocker_id: str, work_id: str, **extra) -> str:
    extra.setdefault("reason_code", "missing_info")
    extra.setdefault("title", f"Blocker {blocker_id}")
    extra.setdefault("created_by", "agent:test")
    insert(conn, "blockers", id=blocker_id, work_id=work_id, **extra)
    return blocker_id


def add_evidence(conn, evidence_id: str, work_id: str, **extra) -> str:
    extra.setdefault("evidence_type", "test_result")
    extra.setdefault("uri", f"file:///{evidence_id}")
    extra.setdefault("sha256", "0" * 64)
    extra.setdefault("created_by", "agent:test")
    insert(conn, "evidence", id=evidence_id, work_id=work_id, **extra)
    return evidence_id


def add_decision(
    conn, decision_id: str, work_id: str | None, decision_type: str = "approval", **extra
) -> str:
    insert(conn, "decisions", id=decision_id, work_id=work_id, decision_type=decision_type, **extra)
    return decision_id


def add_lease(
    conn,
    lease_id: str,
    mode: str,
    *,
    resource_id: str = "res-1",
    resource_type: str = "file",
    expires_at: str | None = None,
    **extra,
) -> str:
    """A lease that expires in an hour unless ``expires_at`` says otherwise."""
    if expires_at is None:
        expires_at = now(conn, "+1 hour")
    extra.setdefault("worker_id", "worker-1")
    extra.setdefault("ttl_seconds", 3600)
    insert(
        conn,
        "leases",
        id=lease_id,
        resource_type=resource_type,
        resource_id=resource_id,
        mode=mode,
        expires_at=expires_at,
        **extra,
    )
    return lease_id


# -- the SQL files -----------------------------------------------------------------------
HEADER = re.compile(
    r"CREATE TRIGGER (\w+)\n(BEFORE|AFTER) (INSERT|UPDATE|DELETE)(?: OF ([\w, ]+))? ON (\w+)\n"
)


def contract_triggers(app: str) -> list[dict]:
    """The contract's triggers of one app, in creation order."""
    specs = [t for t in CONTRACT["triggers"] if t["app"] == app]
    return sorted(specs, key=lambda t: t["creation_order"])


def _code(statement: str) -> str:
    lines = statement.splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("--")).strip()


def check_trigger_files(conn: sqlite3.Connection, app: str, migration: str) -> None:
    """The app's forward/reverse SQL files follow the contract and the file rules.

    * forward: for each contract trigger of the app, in creation order, ``DROP TRIGGER IF
      EXISTS`` then ``CREATE TRIGGER`` with the contract's table, timing, event, UPDATE OF
      columns and every error message;
    * reverse: ``DROP TRIGGER IF EXISTS`` for each, in reverse order;
    * the forward file re-runs on a database that already has the triggers (it replaces
      them), and the reverse file removes exactly these triggers.
    """
    from system.sqlfiles import read_statements

    specs = contract_triggers(app)
    names = [t["name"] for t in specs]
    forward = [_code(s) for s in read_statements(ROOT / app, "sqlite", migration)]
    reverse = [_code(s) for s in read_statements(ROOT / app, "sqlite", migration, reverse=True)]

    expected = []
    for name in names:
        expected += [f"DROP TRIGGER IF EXISTS {name};", f"CREATE TRIGGER {name}"]
    assert [s.splitlines()[0] for s in forward] == expected
    for spec, sql in zip(specs, forward[1::2], strict=True):
        name, timing, event, update_of, table = HEADER.match(sql).groups()
        columns = [c.strip() for c in update_of.split(",")] if update_of else []
        assert (name, table, timing, event, columns) == (
            spec["name"],
            spec["table"],
            spec["timing"],
            spec["event"],
            spec["update_of"],
        )
        for message in spec["raises"]:
            assert f"RAISE(ABORT, '{message}')" in sql, (name, message)
    assert reverse == [f"DROP TRIGGER IF EXISTS {name};" for name in reversed(names)]

    def live() -> set[str]:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}

    before = live()
    assert set(names) <= before
    for statement in forward:
        conn.execute(statement)
    assert live() == before
    for statement in reverse:
        conn.execute(statement)
    assert live() == before - set(names)
