"""Admin of the `kernel` app: blockers are edited here; the kernel's logs are read-only.

Blockers are raised and resolved through ``kernel.services`` (``raise_blocker``,
``resolve_blocker``), as on the API: a lead unblocks an item from a blocker's page by writing
the resolution and ticking "Resolve with a waiver", which records the waiver decision and
the resolution in one transaction. Decisions stay read-only here, except the review
decisions the roadmap item list records through ``kernel.services.record_decision``.

A work item's required capabilities (composite key) are edited on the roadmap item's page:
this module re-registers the roadmap item admin with that inline and the review actions,
since `roadmap` must not import `kernel`.
"""

from django import forms
from django.contrib import admin, messages

from kernel import models
from kernel import services as kernel_services
from roadmap.admin import RoadmapItemAdmin
from roadmap.links import item_url
from roadmap.models import RoadmapItem
from system import policy
from system.admin_base import (
    CompositeKeyInline,
    ContractAdmin,
    ContractModelForm,
    ReadOnlyAdmin,
    acting,
    adopt,
    form_columns,
)

#: A blocker's resolution is written once, in one UPDATE, then frozen (RULES.md 3.5).
RESOLUTION_FIELDS = ("resolved_at", "resolved_by", "resolution")
#: What raising a blocker in the admin sets (the service fills id, creator and time).
RAISE_FIELDS = (
    "work",
    "reason_code",
    "title",
    "description",
    "needs",
    "severity",
    "related_planning_item",
)


class BlockerForm(ContractModelForm):
    waive = forms.BooleanField(
        required=False,
        label="Resolve with a waiver",
        help_text="Records a waiver decision (yours, with the resolution as its rationale) "
        "and resolves the blocker in one step, without evidence. Needs the reviewer role.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("waive") and not cleaned.get("resolution"):
            self.add_error("resolution", "Write the resolution: it is the waiver's rationale.")
        return cleaned


@admin.register(models.Blocker)
class BlockerAdmin(ContractAdmin):
    form = BlockerForm
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
    field_order = ("id", "work", "attempt", "title", "reason_code", "severity", "needs")
    bookkeeping_in_view = ("created_by", "created_at")

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # The service stamps who resolved it and when; a resolution, once written, is frozen;
        # a blocker stays on the item (and attempt) it was raised on.
        frozen = RESOLUTION_FIELDS if obj is not None and obj.resolved_at else RESOLUTION_FIELDS[:2]
        if obj is not None:
            frozen = ("work", "attempt", *frozen)
        return readonly + [name for name in frozen if name not in readonly]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None or obj.resolved_at is not None:
            kwargs.setdefault("form", ContractModelForm)  # nothing to resolve: no waiver box
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is None:
            shown = {*RAISE_FIELDS, "created_by", "created_at"}
            return [name for name in fields if name in shown]
        return fields

    def view_on_site(self, obj):
        return item_url(obj.work_id)

    def get_fieldsets(self, request, obj=None):
        fields = self.get_fields(request, obj)
        if obj is None or obj.resolved_at is not None:
            return self.fieldsets_of(fields, obj)
        if not self.has_change_permission(request, obj):
            return self.fieldsets_of([name for name in fields if name != "waive"], obj)
        resolve = ["resolution", "waive"]
        main, *advanced = self.fieldsets_of([name for name in fields if name not in resolve], obj)
        return [
            main,
            (
                "Resolve",
                {
                    "fields": resolve,
                    "description": "Resolving needs evidence on the item newer than the "
                    "blocker, or a waiver: tick the box to record one with the resolution.",
                },
            ),
            *advanced,
        ]

    def save_new(self, request, obj, form):
        blocker = kernel_services.raise_blocker(
            acting(request),
            form_columns(obj, form, exclude={"work"}),
            work_id=obj.work_id,
        )
        adopt(obj, models.Blocker.objects.get(pk=blocker["id"]))

    def save_change(self, request, obj, form, changed):
        others = [name for name in changed if name not in RESOLUTION_FIELDS]
        if others:
            super().save_change(request, obj, form, others)
        if "resolution" in changed and obj.resolution:
            kernel_services.resolve_blocker(
                acting(request),
                obj.pk,
                obj.resolution,
                waive=bool(form.cleaned_data.get("waive")),
            )
            adopt(obj, models.Blocker.objects.get(pk=obj.pk))


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

    def view_on_site(self, obj):
        return item_url(obj.work_id)


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
    """The roadmap item admin, plus what the kernel records about the item as work: its
    required capabilities, and the review of items in ``review`` (pass: completed; reject:
    back to pending, the reason as feedback for the next claimer)."""

    inlines = [*RoadmapItemAdmin.inlines, WorkRequiredCapabilityInline]
    actions = [*RoadmapItemAdmin.actions, "pass_review", "reject_review"]

    def has_review_permission(self, request):
        return policy.user_can(request.user, policy.REVIEW_WORK)

    @admin.action(description="Pass review (Reason: the rationale)", permissions=["review"])
    def pass_review(self, request, queryset):
        self.record_review(request, queryset, "review_passed", "Passed review of {count} item(s).")

    @admin.action(description="Reject review (Reason: the feedback)", permissions=["review"])
    def reject_review(self, request, queryset):
        self.record_review(
            request, queryset, "review_rejected", "Rejected review of {count} item(s)."
        )

    def record_review(self, request, queryset, decision_type: str, done_message: str):
        """One review decision per selected item, all or none."""
        reason = request.POST.get("deletion_reason", "").strip() or None
        if decision_type == "review_rejected" and not reason:
            self.message_user(
                request,
                "Say why in Reason: it is the feedback for whoever takes the item next.",
                messages.ERROR,
            )
            return
        who = acting(request)
        summary = "Review passed" if decision_type == "review_passed" else "Review rejected"
        keys = list(queryset.live().values_list("pk", flat=True))

        def write():
            for pk in keys:
                kernel_services.record_decision(
                    who,
                    {
                        "decision_type": decision_type,
                        "decision_summary": f"{summary}: {pk}",
                        "rationale": reason,
                    },
                    work_id=pk,
                )
            return len(keys)

        self.run_refusable(request, write, done_message)
