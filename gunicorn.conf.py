"""gunicorn's settings for serving motus_site (README, "The two commands"), with
``DJANGO_ALLOWED_HOSTS`` and ``DJANGO_SECRET_KEY`` set:

    .venv/bin/gunicorn -c gunicorn.conf.py -b 127.0.0.1:8000

- ``sync`` workers (2 unless ``WEB_CONCURRENCY`` or ``-w`` says otherwise) spread clients
  over the workers request by request.
- ``timeout`` (30 s) is the worker timeout. A request waits at most ``MOTUS_BUSY_TIMEOUT_MS``
  (5 s) for another process's write lock, then answers 503 ``database_busy`` with
  ``Retry-After``; start-up refuses a busy timeout that is not well below the worker timeout.
- ``MOTUS_CACHE_DIR`` (default: a private folder beside the database) holds the throttle and
  failed-login counts, so that all workers count together.

Command-line options override these (``-b``, ``-w``, ``--timeout``); the check then still holds.
"""

import os
from pathlib import Path

wsgi_app = "motus_site.wsgi:application"
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
timeout = 30
graceful_timeout = 30
if Path("/dev/shm").is_dir():
    # The workers' liveness file is touched on every loop; keep it off the disk.
    worker_tmp_dir = "/dev/shm"

#: Milliseconds a web request waits for the write lock (motus_site/wsgi.py has the same
#: default for other servers); must leave room for a whole request within ``timeout``.
BUSY_TIMEOUT_MS = 5000
os.environ.setdefault("MOTUS_BUSY_TIMEOUT_MS", str(BUSY_TIMEOUT_MS))

_database = Path(
    os.environ.get("MOTUS_DB_PATH") or Path.home() / ".motus" / "coordination.db"
).expanduser()
os.environ.setdefault("MOTUS_CACHE_DIR", str(_database.with_name(_database.name + "-web-cache")))


def on_starting(server):
    """Refuse to start when a lock wait could outlast the worker timeout."""
    busy_seconds = int(os.environ["MOTUS_BUSY_TIMEOUT_MS"]) / 1000
    worker_timeout = server.cfg.timeout
    if worker_timeout and busy_seconds * 2 > worker_timeout:
        raise SystemExit(
            f"MOTUS_BUSY_TIMEOUT_MS ({busy_seconds:g} s) must be at most half of gunicorn's "
            f"worker timeout ({worker_timeout} s): a request waiting for the database's "
            "write lock must answer 503 before its worker is killed."
        )
