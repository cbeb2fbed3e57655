"""Filters of the programs API's list endpoints (``?status=open&severity=high&q=login``).

Keys and links are plain text filters: an unknown value matches nothing (an empty page),
never an error. Only a closed set (a CR's ``size``) answers a bad value with 400; a boolean that is
not ``true``/``false``/``1``/``0`` is ignored.
"""

import django_filters
from django.db.models import Q
from django_filters.rest_framework import BooleanFilter

from programs.models import (
    Bug,
    ChangeRequest,
    CharterDoc,
    Feature,
    Product,
    Program,
    Release,
    Standard,
    StandardAssignment,
)


def _search(*fields: str):
    """A ``q`` filter: the value appears (case-insensitively) in any of ``fields``."""

    def search(self, queryset, name, value):
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)

    return search


def _q(fields: str) -> django_filters.CharFilter:
    return django_filters.CharFilter(method="search", help_text=f"Text in {fields}.")


def _key(field_name: str, domain: str) -> django_filters.CharFilter:
    return django_filters.CharFilter(
        field_name=field_name, help_text=f"A key of the terminology domain {domain!r}."
    )


def _link(field_name: str, what: str) -> django_filters.CharFilter:
    return django_filters.CharFilter(field_name=field_name, help_text=f"The {what}'s id.")


class ProgramFilterSet(django_filters.FilterSet):
    type = _key("type_key", "program_type")
    status = _key("status_key", "product_status")
    owner = django_filters.CharFilter()
    q = _q("id, name or description")
    search = _search("id", "name", "description")

    class Meta:
        model = Program
        fields = []


class ProductFilterSet(django_filters.FilterSet):
    program_id = _link("program_id", "program")
    status = _key("status_key", "product_status")
    q = _q("id, name or description")
    search = _search("id", "name", "description")

    class Meta:
        model = Product
        fields = []


class FeatureFilterSet(django_filters.FilterSet):
    product_id = _link("product_id", "product")
    program_id = _link("product__program_id", "program")
    status = _key("status_key", "feature_status")
    version = django_filters.CharFilter()
    q = _q("id, name or description")
    search = _search("id", "name", "description")

    class Meta:
        model = Feature
        fields = []


class ReleaseFilterSet(django_filters.FilterSet):
    product_id = _link("product_id", "product")
    program_id = _link("product__program_id", "program")
    type = _key("type_key", "release_type")
    status = _key("status_key", "release_status")
    q = _q("id, name or description")
    search = _search("id", "name", "description")

    class Meta:
        model = Release
        fields = []


class ChangeRequestFilterSet(django_filters.FilterSet):
    product_id = _link("product_id", "product")
    feature_id = _link("feature_id", "feature")
    status = _key("status_key", "cr_status")
    type = _key("type_key", "cr_type")
    owner = django_filters.CharFilter()
    target_version = django_filters.CharFilter()
    q = _q("id, title or description")
    search = _search("id", "title", "description")

    class Meta:
        model = ChangeRequest
        fields = ["size"]


class BugFilterSet(django_filters.FilterSet):
    feature_id = _link("feature_id", "feature")
    product_id = _link("feature__product_id", "product")
    feature_version = django_filters.CharFilter()
    severity = _key("severity_key", "bug_severity")
    status = _key("status_key", "bug_status")
    reported_by = django_filters.CharFilter()
    assigned_to = django_filters.CharFilter()
    fix_cr_id = _link("fix_cr_id", "fixing change request")
    q = _q("id, title or description")
    search = _search("id", "title", "description")

    class Meta:
        model = Bug
        fields = []


class StandardFilterSet(django_filters.FilterSet):
    level = _key("level_key", "standard_level")
    check_type = _key("check_type_key", "check_type")
    is_blocking = BooleanFilter()
    entity_type = django_filters.CharFilter(
        method="assigned",
        help_text="Standards assigned to this kind of entity (program, product, feature, "
        "release, cr); with entity_id, to that one entity.",
    )
    entity_id = django_filters.CharFilter(
        method="assigned", help_text="Standards assigned to the entity with this id."
    )
    q = _q("id, name or description")
    search = _search("id", "name", "description")

    class Meta:
        model = Standard
        fields = []

    def assigned(self, queryset, name, value):
        """Applied once for both parameters (see :meth:`filter_queryset`), so that
        ``entity_type`` and ``entity_id`` match the same assignment row."""
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        wanted = {
            name: self.form.cleaned_data.get(name)
            for name in ("entity_type", "entity_id")
            if self.form.cleaned_data.get(name)
        }
        if wanted:
            assignments = StandardAssignment.objects.filter(**wanted)
            queryset = queryset.filter(pk__in=assignments.values("standard_id"))
        return queryset


class CharterFilterSet(django_filters.FilterSet):
    doc_type = _key("doc_type_key", "charter_type")
    is_active = BooleanFilter()
    q = _q("id or title")
    search = _search("id", "title")

    class Meta:
        model = CharterDoc
        fields = []
