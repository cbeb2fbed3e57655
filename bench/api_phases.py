"""Where an API work cycle's time goes, in process: claim → evidence → release through
Django's test client on a scratch database, with timers around the stages.

    .venv/bin/python bench/api_phases.py [--cycles 300] [--profile N [--sort KEY] [--dump F]]

Prints the wall time per cycle and, per stage, the time spent in it per cycle (stages nest:
``dispatch`` contains ``initial``, which contains ``auth``; the views contain the services
and ``render``). ``--profile N`` also prints cProfile's N most expensive functions by
internal time (``--sort cumulative``, ``ncalls``, … for another order; ``--dump FILE`` keeps
the statistics for ``pstats``). Run it on two checkouts (e.g. a ``git worktree`` of an
older commit) to see which stage a change made dearer; ``bench/api_instructions.py`` counts
a cycle's CPU instructions, ``bench/api_cycle.py`` measures the real HTTP figures.
Request logging is off (``MOTUS_API_LOG_LEVEL=WARNING``) and write throttling too.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import json
import os
import pstats
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHA = "ab" * 32


def scratch_database(items: int) -> tuple[Path, str]:
    db = Path(tempfile.mkdtemp(prefix="motus-bench-phases-")) / "coordination.db"
    env = {**os.environ, "MOTUS_DB_PATH": str(db)}
    run = [sys.executable, "manage.py"]
    subprocess.run([*run, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    conn = sqlite3.connect(db)
    conn.executemany(
        "INSERT INTO roadmap_items (id, phase_key, title, status_key, rank)"
        " VALUES (?, 'phase_a', ?, 'deferred', ?)",
        [(f"B{n:05d}", f"Bench item {n}", float(n)) for n in range(items)],
    )
    conn.execute("UPDATE roadmap_items SET status_key = 'pending'")
    conn.commit()
    conn.close()
    token = subprocess.run(
        [*run, "create_agent", "bencher"], cwd=ROOT, env=env, check=True, capture_output=True
    ).stdout.split()[-1]
    return db, token.decode()


class Timers:
    """Wall time spent inside wrapped callables, per label."""

    def __init__(self):
        self.seconds = collections.Counter()
        self.calls = collections.Counter()

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name, None)
        if original is None:
            return

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
                self.calls[label] += 1

        setattr(owner, name, timed)

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--sort", default="tottime", help="pstats order of --profile's list")
    parser.add_argument("--dump", metavar="FILE", help="save --profile's statistics")
    args = parser.parse_args()
    db, token = scratch_database(args.cycles + 20)
    os.environ.update(
        MOTUS_DB_PATH=str(db),
        DJANGO_SETTINGS_MODULE="motus_site.settings",
        MOTUS_THROTTLE_WRITES="off",
        MOTUS_API_LOG_LEVEL="WARNING",
        DJANGO_ALLOWED_HOSTS="testserver,localhost",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.handlers import base as handlers
    from django.test import Client
    from rest_framework import views as drf_views

    from kernel import services
    from kernel.api import views as kernel_views
    from system.api import authentication

    timers = Timers()
    timers.wrap(handlers.BaseHandler, "get_response", "request (middleware and view)")
    timers.wrap(drf_views.APIView, "dispatch", "dispatch (DRF view)")
    timers.wrap(drf_views.APIView, "initial", "initial (auth, permissions, throttles)")
    timers.wrap(authentication.TokenAuthentication, "authenticate", "auth (token lookup)")
    for name in ("claim", "record_evidence", "release"):
        timers.wrap(services, name, f"service {name}")
    timers.wrap(kernel_views, "_respond", "render (response serializers)")
    for name in ("attempt_actions", "standing_actions", "ready_actions"):
        timers.wrap(kernel_views, name, f"next_actions {name}")

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def post(path: str, body: dict) -> dict:
        response = client.post(path, json.dumps(body), content_type="application/json")
        if response.status_code not in (200, 201):
            sys.exit(f"{path}: {response.status_code} {response.content[:300]!r}")
        return response.json()

    def cycle(n: int) -> None:
        attempt = post(f"/api/v1/work/B{n:05d}/claim/", {})["attempt"]["id"]
        evidence = {"evidence_type": "test_result", "uri": "bench://phases", "sha256": SHA}
        post(f"/api/v1/attempts/{attempt}/evidence/", evidence)
        post(f"/api/v1/attempts/{attempt}/release/", {"disposition": "completed"})

    for n in range(10):  # warm up
        cycle(n)
    timers.reset()
    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    for n in range(10, 10 + args.cycles):
        cycle(n)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"{args.cycles} cycles: {elapsed / args.cycles * 1000:.2f} ms a cycle (3 requests)")
    for label, seconds in sorted(timers.seconds.items(), key=lambda kv: -kv[1]):
        per_cycle = timers.calls[label] / args.cycles
        print(f"  {label:42s} {seconds / args.cycles * 1000:7.3f} ms  ({per_cycle:.1f} a cycle)")
    if profiler:
        stats = pstats.Stats(profiler)
        if args.dump:
            stats.dump_stats(args.dump)
        stats.sort_stats(args.sort).print_stats(args.profile)


if __name__ == "__main__":
    main()
