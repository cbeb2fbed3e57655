"""Build a coordination.db the way another tool would: raw SQL DDL from the contract.

Used by the adoption tests (a file the `motus` tool created, with no Django tables) and by
tests that compare the migrated schema with the contract copy in ``tests/data/schema.json``.
The DDL is written from the contract's facts (columns, keys, CHECKs, indexes); trigger and
view SQL is not part of ``schema.json``, so callers that need them load the app's own SQL.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from functools import cache
from pathlib import Path

CONTRACT_PATH = Path(__file__).parent / "data" / "schema.json"


@cache
def contract() -> dict:
    return json.loads(CONTRACT_PATH.read_text())


def _quote(value) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def table_ddl(name: str, spec: dict) -> str:
    pk = spec["primary_key"]
    lines = []
    for col in spec["columns"]:
        parts = [col["name"], col["type"]]
        if len(pk) == 1 and col["name"] == pk[0]:
            parts.append("PRIMARY KEY")
            if spec.get("autoincrement"):
                parts.append("AUTOINCREMENT")
        if col["notnull"]:
            parts.append("NOT NULL")
        if col["default"] is not None:
            default = col["default"]
            parts.append(f"DEFAULT ({default})" if "(" in default else f"DEFAULT {default}")
        lines.append(" ".join(parts))
    if len(pk) > 1:
        lines.append(f"PRIMARY KEY ({', '.join(pk)})")
    for unique in spec["unique"]:
        lines.append(f"UNIQUE ({', '.join(unique)})")
    for check in spec["checks"]:
        if "allowed" in check:
            allowed = ", ".join(_quote(v) for v in check["allowed"])
            lines.append(f"CHECK ({check['column']} IN ({allowed}))")
        else:
            lines.append(f"CHECK ({check['rule']})")
    for fk in spec["foreign_keys"]:
        lines.append(
            f"FOREIGN KEY ({', '.join(fk['columns'])}) "
            f"REFERENCES {fk['ref_table']}({', '.join(fk['ref_columns'])})"
        )
    body = ",\n  ".join(lines)
    return f"CREATE TABLE {name} (\n  {body}\n)"


def index_ddl(spec: dict) -> str:
    unique = "UNIQUE " if spec["unique"] else ""
    sql = f"CREATE {unique}INDEX {spec['name']} ON {spec['table']} ({', '.join(spec['columns'])})"
    if spec["where"]:
        sql += f" WHERE {spec['where']}"
    return sql


def create_contract_tables(conn: sqlite3.Connection, *, include_events: bool = True) -> None:
    """Create the contract's tables and indexes (no triggers, no views)."""
    c = contract()
    for name, spec in c["tables"].items():
        if name == "events" and not include_events:
            continue
        conn.execute(table_ddl(name, spec))
    for spec in c["indexes"]:
        if spec["table"] == "events" and not include_events:
            continue
        conn.execute(index_ddl(spec))


def insert_seed(conn: sqlite3.Connection) -> None:
    """Insert the contract's required seed rows and the 20 schema_version rows."""
    c = contract()
    seed = c["seed"]
    for row in seed["terminology"]:
        conn.execute(
            "INSERT INTO terminology (id, domain, internal_key, display_name, description, "
            "sort_order, deprecated_at, replaced_by) VALUES (?, ?, ?, ?, ?, ?, "
            "CASE WHEN ? THEN datetime('now') END, ?)",
            (
                row["id"],
                row["domain"],
                row["internal_key"],
                row["display_name"],
                row["description"],
                row["sort_order"],
                bool(row.get("deprecated")),
                row.get("replaced_by"),
            ),
        )
    for row in seed["instance_config"]:
        value = row["value"]
        if row["key"] == "instance_id":
            value = secrets.token_hex(16)
        elif row["key"] == "created_at":
            value = conn.execute("SELECT datetime('now')").fetchone()[0]
        conn.execute("INSERT INTO instance_config (key, value) VALUES (?, ?)", (row["key"], value))
    for table in ("resource_quotas", "circuit_breakers", "extension_points"):
        for row in seed[table]:
            cols = list(row)
            conn.execute(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                [row[k] for k in cols],
            )
    for row in c["schema_version"]["rows"]:
        conn.execute(
            "INSERT INTO schema_version (version, migration_name, checksum) VALUES (?, ?, ?)",
            (row["version"], row["migration_name"], row["checksum"]),
        )
