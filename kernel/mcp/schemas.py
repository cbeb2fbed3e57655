"""JSON Schemas of the MCP tools, derived from the REST API's own serializers.

A tool's input schema is its request serializer's writable fields (the same serializer
then validates the call, so the schema, the rules and the messages cannot drift apart);
its output schema is the response serializer's readable fields, which is exactly what the
REST API sends. Every field DRF has is mapped to its JSON type; a field this module does
not know becomes ``{}`` (any value), which is loose but never wrong.

Outputs: DRF renders a missing attribute as ``null`` whatever the field declares, so
every output property admits ``null`` (the SDK's client validates each result against the
schema and must never reject a row another tool wrote). A REST ``next_action``
(``NextActionSerializer``) becomes the MCP form of :data:`NEXT_ACTION`.
"""

from __future__ import annotations

import types
import typing

from drf_spectacular.drainage import get_override
from rest_framework import serializers

from system.api.serializers import NextActionSerializer

#: What may come next, as an MCP tool call (``kernel.mcp.actions`` translates the REST
#: API's ``next_actions`` into this form).
NEXT_ACTION = {
    "type": "object",
    "description": "A tool call that would be accepted now, with its arguments.",
    "properties": {
        "tool": {"type": "string", "description": "The tool to call."},
        "arguments": {
            "type": "object",
            "description": "The ids to pass; add the tool's other arguments.",
        },
        "note": {"type": "string", "description": "What the call needs."},
    },
    "required": ["tool", "arguments"],
}
NEXT_ACTIONS = {
    "type": "array",
    "items": NEXT_ACTION,
    "description": "The tool calls open to you now (only calls that would be accepted).",
}


def _nullable(schema: dict) -> dict:
    if "enum" in schema:
        return schema if None in schema["enum"] else {**schema, "enum": [*schema["enum"], None]}
    kind = schema.get("type")
    if kind is None:  # any value, null included
        return schema
    kinds = kind if isinstance(kind, list) else [kind]
    return schema if "null" in kinds else {**schema, "type": [*kinds, "null"]}


#: Python return annotations of ``SerializerMethodField`` methods, as JSON types.
_PYTHON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number"}


def _regex(field) -> str | None:
    for validator in field.validators:
        pattern = getattr(getattr(validator, "regex", None), "pattern", None)
        if pattern:
            return pattern
    return None


def _bounds(field, schema: dict, low: str, high: str) -> None:
    for attribute, key in ((low, "minimum"), (high, "maximum")):
        value = getattr(field, attribute, None)
        if value is not None:
            schema[key] = value


def _method_field(field) -> dict:
    """A ``SerializerMethodField`` has no type of its own: what ``extend_schema_field``
    declared on its method, else its return annotation when it is a plain type (``str``,
    ``bool | None``…); any value otherwise."""
    method = getattr(field.parent, field.method_name, None)
    if method is None:
        return {}
    declared = get_override(method, "field")
    if isinstance(declared, serializers.Field):
        declared.bind(field.field_name, field.parent)
        return field_schema(declared, output=True)
    try:
        annotation = typing.get_type_hints(method).get("return")
    except Exception:  # an annotation that cannot be evaluated here
        return {}
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    kinds = typing.get_args(annotation) if union else (annotation,)
    names = [_PYTHON_TYPES.get(kind, "null" if kind is type(None) else None) for kind in kinds]
    if not names or None in names:
        return {}
    return {"type": names[0] if len(names) == 1 else names}


def field_schema(field, *, output: bool) -> dict:
    """The JSON Schema of one DRF field, as read (``output``) or as written."""
    if isinstance(field, NextActionSerializer):
        schema = dict(NEXT_ACTION)
    elif isinstance(field, serializers.ListSerializer):
        if isinstance(field.child, NextActionSerializer):
            schema = dict(NEXT_ACTIONS)
        else:
            schema = {"type": "array", "items": field_schema(field.child, output=output)}
    elif isinstance(field, serializers.BaseSerializer):
        schema = serializer_schema(field, output=output)
    elif isinstance(field, serializers.SerializerMethodField):
        schema = _method_field(field)
    elif isinstance(field, serializers.ChoiceField):
        schema = {"enum": list(field.choices)}
    elif isinstance(field, serializers.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, serializers.IntegerField | serializers.FloatField):
        schema = {"type": "integer" if isinstance(field, serializers.IntegerField) else "number"}
        if not output:
            _bounds(field, schema, "min_value", "max_value")
    elif isinstance(field, serializers.DecimalField):
        schema = {"type": "string" if field.coerce_to_string else "number"}
    elif isinstance(field, serializers.DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, serializers.JSONField):
        schema = {}
    elif isinstance(field, serializers.ListField):
        schema = {"type": "array", "items": field_schema(field.child, output=output)}
    elif isinstance(field, serializers.DictField):
        schema = {
            "type": "object",
            "additionalProperties": field_schema(field.child, output=output),
        }
    elif isinstance(field, serializers.CharField):
        schema = {"type": "string"}
        if not output:
            if field.max_length is not None:
                schema["maxLength"] = field.max_length
            if field.min_length is not None:
                schema["minLength"] = field.min_length
            if (pattern := _regex(field)) is not None:
                schema["pattern"] = pattern
    else:
        schema = {}
    help_text = getattr(field, "help_text", None)
    if help_text and "description" not in schema:
        schema["description"] = str(help_text)
    if output or getattr(field, "allow_null", False):
        schema = _nullable(schema)
    return schema


def serializer_schema(serializer, *, output: bool) -> dict:
    """The object schema of a serializer: its readable fields for ``output``, else its
    writable ones (``required`` as the serializer requires them)."""
    if isinstance(serializer, type):
        serializer = serializer()
    properties: dict[str, dict] = {}
    required: list[str] = []
    for name, field in serializer.fields.items():
        if output and field.write_only or not output and field.read_only:
            continue
        properties[name] = field_schema(field, output=output)
        if not output and field.required:
            required.append(name)
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema
