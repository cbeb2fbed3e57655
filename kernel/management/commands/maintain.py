"""``maintain``: the periodic upkeep of coordination.db, one command for cron or a timer.

In order, each step in its own short transaction(s), so the server and the `motus` tool
keep working meanwhile:

1. end stale attempts (their lease expired) as ``failed``, as ``expire_stale`` does, so
   their items can be claimed again;
2. delete expired idempotency keys (``expires_at`` passed);
3. delete ``health_check_results`` rows older than 7 days (the contract's
   ``health_check_cleanup`` trigger does so only when a row is inserted);
4. checkpoint the WAL (TRUNCATE, waiting at most ``--checkpoint-timeout-ms`` for readers;
   a busy checkpoint is reported, not an error).

A step that fails is reported and the others still run; the exit status is then 1.

On PostgreSQL the WAL checkpoint step is skipped (said so, not an error): the server
checkpoints by itself, and autovacuum keeps the tables tidy.
"""

from django.core.management.base import BaseCommand

from kernel import services
from system import health
from system.errors import Conflict
from system.identity import SYSTEM


class Command(BaseCommand):
    help = (
        "Periodic upkeep: end stale attempts, purge expired idempotency keys, prune the "
        "health-check window, checkpoint the WAL (SQLite)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint-timeout-ms",
            type=int,
            default=5000,
            help="How long the WAL checkpoint waits for readers (default: %(default)s).",
        )

    def handle(self, *args, **options):
        steps = (
            ("expire_stale", self.expire_stale),
            ("idempotency_keys", self.purge_keys),
            ("health_window", self.prune_health),
            ("wal_checkpoint", lambda: self.checkpoint(options["checkpoint_timeout_ms"])),
        )
        failed = []
        for name, step in steps:
            try:
                message = step()
            except Exception as exc:  # report it and go on with the other steps
                failed.append(name)
                self.stderr.write(self.style.ERROR(f"{name}: failed: {type(exc).__name__}: {exc}"))
                continue
            self.stdout.write(f"{name}: {message}")
        if failed:
            raise SystemExit(1)

    def expire_stale(self) -> str:
        ended = []
        for attempt_id in services.stale_attempt_ids():
            try:
                attempt = services.end_stale_attempt(SYSTEM, attempt_id)
            except Conflict:
                continue  # revived by a heartbeat, or ended, since the scan
            ended.append(f"{attempt_id} ({attempt['worker_id']} on {attempt['work_id']})")
        if not ended:
            return "0 stale attempts ended"
        return f"{len(ended)} stale attempt(s) ended as failed: {', '.join(ended)}"

    def purge_keys(self) -> str:
        return f"{health.purge_expired_idempotency_keys()} expired key(s) deleted"

    def prune_health(self) -> str:
        return (
            f"{health.prune_health_window()} health_check_results row(s) older than 7 days deleted"
        )

    def checkpoint(self, timeout_ms: int) -> str:
        if health.is_postgresql():
            return "skipped: PostgreSQL checkpoints by itself (the step is for the SQLite file)"
        return health.describe_checkpoint(health.wal_checkpoint("truncate", timeout_ms))
