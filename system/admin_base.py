"""One shared base for every admin of the contract tables.

What it gives each table, so the per-app admin modules only declare columns and inlines:

* terminology-keyed columns (RULES.md 1.5) as drop-downs of the live ``terminology`` rows of
  their domain, read per request, and shown by display name in list columns and filters
  (one annotation, so no query per row);
* soft delete instead of delete: a "Soft-delete" and a "Restore" action and a filter that
  shows live rows unless asked otherwise; hard delete is never offered (RULES.md 1.4);
* a save refused by the database (a trigger's ``RAISE(ABORT)`` or a constraint) becomes a
  form error carrying the database's message, with every write of that request undone;
* a change writes only the columns whose value changed: column-scoped triggers
  (``BEFORE UPDATE OF ...``, e.g. the frozen blocker resolution) see only real changes, and
  an unchanged form writes nothing (so no empty version snapshot);
* bookkeeping columns (``created_at``, ``deleted_by``, ...) shown read-only and filled with
  the acting user (``user:<username>``).
"""

from __future__ import annotations

import functools

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets as admin_widgets
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery, TextField
from django.forms.models import BaseInlineFormSet

from system import terminology
from system.db_errors import database_message
from system.fields import ShortTextField, TerminologyKeyField
from system.identity import Actor
from system.models import Terminology

#: Columns the admin fills itself; shown read-only.
BOOKKEEPING_FIELDS = (
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "deleted_at",
    "deleted_by",
    "deletion_reason",
)
#: Columns naming who created a row; stamped with the acting user when left empty.
CREATOR_FIELDS = ("created_by", "assigned_by")


def actor(request) -> str:
    """The logged-in user's identity (``user:NAME``, or ``agent:NAME`` for an agent account),
    the same string the API writes (RULES.md 1.7)."""
    return Actor.of(request.user).identity


def stamp_actor(obj, request, *, adding: bool) -> list[str]:
    """Write the acting user into the row's creator (on add) or ``updated_by`` column.

    Returns the names of the columns it set.
    """
    names = field_names(type(obj))
    if adding:
        targets = [name for name in CREATOR_FIELDS if name in names and not getattr(obj, name)]
    else:
        targets = [name for name in ("updated_by",) if name in names]
    for name in targets:
        setattr(obj, name, actor(request))
    return targets


def field_names(model) -> set[str]:
    return {f.name for f in model._meta.concrete_fields}


def has_soft_delete(model) -> bool:
    return "deleted_at" in field_names(model)


def display_annotation(field_name: str) -> str:
    return f"{field_name}_display_name"


def column_label(model, field_name: str) -> str:
    """ "Status" for ``status_key``: the key suffix is storage detail, not meaning."""
    return model._meta.get_field(field_name).verbose_name.capitalize().removesuffix(" key")


# --------------------------------------------------------------------------- form fields


class ContractFormFieldsMixin:
    """Form fields for contract columns; shared by admins and inlines.

    ``*_key`` columns become drop-downs of live terminology; ``terminology_domains`` adds
    columns that hold terminology keys without being a ``TerminologyKeyField``
    (``roadmap_items.item_type``). One-line text columns get one-line inputs.
    """

    terminology_domains: dict[str, str] = {}
    formfield_overrides = {ShortTextField: {"widget": admin_widgets.AdminTextInputWidget}}

    @classmethod
    def terminology_fields(cls, model) -> dict[str, str]:
        """field name → terminology domain, for every terminology-keyed column of ``model``."""
        fields = {
            f.name: f.domain
            for f in model._meta.concrete_fields
            if isinstance(f, TerminologyKeyField)
        }
        fields.update(cls.terminology_domains)
        return fields

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        domain = self.terminology_fields(self.model).get(db_field.name)
        if domain:
            label = column_label(self.model, db_field.name)
            return terminology_choice_field(db_field, domain, label)
        if isinstance(db_field, TextField) and db_field.null and not db_field.choices:
            # An emptied optional text is NULL, which is what views and triggers test for.
            kwargs.setdefault("empty_value", None)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


def terminology_choice_field(db_field, domain: str, label: str) -> forms.ChoiceField:
    """A select of the domain's live entries, read now (i.e. once per request)."""
    choices = terminology.choices(domain)
    if db_field.blank or not db_field.has_default():
        choices = [("", "---------"), *choices]
    field = forms.ChoiceField(
        choices=choices,
        required=not db_field.blank,
        label=label,
        help_text=db_field.help_text,
        initial=db_field.get_default() if db_field.has_default() else None,
    )
    field.terminology_domain = domain
    return field


class ContractModelForm(forms.ModelForm):
    """Model form of the admin: keeps a row's deprecated terminology key selectable, and
    reports a save the database refused (see ``ContractAdmin.changeform_view``)."""

    database_refusal: str | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        pk_name = self._meta.model._meta.pk.name
        if pk_name in self.fields and not self.instance._state.adding:
            # An inline row's text key is posted because it identifies the row; it is not
            # editable (a changed key matches no row, and the formset ignores it).
            self.fields[pk_name].widget.attrs["readonly"] = True
        for name, field in self.fields.items():
            domain = getattr(field, "terminology_domain", None)
            current = self.initial.get(name)
            if domain and current and current not in {value for value, _ in field.choices}:
                label = terminology.display_names(domain).get(current, current)
                field.choices = [*field.choices, (current, f"{label} (deprecated)")]

    def clean(self):
        cleaned = super().clean()
        if self.database_refusal:
            raise ValidationError(self.database_refusal, code="database_refusal")
        return cleaned


# --------------------------------------------------------------------------- list filters


class DeletedFilter(admin.SimpleListFilter):
    """Live rows by default; soft-deleted ones on request."""

    title = "deletion"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("only", "Deleted only"), ("all", "Live and deleted")]

    def queryset(self, request, queryset):
        if self.value() == "only":
            return queryset.deleted()
        if self.value() == "all":
            return queryset
        return queryset.live()

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Live only",
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


class TerminologyFilter(admin.SimpleListFilter):
    """Filter on a terminology-keyed column, listing the domain's display names."""

    domain = ""

    def lookups(self, request, model_admin):
        return terminology.choices(self.domain)

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.parameter_name: self.value()})
        return queryset


@functools.cache
def terminology_filter(field_name: str, domain: str, title: str) -> type[TerminologyFilter]:
    return type(
        f"{field_name.title().replace('_', '')}TerminologyFilter",
        (TerminologyFilter,),
        {"parameter_name": field_name, "domain": domain, "title": title},
    )


@functools.cache
def terminology_column(field_name: str, title: str):
    """List column showing the display name fetched by the queryset annotation.

    Cached: the changelist recognises sortable columns by identity.
    """
    annotation = display_annotation(field_name)

    @admin.display(description=title, ordering=annotation)
    def column(obj):
        # An unknown key has no display name (as in the views): show the raw key.
        return getattr(obj, annotation, None) or getattr(obj, field_name)

    column.__name__ = f"{field_name}_display"
    return column


# --------------------------------------------------------------------------- model admins


class SoftDeleteActionForm(ActionForm):
    deletion_reason = forms.CharField(
        required=False, label="Reason (for soft-delete)", max_length=500
    )


class ContractAdmin(ContractFormFieldsMixin, admin.ModelAdmin):
    """Base admin of every contract table (see the module docstring)."""

    form = ContractModelForm
    list_per_page = 50
    show_full_result_count = False
    actions = ["soft_delete_selected", "restore_selected"]

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        if "deletion_reason" in field_names(model):
            self.action_form = SoftDeleteActionForm

    # ---- rows and columns

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        annotations = {
            display_annotation(name): Subquery(
                Terminology.objects.filter(domain=domain, internal_key=OuterRef(name)).values(
                    "display_name"
                )[:1]
            )
            for name, domain in self.terminology_fields(self.model).items()
        }
        return queryset.annotate(**annotations) if annotations else queryset

    def get_list_display(self, request):
        keyed = self.terminology_fields(self.model)
        return [
            terminology_column(item, column_label(self.model, item)) if item in keyed else item
            for item in super().get_list_display(request)
        ]

    def get_list_filter(self, request):
        keyed = self.terminology_fields(self.model)
        filters = [
            terminology_filter(item, keyed[item], column_label(self.model, item))
            if item in keyed
            else item
            for item in super().get_list_filter(request)
        ]
        if has_soft_delete(self.model):
            filters.insert(0, DeletedFilter)
        return filters

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        names = field_names(self.model)
        readonly += [f for f in BOOKKEEPING_FIELDS if f in names and f not in readonly]
        pk = self.model._meta.pk
        if obj is not None and pk.editable and pk.name not in readonly:
            # Changing a text key would save a second row, not rename this one.
            readonly.insert(0, pk.name)
        return readonly

    def get_search_results(self, request, queryset, search_term):
        # Autocomplete suggestions for foreign keys offer live rows only.
        match = getattr(request, "resolver_match", None)
        if match and match.url_name == "autocomplete" and has_soft_delete(self.model):
            queryset = queryset.live()
        return super().get_search_results(request, queryset, search_term)

    # ---- permissions: soft delete only

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not has_soft_delete(self.model):
            actions.pop("soft_delete_selected", None)
            actions.pop("restore_selected", None)
        return actions

    # ---- saving

    def save_model(self, request, obj, form, change):
        stamped = self.stamp(request, obj, form, change)
        if not change:
            self.write(obj, update_fields=None)
            return
        names = field_names(self.model)
        changed = [name for name in form.changed_data if name in names]
        if changed:
            self.write(obj, update_fields=[*changed, *stamped])

    def stamp(self, request, obj, form, change) -> list[str]:
        """Fill in who acts; returns the columns written (hook for e.g. ``resolved_by``)."""
        return stamp_actor(obj, request, adding=not change)

    def write(self, obj, update_fields):
        """Save hook for tables whose rows need more than one statement (charter docs)."""
        obj.save(update_fields=update_fields)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in instances:
            stamp_actor(obj, request, adding=obj._state.adding)
            obj.save()
        formset.save_m2m()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "database_refusal", None)
        if refusal:
            form = type(form.__name__, (form,), {"database_refusal": refusal})
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Add/change view where a save the database refuses becomes a form error.

        The first pass runs in a transaction (Django's own); if the database refuses a
        write, that transaction is rolled back, so the parent row and every inline row
        are as before. The second pass re-binds the submitted data with the database's
        message as a form error, which stops it from saving and re-renders the form.
        """
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError as exc:
            if request.method != "POST":
                raise
            request.database_refusal = database_message(exc)
            return super().changeform_view(request, object_id, form_url, extra_context)

    # ---- actions

    def run_refusable(self, request, write, done_message: str) -> None:
        """Run a bulk write atomically; a database refusal is reported, not raised."""
        try:
            with transaction.atomic():
                count = write()
        except IntegrityError as exc:
            self.message_user(request, database_message(exc), messages.ERROR)
            return
        self.message_user(request, done_message.format(count=count), messages.SUCCESS)

    @admin.action(description="Soft-delete selected rows", permissions=["change"])
    def soft_delete_selected(self, request, queryset):
        reason = request.POST.get("deletion_reason", "").strip() or None
        self.run_refusable(
            request,
            lambda: queryset.soft_delete(by=actor(request), reason=reason),
            "Soft-deleted {count} row(s).",
        )

    @admin.action(description="Restore selected rows", permissions=["change"])
    def restore_selected(self, request, queryset):
        self.run_refusable(request, queryset.restore, "Restored {count} row(s).")


class ReadOnlyAdmin(ContractAdmin):
    """Append-only, immutable or tool-owned tables: browse and search, never write."""

    actions = []

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --------------------------------------------------------------------------- inlines


class ContractInlineMixin(ContractFormFieldsMixin):
    """Inline rows of a parent: live rows only, no hard delete, compact."""

    form = ContractModelForm
    extra = 0
    can_delete = False
    show_change_link = True
    formfield_overrides = {
        **ContractFormFieldsMixin.formfield_overrides,
        TextField: {"widget": admin_widgets.AdminTextareaWidget(attrs={"rows": 2, "cols": 30})},
    }

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.live() if has_soft_delete(self.model) else queryset

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        names = field_names(self.model)
        return readonly + [f for f in BOOKKEEPING_FIELDS if f in names and f not in readonly]


class ContractTabularInline(ContractInlineMixin, admin.TabularInline):
    pass


class ReadOnlyTabularInline(ContractTabularInline):
    """Rows shown with their parent, never written from there (e.g. compliance results)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CompositeKeyInlineFormSet(BaseInlineFormSet):
    """Inline formset for a model with a ``CompositePrimaryKey`` (dependency edges).

    Django 5.2 cannot register such a model in the admin, and its model formsets break on
    them: the key is rendered as ``str(tuple)`` and the POSTed value can neither be parsed
    back nor used as a dict key. Here the key travels as JSON (what the key field itself
    parses), and the key columns of an existing row are fixed, since changing them would
    make it a different row; remove the row and add a new one instead.
    """

    def add_fields(self, form, index):
        super().add_fields(form, index)
        key = self.model._meta.pk
        existing = not form.instance._state.adding
        form.fields[key.name] = forms.CharField(
            required=False,
            widget=forms.HiddenInput,
            initial=key.value_to_string(form.instance) if existing else "",
        )
        if existing:
            for part in key.fields:
                if part.name in form.fields and part != self.fk:
                    form.fields[part.name].disabled = True

    def _existing_object(self, pk):
        # The key parses to a list; existing rows are indexed by their tuple key.
        return super()._existing_object(tuple(pk))


class CompositeKeyInline(ContractTabularInline):
    """Edges with a composite key, edited through their parent. Edges have no
    ``deleted_at``: removing one deletes the row."""

    formset = CompositeKeyInlineFormSet
    can_delete = True
