"""Model fields that store values exactly as coordination.db and the `motus` tool expect.

The contract declares only TEXT, INTEGER and REAL columns (RULES.md 1.1): Django's datetime
and boolean columns would get NUMERIC affinity and a different text format, so these fields
keep Python-friendly values (aware datetimes, bools) on top of TEXT/INTEGER storage.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def utc_now() -> dt.datetime:
    """Now in UTC, whole seconds: the value SQLite's ``datetime('now')`` gives."""
    return timezone.now().replace(microsecond=0)


def format_timestamp(value: dt.datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` UTC, the only form triggers and views compare correctly."""
    if timezone.is_aware(value):
        value = value.astimezone(dt.UTC)
    return value.strftime(TIMESTAMP_FORMAT)


def parse_timestamp(value: str) -> dt.datetime | None:
    """Parse the contract's form (and the ISO ``...T...Z`` form) into an aware UTC datetime."""
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


class DbNow(models.Func):
    """``datetime('now')``: the DB-level default the contract declares for timestamps."""

    template = "datetime('now')"
    output_field = models.TextField()
    arity = 0

    def as_postgresql(self, compiler, connection, **extra_context):
        # The same text, UTC, whole seconds (the statement's clock, as SQLite's).
        return self.as_sql(
            compiler,
            connection,
            template="to_char(timezone('UTC', statement_timestamp()), 'YYYY-MM-DD HH24:MI:SS')",
            **extra_context,
        )


class ShortTextField(models.TextField):
    """A TEXT column edited as a one-line input (ids, keys, names)."""

    def formfield(self, **kwargs):
        if not self.choices:
            kwargs.setdefault("widget", forms.TextInput)
        return super().formfield(**kwargs)


class TimestampField(models.DateTimeField):
    """A TEXT column holding ``YYYY-MM-DD HH:MM:SS`` UTC, seen in Python as an aware datetime.

    Text that is not a timestamp (the other tool may write anything into a TEXT column) is
    returned unchanged rather than raising while reading a row.
    """

    def get_internal_type(self):
        return "TextField"

    def from_db_value(self, value, expression, connection):
        if value is None or not isinstance(value, str):
            return value
        return parse_timestamp(value) or value

    def to_python(self, value):
        if isinstance(value, str):
            parsed = parse_timestamp(value)
            if parsed is not None:
                return parsed
        return super().to_python(value)

    def get_prep_value(self, value):
        if isinstance(value, dt.datetime):
            if timezone.is_naive(value):
                value = value.replace(tzinfo=dt.UTC)
            return format_timestamp(value)
        if isinstance(value, dt.date):
            return value.strftime("%Y-%m-%d 00:00:00")
        return value

    def get_db_prep_value(self, value, connection, prepared=False):
        if hasattr(value, "as_sql"):
            return value
        return self.get_prep_value(value)

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return format_timestamp(value) if isinstance(value, dt.datetime) else (value or "")


class IntBooleanField(models.BooleanField):
    """A 0/1 INTEGER column seen in Python as a bool (views and triggers compare with 1)."""

    def get_internal_type(self):
        return "IntegerField"

    def from_db_value(self, value, expression, connection):
        return value if value is None else bool(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value is None else int(value)


class TerminologyKeyField(ShortTextField):
    """A ``*_key`` column holding a ``terminology.internal_key`` of one domain (no FK).

    The domain drives the admin's drop-down and the API's validation (RULES.md 1.5).
    """

    def __init__(self, *args, domain: str = "", **kwargs):
        self.domain = domain
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["domain"] = self.domain
        return name, path, args, kwargs
