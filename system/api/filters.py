"""The query parameters of list endpoints: known ones only, and numbers the database can take.

- :class:`StrictQueryParameters` (first of ``DEFAULT_FILTER_BACKENDS``): a list request
  with a parameter the endpoint does not document is refused (400), naming the valid
  ones, instead of being ignored (``?status_key=done`` would otherwise list everything).
  The valid ones are what the OpenAPI document lists: the filterset's filters, ``search``
  (where the view searches), ``ordering``, and the paginator's ``limit`` and ``offset``.
- :class:`Pagination`: ``limit``/``offset`` paging with bounds (a page of at most
  :data:`MAX_LIMIT` rows; an offset SQLite's 64-bit integers can hold), documented in the
  OpenAPI document; an out-of-range number is a 400, never an overflow.
"""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions
from rest_framework.filters import BaseFilterBackend, OrderingFilter, SearchFilter
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.settings import api_settings

from system.errors import Invalid

#: The largest page; a larger ``limit`` is answered with this many rows.
MAX_LIMIT = 500
#: The largest ``offset``: with the page added it still fits SQLite's INTEGER.
MAX_OFFSET = 2**63 - 1 - MAX_LIMIT


class Pagination(LimitOffsetPagination):
    """DRF's ``limit``/``offset`` paging, bounded. An unreadable number is ignored (as DRF
    does); one out of range is a 400."""

    max_limit = MAX_LIMIT

    def get_offset(self, request):
        offset = super().get_offset(request)
        if offset > MAX_OFFSET:
            raise exceptions.ValidationError(
                {self.offset_query_param: [f"Must be at most {MAX_OFFSET}."]}
            )
        return offset

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": MAX_LIMIT},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


def _filter_parameters(filterset_class) -> list[str]:
    names = []
    for name, filter_ in filterset_class.base_filters.items():
        suffixes = getattr(filter_.field_class.widget, "suffixes", None)
        names += [f"{name}_{suffix}" if suffix else name for suffix in suffixes or [""]]
    return names


def valid_parameters(view, request) -> list[str]:
    """The query parameters the list endpoint ``view`` takes (what its schema lists)."""
    names: list[str] = []
    for backend_class in view.filter_backends:
        if issubclass(backend_class, DjangoFilterBackend):
            filterset_class = backend_class().get_filterset_class(view, view.get_queryset())
            if filterset_class is not None:
                names += _filter_parameters(filterset_class)
        elif issubclass(backend_class, SearchFilter) and getattr(view, "search_fields", None):
            names.append(api_settings.SEARCH_PARAM)
        elif issubclass(backend_class, OrderingFilter):
            names.append(api_settings.ORDERING_PARAM)
    paginator = view.paginator
    if paginator is not None:
        names += [p["name"] for p in paginator.get_schema_operation_parameters(view)]
    return list(dict.fromkeys(names))


class StrictQueryParameters(BaseFilterBackend):
    """A list request with an unknown query parameter is a 400 naming the valid ones.

    Only lists: a detail view (which also filters its queryset) takes no parameters.
    """

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", "list") != "list":
            return queryset
        given = list(request.query_params)
        if not given:
            return queryset
        valid = valid_parameters(view, request)
        unknown = [name for name in given if name not in valid]
        if unknown:
            listed = ", ".join(valid) if valid else "none"
            raise Invalid(
                f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: "
                f"{', '.join(unknown)}. This list takes: {listed}.",
                code="unknown_parameter",
                details={
                    "fields": {name: ["Unknown query parameter."] for name in unknown},
                    "valid_parameters": valid,
                },
            )
        return queryset
