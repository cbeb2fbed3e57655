"""Compare a live SQLite file with the contract copy in tests/data/schema.json.

The project's own check (the CI also runs ../shared/contract/check_schema.py): tables,
columns (affinity, NOT NULL, default, key), foreign keys, UNIQUEs, CHECK behaviour by probe
rows, indexes (columns, uniqueness, partial condition), triggers (timing, event, UPDATE OF
columns, messages), views (columns, queryable), and nothing extra besides Django's and
``web_*`` tables. Returns a list of human-readable differences; empty means equal.

Given a ``postgres://`` URL instead of a file, the same facts are read from PostgreSQL's
catalogs (:func:`pg_schema_differences`): column types by their PostgreSQL counterparts,
defaults by presence, a partial index's condition without the catalog's parentheses and
casts, a trigger's messages in its function's source (the ``*_updated_at`` helpers are
BEFORE triggers there); CHECK probes are SQLite's (they replay the file's DDL in memory).

:func:`connect`, :func:`schema_snapshot` and :func:`table_rows` serve the migration tests
on either backend.
"""

from __future__ import annotations

import re
import sqlite3

from backends import PgConnection
from contract_ddl import contract


def is_url(target) -> bool:
    return str(target).startswith("postgres")


def connect(target):
    """A plain connection to a SQLite file or a PostgreSQL URL (same calls on both)."""
    return PgConnection(str(target)) if is_url(target) else sqlite3.connect(target)


#: Every schema object with its definition, as the catalog keeps it, per backend.
_PG_SNAPSHOT_SQL = (
    "SELECT 'column', table_name || '.' || column_name,"
    " concat_ws(' ', data_type, is_nullable, column_default, ordinal_position)"
    " FROM information_schema.columns WHERE table_schema = current_schema()",
    "SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()",
    "SELECT 'trigger', t.tgname, pg_get_triggerdef(t.oid) || ' ' || p.prosrc FROM pg_trigger t"
    " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid"
    " WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal",
    "SELECT 'view', viewname, definition FROM pg_views WHERE schemaname = current_schema()",
    "SELECT 'function', proname, prosrc FROM pg_proc"
    " WHERE pronamespace = current_schema()::regnamespace",
    "SELECT 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)"
    " FROM pg_constraint WHERE connamespace = current_schema()::regnamespace",
)


def schema_snapshot(target) -> list[tuple]:
    """Every table, column, index, trigger and view with its definition, sorted: equal
    snapshots mean equal schemas."""
    conn = connect(target)
    try:
        if not is_url(target):
            return conn.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                "ORDER BY type, name"
            ).fetchall()
        return sorted(tuple(row) for sql in _PG_SNAPSHOT_SQL for row in conn.execute(sql))
    finally:
        conn.close()


def table_names(conn, target) -> set[str]:
    sql = (
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        if is_url(target)
        else "SELECT name FROM sqlite_master WHERE type = 'table'"
    )
    return {name for (name,) in conn.execute(sql)}


def table_rows(target) -> dict[str, list[tuple]]:
    """Every row of every contract table there is, sorted, for before/after comparisons."""
    conn = connect(target)
    try:
        present = table_names(conn, target)
        return {
            table: sorted((tuple(r) for r in conn.execute(f'SELECT * FROM "{table}"')), key=repr)
            for table in contract()["tables"]
            if table in present
        }
    finally:
        conn.close()


IGNORED_PREFIXES = ("sqlite_", "django_", "auth_", "authtoken_", "web_")


def _affinity(declared: str) -> str:
    d = (declared or "").upper()
    if "INT" in d:
        return "INTEGER"
    if any(x in d for x in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "REAL" in d or "FLOA" in d or "DOUB" in d:
        return "REAL"
    return "BLOB" if not d else "NUMERIC"


def _norm_default(value):
    if value is None or value.strip().upper() == "NULL":
        return None
    return re.sub(r"[\s()]", "", value).lower()


def _norm_sql(text):
    if text is None:
        return None
    return re.sub(r"[\s()\"`\[\]]", "", text).lower()


def _ignored(table: str) -> bool:
    return table.startswith(IGNORED_PREFIXES)


def schema_differences(path, *, allowed_extra_tables=(), allowed_extra_indexes=()) -> list[str]:
    if is_url(path):
        return pg_schema_differences(str(path))
    c = contract()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        master = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        diffs: list[str] = []
        diffs += _tables(conn, c, master, set(allowed_extra_tables))
        diffs += _indexes(conn, c, master, set(allowed_extra_indexes))
        diffs += _triggers(c, master)
        diffs += _views(conn, c, master)
        return diffs
    finally:
        conn.close()


def _tables(conn, c, master, allowed_extra):
    diffs = []
    live = {n: sql for t, n, _, sql in master if t == "table" and not _ignored(n)}
    for extra in sorted(set(live) - set(c["tables"]) - allowed_extra):
        diffs.append(f"extra table {extra}")
    for name, spec in c["tables"].items():
        if name not in live:
            diffs.append(f"missing table {name}")
            continue
        info = {r[1]: r for r in conn.execute(f'PRAGMA table_info("{name}")')}
        for col in spec["columns"]:
            r = info.pop(col["name"], None)
            where = f"{name}.{col['name']}"
            if r is None:
                diffs.append(f"missing column {where}")
                continue
            _, _, ltype, notnull, default, pk = r
            if _affinity(ltype) != _affinity(col["type"]):
                diffs.append(f"type of {where}: {ltype} != {col['type']}")
            if bool(notnull) != col["notnull"] and not col["pk"]:
                diffs.append(f"NOT NULL of {where}: {bool(notnull)}")
            if _norm_default(default) != _norm_default(col["default"]):
                diffs.append(f"default of {where}: {default!r} != {col['default']!r}")
            if pk != col["pk"]:
                diffs.append(f"key position of {where}: {pk} != {col['pk']}")
        diffs += [f"extra column {name}.{extra}" for extra in info]
        autoinc = bool(re.search(r"\bAUTOINCREMENT\b", live[name] or "", re.I))
        if autoinc != spec["autoincrement"]:
            diffs.append(f"AUTOINCREMENT of {name}: {autoinc}")
        fks = {(r[3], r[2], r[4]) for r in conn.execute(f'PRAGMA foreign_key_list("{name}")')}
        expected = {
            (fk["columns"][0], fk["ref_table"], fk["ref_columns"][0]) for fk in spec["foreign_keys"]
        }
        if fks != expected:
            diffs.append(f"foreign keys of {name}: {sorted(fks)} != {sorted(expected)}")
        diffs += _uniques(conn, c, name, spec)
        diffs += _probes(name, spec, live[name])
    return diffs


def _uniques(conn, c, name, spec):
    contract_indexes = {i["name"] for i in c["indexes"]}
    live = set()
    for _, iname, unique, origin, partial in conn.execute(f'PRAGMA index_list("{name}")'):
        if unique and not partial and origin != "pk" and iname not in contract_indexes:
            live.add(tuple(r[2] for r in conn.execute(f'PRAGMA index_info("{iname}")')))
    expected = {tuple(u) for u in spec["unique"]}
    return [] if live == expected else [f"UNIQUEs of {name}: {sorted(live)} != {sorted(expected)}"]


def _probes(name, spec, create_sql):
    """Replay the table's DDL in memory and insert the contract's probe rows."""
    diffs = []
    mem = sqlite3.connect(":memory:")
    mem.execute(create_sql)

    def outcome(overrides):
        row = {**spec["check_probe_base_row"], **overrides}
        mem.execute(f'DELETE FROM "{name}"')
        cols = ", ".join(f'"{k}"' for k in row)
        try:
            mem.execute(
                f'INSERT INTO "{name}" ({cols}) VALUES ({", ".join("?" * len(row))})',
                list(row.values()),
            )
            return "accept"
        except sqlite3.IntegrityError as exc:
            return "reject" if str(exc).startswith("CHECK constraint failed") else str(exc)

    probes = [p for check in spec["checks"] for p in check["probes"]]
    probes += spec.get("free_column_probes", [])
    for probe in probes:
        got = outcome(probe["set"])
        if got != probe["expect"]:
            diffs.append(f"CHECK probe on {name} {probe['set']}: {got}, expected {probe['expect']}")
    mem.close()
    return diffs


def _indexes(conn, c, master, allowed_extra):
    diffs = []
    live = {
        n: (tbl, sql) for t, n, tbl, sql in master if t == "index" and sql and not _ignored(tbl)
    }
    expected = {i["name"]: i for i in c["indexes"]}
    for extra in sorted(set(live) - set(expected) - allowed_extra):
        diffs.append(f"extra index {extra}")
    for name, spec in expected.items():
        if name not in live:
            diffs.append(f"missing index {name}")
            continue
        tbl, sql = live[name]
        cols = [
            (r[2] + (" DESC" if r[3] else ""))
            for r in conn.execute(f'PRAGMA index_xinfo("{name}")')
            if r[5]
        ]
        if tbl != spec["table"] or cols != spec["columns"]:
            diffs.append(f"index {name}: {tbl}{cols} != {spec['table']}{spec['columns']}")
        unique = bool(re.match(r"\s*CREATE\s+UNIQUE", sql, re.I))
        if unique != spec["unique"]:
            diffs.append(f"index {name} unique: {unique}")
        match = re.search(r"\)\s*WHERE\s+(.*)$", sql, re.I | re.S)
        where = _norm_sql(match.group(1)) if match else None
        if where != _norm_sql(spec["where"]):
            diffs.append(f"index {name} condition: {where} != {spec['where']}")
    return diffs


def _triggers(c, master):
    diffs = []
    live = {n: (tbl, sql) for t, n, tbl, sql in master if t == "trigger" and not _ignored(tbl)}
    expected = {t["name"]: t for t in c["triggers"]}
    for extra in sorted(set(live) - set(expected)):
        diffs.append(f"extra trigger {extra}")
    for name, spec in expected.items():
        if name not in live:
            diffs.append(f"missing trigger {name}")
            continue
        tbl, sql = live[name]
        header = re.search(
            r"TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?\S+\s+(BEFORE|AFTER|INSTEAD\s+OF)\s+"
            r"(INSERT|UPDATE|DELETE)(?:\s+OF\s+(.*?))?\s+ON\s",
            sql,
            re.I | re.S,
        )
        if header is None:
            diffs.append(f"trigger {name}: unreadable header")
            continue
        timing, event, cols = header.groups()
        of = sorted(x.strip().strip('"').lower() for x in cols.split(",")) if cols else []
        if (tbl, timing.upper(), event.upper(), of) != (
            spec["table"],
            spec["timing"],
            spec["event"],
            sorted(spec["update_of"]),
        ):
            diffs.append(f"trigger {name}: {tbl} {timing} {event} OF {of}")
        for message in spec["raises"]:
            if message.replace("'", "''") not in sql:
                diffs.append(f"trigger {name}: message missing {message!r}")
    return diffs


def _views(conn, c, master):
    live = {n for t, n, _, _ in master if t == "view" and not _ignored(n)}
    return _view_differences(conn, c, live)


def _view_differences(conn, c, live: set[str]) -> list[str]:
    """Views extra, missing, not queryable or with other columns (both backends)."""
    diffs = []
    expected = {v["name"]: v for v in c["views"]}
    diffs += [f"extra view {extra}" for extra in sorted(live - set(expected))]
    for name, spec in expected.items():
        if name not in live:
            diffs.append(f"missing view {name}")
            continue
        try:
            cursor = conn.execute(f'SELECT * FROM "{name}" LIMIT 0')
        except sqlite3.Error as exc:
            diffs.append(f"view {name} not queryable: {exc}")
            continue
        cols = [d[0] for d in cursor.description]
        if cols != spec["columns"]:
            diffs.append(f"view {name} columns: {cols} != {spec['columns']}")
    return diffs


# -- PostgreSQL ------------------------------------------------------------------------------

#: Contract column types and what Django's PostgreSQL backend makes of our fields.
PG_TYPES = {
    "TEXT": {"text"},
    "INTEGER": {"integer", "bigint", "smallint"},
    "REAL": {"double precision"},
}
# pg_trigger.tgtype bits
_BEFORE, _INSERT, _DELETE, _UPDATE, _INSTEAD = 2, 4, 8, 16, 64


def _pg_rows(conn, sql):
    return [tuple(r) for r in conn.execute(sql)]


def pg_schema_differences(url: str) -> list[str]:
    c = contract()
    conn = PgConnection(url)
    try:
        return (
            _pg_tables(conn, c) + _pg_indexes(conn, c) + _pg_triggers(conn, c) + _pg_views(conn, c)
        )
    finally:
        conn.close()


def _pg_tables(conn, c):
    diffs = []
    columns: dict[str, dict[str, tuple]] = {}
    for table, column, data_type, nullable, default in _pg_rows(
        conn,
        "SELECT table_name, column_name, data_type, is_nullable, column_default"
        " FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name IN (SELECT tablename FROM pg_tables WHERE schemaname = current_schema())",
    ):
        columns.setdefault(table, {})[column] = (data_type, nullable == "YES", default)
    live = {t for t in columns if not _ignored(t)}
    diffs += [f"extra table {extra}" for extra in sorted(live - set(c["tables"]))]
    keys: dict[str, list[str]] = {}
    for table, column in _pg_rows(
        conn,
        "SELECT cl.relname, a.attname FROM pg_constraint k"
        " JOIN pg_class cl ON cl.oid = k.conrelid"
        " JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS u(attnum, n) ON true"
        " JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum"
        " WHERE k.contype = 'p' AND k.connamespace = current_schema()::regnamespace"
        " ORDER BY cl.relname, u.n",
    ):
        keys.setdefault(table, []).append(column)
    foreign: dict[str, set] = {}
    for table, column, ref_table, ref_column in _pg_rows(
        conn,
        "SELECT cl.relname, a.attname, rcl.relname, ra.attname FROM pg_constraint k"
        " JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_class rcl ON rcl.oid = k.confrelid"
        " JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]"
        " JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1]"
        " WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace",
    ):
        foreign.setdefault(table, set()).add((column, ref_table, ref_column))
    for name, spec in c["tables"].items():
        if name not in columns:
            diffs.append(f"missing table {name}")
            continue
        info = dict(columns[name])
        for col in spec["columns"]:
            where = f"{name}.{col['name']}"
            found = info.pop(col["name"], None)
            if found is None:
                diffs.append(f"missing column {where}")
                continue
            data_type, nullable, default = found
            if data_type not in PG_TYPES[col["type"]]:
                diffs.append(f"type of {where}: {data_type} != {col['type']}")
            if col["notnull"] and nullable and not col["pk"]:
                diffs.append(f"NOT NULL of {where}: False")
            if (default is not None) != (_norm_default(col["default"]) is not None) and not col[
                "pk"
            ]:
                diffs.append(f"default of {where}: {default!r} != {col['default']!r}")
        diffs += [f"extra column {name}.{extra}" for extra in info]
        if keys.get(name, []) != spec["primary_key"]:
            diffs.append(f"primary key of {name}: {keys.get(name)} != {spec['primary_key']}")
        expected = {
            (fk["columns"][0], fk["ref_table"], fk["ref_columns"][0]) for fk in spec["foreign_keys"]
        }
        if foreign.get(name, set()) != expected:
            diffs.append(
                f"foreign keys of {name}: {sorted(foreign.get(name, set()))} != {sorted(expected)}"
            )
    return diffs


_INDEXDEF = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON \S+ USING \w+ \((.*?)\)(?: WHERE (.*))?$")


def _pg_indexes(conn, c):
    diffs = []
    live = {
        name: (table, _INDEXDEF.match(definition))
        for name, table, definition in _pg_rows(
            conn,
            "SELECT indexname, tablename, indexdef FROM pg_indexes"
            " WHERE schemaname = current_schema()",
        )
        if not _ignored(table)
    }
    for spec in c["indexes"]:
        name = spec["name"]
        if name not in live:
            diffs.append(f"missing index {name}")
            continue
        table, parsed = live[name]
        if parsed is None:
            diffs.append(f"index {name}: unreadable definition")
            continue
        unique, cols, where = parsed.groups()
        cols = [col.strip().replace('"', "") for col in cols.split(",")]
        if table != spec["table"] or cols != spec["columns"]:
            diffs.append(f"index {name}: {table}{cols} != {spec['table']}{spec['columns']}")
        if bool(unique) != spec["unique"]:
            diffs.append(f"index {name} unique: {bool(unique)}")
        if _pg_where(where) != _pg_where(spec["where"]):
            diffs.append(f"index {name} condition: {where} != {spec['where']}")
    return diffs


def _pg_where(text: str | None) -> str | None:
    """A partial index's condition without PostgreSQL's decoration (parentheses, casts)."""
    if not text:
        return None
    text = re.sub(r"::[a-z ]+(\[\])?", "", text)
    return re.sub(r"\s+", " ", text.replace("(", "").replace(")", "")).strip().lower()


def _pg_triggers(conn, c):
    diffs = []
    live = {
        name: (table, tgtype, (of or "").split(",") if of else [], source)
        for name, table, tgtype, of, source in _pg_rows(
            conn,
            "SELECT t.tgname, cl.relname, t.tgtype,"
            " (SELECT string_agg(a.attname, ',') FROM pg_attribute a"
            "   WHERE a.attrelid = t.tgrelid AND a.attnum = ANY (t.tgattr)),"
            " p.prosrc FROM pg_trigger t JOIN pg_class cl ON cl.oid = t.tgrelid"
            " JOIN pg_proc p ON p.oid = t.tgfoid"
            " WHERE cl.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal",
        )
        if not _ignored(table)
    }
    expected = {t["name"]: t for t in c["triggers"]}
    diffs += [f"extra trigger {extra}" for extra in sorted(set(live) - set(expected))]
    for name, spec in expected.items():
        if name not in live:
            diffs.append(f"missing trigger {name}")
            continue
        table, tgtype, of, source = live[name]
        timing = "INSTEAD OF" if tgtype & _INSTEAD else "BEFORE" if tgtype & _BEFORE else "AFTER"
        events = [
            e
            for bit, e in ((_INSERT, "INSERT"), (_UPDATE, "UPDATE"), (_DELETE, "DELETE"))
            if tgtype & bit
        ]
        found = (table, timing, events, sorted(of))
        # SQLite's *_updated_at helpers (AFTER UPDATE, updating the row again) are BEFORE
        # UPDATE triggers setting NEW.updated_at on PostgreSQL: same result, no second UPDATE.
        timing_wanted = "BEFORE" if spec.get("kind") == "updated_at_helper" else spec["timing"]
        wanted = (spec["table"], timing_wanted, [spec["event"]], sorted(spec["update_of"]))
        if found != wanted:
            diffs.append(f"trigger {name}: {found} != {wanted}")
        for message in spec["raises"]:
            if message.replace("'", "''") not in source:
                diffs.append(f"trigger {name}: message missing {message!r}")
    return diffs


def _pg_views(conn, c):
    live = {
        name
        for (name,) in _pg_rows(
            conn, "SELECT viewname FROM pg_views WHERE schemaname = current_schema()"
        )
        if not _ignored(name)
    }
    return _view_differences(conn, c, live)
