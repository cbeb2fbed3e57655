"""``load_demo_data``: the contract's optional demo content (never loaded by default).

3 programs, 3 products, 5 features, 12 standards and 10 standard assignments, as the
`motus` tool's own migrations insert them. Rows that already exist are left as they are,
so running it twice is harmless.
"""

import json
from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand
from django.core.management.color import no_style
from django.db import connection, transaction

DEMO_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "demo_data.json"
TABLE_ORDER = ["programs", "products", "features", "standards", "standard_assignments"]


class Command(BaseCommand):
    help = "Load the contract's demo programs, products, features and standards."

    def handle(self, *args, **options):
        data = json.loads(DEMO_FILE.read_text())
        inserted = 0
        with transaction.atomic(), connection.cursor() as cursor:
            for table in TABLE_ORDER:
                for row in data[table]:
                    columns = list(row)
                    cursor.execute(
                        f"INSERT INTO {table} ({', '.join(columns)}) "
                        f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT DO NOTHING",
                        [row[c] for c in columns],
                    )
                    inserted += cursor.rowcount
            # Explicit ids went into standard_assignments: on PostgreSQL its id sequence
            # moves past them (no statement on SQLite, whose AUTOINCREMENT follows MAX(id)).
            models = [m for m in apps.get_models() if m._meta.db_table in TABLE_ORDER]
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)
        self.stdout.write(f"Demo data: {inserted} rows inserted.")
