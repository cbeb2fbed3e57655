"""SQLite backend for coordination.db: Django's, with immediate foreign keys.

Django declares SQLite foreign keys ``DEFERRABLE INITIALLY DEFERRED``, which moves a broken
reference from the offending statement to COMMIT. The contract (RULES.md 1.4) and the `motus`
tool use immediate foreign keys, so a bad reference fails at the statement that made it, in
the app exactly as in the tool.
"""

from django.db.backends.sqlite3 import base, schema


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    sql_create_inline_fk = "REFERENCES %(to_table)s (%(to_column)s)"


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
