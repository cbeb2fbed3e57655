"""Admin of the `roadmap` app: items with their dependencies and assignments, claims, logs."""

from django.contrib import admin

from programs.admin import VersionHistoryMixin
from roadmap import models
from system.admin_base import (
    CompositeKeyInline,
    ContractAdmin,
    ContractTabularInline,
    ReadOnlyAdmin,
)


class RoadmapDependencyInline(CompositeKeyInline):
    model = models.RoadmapDependency
    fk_name = "item"
    fields = ("depends_on", "dependency_type", "notes")
    autocomplete_fields = ("depends_on",)
    verbose_name = "dependency (this item depends on)"
    verbose_name_plural = "dependencies (this item depends on)"


class RoadmapAssignmentInline(ContractTabularInline):
    model = models.RoadmapAssignment
    fields = ("agent_id", "role", "status", "started_at", "completed_at", "notes")


@admin.register(models.RoadmapItem)
class RoadmapItemAdmin(VersionHistoryMixin, ContractAdmin):
    history_entity_type = "roadmap_item"
    terminology_domains = {"item_type": "roadmap_item_type"}
    list_display = (
        "id",
        "title",
        "phase_key",
        "status_key",
        "item_type",
        "owner",
        "rank",
        "target_date",
        "updated_at",
    )
    list_filter = ("phase_key", "status_key", "item_type")
    search_fields = ("id", "title", "owner", "external_id")
    autocomplete_fields = ("feature", "cr")
    ordering = ("phase_key", "rank", "id")
    inlines = [RoadmapDependencyInline, RoadmapAssignmentInline]


@admin.register(models.RoadmapAssignment)
class RoadmapAssignmentAdmin(ContractAdmin):
    list_display = ("id", "item", "agent_id", "role", "status", "assigned_at", "assigned_by")
    list_select_related = ("item",)
    list_filter = ("role", "status")
    search_fields = ("agent_id", "item__id", "item__title")
    autocomplete_fields = ("item",)
    ordering = ("-assigned_at", "-id")


@admin.register(models.AssignmentPrerequisite)
class AssignmentPrerequisiteAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "source_assignment",
        "prerequisite_item",
        "depth",
        "surfaced_at",
        "resolved_at",
    )
    list_select_related = ("source_assignment", "prerequisite_item")
    list_filter = (("resolved_at", admin.EmptyFieldListFilter),)
    search_fields = ("prerequisite_item__id", "prerequisite_item__title")
    ordering = ("-id",)


@admin.register(models.Claim)
class ClaimAdmin(ContractAdmin):
    list_display = ("id", "page", "claim_type", "test_status", "test_function", "last_verified_at")
    list_filter = ("claim_type", "test_status", "page")
    search_fields = ("id", "claim_text", "page", "test_function")
    ordering = ("page", "id")


@admin.register(models.PlanEvent)
class PlanEventAdmin(ReadOnlyAdmin):
    list_display = (
        "event_id",
        "ts",
        "actor",
        "actor_type",
        "source",
        "event_type",
        "item_id",
        "process_result",
    )
    list_filter = ("actor_type", "source", "event_type", "process_result")
    search_fields = ("event_id", "idempotency_key", "item_id", "external_id", "actor")
    ordering = ("-received_at",)


@admin.register(models.DeploymentEvent)
class DeploymentEventAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "target",
        "version",
        "status",
        "triggered_by",
        "created_at",
        "completed_at",
    )
    list_filter = ("target", "status")
    search_fields = ("version", "triggered_by")
    ordering = ("-id",)
