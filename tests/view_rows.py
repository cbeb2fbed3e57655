"""Small helpers for the view tests: read a view (checking its columns against the contract)
and insert fixture rows with raw SQL.

Inserts go through plain ``sqlite3`` so the tests exercise the database, not the ORM.
"""

from __future__ import annotations

import sqlite3

import contract_ddl


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
