"""``migrate`` that adopts a coordination.db the `motus` tool already created.

The tool creates the contract's tables itself. On such a file the initial migrations'
tables already exist, so they are recorded as applied instead of run (Django's
``--fake-initial``), and everything after them runs normally: Django's own tables, the
``events`` table, the fixed lease index, and the trigger/view/seed SQL, which replaces the
tool's older definitions and keeps every row. On a new or empty file nothing exists, so
every migration runs. Users need no extra flag either way.
"""

from django.core.management.commands.migrate import Command as DjangoMigrateCommand


class Command(DjangoMigrateCommand):
    help = DjangoMigrateCommand.help + " Adopts an existing coordination.db (fake-initial)."

    def handle(self, *args, **options):
        options["fake_initial"] = True
        return super().handle(*args, **options)
