"""Small helpers for the view tests: read a view (checking its columns against the contract)
and insert fixture rows with raw SQL.

Inserts go through plain ``sqlite3`` (on PostgreSQL ``backends.PgConnection``, which takes the
same calls) so the tests exercise the database, not the ORM. The catalog helpers below read
views and triggers on either backend.
"""

from __future__ import annotations

import sqlite3

import backends
import contract_ddl
from conftest import limit_work


def contract_columns(view: str) -> list[str]:
    for spec in contract_ddl.contract()["views"]:
        if spec["name"] == view:
            return list(spec["columns"])
    raise KeyError(view)


def select(conn: sqlite3.Connection, view: str, where: str = "", params=()) -> list[dict]:
    """``SELECT * FROM view [WHERE ...]`` as dicts, in the view's own row order.

    Asserts that the cursor's column names are exactly the contract's, in order.
    """
    sql = f"SELECT * FROM {view}" + (f" WHERE {where}" if where else "")
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    assert names == contract_columns(view), f"{view}: columns {names}"
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


# -- catalog and work limits, on either backend -----------------------------------------------


def view_definition(conn, view: str) -> str | None:
    """The view's SQL as the database keeps it (None when there is no such view)."""
    if backends.POSTGRESQL:
        row = conn.execute(
            "SELECT definition FROM pg_views WHERE schemaname = current_schema() AND viewname = ?",
            (view,),
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?", (view,)
        ).fetchone()
    return row[0] if row else None


def view_names(conn) -> set[str]:
    if backends.POSTGRESQL:
        sql = "SELECT viewname FROM pg_views WHERE schemaname = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'view'"
    return {r[0] for r in conn.execute(sql)}


def view_columns(conn, view: str) -> list[str]:
    """The view's column names in order, from the catalog (not from a query)."""
    if backends.POSTGRESQL:
        found = conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (view,),
        )
        return [r[0] for r in found]
    return [r[1] for r in conn.execute(f"PRAGMA table_info({view})")]


def view_and_trigger_sql(conn) -> list[tuple[str, str]]:
    """(name, SQL) of every view and trigger; on PostgreSQL a trigger's SQL is its
    definition followed by the source of the function it runs."""
    if backends.POSTGRESQL:
        views = conn.execute(
            "SELECT viewname, definition FROM pg_views WHERE schemaname = current_schema()"
        ).fetchall()
        triggers = conn.execute(
            "SELECT t.tgname, pg_get_triggerdef(t.oid) || ' ' || p.prosrc "
            "FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
        ).fetchall()
        return [tuple(r) for r in views + triggers]
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type IN ('view', 'trigger')"
        )
    ]


def query_plan(conn, sql: str, params=()) -> str:
    """The database's plan for ``sql`` as one text (names of what it reads)."""
    if backends.POSTGRESQL:
        return "\n".join(r[0] for r in conn.execute(f"EXPLAIN VERBOSE {sql}", params))
    return " ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


def bound_work(conn, instructions: int) -> None:
    """Fail fast instead of running "forever" when a statement does far more work than it
    should (a graph walk that enumerates paths): on SQLite once the connection has run this
    many VM instructions in total (``conftest.limit_work``); on PostgreSQL any statement that
    runs longer than 1 s per 5 million instructions (at least 5 s) is cancelled
    (``sqlite3.OperationalError`` through ``backends.PgConnection``)."""
    if backends.POSTGRESQL:
        seconds = max(5, instructions // 5_000_000)
        conn.execute(f"SET statement_timeout = '{seconds}s'")
    else:
        limit_work(conn, instructions)


def unbound_work(conn) -> None:
    """Undo :func:`bound_work`."""
    if backends.POSTGRESQL:
        conn.execute("SET statement_timeout = 0")
    else:
        conn.set_progress_handler(None, 0)


def column(rows: list[dict], name: str) -> list:
    return [r[name] for r in rows]


def by(rows: list[dict], key: str) -> dict:
    """Index rows by a column that is unique in the result."""
    out = {r[key]: r for r in rows}
    assert len(out) == len(rows), f"duplicate {key} in {rows}"
    return out


def split(joined: str | None) -> list[str]:
    """A ``', '``-joined list (no defined element order) as a sorted list; NULL -> []."""
    return sorted(joined.split(", ")) if joined is not None else []


# -- roadmap ---------------------------------------------------------------------------------


def item(
    conn,
    id,
    *,
    phase="phase_a",
    status="pending",
    title=None,
    rank=None,
    item_type="work",
    owner=None,
    deleted=False,
    target_date=None,
):
    conn.execute(
        "INSERT INTO roadmap_items (id, phase_key, title, status_key, rank, item_type, owner, "
        "deleted_at, target_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            id,
            phase,
            title or f"Title {id}",
            status,
            rank,
            item_type,
            owner,
            "2024-01-01 00:00:00" if deleted else None,
            target_date,
        ),
    )


def dep(conn, item_id, depends_on_id, type="blocks"):
    conn.execute(
        "INSERT INTO roadmap_dependencies (item_id, depends_on_id, dependency_type) "
        "VALUES (?, ?, ?)",
        (item_id, depends_on_id, type),
    )


def assign(conn, item_id, agent, *, role="implementer", status="assigned") -> int:
    cur = conn.execute(
        "INSERT INTO roadmap_assignments (item_id, agent_id, role, status) VALUES (?, ?, ?, ?)",
        (item_id, agent, role, status),
    )
    return cur.lastrowid


def claim(
    conn,
    id,
    *,
    claim_type="quantitative",
    status="pending",
    verified=None,
    test_function="test_claim",
):
    conn.execute(
        "INSERT INTO claims (id, claim_text, page, claim_type, test_function, test_status, "
        "last_verified_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (id, f"Claim text {id}", f"/page/{id}", claim_type, test_function, status, verified),
    )


# -- programs --------------------------------------------------------------------------------


def program(
    conn, id, *, name=None, type_key="software", status_key="active", owner=None, deleted=False
):
    conn.execute(
        "INSERT INTO programs (id, name, type_key, status_key, owner, deleted_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            id,
            name or f"Program {id}",
            type_key,
            status_key,
            owner,
            "2024-01-01 00:00:00" if deleted else None,
        ),
    )


def product(conn, id, program_id, *, name=None, deleted=False):
    conn.execute(
        "INSERT INTO products (id, program_id, name, deleted_at) VALUES (?, ?, ?, ?)",
        (id, program_id, name or f"Product {id}", "2024-01-01 00:00:00" if deleted else None),
    )


def feature(conn, id, product_id, *, name=None, deleted=False):
    conn.execute(
        "INSERT INTO features (id, product_id, name, deleted_at) VALUES (?, ?, ?, ?)",
        (id, product_id, name or f"Feature {id}", "2024-01-01 00:00:00" if deleted else None),
    )
