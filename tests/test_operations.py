"""Operations: ``doctor``, ``/healthz`` and ``/readyz``, ``backup``, ``db``, ``maintain``.

The commands run as an operator runs them: ``manage.py`` in a subprocess on a real file (a
copy of a freshly migrated database), changed behind their back with plain ``sqlite3`` the
way the `motus` tool or a careless table rebuild would. The endpoints run through Django's
test client on the pytest-django test database.

On PostgreSQL the same doctor, maintain and endpoint tests run on a database of the test
cluster (changed through ``backends.PgConnection``); what is about the SQLite file (backups
of it, WAL checkpoints, ``PRAGMA`` checks, its locks) is ``sqlite_only``, and
``postgresql_only`` tests check that those commands say what to use there instead, and
PostgreSQL's own ``db stats``/``lock-info`` and lock waits.
"""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import textwrap

import backends
import pytest
from conftest import manage
from contract_ddl import contract
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from kernel_rows import now
from schema_diff import connect

from kernel import services
from system import health

# -- the expected objects ----------------------------------------------------------------


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_the_objects_derived_from_the_migrations_are_the_contracts(vendor):
    """What doctor expects (derived from the migrations' SQL and model state) is exactly
    the contract's list of triggers, views and indexes, each on its table: from either
    backend's SQL files (read, not run: both are checked on either backend)."""
    c = contract()
    expected = health.expected_objects(vendor)

    def of(kind):
        return {name: obj.table for (k, name), obj in expected.items() if k == kind}

    assert of("trigger") == {t["name"]: t["table"] for t in c["triggers"]}
    assert set(of("view")) == {v["name"] for v in c["views"]}
    assert of("index") == {i["name"]: i["table"] for i in c["indexes"]}
    if vendor == "postgresql":  # each trigger is compared through its function's body
        functions = {name for (k, name) in expected if k == "function"}
        for (kind, name), obj in expected.items():
            if kind == "trigger":
                assert obj.function in functions and obj.sql, name


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_every_seed_insert_is_checked_by_its_key(vendor):
    """Each INSERT of the seed files gives doctor a key to find its row by (none left
    unchecked): the contract's seed, its 20 schema_version rows and this app's own two."""
    c = contract()
    seeds = health.seed_statements(vendor)
    tables = [table for table, _, _ in seeds]
    assert {t: tables.count(t) for t in dict.fromkeys(tables)} == {
        "terminology": len(c["seed"]["terminology"]) + 1,  # + roadmap_status/review
        "instance_config": len(c["seed"]["instance_config"]) + 1,  # + review_required
        "resource_quotas": len(c["seed"]["resource_quotas"]),
        "circuit_breakers": len(c["seed"]["circuit_breakers"]),
        "extension_points": len(c["seed"]["extension_points"]),
        "schema_version": len(c["schema_version"]["rows"]),
    }


def test_doctor_counts_stale_attempts_as_the_kernel_does():
    assert health.STALE_ATTEMPT_CONDITION == services._STALE_CONDITION.replace("?", "%s")


def test_statement_parsing_follows_create_and_drop_in_order():
    objects: dict = {}
    for statement in [
        '-- a comment\nCREATE TRIGGER t1 BEFORE UPDATE OF a, b ON "x" BEGIN SELECT 1; END;',
        "CREATE VIEW v1 AS SELECT '--not a comment' AS c;",
        "CREATE UNIQUE INDEX IF NOT EXISTS i1 ON y (a) WHERE b = 'on z';",
        "DROP TRIGGER IF EXISTS t1;",
        "CREATE TRIGGER t1 AFTER INSERT ON x BEGIN SELECT 2; END;",
        "DROP VIEW v1;",
    ]:
        health.apply_statement(objects, statement)
    assert list(objects) == [("index", "i1"), ("trigger", "t1")]
    assert objects[("trigger", "t1")].table == "x"
    assert "SELECT 2" in objects[("trigger", "t1")].sql
    assert objects[("index", "i1")].table == "y"
    assert health.normalise_sql("SELECT '--x'  -- y\n,  1") == "SELECT '--x' , 1"


# -- doctor on a real file ---------------------------------------------------------------


def doctor(path, *args):
    result = manage(path, "doctor", "--json", *args, check=False)
    return result.returncode, json.loads(result.stdout)


def checks_of(report) -> dict:
    return {c["name"]: c for c in report["checks"]}


def health_rows(path) -> list[tuple]:
    conn = connect(path)
    try:
        return [
            tuple(row)
            for row in conn.execute(
                "SELECT check_name, status, message, checked_at FROM health_check_results"
                " ORDER BY id"
            ).fetchall()
        ]
    finally:
        conn.close()


def drop_trigger(conn, name: str, table: str) -> None:
    conn.execute(
        f"DROP TRIGGER {name} ON {table}" if backends.POSTGRESQL else f"DROP TRIGGER {name}"
    )


def test_doctor_passes_on_a_fresh_database_and_records_one_row_per_check(raw_db_path):
    code, report = doctor(raw_db_path)
    assert code == 0, report
    found = checks_of(report)
    assert list(found) == list(health.DOCTOR_CHECKS)
    # Free disk space depends on the machine running the tests; every other check passes.
    assert {n: c["status"] for n, c in found.items() if n != "disk_space"} == dict.fromkeys(
        set(found) - {"disk_space"}, "pass"
    )
    assert found.get("disk_space", {"status": "pass"})["status"] in ("pass", "warn")
    assert found["contract_triggers"]["details"]["present"] == 74
    assert found["contract_views"]["details"]["present"] == 19
    assert found["contract_indexes"]["details"]["present"] == 149
    if backends.POSTGRESQL:
        assert found["database_server"]["details"]["standby"] is False
    else:
        assert found["journal_mode"]["details"] == {"connection": "wal", "file_header_wal": True}

    rows = health_rows(raw_db_path)
    assert [(r[0], r[1]) for r in rows] == [(n, c["status"]) for n, c in found.items()]
    assert {r[3] for r in rows} == {report["recorded_at"]}  # one run, one checked_at


def test_doctor_names_a_dropped_trigger_and_prints_the_sql_that_restores_it(raw_db, raw_db_path):
    drop_trigger(raw_db, "roadmap_dep_no_cycles", "roadmap_dependencies")
    raw_db.execute("DROP VIEW v_ready_items")
    raw_db.execute("DELETE FROM schema_version WHERE version = 20")
    seeded = "internal_key = 'playbook' OR (domain = 'roadmap_status' AND internal_key = 'review')"
    raw_db.execute(f"DELETE FROM terminology WHERE {seeded}")

    result = manage(raw_db_path, "doctor", "--sql", check=False)
    assert result.returncode == 1
    table = result.stdout.splitlines()
    assert "contract_triggers         FAIL    1 missing: roadmap_dep_no_cycles" in table
    assert "contract_views            FAIL    1 missing: v_ready_items" in table
    assert (
        "seed_rows                 FAIL    3 missing: terminology (2), schema_version (1)"
        " (doctor --sql prints their inserts)"
    ) in table
    assert "migrations                ok      all " in result.stdout
    assert f"{len(health.DOCTOR_CHECKS)} checks: 3 failed" in result.stdout
    failed = {name: message for name, status, message, _ in health_rows(raw_db_path)}
    assert failed["contract_triggers"] == "1 missing: roadmap_dep_no_cycles"
    assert failed["contract_views"] == "1 missing: v_ready_items"
    assert {s for n, s, _, _ in health_rows(raw_db_path) if n.startswith("contract_")} == {
        "fail",
        "pass",
    }

    # The printed SQL re-creates what is missing, as the migrations wrote it.
    begin = "BEGIN;" if backends.POSTGRESQL else "BEGIN IMMEDIATE;"
    raw_db.executescript(result.stdout[result.stdout.index(begin) :])
    code, report = doctor(raw_db_path, "--no-record")
    assert code == 0, report
    assert checks_of(report)["contract_triggers"]["status"] == "pass"
    assert checks_of(report)["contract_views"]["status"] == "pass"
    assert checks_of(report)["seed_rows"]["message"] == "all 120 seed rows present"
    restored = raw_db.execute(f"SELECT id FROM terminology WHERE {seeded} ORDER BY id").fetchall()
    assert [tuple(r) for r in restored] == [(5,), (78,)]  # the contract's id; the next one


def test_doctor_warns_on_a_changed_trigger_or_open_file_and_fails_on_unapplied_migrations(
    raw_db, raw_db_path
):
    if backends.POSTGRESQL:  # what a PostgreSQL trigger does is its function's body
        raw_db.execute(
            "CREATE OR REPLACE FUNCTION audit_log_no_delete() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RAISE EXCEPTION 'weaker'; END $$"
        )
    else:
        raw_db.execute("DROP TRIGGER audit_log_no_delete")
        raw_db.execute(
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
            " BEGIN SELECT RAISE(ABORT, 'weaker'); END"
        )
        raw_db_path.chmod(0o644)
    raw_db.execute("DELETE FROM django_migrations WHERE app = 'kernel' AND name = '0007_roles'")
    code, report = doctor(raw_db_path, "--no-record")
    found = checks_of(report)
    assert found["contract_triggers"]["status"] == "warn"
    assert found["contract_triggers"]["message"] == (
        "definition differs from the migrations': audit_log_no_delete"
    )
    if not backends.POSTGRESQL:
        assert (
            found["database_file"]["status"] == "warn"
            and "0644" in found["database_file"]["message"]
        )
    assert found["migrations"]["status"] == "fail"
    assert "kernel.0007_roles" in found["migrations"]["message"]
    assert code == 1
    assert health_rows(raw_db_path) == []  # --no-record


# -- stale work, expired keys and maintain -----------------------------------------------


def seed_stale_work(conn):
    """An item claimed by an agent whose lease expired, one whose lease is live, a bare
    lease past expiry, expired and live idempotency keys, and an 8-day-old health row."""
    run = conn.execute
    for item in ("STALE", "LIVE"):
        run(
            "INSERT INTO roadmap_items (id, phase_key, title, status_key)"
            " VALUES (?, 'phase_a', ?, 'in_progress')",
            (item, f"Item {item}"),
        )
    for attempt, item, expires in (
        ("att-stale", "STALE", "-1 hour"),
        ("att-live", "LIVE", "+1 hour"),
    ):
        run(
            "INSERT INTO attempts (id, work_id, worker_id, worker_type, started_at)"
            " VALUES (?, ?, 'agent:gone', 'agent', ?)",
            (attempt, item, now(conn, "-2 hours")),
        )
        run(
            "INSERT INTO leases (id, resource_type, resource_id, mode, worker_id, attempt_id,"
            " ttl_seconds, expires_at) VALUES (?, 'work_item', ?, 'exclusive', 'agent:gone',"
            " ?, 900, ?)",
            (f"lease-{attempt}", item, attempt, now(conn, expires)),
        )
    run(
        "INSERT INTO leases (id, resource_type, resource_id, mode, worker_id, ttl_seconds,"
        " expires_at) VALUES ('lease-bare', 'file', 'x.py', 'write', 'agent:gone', 60, ?)",
        (now(conn, "-1 minute"),),
    )
    for key, created, expires in (
        ("old-1", "-3 days", "-2 days"),
        ("old-2", "-2 days", "-1 day"),
        ("fresh", None, "+1 day"),
    ):
        run(
            "INSERT INTO idempotency_keys (key, operation, request_hash, created_at,"
            " expires_at) VALUES (?, 'POST /x', 'h', ?, ?)",
            (key, now(conn, created), now(conn, expires)),
        )
    # An old row inserted as old is removed by its own insert (health_check_cleanup), so it
    # is made old afterwards, as a week without inserts would.
    run("INSERT INTO health_check_results (check_name, status) VALUES ('old', 'pass')")
    run(
        "UPDATE health_check_results SET checked_at = ? WHERE check_name = 'old'",
        (now(conn, "-8 days"),),
    )


def test_doctor_warns_about_stale_work_and_maintain_clears_it(raw_db, raw_db_path):
    seed_stale_work(raw_db)
    code, report = doctor(raw_db_path, "--no-record")
    found = checks_of(report)
    assert code == 0  # warnings only
    assert found["stale_attempts"]["status"] == "warn"
    assert found["stale_attempts"]["details"]["attempts"] == ["att-stale"]
    assert found["expired_leases"]["status"] == "warn"
    assert found["expired_leases"]["details"]["leases"] == 2  # the stale claim's and the bare
    assert found["expired_idempotency_keys"]["status"] == "warn"
    assert found["expired_idempotency_keys"]["details"]["expired"] == 2

    result = manage(raw_db_path, "maintain")
    assert "1 stale attempt(s) ended as failed: att-stale (agent:gone on STALE)" in result.stdout
    assert "2 expired key(s) deleted" in result.stdout
    assert "1 health_check_results row(s) older than 7 days deleted" in result.stdout
    if backends.POSTGRESQL:
        assert "wal_checkpoint: skipped: PostgreSQL checkpoints by itself" in result.stdout
    else:
        assert "wal_checkpoint: done" in result.stdout

    q = raw_db.execute
    assert q(
        "SELECT outcome, ended_at IS NOT NULL FROM attempts WHERE id = 'att-stale'"
    ).fetchone() == (
        "failed",
        1,
    )
    assert q("SELECT outcome, ended_at FROM attempts WHERE id = 'att-live'").fetchone() == (
        None,
        None,
    )
    assert q("SELECT status_key FROM roadmap_items WHERE id = 'STALE'").fetchone() == ("pending",)
    assert q("SELECT status_key FROM roadmap_items WHERE id = 'LIVE'").fetchone() == (
        "in_progress",
    )
    assert q(
        "SELECT released_at IS NOT NULL FROM leases WHERE id = 'lease-att-stale'"
    ).fetchone() == (1,)
    assert [k for (k,) in q("SELECT key FROM idempotency_keys")] == ["fresh"]
    assert q("SELECT COUNT(*) FROM health_check_results WHERE check_name = 'old'").fetchone() == (
        0,
    )
    assert q(
        "SELECT actor FROM audit_log WHERE action = 'expire_stale' AND resource_id = 'att-stale'"
    ).fetchone() == ("system",)

    code, report = doctor(raw_db_path, "--no-record")
    found = checks_of(report)
    assert found["stale_attempts"]["status"] == "pass"
    assert found["expired_idempotency_keys"]["status"] == "pass"
    assert found["expired_leases"]["details"]["leases"] == 1  # the bare lease: informational


# -- backup --------------------------------------------------------------------------------

ROWS = 2000
#: The writer waits here until the backup has returned, so the copy is always taken while
#: its loop is under way, however slowly the machine starts the backup's process.
PAUSE_AT = 1900

WRITER = textwrap.dedent(
    """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for i in range(1, int(sys.argv[2]) + 1):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO metrics (timestamp, operation, elapsed_ms)"
            " VALUES (datetime('now'), 'backup-test', ?)", (i,))
        conn.execute(
            "INSERT INTO session_cache_state (key, value) VALUES ('backup-test', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(i),))
        conn.execute("COMMIT")
        if i == 100:
            print("started", flush=True)
        if i == int(sys.argv[3]):
            sys.stdin.readline()
        time.sleep(0.002)
    print("done", flush=True)
    """
)


@pytest.mark.sqlite_only
def test_backup_while_another_process_writes_is_a_consistent_verified_prefix(raw_db_path, tmp_path):
    target = tmp_path / "backups" / "snapshot.db"
    target.parent.mkdir()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(raw_db_path), str(ROWS), str(PAUSE_AT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "started"
        result = manage(raw_db_path, "backup", str(target), "--json")
        assert writer.poll() is None  # still in its loop
        out, err = writer.communicate("go on\n", timeout=120)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == 0 and out.strip() == "done", err
    report = json.loads(result.stdout)
    assert report["integrity_check"] == "ok"
    assert report["size_bytes"] == target.stat().st_size > 0
    assert (target.stat().st_mode & 0o777) == 0o600
    assert not list(target.parent.glob("*.partial*"))

    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        written = [
            int(v)
            for (v,) in copy.execute(
                "SELECT elapsed_ms FROM metrics WHERE operation = 'backup-test' ORDER BY id"
            )
        ]
        last = copy.execute(
            "SELECT value FROM session_cache_state WHERE key = 'backup-test'"
        ).fetchone()
        copied_counts = {
            t: copy.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in report["counts"]
        }
    finally:
        copy.close()
    # A prefix of the writes: rows 1..n, no gap, and the other table of the same
    # transactions agrees.
    n = len(written)
    assert 100 <= n <= PAUSE_AT
    assert written == list(range(1, n + 1))
    assert last == (str(n),)
    assert copied_counts == report["counts"]
    assert report["counts"]["metrics"] == n
    source = sqlite3.connect(raw_db_path)
    assert source.execute("SELECT COUNT(*) FROM metrics").fetchone() == (ROWS,)
    source.close()


@pytest.mark.sqlite_only
def test_backup_into_a_folder_and_never_over_an_existing_file(db, tmp_path):
    folder = tmp_path / "nightly"
    folder.mkdir()
    out = io.StringIO()
    call_command("backup", str(folder), stdout=out)
    (made,) = folder.glob("coordination-*.db")
    assert str(made) in out.getvalue() and "integrity_check ok" in out.getvalue()
    with pytest.raises(CommandError, match="--force"):
        call_command("backup", str(made))
    call_command("backup", str(made), "--force", stdout=io.StringIO())
    with pytest.raises(CommandError, match="must not overwrite"):
        call_command("backup", str(health.database_path()), "--force")


@pytest.mark.postgresql_only
def test_backup_on_postgresql_names_pg_dump_and_writes_nothing(db, tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command("backup", str(tmp_path))
    assert str(refused.value).startswith("backup is for the SQLite file only; on PostgreSQL")
    assert "pg_dump --format=custom" in str(refused.value)
    assert health.database_label() in str(refused.value)
    assert list(tmp_path.iterdir()) == []


# -- db ------------------------------------------------------------------------------------


def db_command(*args) -> str:
    out = io.StringIO()
    call_command("db", *args, stdout=out)
    return out.getvalue()


@pytest.mark.sqlite_only
@pytest.mark.django_db(transaction=True)
def test_db_stats_integrity_analyze_vacuum_and_checkpoint():
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO health_check_results (check_name, status) VALUES ('x', 'pass')")
    stats = json.loads(db_command("stats", "--json"))
    assert stats["journal_mode"] == "wal" and stats["page_count"] > 0
    assert stats["tables"]["health_check_results"]["rows"] == 1
    assert stats["tables"]["terminology"]["rows"] >= 76
    assert "health_check_results" in db_command("stats")

    integrity = db_command("integrity")
    assert "integrity_check: ok" in integrity and "foreign_key_check: ok" in integrity
    assert "ANALYZE done" in db_command("analyze")
    assert "VACUUM done" in db_command("vacuum")
    checkpoint = db_command("checkpoint", "--mode", "truncate")
    assert checkpoint.startswith("Checkpoint TRUNCATE: done") and "-> 0 B." in checkpoint


@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True)
def test_db_stats_analyze_and_vacuum_on_postgresql_and_the_file_actions_say_what_instead():
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO health_check_results (check_name, status) VALUES ('x', 'pass')")
    stats = json.loads(db_command("stats", "--json"))
    assert stats["vendor"] == "postgresql" and stats["database_bytes"] > 0
    assert stats["tables"]["health_check_results"]["rows"] == 1
    assert stats["tables"]["terminology"]["rows"] >= 76
    assert stats["tables"]["terminology"]["bytes"] > 0
    assert "health_check_results" in db_command("stats")
    assert "ANALYZE done" in db_command("analyze")
    assert "VACUUM done" in db_command("vacuum")
    for action, instead in (("checkpoint", "checkpoints by itself"), ("integrity", "pg_amcheck")):
        with pytest.raises(CommandError, match=f"SQLite file only; on PostgreSQL .*{instead}"):
            db_command(action)


#: Holds the write lock of the file named by argv[1] until a line arrives on stdin.
HOLDER = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO session_cache_state (key, value) VALUES ('held', 'v')")
    print("holding", flush=True)
    sys.stdin.readline()
    """
)


@pytest.mark.sqlite_only
def test_db_lock_info_names_the_process_holding_the_write_lock(raw_db_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(raw_db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        info = json.loads(manage(raw_db_path, "db", "lock-info", "--json").stdout)
    finally:
        holder.communicate("\n", timeout=30)
    assert info["write_lock"].startswith("held by another connection")
    assert info["active_leases"] == []
    if info["processes"] is not None:  # Linux: /proc/locks names the holder
        by_pid = {p["pid"]: p["locks"] for p in info["processes"]}
        assert "WAL write lock (exclusive)" in by_pid[holder.pid]


#: PostgreSQL: waits (at most 20 s) for the row lock another session holds on terminology 1.
PG_WAITER = (
    "import sys, psycopg; c = psycopg.connect(sys.argv[1], autocommit=True);"
    " c.execute('SET lock_timeout = 20000');"
    " c.execute('UPDATE terminology SET sort_order = sort_order WHERE id = 1')"
)


@pytest.mark.postgresql_only
def test_db_lock_info_on_postgresql_names_who_holds_and_who_waits(raw_db, raw_db_path):
    """A session holding a row lock and an advisory lock (the kernel's ``serialize`` key)
    in an open transaction, and another process waiting for that row: lock-info names
    both, and who blocks whom."""
    holder_pid = raw_db.execute("SELECT pg_backend_pid()").fetchone()[0]
    raw_db.execute("BEGIN")
    raw_db.execute("SELECT pg_advisory_xact_lock(hashtextextended('work:W-1', 0))")
    raw_db.execute("UPDATE terminology SET sort_order = sort_order WHERE id = 1")
    waiter = subprocess.Popen([sys.executable, "-c", PG_WAITER, raw_db_path])
    try:
        for _ in range(100):  # until the waiter is seen waiting
            info = json.loads(manage(raw_db_path, "db", "lock-info", "--json").stdout)
            blocked = [s for s in info["sessions"] if s["blocked_by"] == [holder_pid]]
            if blocked:
                break
        holder = {s["pid"]: s for s in info["sessions"]}[holder_pid]
        assert holder["state"] == "idle in transaction"
        assert holder["advisory_locks"] == 1 and holder["locks_held"] >= 2
        assert holder["transaction_seconds"] >= 0
        (waiting,) = blocked  # the waiter's server process
        assert waiting["locks_waiting"] == 1 and waiting["wait_event"].startswith("Lock:")
        text = manage(raw_db_path, "db", "lock-info").stdout
        assert f"pid {holder_pid} " in text and f"blocked by pid {holder_pid}" in text
        assert "active leases: 0" in text
    finally:
        raw_db.execute("ROLLBACK")
        assert waiter.wait(timeout=30) == 0


@pytest.mark.sqlite_only
def test_db_integrity_fails_on_a_broken_reference(raw_db, raw_db_path):
    raw_db.execute("PRAGMA foreign_keys = OFF")
    raw_db.execute(
        "INSERT INTO roadmap_dependencies (item_id, depends_on_id) VALUES ('nope', 'gone')"
    )
    failed = manage(raw_db_path, "db", "integrity", check=False)
    assert failed.returncode == 1
    assert "roadmap_dependencies rowid 1 -> roadmap_items (missing)" in failed.stdout


# -- /healthz and /readyz ------------------------------------------------------------------


def test_healthz_and_readyz_answer_without_login(client, db):
    live = client.get("/healthz")
    assert live.status_code == 200 and live["Content-Type"] == "application/json"
    # The test database is created by Django with the umask's mode: possibly a warning.
    assert live.json()["status"] in ("pass", "warn")
    assert [c["name"] for c in live.json()["checks"]] == list(health.LIVENESS_CHECKS)
    assert "no-cache" in live["Cache-Control"]

    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json()
    body = ready.json()
    assert body["status"] == "pass"
    assert [c["name"] for c in body["checks"]] == list(health.READINESS_CHECKS)
    assert all("details" not in c for c in body["checks"])  # public: no paths or sizes
    assert client.post("/readyz").status_code == 405


def test_readyz_turns_503_naming_a_dropped_trigger_and_healthz_stays_up(client, db):
    rows_before = _count("health_check_results")
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute(
            "DROP TRIGGER enforce_phase_limit"
            + (" ON roadmap_items" if connection.vendor == "postgresql" else "")
        )
    ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "fail"
    (triggers,) = [c for c in body["checks"] if c["name"] == "contract_triggers"]
    assert triggers == {
        "name": "contract_triggers",
        "status": "fail",
        "message": "1 missing: enforce_phase_limit",
    }
    assert client.get("/healthz").status_code == 200
    assert _count("health_check_results") == rows_before  # the endpoints write nothing


def _count(table) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints_fail_when_the_database_cannot_be_read(client, db, path, monkeypatch):
    def broken():
        raise sqlite3.OperationalError("disk I/O error")

    name = "database_readable" if path == "/healthz" else "migrations"
    monkeypatch.setitem(health.CHECKS, name, broken)
    response = client.get(path)
    assert response.status_code == 503
    (check,) = [c for c in response.json()["checks"] if c["name"] == name]
    assert check == {"name": name, "status": "fail", "message": "OperationalError: disk I/O error"}


#: PostgreSQL: holds a lock every write to health_check_results waits for (EXCLUSIVE mode:
#: reads go on) in the database at argv[1] until a line arrives on stdin.
PG_HOLDER = textwrap.dedent(
    """
    import sys, psycopg
    conn = psycopg.connect(sys.argv[1])
    conn.execute("LOCK TABLE health_check_results IN EXCLUSIVE MODE")
    print("holding", flush=True)
    sys.stdin.readline()
    conn.rollback()
    """
)


@pytest.mark.django_db(transaction=True)
def test_readyz_warns_but_stays_ready_while_another_process_holds_the_write_lock(client):
    if backends.POSTGRESQL:
        holding = [PG_HOLDER, backends.url_for(connection.settings_dict["NAME"])]
    else:
        holding = [HOLDER, str(health.database_path())]
    holder = subprocess.Popen(
        [sys.executable, "-c", *holding],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        ready = client.get("/readyz")
    finally:
        holder.communicate("\n", timeout=30)
    assert ready.status_code == 200
    (writable,) = [c for c in ready.json()["checks"] if c["name"] == "database_writable"]
    assert writable == {
        "name": "database_writable",
        "status": "warn",
        "message": "another connection held the write lock for over 2 s",
    }
    assert client.get("/readyz").json()["status"] == "pass"  # the connection still works
