"""``db checkpoint|vacuum|analyze|stats|integrity|lock-info``: what ``motus db`` does.

- ``checkpoint [--mode passive|full|restart|truncate] [--timeout-ms N]``: fold the WAL into
  the database file (default TRUNCATE, which also empties the ``-wal`` file). FULL, RESTART
  and TRUNCATE hold new writers back while they wait for readers, so they wait at most
  ``--timeout-ms`` (default 5000) and then report "busy" instead.
- ``vacuum``: rebuild the file without free pages. Holds the write lock for its whole run
  (every writer, the `motus` tool's included, waits) and needs about the file's size again
  in free disk: run it in a quiet moment.
- ``analyze``: refresh the query planner's statistics (``ANALYZE``, then ``PRAGMA optimize``).
- ``stats [--json]``: file, WAL and page figures, free pages, and rows (and size, where
  SQLite has the ``dbstat`` table) per table.
- ``integrity [--json]``: ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check``; exits 1
  on any problem.
- ``lock-info [--json]``: who has the file open and which SQLite locks they hold (Linux:
  ``/proc/locks``), whether the write lock is free right now, whether a checkpoint can
  complete, and the active leases (the coordination locks agents hold).

On PostgreSQL: ``vacuum`` and ``analyze`` run PostgreSQL's ``VACUUM`` and ``ANALYZE``;
``stats`` gives the database's size and rows and size per table; ``lock-info`` lists the
other sessions on the database (their transaction, the locks they hold or wait for, who
blocks them, their advisory locks: the kernel's ``serialize`` keys) and the active leases.
``checkpoint`` and ``integrity`` are about the SQLite file: they say what to use instead and
exit 1.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, transaction

from system import health
from system.fields import format_timestamp, utc_now

#: SQLite's lock bytes (os_unix.c / wal.c). On the database file: PENDING, RESERVED and the
#: SHARED range; on the ``-shm`` file (WAL mode): the WAL's own locks.
DB_PENDING = 0x40000000
DB_RESERVED = DB_PENDING + 1
DB_SHARED_FIRST = DB_PENDING + 2
SHM_LOCKS = {
    120: "WAL write lock",
    121: "checkpoint lock",
    122: "recovery lock",
    128: "WAL-index in use",
}
SHM_READ_FIRST, SHM_READ_LAST = 123, 127


class Command(BaseCommand):
    help = "Database maintenance: checkpoint, vacuum, analyze, stats, integrity, lock-info."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        checkpoint = sub.add_parser("checkpoint", help="Fold the WAL into the database file.")
        checkpoint.add_argument(
            "--mode",
            choices=health.CHECKPOINT_MODES,
            default="truncate",
            help="default: %(default)s",
        )
        checkpoint.add_argument("--timeout-ms", type=int, default=5000)
        sub.add_parser("vacuum", help="Rebuild the file without free pages (blocks writers).")
        sub.add_parser("analyze", help="Refresh the query planner's statistics.")
        for name, text in (
            ("stats", "Sizes, pages and rows per table."),
            ("integrity", "integrity_check and foreign_key_check; exit 1 on problems."),
            ("lock-info", "Who holds which lock, and the active leases."),
        ):
            sub.add_parser(name, help=text).add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        action = options["action"].replace("-", "_")
        try:
            getattr(self, f"do_{action}")(options)
        except health.SQLiteOnly as exc:
            raise CommandError(str(exc)) from None

    # checkpoint, vacuum, analyze

    def do_checkpoint(self, options):
        result = health.wal_checkpoint(options["mode"], options["timeout_ms"])
        self.stdout.write(
            f"Checkpoint {result['mode'].upper()}: {health.describe_checkpoint(result)}."
        )

    def do_vacuum(self, options):
        if health.is_postgresql():
            before = _pg_database_size()
            started = time.monotonic()
            with connection.cursor() as cursor:
                cursor.execute("VACUUM")  # Django's connection is in autocommit here
            self.stdout.write(
                f"VACUUM done in {time.monotonic() - started:.2f} s: "
                f"{health.human_bytes(before)} -> {health.human_bytes(_pg_database_size())}."
            )
            return
        path = health.database_path()
        before = _size(path)
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")
        health.wal_checkpoint("truncate")
        after = _size(path)
        self.stdout.write(
            f"VACUUM done in {time.monotonic() - started:.2f} s: "
            f"{health.human_bytes(before)} -> {health.human_bytes(after)}."
        )

    def do_analyze(self, options):
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            if not health.is_postgresql():
                cursor.execute("PRAGMA optimize")
        self.stdout.write(f"ANALYZE done in {time.monotonic() - started:.2f} s.")

    # stats

    def do_stats(self, options):
        stats = database_stats()
        if options["json"]:
            self.stdout.write(json.dumps(stats, indent=2))
            return
        hb = health.human_bytes
        self.stdout.write(f"Database: {stats['path']}")
        if health.is_postgresql():
            self.stdout.write(
                f"database {hb(stats['database_bytes'])}, PostgreSQL {stats['server_version']}"
            )
        else:
            self.stdout.write(
                f"file {hb(stats['file_bytes'])}, WAL {hb(stats['wal_bytes'])}, "
                f"journal mode {stats['journal_mode']}, page size {stats['page_size']}, "
                f"{stats['page_count']} pages ({stats['freelist_count']} free), "
                f"SQLite {stats['sqlite_version']}"
            )
        width = max((len(t) for t in stats["tables"]), default=5)
        self.stdout.write(f"{'table'.ljust(width)}  {'rows':>10}  {'size':>10}")
        for table, info in stats["tables"].items():
            size = hb(info["bytes"]) if info["bytes"] is not None else "-"
            self.stdout.write(f"{table.ljust(width)}  {info['rows']:>10}  {size:>10}")

    # integrity

    def do_integrity(self, options):
        health.require_sqlite(
            "db integrity (PRAGMA integrity_check and foreign_key_check)",
            "run pg_amcheck (the amcheck extension) for tables and indexes; the server "
            "enforces every foreign key at each statement",
        )
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA integrity_check")
            integrity = [row[0] for row in cursor.fetchall()]
            cursor.execute("PRAGMA foreign_key_check")
            foreign = [
                {"table": t, "rowid": rowid, "parent": parent, "fkid": fkid}
                for t, rowid, parent, fkid in cursor.fetchall()
            ]
        ok = integrity == ["ok"] and not foreign
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {"ok": ok, "integrity_check": integrity, "foreign_key_check": foreign},
                    indent=2,
                )
            )
        else:
            self.stdout.write(f"integrity_check: {'; '.join(integrity[:20])}")
            if foreign:
                self.stdout.write(f"foreign_key_check: {len(foreign)} broken reference(s):")
                for row in foreign[:20]:
                    self.stdout.write(
                        f"  {row['table']} rowid {row['rowid']} -> {row['parent']} (missing)"
                    )
            else:
                self.stdout.write("foreign_key_check: ok")
        if not ok:
            raise SystemExit(1)

    # lock-info

    def do_lock_info(self, options):
        info = pg_lock_info() if health.is_postgresql() else lock_info()
        if options["json"]:
            self.stdout.write(json.dumps(info, indent=2, default=str))
            return
        if health.is_postgresql():
            self._print_pg_lock_info(info)
            return
        self.stdout.write(f"Database: {info['path']}")
        self.stdout.write(f"write lock: {info['write_lock']}")
        self.stdout.write(f"checkpoint: {info['checkpoint']}")
        if info["processes"] is None:
            self.stdout.write("processes: unknown (no /proc/locks on this system)")
        elif not info["processes"]:
            self.stdout.write("processes: none holds a lock on the file")
        for proc in info["processes"] or []:
            self.stdout.write(f"pid {proc['pid']} ({proc['command']}): {', '.join(proc['locks'])}")
        self._print_leases(info["active_leases"])

    def _print_pg_lock_info(self, info):
        self.stdout.write(f"Database: {info['path']}")
        sessions = info["sessions"]
        self.stdout.write(f"other sessions: {len(sessions)}")
        for s in sessions:
            line = f"pid {s['pid']} ({s['application'] or s['backend_type']}): {s['state']}"
            if s["transaction_seconds"] is not None:
                line += f", transaction open {s['transaction_seconds']:.1f} s"
            line += f", {s['locks_held']} lock(s) held"
            if s["advisory_locks"]:
                line += f" ({s['advisory_locks']} advisory)"
            if s["locks_waiting"]:
                line += f", WAITING for {s['locks_waiting']} lock(s)"
            if s["blocked_by"]:
                line += f", blocked by pid {', '.join(map(str, s['blocked_by']))}"
            self.stdout.write(line)
        self._print_leases(info["active_leases"])

    def _print_leases(self, leases):
        self.stdout.write(f"active leases: {len(leases)}")
        for lease in leases[:50]:
            self.stdout.write(
                f"  {lease['mode']} {lease['resource_type']}:{lease['resource_id']} held by "
                f"{lease['worker_id']} until {lease['expires_at']}"
            )


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _pg_database_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


def _table_rows(cursor, tables, sizes, has_sizes) -> dict:
    result = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        result[table] = {
            "rows": cursor.fetchone()[0],
            "bytes": sizes.get(table, 0) if has_sizes else None,
        }
    return result


def pg_database_stats() -> dict:
    """PostgreSQL: the database's size and version, rows and size (with indexes and TOAST)
    per table of this schema."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), pg_database_size(current_database())"
        )
        version, size = cursor.fetchone()
        cursor.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
            " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
            " ORDER BY c.relname"
        )
        sizes = dict(cursor.fetchall())
        return {
            "path": health.database_label(),
            "vendor": "postgresql",
            "server_version": version,
            "database_bytes": size,
            "tables": _table_rows(cursor, sorted(sizes), sizes, True),
        }


def database_stats() -> dict:
    if health.is_postgresql():
        return pg_database_stats()
    path = health.database_path()
    with connection.cursor() as cursor:

        def pragma(name):
            cursor.execute(f"PRAGMA {name}")
            return cursor.fetchone()[0]

        stats = {
            "path": str(path),
            "file_bytes": _size(path),
            "wal_bytes": _size(Path(f"{path}-wal")),
            "journal_mode": pragma("journal_mode"),
            "page_size": pragma("page_size"),
            "page_count": pragma("page_count"),
            "freelist_count": pragma("freelist_count"),
        }
        cursor.execute("SELECT sqlite_version()")
        stats["sqlite_version"] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%%' ORDER BY name"
        )
        tables = [row[0] for row in cursor.fetchall()]
        sizes: dict[str, int] = {}
        try:  # dbstat: table plus its indexes, where SQLite was built with it
            cursor.execute(
                "SELECT m.tbl_name, SUM(s.pgsize) FROM dbstat s"
                " JOIN sqlite_master m ON m.name = s.name GROUP BY m.tbl_name"
            )
            sizes = dict(cursor.fetchall())
            has_dbstat = True
        except DatabaseError:
            has_dbstat = False
        stats["tables"] = _table_rows(cursor, tables, sizes, has_dbstat)
    return stats


def _write_lock_state() -> str:
    """Try to take the write lock without waiting."""
    try:
        with health.busy_timeout(0), transaction.atomic():
            connection.cursor().execute("SELECT 1")  # BEGIN IMMEDIATE has run
        return "free"
    except DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return "held by another connection (a write transaction is running)"
        raise


def _checkpoint_state() -> str:
    """A PASSIVE checkpoint (never waits, never blocks anyone): what it could not copy is held
    back by a reader on an older snapshot or by a running write."""
    result = health.wal_checkpoint("passive")
    left = result["wal_frames"] - result["checkpointed_frames"]
    if result["wal_frames"] <= 0:
        return "WAL empty"
    if left > 0:
        return (
            f"{left} of {result['wal_frames']} WAL frames cannot be copied yet (a reader is "
            "on an older snapshot, or a write is running)"
        )
    return f"all {result['wal_frames']} WAL frames copied into the database file"


def _proc_locks(path: Path) -> list[dict] | None:
    """Holders of POSIX locks on the database and its ``-shm`` file, from ``/proc/locks``."""
    try:
        text = Path("/proc/locks").read_text()
    except OSError:
        return None
    files = {}
    for suffix, kind in (("", "db"), ("-shm", "shm")):
        p = Path(f"{path}{suffix}")
        if p.exists():
            st = p.stat()
            files[(os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)] = kind
    holders: dict[int, set[str]] = {}
    for line in text.splitlines():
        parts = line.split()
        if "->" in parts:  # a waiter: "1: -> POSIX ..."
            parts.remove("->")
        if len(parts) < 8 or parts[1] not in ("POSIX", "OFDLCK"):
            continue
        lock_type, pid, dev_ino, start = parts[3], parts[4], parts[5], parts[6]
        try:
            major, minor, inode = dev_ino.split(":")
            key = (int(major, 16), int(minor, 16), int(inode))
            first, pid = int(start), int(pid)
        except ValueError:
            continue
        kind = files.get(key)
        if kind is None:
            continue
        holders.setdefault(pid, set()).add(_describe_lock(kind, lock_type, first))
    processes = []
    for pid, locks in sorted(holders.items()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            command = "?"
        if pid == os.getpid():
            command = "this command"
        processes.append(
            {"pid": pid, "command": " ".join(command.split())[:120], "locks": sorted(locks)}
        )
    return processes


def _describe_lock(kind: str, lock_type: str, first: int) -> str:
    mode = "exclusive" if lock_type == "WRITE" else "shared"
    if kind == "db":
        if first == DB_PENDING:
            return f"database PENDING ({mode})"
        if first == DB_RESERVED:
            return "database RESERVED (writing, rollback journal)"
        if first >= DB_SHARED_FIRST:
            return "database EXCLUSIVE" if lock_type == "WRITE" else "database open (shared)"
        return f"database byte {first} ({mode})"
    if SHM_READ_FIRST <= first <= SHM_READ_LAST:
        return f"WAL read mark {first - SHM_READ_FIRST} ({mode}: reading)"
    return f"{SHM_LOCKS.get(first, f'shm byte {first}')} ({mode})"


def _active_leases(now: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, resource_type, resource_id, mode, worker_id, attempt_id, expires_at"
            " FROM leases WHERE released_at IS NULL AND expires_at > %s"
            " ORDER BY expires_at",
            [now],
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


#: PostgreSQL's sessions on this database other than this command's, with their locks.
_PG_SESSIONS_SQL = """
SELECT a.pid, a.application_name, a.backend_type, a.state,
       EXTRACT(EPOCH FROM (clock_timestamp() - a.xact_start))::float8,
       a.wait_event_type, a.wait_event, pg_blocking_pids(a.pid),
       (SELECT COUNT(*) FROM pg_locks l WHERE l.pid = a.pid AND l.granted),
       (SELECT COUNT(*) FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted),
       (SELECT COUNT(*) FROM pg_locks l
         WHERE l.pid = a.pid AND l.granted AND l.locktype = 'advisory')
FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
ORDER BY a.xact_start NULLS LAST, a.pid
"""


def pg_lock_info() -> dict:
    """PostgreSQL has no database-wide write lock: who is connected, who holds or waits for
    which locks (and who blocks them), and the active leases."""
    now = format_timestamp(utc_now())
    with connection.cursor() as cursor:
        cursor.execute(_PG_SESSIONS_SQL)
        sessions = [
            {
                "pid": pid,
                "application": application,
                "backend_type": backend_type,
                "state": state,
                "transaction_seconds": None if seconds is None else round(seconds, 1),
                "wait_event": f"{wait_type}:{wait_event}" if wait_type else None,
                "blocked_by": list(blocked_by),
                "locks_held": held,
                "locks_waiting": waiting,
                "advisory_locks": advisory,
            }
            for (
                pid,
                application,
                backend_type,
                state,
                seconds,
                wait_type,
                wait_event,
                blocked_by,
                held,
                waiting,
                advisory,
            ) in cursor.fetchall()
        ]
    return {
        "path": health.database_label(),
        "sessions": sessions,
        "active_leases": _active_leases(now),
        "checked_at": now,
    }


def lock_info() -> dict:
    path = health.database_path()
    now = format_timestamp(utc_now())
    leases = _active_leases(now)
    return {
        "path": str(path),
        "write_lock": _write_lock_state(),
        "checkpoint": _checkpoint_state(),
        "processes": _proc_locks(path),
        "active_leases": leases,
        "checked_at": now,
    }
