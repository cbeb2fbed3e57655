"""Admin of the `programs` app: program → products → features/releases, CRs, bugs, standards."""

from django.contrib import admin
from django.template.loader import render_to_string

from programs import models
from programs.charters import save_charter_doc
from programs.history import version_timeline
from system import terminology
from system.admin_base import (
    CompositeKeyInline,
    ContractAdmin,
    ContractTabularInline,
    ReadOnlyAdmin,
    ReadOnlyTabularInline,
    column_label,
)


class VersionHistoryMixin:
    """Shows a row's ``entity_versions`` snapshots as a timeline on its change page, each
    with who made it, taken from the audit trail (see ``programs.history``)."""

    #: ``entity_versions.entity_type`` of the model (RULES.md 5.2); the audit rows of the
    #: same rows have the admin's ``get_audit_resource_type()`` (``cr`` → ``change_request``).
    history_entity_type = ""

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "version_history"] if obj is not None else readonly

    def get_fields(self, request, obj=None):
        return [name for name in super().get_fields(request, obj) if name != "version_history"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.append(("Version history", {"fields": ["version_history"]}))
        return fieldsets

    @admin.display(description="Versions")
    def version_history(self, obj):
        titles = {
            field.attname: column_label(self.model, field.name)
            for field in self.model._meta.concrete_fields
        }
        domains = self.terminology_fields(self.model)
        names = terminology.display_names_by_domain(*domains.values())
        labels = {field: names[domain] for field, domain in domains.items()}
        entries = version_timeline(
            self.history_entity_type,
            obj.pk,
            resource_type=self.get_audit_resource_type(),
            titles=titles,
            labels=labels,
        )
        return render_to_string("admin/includes/version_history.html", {"entries": entries})


class ProductInline(ContractTabularInline):
    model = models.Product
    fields = ("id", "name", "status_key", "version")


class FeatureInline(ContractTabularInline):
    model = models.Feature
    fields = ("id", "name", "status_key", "version")


class ReleaseInline(ContractTabularInline):
    model = models.Release
    fields = ("id", "name", "type_key", "status_key", "target_date")


class ComplianceResultInline(ReadOnlyTabularInline):
    model = models.ComplianceResult
    fields = (
        "standard",
        "entity_type",
        "entity_id",
        "result",
        "result_value",
        "checked_by",
        "checked_at",
    )
    ordering = ("-checked_at", "-id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("standard")


class CrDependencyInline(CompositeKeyInline):
    model = models.CrDependency
    fk_name = "cr"
    fields = ("depends_on", "dependency_type")
    autocomplete_fields = ("depends_on",)
    verbose_name = "dependency (this CR depends on)"
    verbose_name_plural = "dependencies (this CR depends on)"


class StandardAssignmentInline(ContractTabularInline):
    model = models.StandardAssignment
    fields = ("entity_type", "entity_id", "is_inherited")
    # Assignments have no deleted_at: removing one deletes the row.
    can_delete = True


@admin.register(models.Program)
class ProgramAdmin(ContractAdmin):
    list_display = ("id", "name", "type_key", "status_key", "owner", "updated_at")
    list_filter = ("type_key", "status_key")
    search_fields = ("id", "name", "owner")
    ordering = ("id",)
    inlines = [ProductInline]


@admin.register(models.Product)
class ProductAdmin(VersionHistoryMixin, ContractAdmin):
    history_entity_type = "product"
    list_display = ("id", "name", "program", "status_key", "version", "updated_at")
    list_select_related = ("program",)
    list_filter = ("status_key",)
    search_fields = ("id", "name", "program__name")
    autocomplete_fields = ("program",)
    ordering = ("id",)
    inlines = [FeatureInline, ReleaseInline]


@admin.register(models.Feature)
class FeatureAdmin(VersionHistoryMixin, ContractAdmin):
    history_entity_type = "feature"
    list_display = ("id", "name", "product", "status_key", "version", "introduced_in", "updated_at")
    list_select_related = ("product",)
    list_filter = ("status_key",)
    search_fields = ("id", "name", "product__name")
    autocomplete_fields = ("product",)
    ordering = ("id",)


@admin.register(models.Release)
class ReleaseAdmin(ContractAdmin):
    list_display = (
        "id",
        "name",
        "product",
        "type_key",
        "status_key",
        "target_date",
        "published_at",
    )
    list_select_related = ("product",)
    list_filter = ("type_key", "status_key")
    search_fields = ("id", "name", "product__name")
    autocomplete_fields = ("product",)
    ordering = ("-created_at",)
    inlines = [ComplianceResultInline]


@admin.register(models.ChangeRequest)
class ChangeRequestAdmin(VersionHistoryMixin, ContractAdmin):
    history_entity_type = "cr"
    advanced_fields = ("started_at", "completed_at")
    list_display = (
        "id",
        "title",
        "status_key",
        "type_key",
        "size",
        "owner",
        "product",
        "target_version",
        "updated_at",
    )
    list_select_related = ("product",)
    list_filter = ("status_key", "type_key", "size")
    search_fields = ("id", "title", "owner", "target_version")
    autocomplete_fields = ("product", "feature")
    ordering = ("-updated_at",)
    inlines = [CrDependencyInline]


@admin.register(models.Bug)
class BugAdmin(VersionHistoryMixin, ContractAdmin):
    history_entity_type = "bug"
    advanced_fields = ("resolved_at",)
    list_display = (
        "id",
        "title",
        "feature",
        "feature_version",
        "severity_key",
        "status_key",
        "assigned_to",
        "fix_cr",
        "updated_at",
    )
    list_select_related = ("feature", "fix_cr")
    list_filter = ("severity_key", "status_key")
    search_fields = ("id", "title", "assigned_to", "reported_by", "feature__name")
    autocomplete_fields = ("feature", "fix_cr")
    ordering = ("-updated_at",)

    def has_add_permission(self, request):
        # The form sets what a lead owns (status, assignee, fix); agents and others with
        # only ``add_bug`` file bugs through the API (``programs.services.file_bug``).
        return super().has_add_permission(request) and self.has_change_permission(request)


@admin.register(models.Standard)
class StandardAdmin(ContractAdmin):
    list_display = ("id", "name", "level_key", "check_type_key", "is_blocking", "sort_order")
    list_filter = ("level_key", "check_type_key", "is_blocking")
    search_fields = ("id", "name", "description")
    ordering = ("sort_order", "id")
    inlines = [StandardAssignmentInline]


@admin.register(models.CharterDoc)
class CharterDocAdmin(ContractAdmin):
    list_display = (
        "id",
        "doc_type_key",
        "version",
        "title",
        "is_active",
        "approved_by",
        "approved_at",
    )
    list_filter = ("doc_type_key", "is_active")
    search_fields = ("id", "title", "version")
    ordering = ("doc_type_key", "-created_at")

    def write(self, obj, update_fields):
        save_charter_doc(obj, update_fields=update_fields)

    def save_new(self, request, obj, form):
        self.audit_deactivated_rival(request, obj)
        super().save_new(request, obj, form)

    def save_change(self, request, obj, form, changed):
        if "is_active" in changed:
            self.audit_deactivated_rival(request, obj)
        super().save_change(request, obj, form, changed)

    def audit_deactivated_rival(self, request, obj):
        """Activating a doc deactivates the active one of its type (``save_charter_doc`` on
        update, the ``charter_singleton_enforce`` trigger on insert): audited too."""
        if not obj.is_active or obj.deleted_at is not None:
            return
        rivals = models.CharterDoc.objects.live().filter(
            doc_type_key=obj.doc_type_key, is_active=True
        )
        for pk in rivals.exclude(pk=obj.pk).values_list("pk", flat=True):
            self.record_audit(
                request,
                pk,
                "update",
                old={"is_active": True},
                new={"is_active": False},
                context={"activated": obj.pk},
            )


@admin.register(models.ComplianceResult)
class ComplianceResultAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "standard",
        "entity_type",
        "entity_id",
        "release",
        "result",
        "checked_by",
        "checked_at",
    )
    list_select_related = ("standard", "release")
    list_filter = ("result", "entity_type")
    search_fields = ("entity_id", "standard__name", "release__name", "checked_by")
    ordering = ("-id",)


@admin.register(models.EntityVersion)
class EntityVersionAdmin(ReadOnlyAdmin):
    list_display = ("id", "entity_type", "entity_id", "version", "changed_by", "created_at")
    list_filter = ("entity_type",)
    search_fields = ("entity_id", "changed_by")
    ordering = ("-id",)
