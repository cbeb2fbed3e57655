"""Admin of the `roadmap` app: items with their dependencies and assignments, claims, logs.

Items, their dependencies and new assignments, and claims are written through
``roadmap.services``, the same functions the API calls: the same rules (a status change is a
lead's override with a reason, no completion while a blocking prerequisite is open, the
phase limit, no delete while others depend on an item, who may record a test result) and
the same audit rows. A refusal is a form error or an admin error message, nothing saved.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ActionForm
from django.utils.html import format_html

from programs.admin import VersionHistoryMixin
from roadmap import models, queries, services
from roadmap.links import item_url
from system import policy, terminology
from system.admin_base import (
    CompositeKeyInline,
    ContractAdmin,
    ContractModelForm,
    ContractTabularInline,
    Obstacle,
    ReadOnlyAdmin,
    Refusal,
    SoftDeleteForm,
    acting,
    admin_change_url,
    adopt,
    changed_columns,
    form_columns,
    linked_rows,
)

#: The trigger's refusal of a start while blocking prerequisites are unfinished (RULES.md 4.3).
CANNOT_START = "Cannot start: blocking dependencies not complete"

# --------------------------------------------------------------------------- assignments

#: The transitions that take a new assignment (``assigned``) to the status chosen in the form.
ASSIGNMENT_PATHS = {
    "assigned": (),
    "active": ("start",),
    "completed": ("start", "complete"),
    "dropped": ("drop",),
}


def create_assignment(request, item_id: str, obj) -> None:
    """A new assignment row through ``services.create_assignment`` (the assignee must be
    an account able to do the role; the trigger writes the audit row), then moved to the
    status chosen in the form by the service's transitions."""
    who = acting(request)
    assignment = services.create_assignment(
        who, item_id, agent_id=obj.agent_id or None, role=obj.role, notes=obj.notes
    )
    for step in ASSIGNMENT_PATHS.get(obj.status, ()):
        assignment = services.transition_assignment(who, assignment.pk, step)
    adopt(obj, assignment)


class RoadmapDependencyInline(CompositeKeyInline):
    """Edges added and removed through ``services.add_dependency`` / ``remove_dependency``
    (the insert trigger and the service write their audit rows); a changed type or note is
    a plain audited update."""

    model = models.RoadmapDependency
    fk_name = "item"
    fields = ("depends_on", "dependency_type", "notes")
    autocomplete_fields = ("depends_on",)
    verbose_name = "dependency (this item depends on)"
    verbose_name_plural = "dependencies (this item depends on)"

    def create_row(self, request, parent, obj):
        edge = services.add_dependency(
            acting(request), parent.pk, obj.depends_on_id, obj.dependency_type, obj.notes
        )
        adopt(obj, edge)

    def delete_row(self, request, obj):
        services.remove_dependency(acting(request), obj.item_id, obj.depends_on_id)


class RoadmapAssignmentInline(ContractTabularInline):
    """New rows through ``services.create_assignment``; changes to existing rows are plain
    audited updates. When it started and ended are shown here and edited on the
    assignment's own page (its "Change" link), which keeps the row narrow."""

    model = models.RoadmapAssignment
    fields = ("agent_id", "role", "status", "notes", "started_at", "completed_at")
    readonly_fields = ("started_at", "completed_at")
    verbose_name = "assignment"
    verbose_name_plural = "assignments"

    def create_row(self, request, parent, obj):
        create_assignment(request, parent.pk, obj)


# --------------------------------------------------------------------------- items


class RoadmapItemForm(ContractModelForm):
    reason = forms.CharField(
        required=False,
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Required when the status changes: setting it directly is a lead's "
        "override, recorded with this reason in the audit trail.",
    )


class RoadmapItemActionForm(ActionForm):
    deletion_reason = forms.CharField(
        required=False,
        label="Reason",
        max_length=500,
        help_text="For a review: the rationale or the feedback.",
    )


class RoadmapItemDeleteForm(SoftDeleteForm):
    detach_dependents = forms.BooleanField(
        required=False,
        label="Detach dependents",
        help_text="Also remove the dependencies of the unfinished items listed above on the "
        "deleted ones (each removal audited); without it, the deletion is refused.",
    )


@admin.register(models.RoadmapItem)
class RoadmapItemAdmin(VersionHistoryMixin, ContractAdmin):
    history_entity_type = "roadmap_item"
    form = RoadmapItemForm
    action_form = RoadmapItemActionForm
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
    field_order = (
        "id",
        "title",
        "phase_key",
        "status_key",
        "reason",
        "item_type",
        "owner",
        "target_date",
        "rank",
        "feature",
        "cr",
        "description",
    )
    # Sync fields of the external tracker, the internal scope, the secondary order, and
    # completed_at, which the service writes when the item is completed.
    advanced_fields = (
        "scope",
        "sort_order",
        "external_id",
        "external_url",
        "raw_status",
        "raw_type",
        "completed_at",
    )
    field_labels = {"rank": "Rank (order in its phase)", "sort_order": "Sort order (secondary)"}

    def view_on_site(self, obj):
        return item_url(obj.pk)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if "completed_at" in readonly else [*readonly, "completed_at"]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        may_save = (
            self.has_add_permission(request)
            if obj is None
            else self.has_change_permission(request, obj)
        )
        fields = [name for name in fields if name != "reason"]
        if may_save and "status_key" in fields:
            # Right below the status, which it is about.
            fields.insert(fields.index("status_key") + 1, "reason")
        return fields

    # ---- saving: the service layer writes and audits

    def save_new(self, request, obj, form):
        item = services.create_item(
            acting(request),
            id=obj.pk or None,
            reason=form.cleaned_data.get("reason") or None,
            # Left empty: the service's defaults (rank at the end of the phase, completed_at).
            **{
                column: value
                for column, value in form_columns(obj, form, exclude={"id", "created_by"}).items()
                if value is not None
            },
        )
        adopt(obj, item)

    def save_change(self, request, obj, form, changed):
        item = services.update_item(
            acting(request),
            obj.pk,
            changed_columns(obj, changed),
            reason=form.cleaned_data.get("reason") or None,
        )
        adopt(obj, item)

    def explain_refusal(self, request, object_id, refusal: Refusal) -> Refusal:
        """A start or completion refused for unfinished blocking prerequisites names them,
        linked to their admin pages (``queries.open_blocking_dependencies``: the rule the
        trigger and the service apply)."""
        if refusal.code == "prerequisites_open":
            rows = refusal.details.get("open_dependencies") or []
        elif refusal.message == CANNOT_START and object_id is not None:
            rows = queries.open_blocking_dependencies(object_id)
        else:
            return refusal
        if not rows:
            return refusal
        labels = terminology.display_names("roadmap_status")
        return refusal.with_notes(
            format_html(
                "Unfinished blocking prerequisites: {}.",
                linked_rows(rows, models.RoadmapItem, labels),
            )
        )

    # ---- soft delete and restore, through the service

    def deletion_obstacles(self, request, rows):
        """What ``services.delete_item`` refuses: an active attempt on the item, unfinished
        items waiting on it (unless detached)."""
        obstacles = []
        for item in rows:
            for worker in queries.workers_on(item.pk):
                if worker["kind"] == "attempt":
                    obstacles.append(
                        Obstacle(
                            item.pk,
                            f"{worker['worker_id']} is working on it (attempt {worker['id']}); "
                            "it must be released or expire first.",
                        )
                    )
            dependents = queries.waiting_dependents(item.pk)
            if dependents:
                obstacles.append(
                    Obstacle(
                        item.pk,
                        "unfinished items depend on it (tick “Detach dependents” to remove "
                        "these dependencies):",
                        tuple(
                            (f"{row['id']} {row['title']}", admin_change_url(self.model, row["id"]))
                            for row in dependents
                        ),
                    )
                )
        return obstacles

    def get_deletion_form(self, request, obstacles):
        # "Detach dependents" only when there are dependents to detach.
        if any(obstacle.links for obstacle in obstacles):
            return RoadmapItemDeleteForm
        return SoftDeleteForm

    def soft_delete_rows(self, request, pks, cleaned):
        who = acting(request)
        for pk in pks:
            services.delete_item(
                who,
                pk,
                detach=cleaned.get("detach_dependents", False),
                reason=cleaned["deletion_reason"],
            )
        return len(pks)

    @admin.action(description="Restore selected roadmap items", permissions=["soft_delete"])
    def restore_selected(self, request, queryset):
        who = acting(request)
        keys = list(queryset.deleted().values_list("pk", flat=True))

        def write():
            for pk in keys:
                services.restore_item(who, pk)
            return len(keys)

        self.run_refusable(request, write, "Restored {count} item(s).")


@admin.register(models.RoadmapAssignment)
class RoadmapAssignmentAdmin(ContractAdmin):
    list_display = ("id", "item", "agent_id", "role", "status", "assigned_at", "assigned_by")

    def view_on_site(self, obj):
        return item_url(obj.item_id)

    list_select_related = ("item",)
    list_filter = ("role", "status")
    search_fields = ("agent_id", "item__id", "item__title")
    autocomplete_fields = ("item",)
    ordering = ("-assigned_at", "-id")

    def save_new(self, request, obj, form):
        create_assignment(request, obj.item_id, obj)


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
    """Claims through ``services.create_claim`` / ``update_claim``: editing a claim is a
    lead's (``change_claim``); recording its test status takes ``record_test_result``, which
    may be granted alone (such a user edits only the test status here)."""

    list_display = ("id", "page", "claim_type", "test_status", "test_function", "last_verified_at")
    list_filter = ("claim_type", "test_status", "page")
    search_fields = ("id", "claim_text", "page", "test_function")
    ordering = ("page", "id")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or policy.user_can(
            request.user, policy.RECORD_TEST_RESULT
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not super().has_change_permission(request, obj):
            editable = {"test_status"}
            readonly += [
                f.name
                for f in self.model._meta.concrete_fields
                if f.name not in editable and f.name not in readonly
            ]
        return readonly

    def save_new(self, request, obj, form):
        claim = services.create_claim(acting(request), **form_columns(obj, form))
        adopt(obj, claim)

    def save_change(self, request, obj, form, changed):
        claim = services.update_claim(acting(request), obj.pk, changed_columns(obj, changed))
        adopt(obj, claim)


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
