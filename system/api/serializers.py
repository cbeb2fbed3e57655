"""Shapes shared by every app's API: errors, next actions, identity."""

import copy

from rest_framework import serializers

from system.models import AuditLog


def model_choices(model, field_name):
    """A model field's (value, label) pairs, so request and response share one OpenAPI
    enum per set of values."""
    return model._meta.get_field(field_name).choices


class LeanSerializer(serializers.Serializer):
    """A request serializer for the hot path. DRF deep-copies every declared field each time
    a serializer is instantiated, a large share of a small request's cost; here they are
    deep-copied once per class and each instance gets shallow copies to bind."""

    def get_fields(self):
        cls = type(self)
        prototypes = cls.__dict__.get("_field_prototypes")
        if prototypes is None:
            prototypes = copy.deepcopy(self._declared_fields)
            cls._field_prototypes = prototypes
        return {name: copy.copy(field) for name, field in prototypes.items()}


class ErrorDetailSerializer(serializers.Serializer):
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


class ErrorSerializer(serializers.Serializer):
    """Every 4xx/5xx response of the API."""

    error = ErrorDetailSerializer()


class NextActionSerializer(serializers.Serializer):
    action = serializers.CharField()
    method = serializers.CharField()
    href = serializers.CharField()
    note = serializers.CharField(required=False)


class WhoAmISerializer(serializers.Serializer):
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


class AuditLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditLog
        fields = "__all__"
