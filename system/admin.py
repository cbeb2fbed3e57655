"""Admin of the `system` app: terminology and settings are edited; the rest is read-only."""

from django.contrib import admin, messages
from django.db import transaction

from system import audit, models, policy
from system.admin_base import (
    ContractAdmin,
    ReadOnlyAdmin,
    TableNameMixin,
    actor,
    resource_type_of,
)
from system.fields import utc_now


@admin.register(models.Terminology)
class TerminologyAdmin(ContractAdmin):
    """Rename display names here; every drop-down, column and filter shows the new name.

    ``domain`` and ``internal_key`` are fixed once created: triggers and views test literal
    keys (RULES.md 1.5).
    """

    list_display = (
        "domain",
        "internal_key",
        "display_name",
        "sort_order",
        "deprecated_at",
        "replaced_by",
    )
    list_display_links = ("internal_key",)
    list_filter = ("domain",)
    search_fields = ("domain", "internal_key", "display_name")
    ordering = ("domain", "sort_order", "id")

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return ["domain", "internal_key", *readonly] if obj is not None else readonly


@admin.register(models.InstanceConfig)
class InstanceConfigAdmin(ContractAdmin):
    """Settings of this install; ``instance_id`` never changes (it is in every audit row)."""

    list_display = ("key", "value", "updated_at", "updated_by")
    search_fields = ("key", "value")
    ordering = ("key",)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return ["value", *readonly] if obj is not None and obj.key == "instance_id" else readonly


@admin.register(models.AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "timestamp",
        "event_type",
        "actor",
        "resource_type",
        "resource_id",
        "action",
    )
    list_filter = ("event_type", "resource_type", "action")
    search_fields = ("actor", "resource_id", "event_type")
    ordering = ("-id",)


@admin.register(models.SchemaVersion)
class SchemaVersionAdmin(ReadOnlyAdmin):
    list_display = ("version", "migration_name", "applied_at", "checksum")
    ordering = ("version",)


@admin.register(models.ResourceQuota)
class ResourceQuotaAdmin(ReadOnlyAdmin):
    list_display = (
        "resource_type",
        "soft_limit",
        "hard_limit",
        "current_usage",
        "reset_interval_hours",
        "last_reset_at",
    )
    search_fields = ("resource_type",)
    ordering = ("resource_type",)


@admin.register(models.CircuitBreaker)
class CircuitBreakerAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "state",
        "failure_count",
        "failure_threshold",
        "last_failure_at",
        "opened_at",
    )
    list_filter = ("state",)
    search_fields = ("name",)
    ordering = ("name",)


@admin.register(models.HealthCheckResult)
class HealthCheckResultAdmin(ReadOnlyAdmin):
    list_display = ("id", "check_name", "status", "message", "duration_ms", "checked_at")
    list_filter = ("status", "check_name")
    search_fields = ("check_name", "message")
    ordering = ("-checked_at", "-id")


@admin.register(models.IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ("key", "operation", "status", "created_at", "expires_at")
    list_filter = ("status", "operation")
    search_fields = ("key", "operation")
    ordering = ("-created_at",)


@admin.register(models.Metric)
class MetricAdmin(ReadOnlyAdmin):
    list_display = ("id", "timestamp", "operation", "elapsed_ms", "is_success")
    list_filter = ("is_success", "operation")
    search_fields = ("operation",)
    ordering = ("-timestamp", "-id")


@admin.register(models.Session)
class SessionAdmin(ReadOnlyAdmin):
    list_display = ("id", "started_at", "ended_at", "commands_run", "learnings_captured")
    ordering = ("-started_at",)


@admin.register(models.GroundRule)
class GroundRuleAdmin(ReadOnlyAdmin):
    list_display = ("id", "rule_type", "rule_value", "source", "created_at")
    list_filter = ("rule_type", "source")
    search_fields = ("rule_type", "rule_value")
    ordering = ("rule_type", "id")


@admin.register(models.LearnedPattern)
class LearnedPatternAdmin(ReadOnlyAdmin):
    list_display = ("id", "pattern_type", "pattern_value", "source", "frequency", "last_seen_at")
    list_filter = ("pattern_type", "source")
    search_fields = ("pattern_type", "pattern_value")
    ordering = ("pattern_type", "-frequency")


@admin.register(models.DetectedPattern)
class DetectedPatternAdmin(ReadOnlyAdmin):
    list_display = ("id", "pattern_type", "pattern_value", "confidence", "detected_at")
    list_filter = ("pattern_type", "confidence")
    search_fields = ("pattern_type", "pattern_value")
    ordering = ("-detected_at",)


@admin.register(models.Skill)
class SkillAdmin(ReadOnlyAdmin):
    list_display = ("skill_name", "progress_count", "unlock_threshold", "unlocked_at")
    search_fields = ("skill_name",)
    ordering = ("skill_name",)


@admin.register(models.Preference)
class PreferenceAdmin(ReadOnlyAdmin):
    list_display = ("key", "value", "source", "set_at")
    list_filter = ("source",)
    search_fields = ("key", "value")
    ordering = ("key",)


@admin.register(models.ApiToken)
class ApiTokenAdmin(TableNameMixin, admin.ModelAdmin):
    """Agents' API tokens: listed and revoked here, issued by ``manage.py create_agent``
    (the raw key is shown once, by that command)."""

    list_display = ("key_prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("user",)
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "name", "key_prefix")
    exclude = ("key_digest",)
    ordering = ("-created_at",)
    actions = ["revoke_selected"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return policy.user_can(request.user, "system.change_apitoken")

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        with transaction.atomic():
            live = queryset.filter(revoked_at__isnull=True)
            tokens = list(live.values_list("pk", "key_prefix", "user__username"))
            count = live.update(revoked_at=utc_now())
            for pk, prefix, username in tokens:
                audit.record(
                    actor(request),
                    resource_type_of(self.model),
                    str(pk),
                    "revoke",
                    context={"key_prefix": prefix, "user": username},
                )
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
