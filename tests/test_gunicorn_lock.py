"""Another process holds the database's write lock while the server runs under the README's
command (gunicorn with the shipped ``gunicorn.conf.py``), over real HTTP and a real file:

- every write answers 503 ``database_busy`` in the error shape, with ``Retry-After``, after
  the web busy timeout (5 s) and well before gunicorn's worker timeout (30 s), so no worker
  is killed and no HTML 500 is sent; nothing is written;
- a read with a token whose ``last_used_at`` is stale answers 200 at once (the use is not
  recorded while the lock is held; the first read after it is);
- once the lock is released, the same workers write again.

The lock is held ``MOTUS_LOCK_TEST_SECONDS`` (default 12: two full lock waits) so the suite
stays short; ``MOTUS_LOCK_TEST_SECONDS=45`` runs the issue's 45 s case (writes keep getting
their 503 every 5 s, for the whole 45 s).

On PostgreSQL (``DATABASE_URL``) there is no database-wide write lock: the other process
locks every table of the schema in EXCLUSIVE mode (every write waits, reads go on), and the
same answers are expected: ``lock_timeout`` (the same 5 s) ends the wait as 503.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import backends
import pytest
from conftest import ROOT, manage
from schema_diff import connect

# Long enough for at least two 5 s waits even on a loaded machine (the loop stops sending
# writes BUSY_TIMEOUT + 1 s before the holder lets go).
HOLD_SECONDS = float(os.environ.get("MOTUS_LOCK_TEST_SECONDS") or 20)
WORKER_TIMEOUT = 30  # gunicorn.conf.py
BUSY_TIMEOUT = 5  # gunicorn.conf.py: MOTUS_BUSY_TIMEOUT_MS
STALE = "2000-01-01 00:00:00"

HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.rollback()
"""
#: PostgreSQL's nearest thing: every table of the schema locked against writes.
PG_HOLD_LOCK = """
import sys, time, psycopg
conn = psycopg.connect(sys.argv[1])
tables = [name for (name,) in conn.execute(
    "SELECT format('%I', tablename) FROM pg_tables WHERE schemaname = current_schema()")]
conn.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.rollback()
"""


def execute(db, sql: str, params=()) -> list[tuple]:
    """One statement on the database (autocommit), as another process would run it."""
    conn = connect(db)
    try:
        cursor = conn.execute(sql, params)
        rows = cursor.fetchall() if cursor.description else []
        if not backends.POSTGRESQL:
            conn.commit()
        return rows
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Http:
    def __init__(self, port: int, token: str):
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def send(self, method: str, path: str, body=None) -> tuple[int, dict, dict, float]:
        """(status, JSON body, headers, seconds taken); a new connection each time."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WORKER_TIMEOUT * 3)
        started = time.monotonic()
        try:
            payload = None if body is None else json.dumps(body)
            conn.request(method, path, payload, self.headers)
            response = conn.getresponse()
            raw = response.read()
            seconds = time.monotonic() - started
            assert response.getheader("Content-Type", "").startswith("application/json"), raw
            return response.status, json.loads(raw), dict(response.getheaders()), seconds
        finally:
            conn.close()


@pytest.fixture
def served(raw_db_path, tmp_path):
    """(database, client, gunicorn log): gunicorn started as the README says, on a free port."""
    db = raw_db_path
    token = manage(db, "create_agent", "locky").stdout.strip()
    execute(
        db, "INSERT INTO roadmap_items (id, phase_key, title) VALUES ('LOCK-1', 'phase_a', 'x')"
    )
    execute(db, "UPDATE web_api_tokens SET last_used_at = ?", [STALE])
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"MOTUS_BUSY_TIMEOUT_MS", "MOTUS_CACHE_DIR", "DJANGO_DEBUG", "DATABASE_URL"}
    }
    if backends.POSTGRESQL:  # the cache folder goes beside MOTUS_DB_PATH all the same
        env.update(DATABASE_URL=db, MOTUS_DB_PATH=str(tmp_path / "coordination.db"))
    else:
        env.update(MOTUS_DB_PATH=str(db))
    env.update(DJANGO_ALLOWED_HOSTS="127.0.0.1")
    log = tmp_path / "gunicorn.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_serving(port, server, log)
        yield db, Http(port, token), log
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_serving(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log.read_text()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/ready-probe")  # an unknown API path: 404, no database
            if conn.getresponse().status == 404:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    pytest.fail(f"gunicorn did not start:\n{log.read_text()}")


def last_used(db: Path | str) -> str | None:
    # A read: WAL readers never wait for the writer (nor do PostgreSQL's for EXCLUSIVE).
    return execute(db, "SELECT last_used_at FROM web_api_tokens")[0][0]


def test_a_held_write_lock_gets_503_before_the_worker_timeout_and_reads_do_not_wait(served):
    db, client, log = served
    for _ in range(4):  # both workers have loaded the app before the lock is taken
        client.send("GET", "/api/v1/whoami/")
    # Those reads may have recorded the token's use.
    execute(db, "UPDATE web_api_tokens SET last_used_at = ?", [STALE])
    hold = PG_HOLD_LOCK if backends.POSTGRESQL else HOLD_LOCK
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(db), str(HOLD_SECONDS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        locked_at = time.monotonic()
        writes, reads = [], []
        # Until the lock is released: a read, then a write, again and again.
        while time.monotonic() - locked_at < HOLD_SECONDS - BUSY_TIMEOUT - 1:
            reads.append(client.send("GET", "/api/v1/work/ready/"))
            writes.append(client.send("POST", "/api/v1/work/LOCK-1/claim/", {}))
        assert last_used(db) == STALE  # the reads did not wait to record the use
        still_locked = holder.poll() is None
    finally:
        holder.kill()
        holder.wait()
    assert still_locked, "the lock holder ended early: the test did not test a held lock"

    assert len(writes) >= 2
    for status, body, headers, seconds in writes:
        assert status == 503, body
        assert body["error"]["code"] == "database_busy"
        assert "write lock" in body["error"]["message"]
        assert int(headers["Retry-After"]) == body["error"]["details"]["retry_after"] > 0
        # It waited for the lock (the web busy timeout), and answered long before gunicorn
        # would have killed the worker.
        assert BUSY_TIMEOUT - 0.5 <= seconds < WORKER_TIMEOUT / 2, seconds
    for status, body, _, seconds in reads:
        assert status == 200, body
        # Did not wait for the lock: a read that waited would take the busy timeout (5 s).
        # (Not a speed goal: a cold worker on a loaded machine may take a second or two.)
        assert seconds < BUSY_TIMEOUT - 1, seconds

    # Nothing was written during the lock; once it is released the workers write again.
    assert execute(db, "SELECT COUNT(*) FROM attempts") == [(0,)]
    status, body, _, _ = client.send("POST", "/api/v1/work/LOCK-1/claim/", {})
    assert status == 201, body
    status, _, _, _ = client.send("GET", "/api/v1/work/ready/")
    assert status == 200 and last_used(db) > STALE
    assert "WORKER TIMEOUT" not in log.read_text()


def test_gunicorn_refuses_a_busy_timeout_not_well_below_its_worker_timeout(tmp_path):
    env = {**os.environ, "MOTUS_DB_PATH": str(tmp_path / "db.sqlite")}
    env["MOTUS_BUSY_TIMEOUT_MS"] = "20000"
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", "127.0.0.1:0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "at most half of gunicorn's worker timeout" in result.stdout + result.stderr
