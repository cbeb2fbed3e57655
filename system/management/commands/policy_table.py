"""``policy_table``: print the role × action table of ``system.policy`` (the README's)."""

from django.core.management.base import BaseCommand

from system import policy


class Command(BaseCommand):
    help = "Print the README's table of who may do what (system.policy.MATRIX), in Markdown."

    def handle(self, *args, **options):
        self.stdout.write(policy.matrix_table())
