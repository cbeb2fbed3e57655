"""Compare a live SQLite file with the contract copy in tests/data/schema.json.

The project's own check (the CI also runs ../shared/contract/check_schema.py): tables,
columns (affinity, NOT NULL, default, key), foreign keys, UNIQUEs, CHECK behaviour by probe
rows, indexes (columns, uniqueness, partial condition), triggers (timing, event, UPDATE OF
columns, messages), views (columns, queryable), and nothing extra besides Django's and
``web_*`` tables. Returns a list of human-readable differences; empty means equal.
"""

from __future__ import annotations

import re
import sqlite3

from contract_ddl import contract

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
    diffs = []
    live = {n for t, n, _, _ in master if t == "view" and not _ignored(n)}
    expected = {v["name"]: v for v in c["views"]}
    for extra in sorted(live - set(expected)):
        diffs.append(f"extra view {extra}")
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
