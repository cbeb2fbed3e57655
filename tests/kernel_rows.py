"""Small helpers for the trigger tests: insert and read rows of coordination.db (the kernel
database) through a plain ``sqlite3`` connection (on PostgreSQL a ``backends.PgConnection``,
which takes the same calls), and read the contract's trigger facts.

Every helper takes the connection first and uses contract column names, so a test reads like
the rule it checks. Timestamps are ``datetime('now')`` text (RULES.md §1.3): take them from
:func:`now`, which gives the same text on both backends.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import backends
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
    """The database's current UTC time, optionally shifted (e.g. ``'-7 days'``)."""
    if backends.POSTGRESQL:  # the migration's motus_now(), what the triggers compare with
        return conn.execute("SELECT motus_now(?::interval)", (modifier or "0 seconds",)).fetchone()[
            0
        ]
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
        "UPDATE attempts SET outcome = ?, ended_at = ? WHERE id = ?",
        (outcome, now(conn), attempt_id),
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
    """The app's forward/reverse SQL files (of the backend under test) follow the contract and
    the file rules. On PostgreSQL: :func:`check_postgresql_trigger_files`.

    * forward: for each contract trigger of the app, in creation order, ``DROP TRIGGER IF
      EXISTS`` then ``CREATE TRIGGER`` with the contract's table, timing, event, UPDATE OF
      columns and every error message;
    * reverse: ``DROP TRIGGER IF EXISTS`` for each, in reverse order;
    * the forward file re-runs on a database that already has the triggers (it replaces
      them), and the reverse file removes exactly these triggers.
    """
    if backends.POSTGRESQL:
        check_postgresql_trigger_files(conn, app, migration)
        return

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


PG_TRIGGER = re.compile(
    r"CREATE TRIGGER (\w+) (BEFORE|AFTER) (INSERT|UPDATE|DELETE)(?: OF ([\w, ]+?))? ON "
    r"(?:\w+\.)?(\w+) "
)
PG_FUNCTION = re.compile(r"CREATE (?:OR REPLACE )?FUNCTION (\w+)\(")
# RAISE EXCEPTION USING ...; (quoted strings may hold ';') and its SQLSTATE 23000 option.
PG_RAISE = re.compile(r"RAISE\s+EXCEPTION\s+USING((?:[^;']|'(?:[^']|'')*')*);", re.IGNORECASE)
PG_ERRCODE_23000 = re.compile(r"\bERRCODE\s*=\s*'23000'", re.IGNORECASE)


def _one_line(statement: str) -> str:
    return " ".join(statement.split())


def _pg_trigger_facts(sql: str) -> tuple:
    """(name, table, timing, event, UPDATE OF columns) of a CREATE TRIGGER statement or of
    ``pg_get_triggerdef``'s text."""
    found = PG_TRIGGER.match(_one_line(sql))
    assert found, sql
    name, timing, event, update_of, table = found.groups()
    columns = [c.strip() for c in update_of.split(",")] if update_of else []
    return name, table, timing, event, columns


def _pg_expected(spec: dict) -> set[tuple]:
    """The trigger facts allowed for one contract trigger: the contract's own, and for an
    ``updated_at`` helper also BEFORE UPDATE (the conventions' NEW.updated_at := motus_now()
    form of SQLite's AFTER UPDATE ... UPDATE ... WHERE rowid = NEW.rowid)."""
    facts = (spec["name"], spec["table"], spec["timing"], spec["event"], spec["update_of"])
    allowed = {(*facts[:4], tuple(facts[4]))}
    if spec["kind"] == "updated_at_helper":
        allowed.add((spec["name"], spec["table"], "BEFORE", spec["event"], tuple(facts[4])))
    return allowed


def check_postgresql_trigger_files(conn, app: str, migration: str) -> None:
    """PostgreSQL counterpart of the SQLite file check, on ``<app>/migrations/sql/postgresql``:

    * forward: first line names the SQLite file it stands for; for each contract trigger of
      the app, in creation order, ``DROP TRIGGER IF EXISTS <name> ON <table>;`` then ``CREATE
      TRIGGER <name>`` with the contract's table, timing, event and UPDATE OF columns (trigger
      functions and other statements may come in between); every error message is raised by
      a ``RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = '<message>'`` (either order);
    * reverse: the ``DROP TRIGGER IF EXISTS <name> ON <table>;`` statements in reverse order,
      and otherwise only DROP statements;
    * live: the catalog's triggers match the contract the same way; the forward file re-runs
      (it replaces them); the reverse file removes exactly these triggers and every function
      the forward file created.
    """
    from system.sqlfiles import read_statements, sql_path

    specs = contract_triggers(app)
    names = [t["name"] for t in specs]
    allowed = {t["name"]: _pg_expected(t) for t in specs}
    raw_forward = read_statements(ROOT / app, "postgresql", migration)
    raw_reverse = read_statements(ROOT / app, "postgresql", migration, reverse=True)
    forward = [_code(s) for s in raw_forward]
    reverse = [_code(s) for s in raw_reverse]
    for reverse_file in (False, True):
        path = sql_path(ROOT / app, "postgresql", migration, reverse=reverse_file)
        first = path.read_text().splitlines()[0]
        assert first.startswith(f"-- PostgreSQL counterpart of ../sqlite/{path.name}"), path

    def about_triggers(statements: list[str]) -> list[str]:
        return [
            _one_line(s) for s in statements if s.startswith(("DROP TRIGGER", "CREATE TRIGGER"))
        ]

    triggers = about_triggers(forward)
    drops = triggers[0::2]
    creates = triggers[1::2]
    assert drops == [f"DROP TRIGGER IF EXISTS {t['name']} ON {t['table']};" for t in specs]
    assert len(creates) == len(specs)
    for spec, sql in zip(specs, creates, strict=True):
        facts = _pg_trigger_facts(sql)
        assert (*facts[:4], tuple(facts[4])) in allowed[spec["name"]], (spec["name"], facts)
    text = sql_path(ROOT / app, "postgresql", migration).read_text()
    raises_23000 = [r for r in PG_RAISE.findall(text) if PG_ERRCODE_23000.search(r)]
    for spec in specs:
        for message in spec["raises"]:
            literal = "'" + message.replace("'", "''") + "'"
            assert any(literal in r for r in raises_23000), (spec["name"], message)
    assert about_triggers(reverse) == [
        f"DROP TRIGGER IF EXISTS {t['name']} ON {t['table']};" for t in reversed(specs)
    ]
    assert all(s.startswith("DROP ") for s in reverse), reverse
    functions = {m.group(1) for s in forward for m in [PG_FUNCTION.match(_one_line(s))] if m}

    def live() -> dict[str, str]:
        found = conn.execute(
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal"
        ).fetchall()
        return dict(found)

    def live_functions() -> set[str]:
        found = conn.execute(
            "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
        ).fetchall()
        return {name for (name,) in found}

    before = live()
    assert set(names) <= set(before)
    for name in names:
        facts = _pg_trigger_facts(before[name])
        assert (*facts[:4], tuple(facts[4])) in allowed[name], (name, facts)
    assert functions <= live_functions()
    for statement in raw_forward:
        conn.execute(statement)
    assert live() == before
    for statement in raw_reverse:
        conn.execute(statement)
    assert set(live()) == set(before) - set(names)
    assert not functions & live_functions()
