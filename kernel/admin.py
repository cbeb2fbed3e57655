"""Admin of the `kernel` app: blockers are edited here; the kernel's logs are read-only.

A work item's required capabilities (composite key) are edited on the roadmap item's page:
this module re-registers the roadmap item admin with that inline, since `roadmap` must not
import `kernel`.
"""

from django.contrib import admin

from kernel import models
from roadmap.admin import RoadmapItemAdmin
from roadmap.models import RoadmapItem
from system.admin_base import CompositeKeyInline, ContractAdmin, ReadOnlyAdmin, actor

#: A blocker's resolution is written once, in one UPDATE, then frozen (RULES.md 3.5).
RESOLUTION_FIELDS = ("resolved_at", "resolved_by", "resolution")


@admin.register(models.Blocker)
class BlockerAdmin(ContractAdmin):
    list_display = (
        "id",
        "work",
        "title",
        "reason_code",
        "severity",
        "created_by",
        "created_at",
        "resolved_at",
    )
    list_select_related = ("work",)
    list_filter = (("resolved_at", admin.EmptyFieldListFilter), "reason_code", "severity")
    search_fields = ("id", "title", "work__id", "work__title")
    autocomplete_fields = ("work", "attempt", "related_planning_item")
    ordering = ("-created_at", "id")

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.resolved_at is not None:
            readonly += [name for name in RESOLUTION_FIELDS if name not in readonly]
        return readonly

    def stamp(self, request, obj, form, change):
        stamped = super().stamp(request, obj, form, change)
        if "resolved_at" in form.changed_data and obj.resolved_at and not obj.resolved_by:
            obj.resolved_by = actor(request)
            stamped.append("resolved_by")
        return stamped


@admin.register(models.Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "work",
        "worker_id",
        "worker_type",
        "role",
        "started_at",
        "ended_at",
        "outcome",
    )
    list_select_related = ("work",)
    list_filter = ("worker_type", "outcome", ("ended_at", admin.EmptyFieldListFilter))
    search_fields = ("id", "worker_id", "work__id", "work__title")
    ordering = ("-started_at", "id")


@admin.register(models.Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "work",
        "decision_type",
        "decision_summary",
        "decided_by",
        "decided_at",
        "supersedes_decision",
    )
    list_select_related = ("work", "supersedes_decision")
    list_filter = ("decision_type", "outcome")
    search_fields = ("id", "decision_summary", "decided_by", "work__id")
    ordering = ("-decided_at", "id")


@admin.register(models.Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "work",
        "attempt",
        "evidence_type",
        "title",
        "uri",
        "created_by",
        "created_at",
    )
    list_select_related = ("work", "attempt")
    list_filter = ("evidence_type",)
    search_fields = ("id", "title", "uri", "sha256", "work__id")
    ordering = ("-created_at", "id")


@admin.register(models.KernelDecision)
class KernelDecisionAdmin(ReadOnlyAdmin):
    list_display = ("id", "work", "decision_type", "decision_summary", "decided_by", "decided_at")
    list_select_related = ("work",)
    list_filter = ("decision_type",)
    search_fields = ("id", "decision_summary", "decided_by", "lease_id")
    ordering = ("-decided_at", "id")


@admin.register(models.KernelEvidence)
class KernelEvidenceAdmin(ReadOnlyAdmin):
    list_display = ("id", "work", "evidence_type", "title", "uri", "created_by", "created_at")
    list_select_related = ("work",)
    list_filter = ("evidence_type",)
    search_fields = ("id", "title", "uri", "sha256", "lease_id")
    ordering = ("-created_at", "id")


@admin.register(models.KernelOutcome)
class KernelOutcomeAdmin(ReadOnlyAdmin):
    list_display = ("id", "work", "outcome_type", "path", "created_by", "created_at")
    list_select_related = ("work",)
    list_filter = ("outcome_type",)
    search_fields = ("id", "path", "description", "lease_id")
    ordering = ("-created_at", "id")


@admin.register(models.CompiledContract)
class CompiledContractAdmin(ReadOnlyAdmin):
    list_display = ("contract_hash", "created_at")
    search_fields = ("contract_hash",)
    ordering = ("-created_at",)


@admin.register(models.Lease)
class LeaseAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "resource_type",
        "resource_id",
        "mode",
        "worker_id",
        "acquired_at",
        "expires_at",
        "released_at",
    )
    list_filter = ("mode", "resource_type", ("released_at", admin.EmptyFieldListFilter))
    search_fields = ("id", "resource_id", "worker_id")
    ordering = ("-acquired_at", "id")


@admin.register(models.Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "lease_id", "event_type", "created_at")
    list_filter = ("event_type",)
    search_fields = ("event_id", "lease_id")
    ordering = ("-created_at",)


class WorkRequiredCapabilityInline(CompositeKeyInline):
    model = models.WorkRequiredCapability
    fk_name = "work"
    fields = ("capability_id", "required_by")
    verbose_name = "required capability"
    verbose_name_plural = "required capabilities"


admin.site.unregister(RoadmapItem)


@admin.register(RoadmapItem)
class WorkItemAdmin(RoadmapItemAdmin):
    """The roadmap item admin, plus what the kernel records about the item as work."""

    inlines = [*RoadmapItemAdmin.inlines, WorkRequiredCapabilityInline]
