"""One shared base for every admin of the contract tables.

What it gives each table, so the per-app admin modules only declare columns and inlines:

* terminology-keyed columns (RULES.md 1.5) as drop-downs of the live ``terminology`` rows of
  their domain, read per request, and shown by display name in list columns and filters
  (one annotation, so no query per row);
* forms a lead can read: the daily fields first, internal and bookkeeping columns in a
  collapsed "Advanced" fieldset (``advanced_fields``), readable labels (``field_labels``),
  terminology drop-downs whose options say "Display name — description", and a date
  picker for the contract's free-text date columns (``target_date``) that stores
  ``YYYY-MM-DD``;
* soft delete instead of delete: the change page's "Delete" link and the "Soft-delete"
  action lead to a confirmation page that lists the rows, what stands in the way (the
  admin's ``deletion_obstacles``) and asks for a reason; a "Restore" action, and a filter
  that shows live rows unless asked otherwise; hard delete is never offered (RULES.md 1.4);
* a save refused by the database (a trigger's ``RAISE(ABORT)`` or a constraint) becomes a
  form error carrying the database's message (plus, from the admin's ``explain_refusal``,
  the rows at fault, linked), with every write of that request undone;
* a change writes only the columns whose value changed: column-scoped triggers
  (``BEFORE UPDATE OF ...``, e.g. the frozen blocker resolution) see only real changes, and
  an unchanged form writes nothing (so no empty version snapshot);
* bookkeeping columns (``created_at``, ``deleted_by``, ...) shown read-only and filled with
  the acting user (``user:<username>``);
* every write audited: a create (its values), a change (old → new of the changed columns),
  an inline row's create / change / delete, a soft delete (with its reason) and a restore
  each append one ``audit_log`` row in the transaction of the write, by the acting user,
  with the snake_case model name as ``resource_type`` (what the API writes). An admin
  whose rows are written by a service function overrides ``save_new`` / ``save_change`` /
  the row hooks and leaves the audit row to the service;
* a refusal of the service layer (``ServiceError``) is shown like the database's: a form
  error (on the field it names, when the form has it), with nothing saved.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin import widgets as admin_widgets
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery, TextField
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.text import Truncator

from system import audit, terminology
from system.admin_site import section_of, table_name
from system.db_errors import database_message
from system.errors import ServiceError
from system.fields import ShortTextField, TerminologyKeyField, format_timestamp
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


def acting(request) -> Actor:
    """The logged-in user as the service layer takes it."""
    return Actor.of(request.user)


def adopt(obj, saved) -> None:
    """Make the form's ``obj`` the row a service function saved (``saved``): its values and
    its saved state, so the rest of the admin view (inlines, messages) works on it."""
    for model_field in type(obj)._meta.concrete_fields:
        setattr(obj, model_field.attname, getattr(saved, model_field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


def changed_columns(obj, names) -> dict:
    """Column → value of ``obj``'s model fields ``names`` (``feature`` → ``feature_id``):
    what a service function takes."""
    columns = (type(obj)._meta.get_field(name).attname for name in names)
    return {column: getattr(obj, column) for column in columns}


def form_columns(obj, form, *, exclude=()) -> dict:
    """Column → value of the model fields the form submitted (an add through a service)."""
    names = field_names(type(obj)) - set(exclude)
    return changed_columns(obj, [name for name in form.cleaned_data if name in names])


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


# --------------------------------------------------------------------------- audit


def resource_type_of(model) -> str:
    """``audit_log.resource_type`` of a model: its class name in snake_case
    (``RoadmapItem`` → ``roadmap_item``, ``ChangeRequest`` → ``change_request``)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()


def audit_id(pk) -> str:
    """``audit_log.resource_id`` of a row: its key, a composite key joined as the dependency
    triggers write it (``B->A``)."""
    return "->".join(map(str, pk)) if isinstance(pk, tuple) else str(pk)


def audit_value(value):
    """A column value as the audit columns hold it (timestamps in the contract's form)."""
    if isinstance(value, dt.datetime):
        return format_timestamp(value)
    if hasattr(value, "resolve_expression"):  # a database default not read back yet
        return None
    return value


def column_names(model, names) -> list[str]:
    """The column (attname) of each model field in ``names`` (``feature`` → ``feature_id``)."""
    return [model._meta.get_field(name).attname for name in names]


def audit_values(obj, names=None) -> dict:
    """Column → value of ``obj``: of the fields ``names``, or of every column (a create)."""
    model = type(obj)
    if names is None:
        columns = [f.attname for f in model._meta.concrete_fields]
    else:
        columns = column_names(model, names)
    return {column: audit_value(getattr(obj, column)) for column in columns}


def stored_values(obj, names) -> dict:
    """Column → value of the fields ``names`` as the database holds them now."""
    columns = column_names(type(obj), names)
    row = type(obj)._base_manager.filter(pk=obj.pk).values(*columns).first() or {}
    return {column: audit_value(row.get(column)) for column in columns}


class AuditMixin:
    """The audit row of an admin or inline: one hook names the resource type."""

    #: ``audit_log.resource_type`` of the rows; default: the model name in snake_case.
    audit_resource_type: str | None = None

    def get_audit_resource_type(self) -> str:
        return self.audit_resource_type or resource_type_of(self.model)

    def record_audit(self, request, pk, action: str, *, old=None, new=None, context=None):
        """Append the audit row of a write by the acting user (in the caller's transaction)."""
        audit.record(
            actor(request),
            self.get_audit_resource_type(),
            audit_id(pk),
            action,
            old=old,
            new=new,
            context=context,
        )


# --------------------------------------------------------------------------- refusals


@dataclasses.dataclass(frozen=True)
class Refusal:
    """Why a save was refused: a message, per-field messages when a service names them, the
    service's ``code`` and ``details``, and ``notes``: HTML lines an admin adds to say which
    rows are at fault (``ContractAdmin.explain_refusal``)."""

    message: str
    fields: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    code: str | None = None
    details: dict = dataclasses.field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @classmethod
    def of(cls, exc: Exception) -> Refusal:
        if isinstance(exc, ServiceError):
            details = exc.details or {}
            fields = details.get("fields") or {}
            return cls(
                exc.message,
                {
                    name: [str(m) for m in (msgs if isinstance(msgs, list | tuple) else [msgs])]
                    for name, msgs in fields.items()
                },
                code=exc.code,
                details=details,
            )
        return cls(database_message(exc))

    def with_notes(self, *notes: str) -> Refusal:
        return dataclasses.replace(self, notes=(*self.notes, *notes))


#: What a save can be refused with: the database's rules and the service layer's.
REFUSALS = (IntegrityError, ServiceError)


def refusal_text(exc: Exception) -> str:
    """One line for an admin message: the message and any field messages."""
    refusal = Refusal.of(exc)
    details = [f"{name}: {msg}" for name, msgs in refusal.fields.items() for msg in msgs]
    return " ".join([refusal.message, *details])


def column_label(model, field_name: str) -> str:
    """ "Status" for ``status_key``: the key suffix is storage detail, not meaning; "Change
    request" for ``cr`` (``FIELD_LABELS``)."""
    if field_name in FIELD_LABELS:
        return FIELD_LABELS[field_name]
    return model._meta.get_field(field_name).verbose_name.capitalize().removesuffix(" key")


#: Labels for columns whose name says little to a reader (the models keep the contract's
#: names; a ``verbose_name`` there would be a migration).
FIELD_LABELS = {
    "cr": "Change request",
    "fix_cr": "Fix (change request)",
    "item_type": "Type",
    "external_id": "External id",
    "external_url": "External link",
    "repository_url": "Repository URL",
    "raw_status": "Status in the external tracker",
    "raw_type": "Type in the external tracker",
    "agent_id": "Assignee",
    "is_blocking": "Blocks a release",
    "related_planning_item": "Related roadmap item",
    "work": "Roadmap item",
}


# --------------------------------------------------------------------------- form fields


#: Free-text columns that hold a date (the contract's TEXT ``target_date``): a date picker.
DATE_TEXT_COLUMNS = ("target_date",)


class ContractFormFieldsMixin:
    """Form fields for contract columns; shared by admins and inlines.

    ``*_key`` columns become drop-downs of live terminology, each option "Display name —
    description"; ``terminology_domains`` adds columns that hold terminology keys without
    being a ``TerminologyKeyField`` (``roadmap_items.item_type``). One-line text columns get
    one-line inputs; ``DATE_TEXT_COLUMNS`` a date picker. Labels come from ``FIELD_LABELS``
    and the admin's own ``field_labels``.
    """

    terminology_domains: dict[str, str] = {}
    #: field name → label, for this admin's form (over ``FIELD_LABELS``).
    field_labels: dict[str, str] = {}
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

    def label_of(self, field_name: str) -> str | None:
        """The label this admin gives ``field_name``, if it renames it."""
        return self.field_labels.get(field_name) or FIELD_LABELS.get(field_name)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        domain = self.terminology_fields(self.model).get(db_field.name)
        if domain:
            label = self.label_of(db_field.name) or column_label(self.model, db_field.name)
            return terminology_choice_field(db_field, domain, label)
        if db_field.name in DATE_TEXT_COLUMNS:
            return DateTextField(
                required=not db_field.blank, label=self.label_of(db_field.name) or None
            )
        if isinstance(db_field, TextField) and db_field.null and not db_field.choices:
            # An emptied optional text is NULL, which is what views and triggers test for.
            kwargs.setdefault("empty_value", None)
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        label = self.label_of(db_field.name)
        if field is not None and label:
            field.label = label
        return field


#: How much of a terminology description an option shows (the rest in its tooltip).
DESCRIPTION_CHARS = 60


class DescribedSelect(forms.Select):
    """A select whose options read "Display name — description" (cut to
    ``DESCRIPTION_CHARS``, the whole description as the option's tooltip)."""

    def __init__(self, descriptions: dict[str, str], attrs=None):
        super().__init__(attrs)
        self.descriptions = descriptions

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        description = self.descriptions.get(str(value))
        if description:
            short = Truncator(description).chars(DESCRIPTION_CHARS)
            option["label"] = f"{label} — {short}"
            option["attrs"]["title"] = description
        return option


def terminology_descriptions(domain: str) -> dict[str, str]:
    """internal_key → description of the domain's entries that have one."""
    rows = Terminology.objects.filter(domain=domain).exclude(description__isnull=True)
    return {key: text for key, text in rows.values_list("internal_key", "description") if text}


def terminology_choice_field(db_field, domain: str, label: str) -> forms.ChoiceField:
    """A select of the domain's live entries (``terminology.choices``), read now (i.e. once
    per request), each option with its description."""
    choices = terminology.choices(domain)
    if db_field.blank or not db_field.has_default():
        choices = [("", "---------"), *choices]
    field = forms.ChoiceField(
        choices=choices,
        required=not db_field.blank,
        label=label,
        help_text=db_field.help_text,
        initial=db_field.get_default() if db_field.has_default() else None,
        widget=DescribedSelect(terminology_descriptions(domain)),
    )
    field.terminology_domain = domain
    return field


class DateTextField(forms.CharField):
    """A contract column that holds a date as free text (``target_date``), edited with the
    admin's date picker and stored as ``YYYY-MM-DD``.

    A date typed in any of the site's date input formats is stored as ``YYYY-MM-DD``; text
    that is no date is refused, except the value the row already has (free text the `motus`
    tool wrote, like "Q3"), which is kept as it is while left unchanged.
    """

    widget = admin_widgets.AdminDateWidget
    #: The row's current value (set per form by ``ContractModelForm``): kept even if no date.
    kept_value: str | None = None

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "A date (YYYY-MM-DD).")
        super().__init__(empty_value=None, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value is None or value == self.kept_value:
            return value
        try:
            return forms.DateField().clean(value).isoformat()
        except ValidationError:
            raise ValidationError("Enter a date (YYYY-MM-DD).", code="invalid") from None


class ContractModelForm(forms.ModelForm):
    """Model form of the admin: keeps a row's deprecated terminology key selectable, and
    reports a save the database or the service layer refused (see
    ``ContractAdmin.changeform_view``)."""

    refusal: Refusal | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        pk_name = self._meta.model._meta.pk.name
        if pk_name in self.fields and not self.instance._state.adding:
            # An inline row's text key is posted because it identifies the row; it is not
            # editable (a changed key matches no row, and the formset ignores it).
            self.fields[pk_name].widget.attrs["readonly"] = True
        for name, field in self.fields.items():
            if isinstance(field, DateTextField):
                field.kept_value = self.initial.get(name)
            domain = getattr(field, "terminology_domain", None)
            current = self.initial.get(name)
            if domain and current and current not in {value for value, _ in field.choices}:
                label = terminology.display_names(domain).get(current, current)
                field.choices = [*field.choices, (current, f"{label} (deprecated)")]

    def clean(self):
        cleaned = super().clean()
        if self.refusal:
            # Field messages go on the field they name (``work_id`` names ``work``); those
            # of fields this form lacks (an inline row's) join the form's message.
            elsewhere = []
            for name, field_messages in self.refusal.fields.items():
                target = name if name in self.fields else name.removesuffix("_id")
                if target in self.fields:
                    self.add_error(target, field_messages)
                else:
                    elsewhere += [f"{name}: {message}" for message in field_messages]
            raise ValidationError(
                [self.refusal.message, *elsewhere, *self.refusal.notes], code="refused"
            )
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


class SoftDeleteForm(forms.Form):
    """The soft-delete confirmation's form: why (required; written to the audit row, and to
    the row's ``deletion_reason`` where the table has one)."""

    deletion_reason = forms.CharField(
        label="Reason",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded in the audit trail with your name.",
        error_messages={"required": "Say why: the reason goes into the audit trail."},
    )


#: How many rows the soft-delete confirmation names (and checks for obstacles) one by one.
LISTED_ROWS = 100

#: What the collapsed "Advanced" fieldset holds.
ADVANCED_DESCRIPTION = (
    "Internal columns: synchronisation with other tools, values the services or the motus "
    "tool write, and who changed the row when."
)


@dataclasses.dataclass(frozen=True)
class Obstacle:
    """Something that stands in the way of soft-deleting ``row``: a sentence and the rows
    it names, as (text, admin URL)."""

    row: str
    problem: str
    links: tuple[tuple[str, str], ...] = ()


def admin_change_url(model, pk, site_name: str = "admin") -> str:
    opts = model._meta
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(pk)], current_app=site_name
    )


def linked_rows(rows: list[dict], model, labels: dict[str, str] | None = None) -> str:
    """``{"id", "title", "status"}`` rows (what ``roadmap.queries`` returns) as HTML, comma
    separated: each id linked to its admin page, the status by ``labels`` (display names)."""
    labels = labels or {}
    return format_html_join(
        ", ",
        '<a href="{}">{}</a> {} ({})',
        (
            (
                admin_change_url(model, row["id"]),
                row["id"],
                row["title"],
                labels.get(row["status"], row["status"]),
            )
            for row in rows
        ),
    )


class TableNameMixin:
    """The table's name as the index shows it (``system.admin_site``), on the admin's own
    pages: the list's title and the breadcrumbs (``table_name``, ``table_section``)."""

    def table_context(self) -> dict:
        return {"table_name": table_name(self.model), "table_section": section_of(self.model)}

    def changelist_view(self, request, extra_context=None):
        context = {"title": table_name(self.model), **self.table_context()}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def history_view(self, request, object_id, extra_context=None):
        return super().history_view(
            request, object_id, {**self.table_context(), **(extra_context or {})}
        )


class ContractAdmin(TableNameMixin, AuditMixin, ContractFormFieldsMixin, admin.ModelAdmin):
    """Base admin of every contract table (see the module docstring)."""

    form = ContractModelForm
    list_per_page = 50
    show_full_result_count = False
    actions = ["soft_delete_selected", "restore_selected"]
    #: Columns a lead rarely edits (sync fields, internal keys, values the services write):
    #: in the collapsed "Advanced" fieldset, with the bookkeeping columns.
    advanced_fields: tuple[str, ...] = ()
    #: The order of the main fieldset (fields not named follow in model order).
    field_order: tuple[str, ...] = ()
    #: Bookkeeping columns that say something a lead needs (who raised a blocker, when):
    #: kept in the main fieldset.
    bookkeeping_in_view: tuple[str, ...] = ()
    #: The form of the soft-delete confirmation page.
    deletion_form: type[forms.Form] = SoftDeleteForm

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

    def get_fieldsets(self, request, obj=None):
        if self.fieldsets:
            return super().get_fieldsets(request, obj)
        return self.fieldsets_of(self.get_fields(request, obj), obj)

    def fieldsets_of(self, fields, obj=None) -> list:
        """The main fieldset (in ``field_order``) and, if any, the collapsed "Advanced" one
        with ``advanced_fields`` and the bookkeeping columns (a deleted row keeps its
        deletion columns in view)."""
        tucked = set(self.advanced_fields) | set(BOOKKEEPING_FIELDS)
        tucked -= set(self.bookkeeping_in_view)
        if obj is not None and getattr(obj, "deleted_at", None) is not None:
            tucked -= {"deleted_at", "deleted_by", "deletion_reason"}
        # The key first (read-only on a change page), then the admin's order.
        order = {self.model._meta.pk.name: -1}
        order.update((name, index) for index, name in enumerate(self.field_order))
        main = sorted(
            (name for name in fields if name not in tucked),
            key=lambda name: order.get(name, len(order)),
        )
        advanced = [name for name in fields if name in tucked]
        fieldsets = [(None, {"fields": main})]
        if advanced:
            fieldsets.append(
                (
                    "Advanced",
                    {
                        "fields": advanced,
                        "classes": ["collapse"],
                        "description": ADVANCED_DESCRIPTION,
                    },
                )
            )
        return fieldsets

    def get_search_results(self, request, queryset, search_term):
        # Autocomplete suggestions for foreign keys offer live rows only.
        match = getattr(request, "resolver_match", None)
        if match and match.url_name == "autocomplete" and has_soft_delete(self.model):
            queryset = queryset.live()
        return super().get_search_results(request, queryset, search_term)

    # ---- permissions: soft delete only

    def has_delete_permission(self, request, obj=None):
        # Rows are never hard-deleted; see has_soft_delete_permission.
        return False

    def has_soft_delete_permission(self, request, obj=None):
        """May soft-delete: a table with ``deleted_at`` the user may change."""
        return has_soft_delete(self.model) and self.has_change_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not has_soft_delete(self.model):
            actions.pop("soft_delete_selected", None)
            actions.pop("restore_selected", None)
        return actions

    # ---- saving

    def save_model(self, request, obj, form, change):
        if not change:
            self.save_new(request, obj, form)
            return
        names = field_names(self.model)
        changed = [name for name in form.changed_data if name in names]
        if changed:
            self.save_change(request, obj, form, changed)

    def save_new(self, request, obj, form) -> None:
        """Insert the new row and audit it with its values (hook: a service's create)."""
        self.stamp(request, obj, form, False)
        self.write(obj, update_fields=None)
        self.record_audit(request, obj.pk, "create", new=audit_values(obj))

    def save_change(self, request, obj, form, changed: list[str]) -> None:
        """Write the ``changed`` columns (hook: a service's update). The audit row comes
        first, so its timestamp is never later than the version snapshot the update makes."""
        stamped = self.stamp(request, obj, form, True)
        self.record_audit(
            request,
            obj.pk,
            "update",
            old=stored_values(obj, changed),
            new=audit_values(obj, changed),
        )
        self.write(obj, update_fields=[*changed, *stamped])

    def stamp(self, request, obj, form, change) -> list[str]:
        """Fill in who acts; returns the columns written (hook for e.g. ``resolved_by``)."""
        return stamp_actor(obj, request, adding=not change)

    def write(self, obj, update_fields):
        """Save hook for tables whose rows need more than one statement (charter docs)."""
        obj.save(update_fields=update_fields)

    def save_formset(self, request, form, formset, change):
        """Each inline row through its inline's hooks (audited, or a service's)."""
        inline = getattr(formset, "admin_inline", None) or DefaultRows(formset.model)
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            inline.delete_row(request, obj)
        for obj in formset.new_objects:
            inline.create_row(request, formset.instance, obj)
        for obj, changed in formset.changed_objects:
            names = field_names(formset.model)
            changed = [name for name in changed if name in names]
            if changed:
                inline.change_row(request, obj, changed)
        formset.save_m2m()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "admin_refusal", None)
        if refusal:
            form = type(form.__name__, (form,), {"refusal": refusal})
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Add/change view where a save the database or a service refuses becomes a form
        error.

        The first pass runs in a transaction (Django's own); if the database or a service
        function refuses a write, that transaction is rolled back, so the parent row, every
        inline row and every audit row are as before. The second pass re-binds the
        submitted data with the refusal as a form error (on the field a service names, if
        the form has it, with the rows at fault from ``explain_refusal``), which stops it
        from saving and re-renders the form.
        """
        extra_context = {**self.table_context(), **(extra_context or {})}
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except REFUSALS as exc:
            if request.method != "POST":
                raise
            pk = unquote(object_id) if object_id else None
            request.admin_refusal = self.explain_refusal(request, pk, Refusal.of(exc))
            return super().changeform_view(request, object_id, form_url, extra_context)

    def explain_refusal(self, request, object_id, refusal: Refusal) -> Refusal:
        """Hook: add to a refusal of a save of row ``object_id`` (None: a new row) the rows
        at fault, as HTML ``notes`` (``Refusal.with_notes``)."""
        return refusal

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        response = super().render_change_form(request, context, add, change, form_url, obj)
        # The submit row's "Delete" link leads to the soft-delete confirmation (delete_view).
        response.context_data["has_delete_permission"] = (
            obj is not None
            and self.has_soft_delete_permission(request, obj)
            and obj.deleted_at is None
        )
        return response

    # ---- soft delete, through a confirmation page

    def delete_view(self, request, object_id, extra_context=None):
        """Django's delete URL of a row is its soft-delete confirmation (the change page's
        "Delete" link): GET shows it, a POST with a reason soft-deletes the row."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_soft_delete_permission(request, obj):
            raise PermissionDenied
        change_url = admin_change_url(self.model, obj.pk, self.admin_site.name)
        if obj.deleted_at is not None:
            self.message_user(request, f"{obj} is already deleted.", messages.WARNING)
            return HttpResponseRedirect(change_url)
        return self.soft_delete_page(request, self.model.objects.filter(pk=obj.pk), change_url)

    @admin.action(
        description="Soft-delete selected %(verbose_name_plural)s…", permissions=["soft_delete"]
    )
    def soft_delete_selected(self, request, queryset):
        """Shows the confirmation page; its form posts back here with ``post=yes``."""
        return self.soft_delete_page(request, queryset.live(), request.get_full_path(), bulk=True)

    def soft_delete_page(self, request, rows, cancel_url: str, *, bulk: bool = False):
        """The soft-delete confirmation of the live ``rows`` (a queryset): it names them
        (the first ``LISTED_ROWS``) with what stands in the way (``deletion_obstacles``) and
        asks for a reason; confirmed (``post=yes``) with one, it soft-deletes them all or,
        if the database or a service refuses, none, and says why."""
        pks = list(rows.values_list("pk", flat=True))
        listed = list(rows[:LISTED_ROWS])
        obstacles = self.deletion_obstacles(request, listed)
        form_class = self.get_deletion_form(request, obstacles)
        confirmed = request.method == "POST" and request.POST.get("post") == "yes"
        if confirmed:
            form = form_class(request.POST)
        else:  # A reason typed in the action bar is carried over.
            form = form_class(initial={"deletion_reason": request.POST.get("deletion_reason", "")})
        refusal = None
        if confirmed and form.is_valid():
            try:
                with transaction.atomic():
                    count = self.soft_delete_rows(request, pks, form.cleaned_data)
            except REFUSALS as exc:
                refusal = refusal_text(exc)
            else:
                self.message_user(
                    request,
                    f"Soft-deleted {self.count_of(count)}. "
                    f"Reason: {form.cleaned_data['deletion_reason']}",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    request.get_full_path() if bulk else self.changelist_url(request)
                )
        context = {
            **self.admin_site.each_context(request),
            **self.table_context(),
            "title": f"Soft-delete {self.count_of(len(pks))}?",
            "opts": self.opts,
            "rows": [
                {
                    "text": str(row),
                    "url": admin_change_url(self.model, row.pk, self.admin_site.name),
                    "site_url": self.get_view_on_site_url(row),
                }
                for row in listed
            ],
            "unlisted": len(pks) - len(listed),
            "obstacles": obstacles,
            "form": form,
            "refusal": refusal,
            "cancel_url": cancel_url,
            "bulk": bulk,
            "selected": pks,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/soft_delete_confirmation.html", context)

    def count_of(self, count: int) -> str:
        """ "1 roadmap item", "3 roadmap items"."""
        name = self.opts.verbose_name if count == 1 else self.opts.verbose_name_plural
        return f"{count} {name}"

    def changelist_url(self, request) -> str:
        """The list, with the filters the user came with."""
        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist",
            current_app=self.admin_site.name,
        )
        filters = self.get_preserved_filters(request)
        return add_preserved_filters({"preserved_filters": filters, "opts": self.opts}, url)

    def get_deletion_form(self, request, obstacles: list[Obstacle]) -> type[forms.Form]:
        """Hook: the confirmation's form, given what stands in the way."""
        return self.deletion_form

    def deletion_obstacles(self, request, rows) -> list[Obstacle]:
        """Hook: what stands in the way of soft-deleting ``rows`` (shown on the
        confirmation page; the write itself is still judged by the database and services)."""
        return []

    def soft_delete_rows(self, request, pks, cleaned: dict) -> int:
        """Soft-delete the live rows among ``pks`` with the form's reason; returns how many
        (hook: a service's delete). Row by row, each audit row just before its write (see
        programs.history)."""
        reason = cleaned["deletion_reason"]
        live = set(self.model.objects.live().filter(pk__in=pks).values_list("pk", flat=True))
        count = 0
        for pk in (pk for pk in pks if pk in live):
            self.record_audit(request, pk, "delete", context={"reason": reason})
            count += self.model.objects.filter(pk=pk).soft_delete(by=actor(request), reason=reason)
        return count

    # ---- actions

    def run_refusable(self, request, write, done_message: str) -> None:
        """Run a bulk write atomically; a refusal (database or service) is reported, not
        raised, and leaves every row as it was."""
        try:
            with transaction.atomic():
                count = write()
        except REFUSALS as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return
        self.message_user(request, done_message.format(count=count), messages.SUCCESS)

    @admin.action(
        description="Restore selected %(verbose_name_plural)s", permissions=["soft_delete"]
    )
    def restore_selected(self, request, queryset):
        def write():
            count = 0
            for pk in list(queryset.deleted().values_list("pk", flat=True)):
                self.record_audit(request, pk, "restore")
                count += self.model.objects.filter(pk=pk).restore()
            return count

        self.run_refusable(request, write, "Restored {count} row(s).")


class ReadOnlyAdmin(ContractAdmin):
    """Append-only, immutable or tool-owned tables: browse and search, never write."""

    actions = []
    # Who recorded a log row and when is what a reader looks for.
    bookkeeping_in_view = BOOKKEEPING_FIELDS

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --------------------------------------------------------------------------- inlines


class RowWriter(AuditMixin):
    """How an inline writes its rows: saved as models, each audited. An inline whose rows
    a service function writes (and audits) overrides these hooks."""

    def create_row(self, request, parent, obj) -> None:
        stamp_actor(obj, request, adding=True)
        obj.save()
        self.record_audit(request, obj.pk, "create", new=audit_values(obj))

    def change_row(self, request, obj, changed: list[str]) -> None:
        stamp_actor(obj, request, adding=False)
        old, new = stored_values(obj, changed), audit_values(obj, changed)
        self.record_audit(request, obj.pk, "update", old=old, new=new)
        obj.save()

    def delete_row(self, request, obj) -> None:
        names = [f.name for f in type(obj)._meta.concrete_fields]
        self.record_audit(request, obj.pk, "delete", old=stored_values(obj, names))
        obj.delete()


class DefaultRows(RowWriter):
    """The row hooks for a formset no ``ContractInlineMixin`` made."""

    def __init__(self, model):
        self.model = model


class ContractInlineMixin(RowWriter, ContractFormFieldsMixin):
    """Inline rows of a parent: live rows only, no hard delete, compact, every row write
    audited (see ``RowWriter``)."""

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

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # A new class per call: ``ContractAdmin.save_formset`` finds the row hooks here.
        formset.admin_inline = self
        return formset

    def has_delete_permission(self, request, obj=None):
        # Removing a row that can be removed (an edge) is editing it, like its parent:
        # nobody holds Django's hard-delete permissions.
        return self.can_delete and self.has_change_permission(request, obj)


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
