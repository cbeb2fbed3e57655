"""``backup PATH``: a consistent online snapshot of coordination.db, verified.

Safe while the server and the `motus` tool keep writing. The copy is taken with SQLite's
online backup API in a single step, inside one read transaction that also counts the rows
of every table: in WAL mode a reader sees one committed state of the file for as long as its
transaction lasts and writers go on meanwhile, so the copy is exactly the database as of
one commit (a prefix of the writes, never a torn mix) and the counts are that state's.

The copy is written beside the target as ``PATH.partial``, switched to the rollback journal
(one self-contained file, no ``-wal``/``-shm``), checked with ``PRAGMA integrity_check`` and
against the counts, then renamed to PATH (mode 0600). A PATH that is a folder gets a
``coordination-YYYYMMDD-HHMMSS.db`` inside it. Restoring is described in the README
(*Operations*).

On PostgreSQL there is no file to copy: the command says so, names ``pg_dump`` (and base
backups with WAL archiving for point-in-time recovery) and exits 1.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from system import health


def snapshot(source: Path, target: Path, *, timeout: float = 30.0) -> dict:
    """Copy ``source`` into ``target`` (a new file) and verify the copy; returns a report.

    Raises ``CommandError`` when the copy does not verify (``target`` is then removed)."""
    started = time.monotonic()
    src = sqlite3.connect(f"file:{source}?mode=rw", uri=True, timeout=timeout)
    src.isolation_level = None
    dst = None
    try:
        src.execute("BEGIN")  # one read snapshot for the counts and the copy
        tables = [
            row[0]
            for row in src.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        counts = {t: src.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
        dst = sqlite3.connect(target)
        src.backup(dst)  # pages=-1: the whole file in one step, within the snapshot
        src.execute("COMMIT")
        copied = time.monotonic()
        dst.execute("PRAGMA journal_mode=DELETE")
        integrity = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        copy_counts = {t: dst.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
        dst.close()
        dst = None
    finally:
        if dst is not None:
            dst.close()
        src.close()
    problems = []
    if integrity != ["ok"]:
        problems.append(f"integrity_check: {'; '.join(integrity[:5])}")
    differing = [t for t in tables if copy_counts[t] != counts[t]]
    if differing:
        problems.append(f"row counts differ in {', '.join(differing)}")
    if problems:
        target.unlink(missing_ok=True)
        raise CommandError(f"The copy did not verify ({'; '.join(problems)}); removed it.")
    return {
        "tables": len(tables),
        "rows": sum(counts.values()),
        "counts": counts,
        "integrity_check": "ok",
        "copy_seconds": round(copied - started, 3),
        "total_seconds": round(time.monotonic() - started, 3),
    }


class Command(BaseCommand):
    help = (
        "Take a consistent online snapshot of the database into PATH (a file, or a folder "
        "for a timestamped file) while others keep writing; verify it and print its size."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="Target file, or an existing folder.")
        parser.add_argument(
            "--force", action="store_true", help="Replace PATH if it already exists."
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **options):
        try:
            health.require_sqlite(
                "backup",
                f"use pg_dump --format=custom --file=PATH '{health.database_label()}' "
                "(pg_restore reads it back), or pg_basebackup with WAL archiving for "
                "point-in-time recovery",
            )
        except health.SQLiteOnly as exc:
            raise CommandError(str(exc)) from None
        source = health.database_path()
        if not source.is_file() or source.stat().st_size == 0:
            raise CommandError(f"No database to back up at {source}.")
        target = Path(options["path"]).expanduser()
        if target.is_dir():
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
            target = target / f"coordination-{stamp}.db"
        target = target.resolve()
        if target == source.resolve() or target.name.startswith(source.name + "-"):
            raise CommandError("The backup must not overwrite the database or its side files.")
        if target.exists() and not options["force"]:
            raise CommandError(f"{target} exists; use --force to replace it.")
        if not target.parent.is_dir():
            raise CommandError(f"No folder {target.parent}.")
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        try:
            report = snapshot(source, partial)
            with open(partial, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
            Path(f"{partial}-journal").unlink(missing_ok=True)
        size = target.stat().st_size
        report = {"source": str(source), "path": str(target), "size_bytes": size, **report}
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write(
            f"Backed up {source} to {target}: {health.human_bytes(size)} ({size} bytes), "
            f"{report['tables']} tables, {report['rows']} rows, integrity_check ok, row "
            f"counts match; copied in {report['copy_seconds']:.2f} s."
        )
