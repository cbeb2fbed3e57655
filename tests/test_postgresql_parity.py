"""PostgreSQL parity with the contract: every contract table (its columns, types, keys), trigger
(table, timing, event, UPDATE OF columns, every message in its function), view (its columns,
queryable), index (table, columns, unique, partial condition) and seed row has its
counterpart in a database migrated on PostgreSQL.

``check_schema.py`` (the contract's own checker) reads ``sqlite_master`` and PRAGMAs, so on
PostgreSQL the same facts are read from the catalogs here; the seed rows are checked by the
contract checker's own ``check_seed``, pointed at the PostgreSQL connection.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from kernel_rows import CONTRACT, rows

pytestmark = pytest.mark.postgresql_only

#: A copy of ../shared/contract/check_schema.py (as tests/data/schema.json is of schema.json).
CHECKER = Path(__file__).resolve().parent / "data" / "check_schema.py"

#: Contract column types → what Django's PostgreSQL backend creates for our fields.
TYPES = {
    "TEXT": {"text"},
    "INTEGER": {"integer", "bigint", "smallint"},
    "REAL": {"double precision"},
}

# tgtype bits (PostgreSQL's pg_trigger.h)
ROW, BEFORE, INSERT, DELETE, UPDATE, INSTEAD = 1, 2, 4, 8, 16, 64


def test_tables_and_columns(raw_db):
    live = rows(
        raw_db,
        "SELECT table_name, column_name, data_type, is_nullable, ordinal_position "
        "FROM information_schema.columns WHERE table_schema = 'public' "
        "ORDER BY table_name, ordinal_position",
    )
    columns: dict[str, dict[str, dict]] = {}
    for row in live:
        columns.setdefault(row["table_name"], {})[row["column_name"]] = row
    problems = []
    for table, spec in CONTRACT["tables"].items():
        found = columns.get(table)
        if found is None:
            problems.append(f"missing table {table}")
            continue
        expected = [c["name"] for c in spec["columns"]]
        if sorted(found) != sorted(expected):
            problems.append(f"{table}: columns {sorted(found)} != {sorted(expected)}")
            continue
        for column in spec["columns"]:
            live_column = found[column["name"]]
            if live_column["data_type"] not in TYPES[column["type"]]:
                problems.append(f"{table}.{column['name']}: type {live_column['data_type']}")
            if column["notnull"] and live_column["is_nullable"] == "YES":
                problems.append(f"{table}.{column['name']}: nullable, contract NOT NULL")
    keys = {
        r["table_name"]: r["columns"]
        for r in rows(
            raw_db,
            "SELECT tc.table_name, string_agg(kcu.column_name, ',' ORDER BY kcu.ordinal_position)"
            " AS columns FROM information_schema.table_constraints tc"
            " JOIN information_schema.key_column_usage kcu"
            " ON kcu.constraint_name = tc.constraint_name AND kcu.table_name = tc.table_name"
            " WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = 'public'"
            " GROUP BY tc.table_name",
        )
    }
    for table, spec in CONTRACT["tables"].items():
        if table in columns and sorted(keys.get(table, "").split(",")) != sorted(
            spec["primary_key"]
        ):
            problems.append(f"{table}: primary key {keys.get(table)} != {spec['primary_key']}")
    assert problems == []


def _live_triggers(conn) -> dict[str, dict]:
    found = rows(
        conn,
        "SELECT t.tgname AS name, c.relname AS table_name, t.tgtype AS type, p.prosrc AS code,"
        " COALESCE((SELECT array_agg(a.attname::text ORDER BY a.attname)"
        "  FROM pg_attribute a WHERE a.attrelid = t.tgrelid AND a.attnum = ANY (t.tgattr)),"
        "  '{}') AS update_of"
        " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal",
    )
    return {row["name"]: row for row in found}


def test_every_contract_trigger_has_its_postgresql_trigger(raw_db):
    live = _live_triggers(raw_db)
    problems = []
    for spec in CONTRACT["triggers"]:
        trigger = live.get(spec["name"])
        if trigger is None:
            problems.append(f"missing trigger {spec['name']}")
            continue
        kind = trigger["type"]
        timing = "INSTEAD OF" if kind & INSTEAD else "BEFORE" if kind & BEFORE else "AFTER"
        events = [e for bit, e in ((INSERT, "INSERT"), (DELETE, "DELETE"), (UPDATE, "UPDATE"))
                  if kind & bit]  # fmt: skip
        found = (trigger["table_name"], timing, events, sorted(trigger["update_of"]), kind & ROW)
        # SQLite's *_updated_at helpers are AFTER UPDATE triggers that UPDATE the row again;
        # on PostgreSQL they are BEFORE UPDATE triggers that set NEW.updated_at (same result,
        # no second UPDATE): the one documented difference in timing.
        expected_timing = "BEFORE" if spec["kind"] == "updated_at_helper" else spec["timing"]
        expected = (spec["table"], expected_timing, [spec["event"]], sorted(spec["update_of"]), ROW)
        if found != expected:
            problems.append(f"{spec['name']}: {found} != {expected}")
        for message in spec["raises"]:
            if message.replace("'", "''") not in trigger["code"] and message not in trigger["code"]:
                problems.append(f"{spec['name']}: message missing: {message!r}")
    extra = set(live) - {t["name"] for t in CONTRACT["triggers"]}
    assert problems == []
    assert extra == set()


def test_every_contract_view_has_its_columns_and_answers(raw_db):
    problems = []
    for spec in CONTRACT["views"]:
        found = [
            r["column_name"]
            for r in rows(
                raw_db,
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
                " AND table_name = ? ORDER BY ordinal_position",
                (spec["name"],),
            )
        ]
        if found != spec["columns"]:
            problems.append(f"{spec['name']}: columns {found} != {spec['columns']}")
            continue
        raw_db.execute(f"SELECT * FROM {spec['name']} LIMIT 1").fetchall()
    live = {
        r["table_name"]
        for r in rows(
            raw_db, "SELECT table_name FROM information_schema.views WHERE table_schema = 'public'"
        )
    }
    assert problems == []
    assert live == {v["name"] for v in CONTRACT["views"]}


def _where(text: str | None) -> str | None:
    """A partial-index condition without PostgreSQL's decoration (parentheses, casts)."""
    if not text:
        return None
    text = re.sub(r"::[a-z ]+(\[\])?", "", text)
    text = text.replace("(", "").replace(")", "")
    return re.sub(r"\s+", " ", text).strip().lower()


def test_every_contract_index_has_its_postgresql_index(raw_db):
    live = {
        r["name"]: r
        for r in rows(
            raw_db,
            "SELECT i.relname AS name, t.relname AS table_name, ix.indisunique AS is_unique,"
            " pg_get_expr(ix.indpred, ix.indrelid) AS condition,"
            " ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k + 1, true)"
            "  || CASE WHEN ix.indoption[k] & 1 = 1 THEN ' DESC' ELSE '' END"
            "  FROM generate_subscripts(ix.indkey, 1) AS k ORDER BY k) AS columns"
            " FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid"
            " JOIN pg_class t ON t.oid = ix.indrelid"
            " JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'",
        )
    }
    problems = []
    for spec in CONTRACT["indexes"]:
        index = live.get(spec["name"])
        if index is None:
            problems.append(f"missing index {spec['name']}")
            continue
        found = (
            index["table_name"],
            [c.replace('"', "").lower() for c in index["columns"]],
            bool(index["is_unique"]),
            _where(index["condition"]),
        )
        expected = (
            spec["table"],
            [c.lower() for c in spec["columns"]],
            bool(spec["unique"]),
            _where(spec["where"]),
        )
        if found != expected:
            problems.append(f"{spec['name']}: {found} != {expected}")
    assert problems == []


def test_seed_rows_by_the_contract_checker(raw_db):
    spec = importlib.util.spec_from_file_location("check_schema", CHECKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    checker = module.Checker.__new__(module.Checker)
    checker.c, checker.db, checker.mismatches, checker.counts = CONTRACT, raw_db, [], {}
    checker.check_seed()
    ok, total = checker.counts["seed"]
    assert checker.mismatches == []
    assert (
        ok
        == total
        == sum(CONTRACT["counts"]["seed_rows"].values())
        + len(CONTRACT["schema_version"]["rows"])
        + 1
    )
