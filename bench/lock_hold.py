"""Another process holds coordination.db's write lock while gunicorn serves the API with the
shipped gunicorn.conf.py (the README's command): what do clients get, and when?

    python bench/lock_hold.py [--seconds 45]

A scratch database gets an agent (``manage.py create_agent``) and a ready item; a second
process runs ``BEGIN IMMEDIATE`` and keeps the lock for ``--seconds``. Meanwhile one client
POSTs a claim again and again (the last one may get the lock as it is released), another
GETs the ready list twice a second with a token whose ``last_used_at`` is stale. Printed:
every write's status, code, Retry-After and latency, the reads' latencies, and whether
gunicorn killed a worker (its 30 s worker timeout).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.rollback()
"""


def manage(db: Path, *args: str) -> str:
    env = {**os.environ, "MOTUS_DB_PATH": str(db)}
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def send(port: int, token: str, method: str, path: str, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    started = time.monotonic()
    try:
        conn.request(method, path, None if body is None else json.dumps(body), headers)
        response = conn.getresponse()
        raw = response.read()
        seconds = time.monotonic() - started
        kind = response.getheader("Content-Type", "")
        payload = json.loads(raw) if kind.startswith("application/json") else raw[:80]
        return response.status, payload, response.getheader("Retry-After"), seconds
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=45, help="how long the lock is held")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="motus-lock-"))
    db = folder / "coordination.db"
    manage(db, "migrate", "--noinput", "-v0")
    token = manage(db, "create_agent", "holder-bench")
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO roadmap_items (id, phase_key, title) VALUES ('L1', 'phase_a', 'x')"
        )
        conn.execute("UPDATE web_api_tokens SET last_used_at = '2000-01-01 00:00:00'")
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in {"MOTUS_BUSY_TIMEOUT_MS", "MOTUS_CACHE_DIR"}
    }
    env.update(MOTUS_DB_PATH=str(db), DJANGO_ALLOWED_HOSTS="127.0.0.1")
    env.pop("DJANGO_DEBUG", None)
    log = folder / "gunicorn.log"
    command = [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}"]
    print("server:", " ".join(command[1:]))
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                send(port, "-", "GET", "/api/probe")
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit(f"gunicorn did not start; see {log}")
                time.sleep(0.2)
        holder = subprocess.Popen(
            [PYTHON, "-c", HOLD_LOCK, str(db), str(args.seconds)], stdout=subprocess.PIPE, text=True
        )
        assert holder.stdout.readline().strip() == "locked"
        start = time.monotonic()
        print(f"write lock held by pid {holder.pid} for {args.seconds:g} s")
        reads: list[tuple[float, int, float]] = []
        stop = threading.Event()

        def reader():
            while not stop.is_set():
                at = time.monotonic() - start
                status, _, _, seconds = send(port, token, "GET", "/api/v1/work/ready/")
                reads.append((at, status, seconds))
                time.sleep(0.5)

        thread = threading.Thread(target=reader)
        thread.start()
        while holder.poll() is None:
            at = time.monotonic() - start
            status, payload, retry_after, seconds = send(
                port, token, "POST", "/api/v1/work/L1/claim/", {}
            )
            code = (
                payload.get("error", {}).get("code", "ok") if isinstance(payload, dict) else payload
            )
            print(
                f"  t={at:5.1f}s POST claim -> {status} {code} "
                f"Retry-After={retry_after} in {seconds:.2f} s"
            )
        stop.set()
        thread.join()
        statuses = sorted({s for _, s, _ in reads})
        latencies = sorted(s for _, _, s in reads)
        print(
            f"reads during the lock: {len(reads)}, statuses {statuses}, "
            f"median {latencies[len(latencies) // 2]:.3f} s, slowest {latencies[-1]:.3f} s"
        )
        with sqlite3.connect(db) as conn:
            used = conn.execute("SELECT last_used_at FROM web_api_tokens").fetchone()[0]
        print(f"token last_used_at now: {used}")
        print("gunicorn WORKER TIMEOUT in log:", "WORKER TIMEOUT" in log.read_text())
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
