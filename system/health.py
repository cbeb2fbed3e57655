"""Health of coordination.db: the checks behind ``manage.py doctor``, ``/healthz`` and
``/readyz``, and the small maintenance steps they point to (``manage.py maintain``).

Each check returns a :class:`CheckResult` with status ``pass``, ``warn`` or ``fail`` (the
values ``health_check_results.status`` allows). ``doctor`` runs :data:`DOCTOR_CHECKS` and
records one row per check in ``health_check_results``, the contract's 7-day rolling window
(its ``health_check_cleanup`` trigger prunes it on every insert); ``/healthz`` runs
:data:`LIVENESS_CHECKS` and ``/readyz`` :data:`READINESS_CHECKS`, and neither records
anything.

**The expected triggers, views and indexes** are derived from what the migrations install,
not from a copy of the contract (installs have no ``tests/``) nor from a hand-kept list
(which would drift): the full migration plan is walked in the order ``migrate`` runs it, and
every ``CREATE``/``DROP TRIGGER|VIEW|INDEX`` statement of its SQL (``LoadSQL`` files under
``<app>/migrations/sql/<vendor>/`` and any ``RunSQL``) is replayed on a name table, so the
last definition of a name wins and a later ``DROP`` removes it. The indexes Django creates
are the migrations' final model state: ``Meta.indexes`` and the partial or expression
``UniqueConstraint``\\s (which SQLite makes named indexes). A new migration that adds a
trigger is therefore checked without anybody editing this module. The result is cached per
process: migration files do not change under a running server.

**The seed rows** (``seed_rows``) are the rows the migrations' seed files insert, found by
their keys (:func:`seed_statements`): read-only, on either backend.

**On PostgreSQL** (``DATABASE_URL``) the checks about the SQLite file itself (its mode and
folder, WAL, ``PRAGMA quick_check``, WAL size, free disk beside it) do not apply and are not
in the lists; ``database_server`` (connection, version, not a read-only standby) takes the
file's place. The expected objects come from the ``postgresql`` SQL files and are compared
with ``pg_trigger``, ``pg_views`` and ``pg_indexes``; a trigger's definition is compared
through its function's body (``pg_proc.prosrc`` keeps it verbatim, whereas the catalog
re-words a ``CREATE TRIGGER``), views and indexes by presence and table.

The kernel's tables (``attempts``, ``leases``) are read here with plain SQL, as the
roadmap's pages do: ``system`` must not import ``kernel``. The stale-attempt condition is
``kernel.services._STALE_CONDITION``'s; ``tests/test_operations.py`` checks both agree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.utils import DatabaseError

from system.db_errors import database_unavailable
from system.fields import format_timestamp, utc_now

PASS, WARN, FAIL = "pass", "warn", "fail"
_SEVERITY = {PASS: 0, WARN: 1, FAIL: 2}

#: The apps whose migrations install the contract's objects.
CONTRACT_APPS = ("system", "programs", "roadmap", "kernel")
#: Tables whose triggers and indexes are not the contract's (Django's own, the API tokens).
FOREIGN_TABLE_PREFIXES = ("sqlite_", "django_", "auth_", "authtoken_", "web_")
#: Indexes the `motus` tool's lease store adds to the shared file (RULES.md 1.10).
UPSTREAM_INDEXES = frozenset(
    {
        "idx_coordination_leases_status",
        "idx_coordination_leases_owner",
        "idx_coordination_leases_expires",
    }
)

WAL_WARN_BYTES = 64 * 1024 * 1024
DISK_FAIL_BYTES = 64 * 1024 * 1024
DISK_WARN_BYTES = 512 * 1024 * 1024
#: How long the write probe of ``/readyz`` waits for another writer's lock.
WRITE_PROBE_TIMEOUT_MS = 2000
#: Names listed in a check's message (all of them are in ``details``).
MESSAGE_NAMES = 8


@dataclass
class CheckResult:
    name: str
    status: str
    message: str
    details: dict = field(default_factory=dict)
    duration_ms: float = 0.0

    def as_dict(self, *, with_details: bool = True) -> dict:
        data = {"name": self.name, "status": self.status, "message": self.message}
        if with_details:
            data["details"] = self.details
            data["duration_ms"] = round(self.duration_ms, 1)
        return data


def overall(results: Iterable[CheckResult]) -> str:
    """The worst status of ``results`` (``pass`` when there are none)."""
    return max((r.status for r in results), key=_SEVERITY.__getitem__, default=PASS)


def database_path() -> Path:
    """The file the default connection opens (the test database under pytest)."""
    return Path(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])


def vendor() -> str:
    """``sqlite`` or ``postgresql``: the default connection's backend."""
    return connections[DEFAULT_DB_ALIAS].vendor


def is_postgresql() -> bool:
    return vendor() == "postgresql"


def database_label() -> str:
    """What the commands name as "the database": the SQLite file's path, or on PostgreSQL
    ``postgresql://user@host:port/name`` (never the password)."""
    if not is_postgresql():
        return str(database_path())
    from urllib.parse import quote

    conf = connections[DEFAULT_DB_ALIAS].settings_dict
    user = f"{quote(conf['USER'], safe='')}@" if conf.get("USER") else ""
    host = quote(conf.get("HOST") or "", safe="")  # a socket folder: %2F…, as libpq reads it
    port = f":{conf['PORT']}" if conf.get("PORT") else ""
    return f"postgresql://{user}{host}{port}/{quote(conf['NAME'], safe='')}"


class SQLiteOnly(Exception):
    """An operation on the SQLite file, asked for on PostgreSQL: the message says what to
    use there instead. Commands turn it into an error (exit status 1)."""


def require_sqlite(what: str, instead: str) -> None:
    """Raise :class:`SQLiteOnly` on PostgreSQL: "``what`` is for the SQLite file; on
    PostgreSQL ``instead``"."""
    if is_postgresql():
        raise SQLiteOnly(f"{what} is for the SQLite file only; on PostgreSQL {instead}.")


def _connection():
    return connections[DEFAULT_DB_ALIAS]


def _cursor():
    return _connection().cursor()


def _now_text() -> str:
    return format_timestamp(utc_now())


def _names(names: Iterable[str]) -> str:
    names = sorted(names)
    shown = ", ".join(names[:MESSAGE_NAMES])
    more = len(names) - MESSAGE_NAMES
    return shown + (f" and {more} more" if more > 0 else "")


def human_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover


@contextmanager
def busy_timeout(milliseconds: int):
    """Wait at most ``milliseconds`` for another connection's lock, then restore the
    connection's usual ``busy_timeout`` (``MOTUS_BUSY_TIMEOUT_MS``).

    On PostgreSQL the same wait is ``lock_timeout`` (a row or table lock another transaction
    holds), restored with ``RESET`` to the connection's own (settings start every connection
    with ``MOTUS_BUSY_TIMEOUT_MS``). PostgreSQL reads 0 as "no limit": 1 ms is the least."""
    if is_postgresql():
        with _cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {max(int(milliseconds), 1)}")
        try:
            yield
        finally:
            with _cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        return
    usual = getattr(settings, "MOTUS_BUSY_TIMEOUT_MS", 30000)
    with _cursor() as cursor:
        cursor.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")
    try:
        yield
    finally:
        with _cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {int(usual)}")


# The checks. Each returns (status, message, details).


def check_database_file():
    """The file exists, is not empty, this process may read and write it and create the
    ``-wal``/``-shm`` files beside it; warns when every user of the machine may read it."""
    path = database_path()
    details: dict = {"path": str(path)}
    if not path.is_file():
        return FAIL, "the database file does not exist (or is not a file)", details
    st = path.stat()
    folder = path.parent
    details.update(
        size_bytes=st.st_size,
        mode=f"{stat.S_IMODE(st.st_mode):04o}",
        owner_uid=st.st_uid,
        group_gid=st.st_gid,
        folder_mode=f"{stat.S_IMODE(folder.stat().st_mode):04o}",
    )
    problems = []
    if st.st_size == 0:
        problems.append("the file is empty (run manage.py migrate)")
    if not os.access(path, os.R_OK | os.W_OK):
        problems.append("this process cannot read and write the file")
    if not os.access(folder, os.W_OK | os.X_OK):
        problems.append(
            "this process cannot create files in its folder (SQLite needs the -wal and -shm "
            "files there)"
        )
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists() and not os.access(side, os.R_OK | os.W_OK):
            problems.append(f"this process cannot write {side.name} (another user's file?)")
    if problems:
        return FAIL, "; ".join(problems), details
    summary = f"{human_bytes(st.st_size)}, mode {details['mode']}"
    if st.st_mode & stat.S_IRWXO:
        return (
            WARN,
            f"{summary}: every user of this machine may open it (chmod 600, or 660 with a "
            "group shared by the server and the motus tool)",
            details,
        )
    return PASS, summary, details


def check_database_server():
    """PostgreSQL: the server answers; its version, the database and the role this process
    uses. Fails on a standby (read-only: every write would be refused)."""
    with _cursor() as cursor:  # cheap: /healthz runs it (db stats has the sizes)
        cursor.execute(
            "SELECT current_setting('server_version'), current_database(), current_user,"
            " pg_is_in_recovery()"
        )
        version, name, user, standby = cursor.fetchone()
    details = {"server_version": version, "database": name, "user": user, "standby": standby}
    summary = f"PostgreSQL {version}, database {name} as {user}"
    if standby:
        return FAIL, f"{summary}: a standby in recovery (read-only)", details
    return PASS, summary, details


#: The schema objects counted by ``database_readable``, per backend.
_SCHEMA_OBJECTS_SQL = {
    "sqlite": "SELECT COUNT(*) FROM sqlite_master",
    "postgresql": (
        "SELECT (SELECT COUNT(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
        " AND relkind IN ('r', 'v', 'i')) + (SELECT COUNT(*) FROM pg_trigger t"
        " JOIN pg_class c ON c.oid = t.tgrelid"
        " WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal)"
    ),
}


def check_database_readable():
    with _cursor() as cursor:
        cursor.execute(_SCHEMA_OBJECTS_SQL[vendor()])
        objects = cursor.fetchone()[0]
    if not objects:
        return FAIL, "the database holds no schema (run manage.py migrate)", {"objects": 0}
    return PASS, f"{objects} schema objects readable", {"objects": objects}


def check_database_writable():
    """A write transaction that is rolled back: takes the write lock (waiting at most
    :data:`WRITE_PROBE_TIMEOUT_MS` for another writer) and writes a row."""
    started = time.monotonic()
    try:
        with busy_timeout(WRITE_PROBE_TIMEOUT_MS), transaction.atomic(), _cursor() as cursor:
            cursor.execute(
                "INSERT INTO health_check_results (check_name, status, message, checked_at)"
                " VALUES ('write_probe', 'pass', 'rolled back', %s)",
                [_now_text()],
            )
            transaction.set_rollback(True)
    except DatabaseError as exc:
        text = str(exc)
        unavailable = database_unavailable(exc)
        if (
            "locked" in text
            or "busy" in text
            or (unavailable is not None and unavailable.code == "database_busy")
        ):
            return (
                WARN,
                f"another connection held the write lock for over "
                f"{WRITE_PROBE_TIMEOUT_MS / 1000:g} s",
                {"error": text},
            )
        return FAIL, f"cannot write: {text}", {"error": text}
    waited = (time.monotonic() - started) * 1000
    return PASS, "write transaction (rolled back) succeeded", {"ms": round(waited, 1)}


def check_journal_mode():
    """The file is in WAL mode (its header says so, and so does this connection)."""
    path = database_path()
    with open(path, "rb") as handle:
        header = handle.read(20)
    file_wal = len(header) == 20 and header[18] == 2 and header[19] == 2
    with _cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()[0]
    details = {"connection": mode, "file_header_wal": file_wal}
    if mode.lower() != "wal" or not file_wal:
        return FAIL, f"journal mode is {mode} (file header WAL: {file_wal}); expected WAL", details
    return PASS, "WAL", details


def check_quick_check():
    with _cursor() as cursor:
        cursor.execute("PRAGMA quick_check")
        rows = [row[0] for row in cursor.fetchall()]
    if rows == ["ok"]:
        return PASS, "ok", {}
    return FAIL, f"{len(rows)} problem(s): {rows[0]}", {"problems": rows[:100]}


def check_migrations():
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(_connection())
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    pending = [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards]
    if pending:
        return (
            FAIL,
            f"{len(pending)} unapplied: {_names(pending)} (run manage.py migrate)",
            {"unapplied": pending},
        )
    applied = len(executor.loader.applied_migrations)
    return PASS, f"all {applied} applied", {"applied": applied}


#: A seed statement: ``INSERT [OR IGNORE] INTO t (cols) VALUES (…) [ON CONFLICT …]``.
_SEED_INSERT = re.compile(
    r"^INSERT\s+(?:OR\s+IGNORE\s+)?INTO\s+(\w+)\s*\(([^)]*)\)\s*VALUES\s*(.*?)"
    r"(?:\s+ON\s+CONFLICT\b.*)?$",
    re.IGNORECASE | re.DOTALL,
)


def _table_keys(table: str) -> list[list[str]]:
    """The column sets that identify a row of ``table``: its key and its UNIQUEs (what an
    ``INSERT OR IGNORE`` / ``ON CONFLICT DO NOTHING`` collides on)."""
    from django.apps import apps
    from django.db.models import UniqueConstraint

    for model in apps.get_models():
        if model._meta.db_table != table:
            continue
        meta = model._meta
        keys = [[f.column for f in meta.pk_fields]]
        keys += [[f.column] for f in meta.concrete_fields if f.unique and not f.primary_key]
        keys += [[meta.get_field(n).column for n in names] for names in meta.unique_together]
        keys += [
            [meta.get_field(n).column for n in c.fields]
            for c in meta.constraints
            if isinstance(c, UniqueConstraint) and c.fields and c.condition is None
        ]
        return keys
    return []


@functools.cache
def seed_statements(vendor: str = "sqlite") -> list[tuple[str, str, str]]:
    """(table, the seed statement, the query counting its rows that are missing) for each
    row the migrations' seed files (``SEED_MIGRATIONS``, which ``flush`` re-runs too)
    insert, in their order. A row is there when a row with the same key (or any UNIQUE the
    statement gives) is: exactly when the seed's ``INSERT OR IGNORE`` / ``ON CONFLICT DO
    NOTHING`` would do nothing. The query evaluates the statement's VALUES and writes
    nothing."""
    from django.apps import apps

    from system.db_backend.base import SEED_MIGRATIONS
    from system.sqlfiles import read_statements

    found = []
    for app_label, name in SEED_MIGRATIONS:
        app_path = apps.get_app_config(app_label).path
        for statement in read_statements(app_path, vendor, name):
            insert = _SEED_INSERT.match(normalise_sql(statement))
            if not insert:
                continue
            table, columns, values = insert.groups()
            columns = [c.strip().strip('"') for c in columns.split(",")]
            keys = [k for k in _table_keys(table) if k and set(k) <= set(columns)]
            if not keys:
                continue
            matches = " OR ".join(
                "(" + " AND ".join(f"t.{c} = v.{c}" for c in key) + ")" for key in keys
            )
            query = (
                f"WITH v ({', '.join(columns)}) AS (VALUES {values}) SELECT COUNT(*) FROM v"
                f" WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {matches})"
            )
            found.append((table, statement.strip(), query))
    return found


def check_seed_rows():
    """Every row the migrations' seed files insert (terminology, instance_config,
    schema_version, quotas, breakers, extension points) is there, by its key: the triggers,
    the app and the `motus` tool rely on them. Reads only."""
    missing: dict[str, int] = {}
    statements = []
    seeds = seed_statements(vendor())
    with _cursor() as cursor:
        for table, statement, query in seeds:
            cursor.execute(query)
            count = cursor.fetchone()[0]
            if count:
                missing[table] = missing.get(table, 0) + count
                statements.append(statement)
    details = {"expected": len(seeds), "missing": missing, "statements": statements[:200]}
    if missing:
        listed = ", ".join(f"{table} ({count})" for table, count in missing.items())
        return (
            FAIL,
            f"{sum(missing.values())} missing: {listed} (doctor --sql prints their inserts)",
            details,
        )
    return PASS, f"all {len(seeds)} seed rows present", details


def _contract_objects_check(kind: str):
    def check():
        expected = {name: obj for (k, name), obj in expected_objects(vendor()).items() if k == kind}
        live = live_objects(kind)
        missing = sorted(set(expected) - set(live))
        wrong_table = sorted(
            name
            for name, obj in expected.items()
            if name in live and live[name].table.lower() != obj.table.lower()
        )
        changed = sorted(
            name
            for name, obj in expected.items()
            if name in live and obj.sql is not None and live[name].sql != obj.sql
        )
        extra = sorted(
            name
            for name, obj in live.items()
            if name not in expected
            and kind != "index"
            and not obj.table.lower().startswith(FOREIGN_TABLE_PREFIXES)
        )
        details = {
            "expected": len(expected),
            "present": len(expected) - len(missing),
            "missing": missing,
            "wrong_table": wrong_table,
            "changed": changed,
            "extra": extra,
        }
        plural = f"{kind}s" if kind != "index" else "indexes"
        if missing or wrong_table:
            parts = []
            if missing:
                parts.append(f"{len(missing)} missing: {_names(missing)}")
            if wrong_table:
                parts.append(f"on the wrong table: {_names(wrong_table)}")
            return FAIL, "; ".join(parts), details
        if changed or extra:
            parts = []
            if changed:
                parts.append(f"definition differs from the migrations': {_names(changed)}")
            if extra:
                parts.append(f"not installed by the migrations: {_names(extra)}")
            return WARN, "; ".join(parts), details
        return PASS, f"all {len(expected)} {plural} present", details

    check.__name__ = f"check_contract_{kind}s"
    return check


#: The condition of ``kernel.services._STALE_CONDITION``: an active attempt that took a
#: lease and holds no active one any more. One parameter: now.
STALE_ATTEMPT_CONDITION = (
    "a.ended_at IS NULL"
    " AND EXISTS (SELECT 1 FROM leases l WHERE l.attempt_id = a.id)"
    " AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.attempt_id = a.id"
    "                  AND l.released_at IS NULL AND l.expires_at > %s)"
)


def check_stale_attempts():
    with _cursor() as cursor:
        cursor.execute(
            f"SELECT a.id FROM attempts a WHERE {STALE_ATTEMPT_CONDITION} ORDER BY a.started_at",
            [_now_text()],
        )
        ids = [row[0] for row in cursor.fetchall()]
    if ids:
        return (
            WARN,
            f"{len(ids)} open attempt(s) whose lease expired: {_names(ids)} "
            "(manage.py maintain ends them)",
            {"attempts": ids[:100], "count": len(ids)},
        )
    return PASS, "no open attempt has an expired lease", {"count": 0}


def check_expired_leases():
    """Leases past their expiry still marked held (not released). They no longer count
    (triggers compare ``expires_at`` with now), but they show holders that went away."""
    now = utc_now()
    with _cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), MIN(expires_at) FROM leases"
            " WHERE released_at IS NULL AND expires_at <= %s",
            [format_timestamp(now)],
        )
        count, oldest = cursor.fetchone()
        upstream = 0
        # coordination_leases: the `motus` tool's own table in a file it shares (SQLite).
        if not is_postgresql() and _sqlite_table_exists(cursor, "coordination_leases"):
            cursor.execute(
                "SELECT COUNT(*) FROM coordination_leases"
                " WHERE status = 'active' AND expires_at <= %s",
                [now.strftime("%Y-%m-%dT%H:%M:%SZ")],
            )
            upstream = cursor.fetchone()[0]
    details = {"leases": count, "oldest_expiry": oldest, "coordination_leases": upstream}
    if count or upstream:
        parts = [f"{count} lease(s) past expiry still held (oldest {oldest})"] if count else []
        if upstream:
            parts.append(f"{upstream} active coordination_leases row(s) past expiry")
        return WARN, "; ".join(parts), details
    return PASS, "no lease is held past its expiry", details


def _sqlite_table_exists(cursor, name: str) -> bool:
    cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [name])
    return cursor.fetchone() is not None


def check_expired_idempotency_keys():
    with _cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), MIN(expires_at) FROM idempotency_keys WHERE expires_at <= %s",
            [_now_text()],
        )
        count, oldest = cursor.fetchone()
        cursor.execute("SELECT COUNT(*) FROM idempotency_keys")
        total = cursor.fetchone()[0]
    details = {"expired": count, "total": total, "oldest_expiry": oldest}
    if count:
        return (
            WARN,
            f"{count} of {total} key(s) expired (oldest {oldest}); manage.py maintain removes them",
            details,
        )
    return PASS, f"none of {total} key(s) expired", details


def check_wal_size():
    wal = Path(f"{database_path()}-wal")
    size = wal.stat().st_size if wal.exists() else 0
    details = {"wal_bytes": size, "warn_above_bytes": WAL_WARN_BYTES}
    if size > WAL_WARN_BYTES:
        return (
            WARN,
            f"{human_bytes(size)}: run manage.py db checkpoint (a long reader may be "
            "holding checkpoints back)",
            details,
        )
    return PASS, human_bytes(size), details


def check_disk_space():
    path = database_path()
    usage = shutil.disk_usage(path.parent)
    used = sum(
        p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()
    )  # a backup or VACUUM needs about this much again
    warn_below = max(DISK_WARN_BYTES, 2 * used)
    details = {"free_bytes": usage.free, "database_bytes": used, "warn_below_bytes": warn_below}
    text = f"{human_bytes(usage.free)} free beside the database"
    if usage.free < max(DISK_FAIL_BYTES, used):
        return FAIL, f"only {text}", details
    if usage.free < warn_below:
        return WARN, f"only {text}", details
    return PASS, text, details


CHECKS: dict[str, Callable] = {
    "database_file": check_database_file,
    "database_server": check_database_server,
    "database_readable": check_database_readable,
    "journal_mode": check_journal_mode,
    "quick_check": check_quick_check,
    "database_writable": check_database_writable,
    "migrations": check_migrations,
    "seed_rows": check_seed_rows,
    "contract_triggers": _contract_objects_check("trigger"),
    "contract_views": _contract_objects_check("view"),
    "contract_indexes": _contract_objects_check("index"),
    "stale_attempts": check_stale_attempts,
    "expired_leases": check_expired_leases,
    "expired_idempotency_keys": check_expired_idempotency_keys,
    "wal_size": check_wal_size,
    "disk_space": check_disk_space,
}

#: What both backends' ``doctor`` checks after the database's own checks.
_SCHEMA_AND_WORK_CHECKS = (
    "migrations",
    "seed_rows",
    "contract_triggers",
    "contract_views",
    "contract_indexes",
    "stale_attempts",
    "expired_leases",
    "expired_idempotency_keys",
)
SQLITE_DOCTOR_CHECKS = (
    "database_file",
    "journal_mode",
    "quick_check",
    "database_writable",
    *_SCHEMA_AND_WORK_CHECKS,
    "wal_size",
    "disk_space",
)
#: ``doctor`` on PostgreSQL: the SQLite file's own checks (file, WAL, quick_check, WAL size,
#: disk beside the file) give way to ``database_server``.
POSTGRESQL_DOCTOR_CHECKS = ("database_server", "database_writable", *_SCHEMA_AND_WORK_CHECKS)
#: ``/healthz``: the process answers and the database can be read. No writes.
SQLITE_LIVENESS_CHECKS = ("database_file", "database_readable")
POSTGRESQL_LIVENESS_CHECKS = ("database_server", "database_readable")
#: ``/readyz``: the database takes writes and has the schema the code expects.
READINESS_CHECKS = (
    "database_writable",
    "migrations",
    "contract_triggers",
    "contract_views",
    "contract_indexes",
)
_POSTGRESQL = connections[DEFAULT_DB_ALIAS].vendor == "postgresql"
#: The lists for this process's database (settings choose it once, at start).
DOCTOR_CHECKS = POSTGRESQL_DOCTOR_CHECKS if _POSTGRESQL else SQLITE_DOCTOR_CHECKS
LIVENESS_CHECKS = POSTGRESQL_LIVENESS_CHECKS if _POSTGRESQL else SQLITE_LIVENESS_CHECKS

#: Checks that need a usable database file; skipped once ``database_file`` fails.
_FILE_INDEPENDENT = frozenset({"database_file", "disk_space"})


def run_checks(names: Iterable[str] = DOCTOR_CHECKS) -> list[CheckResult]:
    """Run the named checks in order; an exception is that check's ``fail``. Once
    ``database_file`` fails, the checks that would open the file are reported as failed
    without running (opening a missing file would create it)."""
    results: list[CheckResult] = []
    file_failed = False
    for name in names:
        if file_failed and name not in _FILE_INDEPENDENT:
            results.append(
                CheckResult(name, FAIL, "skipped: the database file is unusable", {"skipped": True})
            )
            continue
        started = time.perf_counter()
        try:
            status, message, details = CHECKS[name]()
        except Exception as exc:  # a check that cannot run has failed
            status, message, details = FAIL, f"{type(exc).__name__}: {exc}", {}
        duration = (time.perf_counter() - started) * 1000
        results.append(CheckResult(name, status, message, details, duration))
        if name == "database_file" and status == FAIL and not database_path().is_file():
            file_failed = True
    return results


def record_results(results: list[CheckResult]) -> str:
    """Insert one ``health_check_results`` row per result, all with the same
    ``checked_at`` (returned), in one transaction."""
    checked_at = _now_text()
    rows = [
        (
            r.name,
            r.status,
            r.message,
            json.dumps(r.details, separators=(",", ":"), default=str),
            round(r.duration_ms, 3),
            checked_at,
            "system",
        )
        for r in results
    ]
    with transaction.atomic(), _cursor() as cursor:
        cursor.executemany(
            "INSERT INTO health_check_results"
            " (check_name, status, message, details, duration_ms, checked_at, created_by)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    return checked_at


# Expected and live schema objects.


@dataclass(frozen=True)
class SchemaObject:
    kind: str  # trigger | view | index | function (PostgreSQL's trigger functions)
    name: str
    table: str
    sql: str | None  # normalised definition; None when not compared (Django's indexes)
    statement: str | None = None  # the CREATE statement as the migration wrote it
    #: PostgreSQL: the function a trigger executes (its ``sql`` is then that function's
    #: normalised body, which is what the catalog keeps verbatim).
    function: str | None = None


def strip_comments(sql: str) -> str:
    """``sql`` without ``--`` and ``/* */`` comments (quoted text kept as is)."""
    out, i, n = [], 0, len(sql)
    closers = {"'": "'", '"': '"', "`": "`", "[": "]"}
    while i < n:
        ch = sql[i]
        if ch in closers:
            end = sql.find(closers[ch], i + 1)
            while end != -1 and ch != "[" and sql[end + 1 : end + 2] == closers[ch]:
                end = sql.find(closers[ch], end + 2)  # doubled quote inside quotes
            end = n - 1 if end == -1 else end
            out.append(sql[i : end + 1])
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end == -1 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end == -1 else end + 2
            out.append(" ")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def normalise_sql(sql: str) -> str:
    return " ".join(strip_comments(sql).split()).rstrip(";").strip()


_IDENT = r"[\"`\[]?(\w+)[\"`\]]?"
_CREATE = re.compile(
    r"^CREATE\s+(?:TEMP(?:ORARY)?\s+)?(?:UNIQUE\s+)?(TRIGGER|VIEW|INDEX)\s+"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?:{_IDENT}\.)?{_IDENT}",
    re.IGNORECASE,
)
_DROP = re.compile(
    rf"^DROP\s+(TRIGGER|VIEW|INDEX)\s+(?:IF\s+EXISTS\s+)?(?:{_IDENT}\.)?{_IDENT}",
    re.IGNORECASE,
)
_ON_TABLE = re.compile(rf"\bON\s+(?:{_IDENT}\.)?{_IDENT}", re.IGNORECASE)
# PostgreSQL: trigger functions, and the function a trigger executes.
_CREATE_FUNCTION = re.compile(
    rf"^CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(?:{_IDENT}\.)?{_IDENT}\s*\(", re.IGNORECASE
)
_DROP_FUNCTION = re.compile(
    rf"^DROP\s+FUNCTION\s+(?:IF\s+EXISTS\s+)?(?:{_IDENT}\.)?{_IDENT}", re.IGNORECASE
)
_FUNCTION_BODY = re.compile(r"\bAS\s+(\$\w*\$)(.*?)\1", re.IGNORECASE | re.DOTALL)
_EXECUTES = re.compile(
    rf"\bEXECUTE\s+(?:FUNCTION|PROCEDURE)\s+(?:{_IDENT}\.)?{_IDENT}\s*\(", re.IGNORECASE
)


def function_body(statement: str) -> str | None:
    """The normalised body of a ``CREATE FUNCTION … AS $$ body $$`` statement."""
    body = _FUNCTION_BODY.search(statement)
    return normalise_sql(body.group(2)) if body else None


def apply_statement(objects: dict, statement: str) -> None:
    """Replay one SQL statement on ``objects`` ({(kind, name): SchemaObject})."""
    sql = normalise_sql(statement)
    created = _CREATE.match(sql)
    if created:
        kind, name = created.group(1).lower(), created.group(3)
        if kind == "view":
            table = name
        else:
            on = _ON_TABLE.search(sql, created.end())
            table = on.group(2) if on else ""
        executes = _EXECUTES.search(sql) if kind == "trigger" else None
        objects.pop((kind, name), None)  # a re-created object moves to the end
        objects[(kind, name)] = SchemaObject(
            kind, name, table, sql, statement.strip(), executes.group(2) if executes else None
        )
        return
    function = _CREATE_FUNCTION.match(sql)
    if function:
        name = function.group(2)
        objects.pop(("function", name), None)
        objects[("function", name)] = SchemaObject(
            "function", name, "", function_body(statement), statement.strip()
        )
        return
    dropped = _DROP.match(sql)
    if dropped:
        objects.pop((dropped.group(1).lower(), dropped.group(3)), None)
        return
    dropped = _DROP_FUNCTION.match(sql)
    if dropped:
        objects.pop(("function", dropped.group(2)), None)


def _migration_statements(migration, vendor: str) -> list[str]:
    from django.apps import apps
    from django.db import migrations as ops

    from system.sqlfiles import LoadSQL, read_statements, split_statements

    app_path = apps.get_app_config(migration.app_label).path
    statements: list[str] = []

    def visit(operations):
        for op in operations:
            if isinstance(op, LoadSQL):
                statements.extend(read_statements(app_path, vendor, op.name))
            elif isinstance(op, ops.RunSQL):
                parts = [op.sql] if isinstance(op.sql, str) else list(op.sql)
                for part in parts:
                    text = part[0] if isinstance(part, list | tuple) else part
                    if isinstance(text, str):
                        statements.extend(split_statements(text, vendor))
            elif isinstance(op, ops.SeparateDatabaseAndState):
                visit(op.database_operations)

    visit(migration.operations)
    return statements


@functools.cache
def expected_objects(vendor: str = "sqlite") -> dict[tuple[str, str], SchemaObject]:
    """The triggers, views and indexes the migrations on disk install, by (kind, name)."""
    from django.db.migrations.loader import MigrationLoader
    from django.db.models import UniqueConstraint

    loader = MigrationLoader(None, ignore_no_migrations=True)
    graph = loader.graph
    plan: list = []
    seen: set = set()
    for leaf in sorted(graph.leaf_nodes()):
        for node in graph.forwards_plan(leaf):
            if node not in seen:
                seen.add(node)
                plan.append(node)
    objects: dict[tuple[str, str], SchemaObject] = {}
    for node in plan:
        for statement in _migration_statements(graph.nodes[node], vendor):
            apply_statement(objects, statement)
    state = loader.project_state()
    for (app_label, model_name), model in state.models.items():
        if app_label not in CONTRACT_APPS or not model.options.get("managed", True):
            continue
        table = model.options.get("db_table") or f"{app_label}_{model_name}"
        named = [index.name for index in model.options.get("indexes", [])]
        named += [
            c.name
            for c in model.options.get("constraints", [])
            if isinstance(c, UniqueConstraint) and (c.condition is not None or c.expressions)
        ]
        for name in named:
            objects.setdefault(("index", name), SchemaObject("index", name, table, None))
    if vendor != "sqlite":
        # A PostgreSQL trigger is compared through the body of the function it executes;
        # views and indexes by presence and table (the catalog re-words their SQL).
        for key, obj in objects.items():
            if obj.kind == "trigger":
                function = objects.get(("function", obj.function or ""))
                objects[key] = dataclasses.replace(obj, sql=function.sql if function else None)
            elif obj.kind in ("view", "index"):
                objects[key] = dataclasses.replace(obj, sql=None)
    return {
        key: obj
        for key, obj in objects.items()
        if not obj.table.lower().startswith(FOREIGN_TABLE_PREFIXES)
    }


#: The live objects of each kind on PostgreSQL (this schema, PostgreSQL's own internal
#: triggers for foreign keys left out): name, table, and what is compared.
_PG_LIVE_SQL = {
    "trigger": (
        "SELECT t.tgname, c.relname, p.prosrc FROM pg_trigger t"
        " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid"
        " WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"
    ),
    "view": "SELECT viewname, viewname, NULL FROM pg_views WHERE schemaname = current_schema()",
    "index": (
        "SELECT indexname, tablename, NULL FROM pg_indexes WHERE schemaname = current_schema()"
    ),
}


def live_objects(kind: str) -> dict[str, SchemaObject]:
    """The database's objects of ``kind`` by name (SQLite's own autoindexes left out)."""
    with _cursor() as cursor:
        if is_postgresql():
            cursor.execute(_PG_LIVE_SQL[kind])
        else:
            cursor.execute(
                "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = %s"
                " AND name NOT LIKE 'sqlite_%%'",
                [kind],
            )
        rows = cursor.fetchall()
    return {
        name: SchemaObject(kind, name, table or "", normalise_sql(sql) if sql else None)
        for name, table, sql in rows
        if not (kind == "index" and name in UPSTREAM_INDEXES)
    }


# Maintenance steps (``manage.py maintain``, ``manage.py db``).


def purge_expired_idempotency_keys() -> int:
    """Delete the keys whose ``expires_at`` has passed; returns how many."""
    with transaction.atomic(), _cursor() as cursor:
        cursor.execute("DELETE FROM idempotency_keys WHERE expires_at <= %s", [_now_text()])
        return cursor.rowcount


def prune_health_window() -> int:
    """Delete ``health_check_results`` rows older than 7 days: what the contract's
    ``health_check_cleanup`` trigger does on every insert, for when nothing was inserted."""
    week_ago = format_timestamp(utc_now() - dt.timedelta(days=7))
    with transaction.atomic(), _cursor() as cursor:
        cursor.execute("DELETE FROM health_check_results WHERE checked_at < %s", [week_ago])
        return cursor.rowcount


CHECKPOINT_MODES = ("passive", "full", "restart", "truncate")


def wal_checkpoint(mode: str = "truncate", timeout_ms: int = 5000) -> dict:
    """``PRAGMA wal_checkpoint(MODE)``. FULL, RESTART and TRUNCATE hold new writers back
    while they wait for readers, so they wait at most ``timeout_ms`` (then report busy).

    SQLite reports the WAL's frames and how many were copied (both 0 after a successful
    TRUNCATE, which empties the WAL); the WAL file's size before and after is added."""
    require_sqlite(
        "A WAL checkpoint",
        "the server checkpoints by itself (a superuser may run CHECKPOINT)",
    )
    mode = mode.lower()
    if mode not in CHECKPOINT_MODES:
        raise ValueError(f"checkpoint mode must be one of {', '.join(CHECKPOINT_MODES)}")
    wal = Path(f"{database_path()}-wal")
    before = wal.stat().st_size if wal.exists() else 0
    with busy_timeout(timeout_ms), _cursor() as cursor:
        cursor.execute(f"PRAGMA wal_checkpoint({mode.upper()})")
        busy, log_frames, checkpointed = cursor.fetchone()
    return {
        "mode": mode,
        "busy": bool(busy),
        "wal_frames": log_frames,
        "checkpointed_frames": checkpointed,
        "wal_bytes_before": before,
        "wal_bytes": wal.stat().st_size if wal.exists() else 0,
    }


def describe_checkpoint(result: dict) -> str:
    hb = human_bytes
    sizes = f"WAL {hb(result['wal_bytes_before'])} -> {hb(result['wal_bytes'])}"
    if result["busy"]:
        return (
            f"busy (a reader or writer kept it from finishing): {result['checkpointed_frames']}"
            f" of {result['wal_frames']} WAL frames copied; {sizes}"
        )
    if result["wal_frames"] > 0:
        return f"done: all {result['wal_frames']} WAL frames copied; {sizes}"
    return f"done; {sizes}"
