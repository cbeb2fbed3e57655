"""Shapes shared by every app's API: errors, next actions, identity, and the fields every
response uses, so that what the OpenAPI document says is what is sent:

- :class:`Timestamp`: every timestamp as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), whether it comes
  from a model (an aware datetime) or from a service's row (the database's text form);
- :class:`JSONText`: a TEXT column holding JSON is sent as JSON, not as a string;
- :class:`RowSerializer`: a model serializer using both, which serializes model instances
  and the services' plain row dicts alike;
- :data:`INT64_MIN` / :data:`INT64_MAX`: the bounds of every integer a request may carry
  (SQLite's INTEGER is 64-bit; a larger number is a 400, not an overflow).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import NamedTuple

from django.utils.functional import cached_property
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField, empty
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from system import terminology
from system.fields import TimestampField, parse_timestamp
from system.models import AuditLog

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class Timestamp(serializers.DateTimeField):
    """``YYYY-MM-DDTHH:MM:SSZ`` from an aware datetime or from the database's text form
    (``YYYY-MM-DD HH:MM:SS``, or the events' ``…T…Z``). Text that is no timestamp (another
    tool may write anything into a TEXT column) is passed on unchanged."""

    def to_representation(self, value):
        if isinstance(value, str):
            if len(value) == 19 and value[10] == " " and value[13] == value[16] == ":":
                # The database's own form, most timestamps a response carries: rewritten
                # as text once it is known to be a real date and time.
                try:
                    dt.datetime.fromisoformat(value)
                except ValueError:
                    return value
                return f"{value[:10]}T{value[11:]}Z"
            parsed = parse_timestamp(value)
            if parsed is None:
                return value
            value = parsed
        iso = getattr(self, "format", api_settings.DATETIME_FORMAT) == ISO_8601
        if iso and isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)  # the server's time zone is UTC
            # DRF's rendering (enforce_timezone, then isoformat with "Z" for +00:00)
            # without its per-value lookup of the active time zone: the API's is UTC.
            text = value.astimezone(dt.UTC).isoformat()
            return text[:-6] + "Z"
        return super().to_representation(value)


class JSONText(serializers.JSONField):
    """A TEXT column that holds JSON, sent as the JSON value it holds (text that is not
    JSON, which the other tool may have written, as a string)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value


class Int64Field(serializers.IntegerField):
    """An integer a request may carry: within SQLite's 64-bit INTEGER unless narrower
    bounds are given."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", INT64_MIN)
        kwargs.setdefault("max_value", INT64_MAX)
        super().__init__(**kwargs)


class TerminologyKey(serializers.CharField):
    """A ``*_key`` value that must be a live, non-deprecated key of its domain."""

    def __init__(self, domain: str, **kwargs):
        self.domain = domain
        kwargs.setdefault("help_text", f"A key of the terminology domain {domain!r}.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not terminology.is_valid_key(self.domain, value):
            keys = ", ".join(key for key, _ in terminology.choices(self.domain))
            raise serializers.ValidationError(f"Unknown key {value!r}; use one of: {keys}.")
        return value


def _unbound_copy(field):
    """A shallow copy of a prototype field for one serializer instance to bind. A list
    field's child gets its own copy too, bound to the new list, so that no two instances
    share a bound field (and its ``parent``, ``root`` and ``context``)."""
    clone = copy.copy(field)
    if isinstance(clone, serializers.ListSerializer):
        clone.child = copy.copy(clone.child)  # bound (field name "") by ListSerializer
        clone.child.parent = clone
    return clone


#: Field classes whose rendering of a value of exactly this type is the value itself.
_IDENTITY_RENDERINGS = {
    serializers.CharField: str,
    serializers.IntegerField: int,
    serializers.FloatField: float,
}

#: What DRF renders for a field whose key a row lacks (``Field.get_attribute``'s way).
_SKIP, _NULL = "skip", "null"


class _Step(NamedTuple):
    """How :meth:`FieldsOnce.to_representation` renders one field of a row dict."""

    name: str
    key: str | None  # the row's key holding the value, when the source is that one key
    field: serializers.Field
    plain: type | None  # a value of exactly this type is rendered as itself
    absent: str | None  # a row without ``key``: _SKIP, _NULL, or None (DRF's own lookup)


def _plain_type(field) -> type | None:
    for field_class, value_type in _IDENTITY_RENDERINGS.items():
        if type(field).to_representation is field_class.to_representation and isinstance(
            field, field_class
        ):
            return value_type
    return None


def _absent(field) -> str | None:
    if field.default is not empty:
        return None  # DRF renders the default (which may be computed)
    if field.allow_null:
        return _NULL
    return None if field.required else _SKIP


def _row_plan(fields) -> list[_Step]:
    """A :class:`_Step` for each readable field: whether it reads one key of a row dict (a
    one-part source, DRF's own lookup), what a value of that key renders as without the
    field's help, and what a row without the key gets. Kept on the fields' mapping, so a
    class's shared fields work it out once."""
    plan = getattr(fields, "_motus_row_plan", None)
    if plan is None:
        plan = []
        for field in fields.values():
            if field.write_only:
                continue
            simple = (
                len(field.source_attrs) == 1
                and type(field).get_attribute is serializers.Field.get_attribute
            )
            plan.append(
                _Step(
                    field.field_name,
                    field.source_attrs[0] if simple else None,
                    field,
                    _plain_type(field) if simple else None,
                    _absent(field) if simple else None,
                )
            )
        fields._motus_row_plan = plan
    return plan


class FieldsOnce:
    """Serializer fields built once per class instead of once per instance.

    DRF builds every field of a serializer, nested ones included, each time one is
    instantiated (deep copies, and a model's field mapping for a ModelSerializer): most of
    the cost of rendering a small response. Here:

    - a serializer that only renders (its root was given no ``data`` and no ``context``)
      uses one set of fields per class, built and bound once: rendering reads fields and
      never changes them;
    - one that validates data, or has a context (which its fields may read through their
      ``parent``), binds its own shallow copies of the class's prototype fields, as DRF
      would bind its deep copies.
    """

    @cached_property
    def fields(self):
        root = self.root
        if (
            not hasattr(root, "initial_data")
            and not root._context
            and not getattr(self, "_owns_shared_fields", False)
        ):
            return type(self)._shared_fields()
        return super().fields

    def get_fields(self):
        cls = type(self)
        prototypes = cls.__dict__.get("_field_prototypes")
        if prototypes is None:
            prototypes = cls._field_prototypes = super().get_fields()
        return {name: _unbound_copy(field) for name, field in prototypes.items()}

    def to_representation(self, instance):
        """DRF's, with a shortcut for the services' row dicts: a field whose source is one
        key of the row reads it directly (DRF's lookup tests each value for a mapping, a
        callable and a nested source, for every field of every row). Anything else — model
        instances, dotted or ``*`` sources, fields with their own lookup — takes DRF's way.
        Which fields may read a key is worked out once per set of fields (:func:`_row_plan`)."""
        if type(instance) is not dict:
            return super().to_representation(instance)
        ret = {}
        for name, key, field, plain, absent in _row_plan(self.fields):
            if key is not None:
                if key in instance:
                    value = instance[key]
                    if value is None:
                        ret[name] = None
                        continue
                    if type(value) is plain:
                        ret[name] = value  # what the field's to_representation returns
                        continue
                    if not callable(value):
                        ret[name] = field.to_representation(value)
                        continue
                elif absent is _SKIP:
                    continue
                elif absent is _NULL:
                    ret[name] = None
                    continue
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            none = (attribute.pk if isinstance(attribute, PKOnlyObject) else attribute) is None
            ret[name] = None if none else field.to_representation(attribute)
        return ret

    @classmethod
    def _shared_fields(cls):
        shared = cls.__dict__.get("_shared_bound_fields")
        if shared is None:
            owner = cls()
            owner._owns_shared_fields = True
            shared = cls._shared_bound_fields = owner.fields
        return shared


class RowSerializer(FieldsOnce, serializers.ModelSerializer):
    """A model's row as the API sends it: timestamps through :class:`Timestamp`. Works on
    model instances and on the services' row dicts (same keys as the columns).

    Its fields are built once per class (:class:`FieldsOnce`)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        TimestampField: Timestamp,
    }

    def build_standard_field(self, field_name, model_field):
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        if issubclass(field_class, serializers.IntegerField) and not field_kwargs.get("read_only"):
            field_kwargs.setdefault("min_value", INT64_MIN)
            field_kwargs.setdefault("max_value", INT64_MAX)
        return field_class, field_kwargs


def value_of(row, name: str):
    """``row[name]`` of a row dict, ``row.name`` of a model instance."""
    return row[name] if isinstance(row, dict) else getattr(row, name)


def model_choices(model, field_name):
    """A model field's (value, label) pairs, so request and response share one OpenAPI
    enum per set of values."""
    return model._meta.get_field(field_name).choices


class LeanSerializer(FieldsOnce, serializers.Serializer):
    """A plain serializer whose fields are built once per class (:class:`FieldsOnce`): every
    request and response shape of the API."""


class ErrorDetailSerializer(LeanSerializer):
    optional_in_response = ("fields", "details")

    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(
        help_text="validation_error, not_authenticated, authentication_failed, "
        "permission_denied, not_found, kernel_rule (a trigger refused: message is its exact "
        "text), constraint, conflict, idempotency_key_reused, database_busy, …"
    )
    message = serializers.CharField()
    fields = serializers.DictField(
        required=False, help_text="Validation errors per field (400 only)."
    )
    details = serializers.DictField(
        required=False,
        help_text="More to act on, e.g. missing_prereqs, open_blockers or next_actions.",
    )


class ErrorSerializer(LeanSerializer):
    """Every 4xx/5xx response of the API."""

    error = ErrorDetailSerializer()


class NextActionSerializer(LeanSerializer):
    """A call the caller may make now and that would be accepted as things stand."""

    optional_in_response = ("note",)

    action = serializers.CharField(help_text="What the call does, e.g. claim, release.")
    method = serializers.ChoiceField(choices=["GET", "POST", "PATCH", "DELETE"])
    href = serializers.CharField(help_text="The path to call (ids quoted).")
    note = serializers.CharField(required=False, help_text="What the call needs.")


class WhoAmISerializer(LeanSerializer):
    identity = serializers.CharField()
    worker_type = serializers.CharField()
    username = serializers.CharField()
    is_staff = serializers.BooleanField()
    roles = serializers.ListField(
        child=serializers.CharField(), help_text="viewer, agent, reviewer, lead (README: Roles)."
    )
    permissions = serializers.ListField(
        child=serializers.CharField(),
        help_text="The permissions of the README's role table that you hold.",
    )


class AuditLogSerializer(RowSerializer):
    old_value = JSONText(help_text="The values before (JSON), as stored.")
    new_value = JSONText(help_text="The values after (JSON), as stored.")
    context = JSONText(help_text="Why, e.g. a reason (JSON), as stored.")

    class Meta:
        model = AuditLog
        fields = "__all__"
