"""``expire_stale``: end attempts whose agent went silent (their work lease expired).

Each one ends as ``failed`` in its own short transaction, with an audit row by ``system``;
its item goes back to ``pending`` and can be claimed again. Safe to run from cron at any
time: an attempt whose agent heartbeats in the meantime is left alone.
"""

from django.core.management.base import BaseCommand

from kernel import services
from system.errors import Conflict
from system.identity import SYSTEM


class Command(BaseCommand):
    help = "End stale attempts (lease expired) as failed so their items can be claimed again."

    def handle(self, *args, **options):
        ended = 0
        for attempt_id in services.stale_attempt_ids():
            try:
                attempt = services.end_stale_attempt(SYSTEM, attempt_id)
            except Conflict:
                continue  # revived by a heartbeat, or ended, since the scan
            ended += 1
            self.stdout.write(f"{attempt_id}: {attempt['worker_id']} on {attempt['work_id']}")
        self.stdout.write(f"{ended} stale attempt(s) ended.")
