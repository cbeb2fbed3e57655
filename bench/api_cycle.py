"""Benchmark one kernel cycle (claim → evidence → complete) three ways, on scratch copies of
one freshly migrated coordination.db:

  (a) raw sqlite3: one transaction inserting the attempt and the evidence and completing
      the attempt and the item — the floor;
  (b) the service layer in-process: ``kernel.services.claim`` + ``record_evidence`` +
      ``release(completed)`` (contract, assignment, lease, events and audit included);
  (c) real HTTP against gunicorn (2 workers) serving the app: POST claim, POST evidence,
      POST release, with 1 and then 4 concurrent clients (one agent token per client).

    python bench/api_cycle.py [--cycles 500] [--http-cycles 1000] [--worker-class sync]
                              [--workers 2,4,8] [--database-url postgres://…]

``--database-url`` runs (c) on PostgreSQL instead (a database per run, copied from a migrated
template database created beside the URL's database, all dropped afterwards); (a) and (b)
are SQLite's and are skipped. ``--workers`` lists gunicorn worker counts to run (c) with.

The default is gunicorn's ``sync`` worker (the README's production command): it answers
each request on its own connection, so the kernel spreads clients over both workers. With
``gthread`` a keep-alive client stays on the worker that accepted it, and on this machine
all four clients ended up on one worker (measured: 7.2 vs 0.4 CPU seconds), halving
throughput.

Prints cycles/s, p50/p95 per cycle, and the ratios b/a and c/a. Goals (issue 3): b/a >= 0.30
and c with 4 clients >= 170 cycles/s on a 2-core machine. Exit status 1 if a goal is missed
or any cycle failed. Stdlib plus the project's own dependencies.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SHA = "ab" * 32
GOAL_SERVICE_RATIO = 0.30
GOAL_HTTP4_CYCLES = 170.0


def database_env(db: Path | str) -> dict:
    """The environment that points manage.py/gunicorn at ``db``: a SQLite file or a URL."""
    env = {**os.environ}
    if str(db).startswith("postgres"):
        env["DATABASE_URL"] = str(db)
    else:
        env["MOTUS_DB_PATH"] = str(db)
        env.pop("DATABASE_URL", None)
    return env


def manage(db: Path | str, *args: str) -> str:
    env = database_env(db)
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip()


def build_template(folder: Path, items: int, agents: int) -> tuple[Path, list[str]]:
    """Migrated database with ``items`` ready items and ``agents`` agent tokens."""
    db = folder / "template.db"
    manage(db, "migrate", "--noinput", "-v0")
    tokens = [manage(db, "create_agent", f"bench{n}") for n in range(agents)]
    conn = sqlite3.connect(db, isolation_level=None)
    # The phase limit counts open items on INSERT only: insert deferred, then open them.
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO roadmap_items (id, phase_key, title, status_key, rank)"
        " VALUES (?, 'phase_a', ?, 'deferred', ?)",
        [(item_id(n), f"Bench item {n}", float(n)) for n in range(items)],
    )
    conn.execute("UPDATE roadmap_items SET status_key = 'pending' WHERE id LIKE 'BENCH-%'")
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db, tokens


class Postgres:
    """Scratch databases on the cluster of ``url``: a migrated template, then one copy per run."""

    def __init__(self, url: str):
        from urllib.parse import urlsplit

        self.url = url
        self.parts = urlsplit(url)
        self.prefix = f"bench_{secrets.token_hex(4)}"
        self.created: list[str] = []

    def url_for(self, name: str) -> str:
        return self.parts._replace(path="/" + name).geturl()

    def connect(self, name: str = "postgres", autocommit: bool = True):
        import psycopg

        return psycopg.connect(self.url_for(name), autocommit=autocommit)  # libpq reads URLs

    def create(self, name: str, template: str | None = None) -> str:
        name = f"{self.prefix}_{name}"
        with self.connect() as conn:
            copy = f' TEMPLATE "{template}"' if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        self.created.append(name)
        return name

    def drop_all(self) -> None:
        with self.connect() as conn:
            for name in reversed(self.created):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def build_template(self, items: int, agents: int) -> tuple[str, list[str]]:
        name = self.create("template")
        url = self.url_for(name)
        manage(url, "migrate", "--noinput", "-v0")
        tokens = [manage(url, "create_agent", f"bench{n}") for n in range(agents)]
        with self.connect(name, autocommit=False) as conn:
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO roadmap_items (id, phase_key, title, status_key, rank)"
                    " VALUES (%s, 'phase_a', %s, 'deferred', %s)",
                    [(item_id(n), f"Bench item {n}", float(n)) for n in range(items)],
                )
                cursor.execute(
                    "UPDATE roadmap_items SET status_key = 'pending' WHERE id LIKE 'BENCH-%%'"
                )
            conn.commit()
        return name, tokens

    def completed_attempts(self, url: str) -> int:
        name = url.rsplit("/", 1)[1]
        with self.connect(name) as conn:
            sql = "SELECT COUNT(*) FROM attempts WHERE outcome = 'completed'"
            return conn.execute(sql).fetchone()[0]


def item_id(n: int) -> str:
    return f"BENCH-{n:06d}"


def scratch_copy(template: Path, name: str) -> Path:
    target = template.with_name(name)
    shutil.copy(template, target)
    return target


def summary(label: str, latencies: list[float], elapsed: float, failures: int = 0) -> dict:
    ordered = sorted(latencies)
    return {
        "label": label,
        "cycles": len(latencies),
        "cycles_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[int(len(ordered) * 0.95) - 1] * 1000,
        "failures": failures,
    }


# (a) and (b), in one child process configured for (b)'s scratch database. They run in
# alternating batches so that load from elsewhere on the machine hits both alike.

BATCH = 25


def run_in_process(raw_db: Path, service_db: Path, cycles: int) -> list[dict]:
    env = {
        **os.environ,
        "MOTUS_DB_PATH": str(service_db),
        "DJANGO_SETTINGS_MODULE": "motus_site.settings",
    }
    result = subprocess.run(
        [PYTHON, __file__, "--in-process-child", str(raw_db), str(cycles)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"in-process run failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def raw_cycle(conn: sqlite3.Connection, work_id: str) -> None:
    """(a): the kernel transaction in plain SQL, triggers and all."""
    attempt = f"att-{secrets.token_hex(6)}"
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO attempts (id, work_id, worker_id, worker_type)"
        " VALUES (?, ?, 'agent:raw', 'agent')",
        (attempt, work_id),
    )
    conn.execute(
        "INSERT INTO evidence (id, work_id, attempt_id, evidence_type, uri, sha256,"
        " created_by) VALUES (?, ?, ?, 'test_result', 'bench://raw', ?, 'agent:raw')",
        (f"evd-{secrets.token_hex(6)}", work_id, attempt, SHA),
    )
    conn.execute(
        "UPDATE attempts SET outcome = 'completed', ended_at = datetime('now') WHERE id = ?",
        (attempt,),
    )
    conn.execute(
        "UPDATE roadmap_items SET status_key = 'completed', completed_at = datetime('now'),"
        " updated_at = datetime('now') WHERE id = ?",
        (work_id,),
    )
    conn.execute("COMMIT")


def in_process_child(raw_db: str, cycles: int) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from kernel import services
    from system.identity import Actor

    def service_cycle(work_id: str) -> None:
        """(b): claim, evidence and completion through the service layer."""
        attempt = services.claim(actor, work_id)["attempt"]["id"]
        services.record_evidence(actor, attempt, dict(evidence))
        services.release(actor, attempt, "completed")

    from django.contrib.auth.models import User

    # A real agent account (made by create_agent above): its role decides what it may do.
    actor = Actor.of(User.objects.get(username="bench0"))
    evidence = {"evidence_type": "test_result", "uri": "bench://service", "sha256": SHA}
    from django.conf import settings

    # The raw connection gets exactly the app's PRAGMAs, so (a) and (b) differ only in code.
    conn = sqlite3.connect(raw_db, isolation_level=None)
    for pragma in settings.DATABASES["default"]["OPTIONS"]["init_command"].split(";"):
        conn.execute(pragma)
    runs = {"raw": ([], 0.0), "service": ([], 0.0)}
    for first in range(0, cycles, BATCH):
        for name, run in (("raw", lambda w: raw_cycle(conn, w)), ("service", service_cycle)):
            latencies, total = runs[name]
            started = time.perf_counter()
            for n in range(first, min(first + BATCH, cycles)):
                t0 = time.perf_counter()
                run(item_id(n))
                latencies.append(time.perf_counter() - t0)
            runs[name] = (latencies, total + time.perf_counter() - started)
    print(
        json.dumps(
            [
                summary("a  raw sqlite3", *runs["raw"]),
                summary("b  service layer", *runs["service"]),
            ]
        )
    )


# (c) real HTTP against gunicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(
    db: Path | str, port: int, worker_class: str, log: Path, workers: int = 2
) -> subprocess.Popen:
    env = database_env(db)
    env.pop("DJANGO_DEBUG", None)
    # One token writes thousands of times a minute here, far past the per-token write rate
    # (README "Limits and throttling"): measure the cycle, not 429s.
    env.setdefault("MOTUS_THROTTLE_WRITES", "off")
    command = [
        PYTHON, "-m", "gunicorn", "motus_site.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", worker_class,
        "--log-level", "warning", "--keep-alive", "30",
    ]  # fmt: skip
    if worker_class == "gthread":
        command += ["--threads", "2"]
    if Path("/dev/shm").is_dir():
        # The workers' liveness file is touched on every loop; keep it off the disk.
        command += ["--worker-tmp-dir", "/dev/shm"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/work/ready/?limit=1")
            conn.getresponse().read()
            conn.close()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit(f"gunicorn did not start; see {log}")


def process_cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU time of processes (Linux /proc); None elsewhere."""
    total = 0
    try:
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    except OSError:
        return None
    return total / os.sysconf("SC_CLK_TCK")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


class Agent:
    """One client: its own connection (kept alive where the server allows) and token."""

    def __init__(self, port: int, token: str):
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        payload = json.dumps(body)
        for retry in (False, True):
            try:
                self.conn.request("POST", path, payload, self.headers)
                response = self.conn.getresponse()
                return response.status, json.loads(response.read())
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if retry:
                    raise
        raise AssertionError("unreachable")

    def cycle(self, work_id: str) -> bool:
        status, body = self.post(f"/api/v1/work/{work_id}/claim/", {})
        if status != 201:
            return False
        attempt = body["attempt"]["id"]
        status, _ = self.post(
            f"/api/v1/attempts/{attempt}/evidence/",
            {"evidence_type": "test_result", "uri": "bench://http", "sha256": SHA},
        )
        if status != 201:
            return False
        status, _ = self.post(f"/api/v1/attempts/{attempt}/release/", {"disposition": "completed"})
        return status == 200


def run_http(
    db: Path | str,
    tokens: list[str],
    clients: int,
    cycles: int,
    worker_class: str,
    workers: int = 2,
    log: Path | None = None,
) -> dict:
    port = free_port()
    log = log or Path(db).with_suffix(".gunicorn.log")
    server = start_gunicorn(db, port, worker_class, log, workers)
    try:
        agents = [Agent(port, tokens[n]) for n in range(clients)]
        for agent in agents:  # warm up both workers' connections and imports
            agent.conn.request("GET", "/api/v1/whoami/", headers=agent.headers)
            agent.conn.getresponse().read()
        latencies: list[float] = []
        failures = [0]
        lock = threading.Lock()
        start = threading.Barrier(clients)

        def work(index: int) -> None:
            agent = agents[index]
            mine = range(index, cycles, clients)
            start.wait()
            for n in mine:
                t0 = time.perf_counter()
                ok = agent.cycle(item_id(n))
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    failures[0] += not ok

        threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
        pids = worker_pids(server.pid)
        server_cpu, client_cpu = process_cpu_seconds(pids), time.process_time()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        if server_cpu is not None:
            server_cpu = process_cpu_seconds(pids) - server_cpu
    finally:
        server.terminate()
        server.wait(timeout=30)
    label = f"c{clients} HTTP, {clients} client{'s' if clients > 1 else ''}, {workers} workers"
    result = summary(label, latencies, elapsed, failures[0])
    result["client_cpu_ms"] = client_cpu / cycles * 1000
    result["server_cpu_ms"] = server_cpu / cycles * 1000 if server_cpu is not None else None
    return result


def completed_attempts(db: Path) -> int:
    conn = sqlite3.connect(db)
    count = conn.execute("SELECT COUNT(*) FROM attempts WHERE outcome = 'completed'").fetchone()
    conn.close()
    return count[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=500, help="cycles for (a) and (b)")
    parser.add_argument("--http-cycles", type=int, default=1000, help="cycles for each (c)")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--workers", default="2", help="gunicorn worker counts for (c), e.g. 2,4,8 (default 2)"
    )
    parser.add_argument(
        "--database-url", help="run (c) on PostgreSQL (postgres://…) instead of SQLite"
    )
    parser.add_argument(
        "--clients", default="1,4", help="concurrent clients for (c), e.g. 1,4 (default)"
    )
    parser.add_argument("--in-process-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process_child:
        in_process_child(args.in_process_child[0], int(args.in_process_child[1]))
        return 0

    worker_counts = [int(n) for n in args.workers.split(",")]
    client_counts = [int(n) for n in args.clients.split(",")]
    if args.database_url:
        return main_postgresql(args, worker_counts, client_counts)

    load_before = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="api_cycle_"))
    try:
        items = max(args.cycles, args.http_cycles)
        template, tokens = build_template(folder, items, agents=max(client_counts))
        results = run_in_process(
            scratch_copy(template, "a.db"), scratch_copy(template, "b.db"), args.cycles
        )
        for workers in worker_counts:
            for clients in client_counts:
                db = scratch_copy(template, f"c{clients}w{workers}.db")
                result = run_http(db, tokens, clients, args.http_cycles, args.worker_class, workers)
                result["completed_in_db"] = completed_attempts(db)
                results.append(result)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    load_after = os.getloadavg()[0]
    raw = results[0]["cycles_per_s"]
    print(f"{'mode':34} {'cycles':>7} {'cycles/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'x raw':>7}")
    for r in results:
        print(
            f"{r['label']:34} {r['cycles']:>7} {r['cycles_per_s']:>9.1f} {r['p50_ms']:>8.2f}"
            f" {r['p95_ms']:>8.2f} {r['cycles_per_s'] / raw:>7.3f}"
        )
    service_ratio = results[1]["cycles_per_s"] / raw
    goal_label = "c4 HTTP, 4 clients, 2 workers"
    http4 = next((r["cycles_per_s"] for r in results[2:] if r["label"] == goal_label), 0.0)
    failures = sum(r["failures"] for r in results)
    print(f"\nb/a = {service_ratio:.3f} (goal >= {GOAL_SERVICE_RATIO})")
    print(f"c, 4 clients, 2 workers = {http4:.1f} cycles/s (goal >= {GOAL_HTTP4_CYCLES})")
    print(f"gunicorn: {args.workers} workers, {args.worker_class}; failed cycles: {failures}")
    for r in results[2:]:
        if r["server_cpu_ms"] is not None:
            print(
                f"{r['label']}: CPU per cycle {r['server_cpu_ms']:.2f} ms in gunicorn + "
                f"{r['client_cpu_ms']:.2f} ms in the clients"
            )
    # Other work on the machine takes CPU from the server and shows in cycles/s; the
    # load average tells how much (2 = both cores busy before this benchmark started).
    print(f"load average (1 min): {load_before:.2f} before, {load_after:.2f} after")
    for r in results[2:]:
        if r["completed_in_db"] != r["cycles"] - r["failures"]:
            print(f"{r['label']}: {r['completed_in_db']} completed attempts in the database!")
            failures += 1
    ok = service_ratio >= GOAL_SERVICE_RATIO and http4 >= GOAL_HTTP4_CYCLES and not failures
    return 0 if ok else 1


def main_postgresql(args, worker_counts: list[int], client_counts: list[int]) -> int:
    """(c) on PostgreSQL: a database per run, copied from one migrated template."""
    cluster = Postgres(args.database_url)
    load_before = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="api_cycle_pg_"))
    results = []
    try:
        template, tokens = cluster.build_template(args.http_cycles, agents=max(client_counts))
        for workers in worker_counts:
            for clients in client_counts:
                url = cluster.url_for(cluster.create(f"c{clients}w{workers}", template))
                log = folder / f"c{clients}w{workers}.gunicorn.log"
                result = run_http(
                    url, tokens, clients, args.http_cycles, args.worker_class, workers, log
                )
                result["completed_in_db"] = cluster.completed_attempts(url)
                results.append(result)
    finally:
        if not args.keep:
            cluster.drop_all()
            shutil.rmtree(folder, ignore_errors=True)
    load_after = os.getloadavg()[0]
    print(f"PostgreSQL ({args.database_url}); gunicorn {args.worker_class}")
    print(f"{'mode':34} {'cycles':>7} {'cycles/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms':>7}")
    failures = 0
    for r in results:
        cpu = f"{r['server_cpu_ms']:.2f}" if r["server_cpu_ms"] is not None else "-"
        print(
            f"{r['label']:34} {r['cycles']:>7} {r['cycles_per_s']:>9.1f} {r['p50_ms']:>8.2f}"
            f" {r['p95_ms']:>8.2f} {cpu:>7}"
        )
        failures += r["failures"]
        if r["completed_in_db"] != r["cycles"] - r["failures"]:
            print(f"{r['label']}: {r['completed_in_db']} completed attempts in the database!")
            failures += 1
    print(f"failed cycles: {failures}")
    print(f"load average (1 min): {load_before:.2f} before, {load_after:.2f} after")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
