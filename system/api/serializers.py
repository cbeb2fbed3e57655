"""Shapes shared by every app's API: errors, next actions, identity."""

from rest_framework import serializers


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
