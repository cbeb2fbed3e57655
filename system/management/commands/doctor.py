"""``doctor``: check coordination.db and record the results (what ``motus doctor`` does).

Runs :data:`system.health.DOCTOR_CHECKS` (file and folder permissions, WAL mode, ``PRAGMA
quick_check``, a rolled-back write, migrations applied, the seed rows, every trigger, view
and index the migrations install, stale attempts, leases held past expiry, expired
idempotency keys, WAL size, free disk space), writes one ``health_check_results`` row per
check, prints a table (or JSON with ``--json``) and exits 1 when a check failed. Warnings
do not change the exit status.

On PostgreSQL the SQLite file's checks (file, WAL, quick_check, WAL size, disk) give way to
``database_server``; ``--sql`` prints PostgreSQL's statements (a trigger with its function).
"""

import json

from django.core.management.base import BaseCommand

from system import health

STATUS_LABELS = {health.PASS: "ok", health.WARN: "WARN", health.FAIL: "FAIL"}


class Command(BaseCommand):
    help = (
        "Check the database (permissions, WAL, integrity, contract triggers/views/indexes, "
        "migrations, stale work, disk) and record the results; exit 1 when a check fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
        parser.add_argument(
            "--no-record",
            action="store_true",
            help="Do not write the results into health_check_results.",
        )
        parser.add_argument(
            "--sql",
            action="store_true",
            help="Also print the SQL that re-creates missing or changed triggers and views "
            "and re-inserts missing seed rows (as the migrations define them), to review and "
            "run with sqlite3 (psql on PostgreSQL).",
        )

    def handle(self, *args, **options):
        results = health.run_checks(health.DOCTOR_CHECKS)
        status = health.overall(results)
        recorded, record_error = None, None
        if not options["no_record"] and not _file_unusable(results):
            try:
                recorded = health.record_results(results)
            except Exception as exc:  # report it; the checks' own verdict still stands
                record_error = f"{type(exc).__name__}: {exc}"
                status = health.FAIL
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "status": status,
                        "database": health.database_label(),
                        "recorded_at": recorded,
                        "record_error": record_error,
                        "checks": [r.as_dict() for r in results],
                    },
                    indent=2,
                    default=str,
                )
            )
        else:
            self._print_table(results, status, recorded, record_error)
        if options["sql"]:
            self.stdout.write(repair_sql(results))
        if status == health.FAIL:
            raise SystemExit(1)

    def _print_table(self, results, status, recorded, record_error):
        width = max(len(r.name) for r in results)
        self.stdout.write(f"Database: {health.database_label()}")
        self.stdout.write(f"{'check'.ljust(width)}  status  message")
        for r in results:
            label = STATUS_LABELS[r.status]
            line = f"{r.name.ljust(width)}  {label.ljust(6)}  {r.message}"
            style = {health.PASS: str, health.WARN: self.style.WARNING}.get(
                r.status, self.style.ERROR
            )
            self.stdout.write(style(line))
        failed = sum(r.status == health.FAIL for r in results)
        warned = sum(r.status == health.WARN for r in results)
        summary = f"{len(results)} checks: {failed} failed, {warned} warning(s)."
        if recorded:
            summary += f" Recorded in health_check_results at {recorded} UTC."
        elif record_error:
            summary += f" Could not record them: {record_error}"
        else:
            summary += " Not recorded."
        self.stdout.write(
            self.style.ERROR(summary) if status == health.FAIL else self.style.SUCCESS(summary)
        )


def repair_sql(results) -> str:
    """The statements that re-create the missing or changed triggers and views, as the
    migrations wrote them, and re-insert the missing seed rows. Triggers on one table fire
    in creation order, so every trigger of an affected table is re-created, in the
    migrations' order."""
    broken = {"trigger": set(), "view": set()}
    seeds = []
    for r in results:
        kind = {"contract_triggers": "trigger", "contract_views": "view"}.get(r.name)
        if kind:
            broken[kind].update(r.details.get("missing", []), r.details.get("changed", []))
        if r.name == "seed_rows":
            seeds = [s.rstrip(";") + ";" for s in r.details.get("statements", [])]
    if health.is_postgresql():
        return _postgresql_repair_sql(broken, seeds)
    expected = health.expected_objects()
    tables = {
        expected[("trigger", n)].table for n in broken["trigger"] if ("trigger", n) in expected
    }
    statements = []
    for (kind, name), obj in expected.items():
        if (kind == "trigger" and obj.table in tables) or (
            kind == "view" and name in broken["view"]
        ):
            statements.append(
                f"DROP {kind.upper()} IF EXISTS {name};\n{obj.statement.rstrip(';')};"
            )
    statements += seeds
    if not statements:
        return "-- nothing to re-create"
    return "BEGIN IMMEDIATE;\n" + "\n".join(statements) + "\nCOMMIT;"


def _postgresql_repair_sql(broken, seeds) -> str:
    """PostgreSQL fires a table's triggers in name order, whatever their creation order, so
    only the broken ones are re-created: each with its function first. A seed row with an
    explicit id is followed by its table's identity sequence moved past it."""
    expected = health.expected_objects("postgresql")
    statements = []
    for (kind, name), obj in expected.items():
        if name not in broken.get(kind, ()):
            continue
        if kind == "trigger":
            function = expected.get(("function", obj.function or ""))
            if function is not None:
                statements.append(function.statement.rstrip(";") + ";")
            statements.append(f"DROP TRIGGER IF EXISTS {name} ON {obj.table};")
        else:
            statements.append(f"DROP VIEW IF EXISTS {name};")
        statements.append(obj.statement.rstrip(";") + ";")
    statements += seeds
    for table in dict.fromkeys(filter(None, map(_table_given_ids, seeds))):
        statements.append(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" (SELECT MAX(id) FROM {table}));"
        )
    if not statements:
        return "-- nothing to re-create"
    return "BEGIN;\n" + "\n".join(statements) + "\nCOMMIT;"


def _table_given_ids(statement: str) -> str | None:
    """The table of a seed insert that gives its ``id`` (an identity column on PostgreSQL)."""
    insert = health._SEED_INSERT.match(health.normalise_sql(statement))
    columns = [c.strip() for c in insert.group(2).split(",")] if insert else []
    return insert.group(1) if "id" in columns else None


def _file_unusable(results) -> bool:
    return any(r.details.get("skipped") for r in results)
