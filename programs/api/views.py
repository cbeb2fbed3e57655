"""What agents work for, over HTTP: programs, products, features, releases, change requests
(with their dependencies), bugs, standards and charters, read-only and live rows only; and
filing a bug, through ``programs.services``."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.response import Response

from programs import filtersets, services
from programs.api import serializers as s
from programs.models import (
    Bug,
    ChangeRequest,
    CharterDoc,
    CrDependency,
    Feature,
    Product,
    Program,
    Release,
    Standard,
    StandardAssignment,
)
from system.api.idempotency import idempotent
from system.api.rendering import Merged
from system.api.views import MotusViewSet, validated
from system.errors import NotFound

TAGS = ["programs"]


class ReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    """List (filtered, paginated) and retrieve by text key; an unknown or soft-deleted key
    is a 404 in the common error shape."""

    lookup_value_regex = "[^/]+"

    def get_object(self):
        pk = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        queryset = self.get_queryset()
        try:
            obj = queryset.get(pk=pk)
        except queryset.model.DoesNotExist:
            raise NotFound(f"No {queryset.model._meta.verbose_name} {pk!r}.") from None
        self.check_object_permissions(self.request, obj)
        return obj


def _tagged(plural: str, singular: str):
    def decorate(viewset):
        return extend_schema_view(
            list=extend_schema(tags=TAGS, summary=f"List {plural}"),
            retrieve=extend_schema(tags=TAGS, summary=f"Get a {singular}"),
        )(viewset)

    return decorate


@_tagged("programs", "program")
class ProgramViewSet(ReadOnlyViewSet):
    """Programs: the top of the hierarchy (program → products → features and releases)."""

    queryset = Program.objects.live().order_by("id")
    serializer_class = s.ProgramSerializer
    filterset_class = filtersets.ProgramFilterSet
    ordering_fields = ["id", "name", "created_at", "updated_at"]


@_tagged("products", "product")
class ProductViewSet(ReadOnlyViewSet):
    """Products of programs."""

    queryset = Product.objects.live().order_by("id")
    serializer_class = s.ProductSerializer
    filterset_class = filtersets.ProductFilterSet
    ordering_fields = ["id", "name", "created_at", "updated_at"]


@_tagged("features", "feature")
class FeatureViewSet(ReadOnlyViewSet):
    """Features of products."""

    queryset = Feature.objects.live().order_by("id")
    serializer_class = s.FeatureSerializer
    filterset_class = filtersets.FeatureFilterSet
    ordering_fields = ["id", "name", "created_at", "updated_at"]


@_tagged("releases", "release")
class ReleaseViewSet(ReadOnlyViewSet):
    """Releases of products."""

    queryset = Release.objects.live().order_by("id")
    serializer_class = s.ReleaseSerializer
    filterset_class = filtersets.ReleaseFilterSet
    ordering_fields = ["id", "name", "target_date", "created_at", "updated_at"]


def _linked_crs(edges, end: str) -> list[dict]:
    """The live change requests at ``end`` of ``cr_dependencies`` edges."""
    rows = edges.filter(**{f"{end}__deleted_at__isnull": True}).order_by(f"{end}_id")
    return [
        {
            "id": row[f"{end}_id"],
            "title": row[f"{end}__title"],
            "status_key": row[f"{end}__status_key"],
            "dependency_type": row["dependency_type"],
            "created_at": row["created_at"],
        }
        for row in rows.values(
            f"{end}_id", f"{end}__title", f"{end}__status_key", "dependency_type", "created_at"
        )
    ]


@extend_schema_view(list=extend_schema(tags=TAGS, summary="List change requests"))
class ChangeRequestViewSet(ReadOnlyViewSet):
    """Change requests against products and features; the detail adds their dependencies."""

    queryset = ChangeRequest.objects.live().order_by("id")
    serializer_class = s.ChangeRequestSerializer
    filterset_class = filtersets.ChangeRequestFilterSet
    ordering_fields = ["id", "title", "created_at", "updated_at", "target_version"]

    @extend_schema(
        tags=TAGS,
        summary="Get a change request with its dependencies",
        responses=s.ChangeRequestDetailSerializer,
    )
    def retrieve(self, request, pk):
        """The change request, the live CRs it depends on (``dependencies``) and the live CRs
        that depend on it (``dependents``)."""
        cr = self.get_object()
        detail = {
            "dependencies": _linked_crs(CrDependency.objects.filter(cr_id=cr.pk), "depends_on"),
            "dependents": _linked_crs(CrDependency.objects.filter(depends_on_id=cr.pk), "cr"),
        }
        return Response(s.ChangeRequestDetailSerializer(Merged(cr, detail)).data)


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="List bugs"),
    retrieve=extend_schema(tags=TAGS, summary="Get a bug"),
)
class BugViewSet(ReadOnlyViewSet):
    """Bugs, newest first. Anyone with ``programs.add_bug`` (agents do) may file one."""

    queryset = Bug.objects.live().order_by("-created_at", "-id")
    serializer_class = s.BugSerializer
    filterset_class = filtersets.BugFilterSet
    ordering_fields = ["id", "created_at", "updated_at", "severity_key", "status_key"]

    @extend_schema(
        tags=TAGS,
        summary="File a bug",
        request=s.BugCreateSerializer,
        responses={201: s.BugSerializer},
        examples=[
            OpenApiExample(
                "Seen while working",
                value={
                    "title": "Heartbeat answers 500 after a lease expired",
                    "feature_id": "F-LEASES",
                    "severity_key": "high",
                },
            )
        ],
    )
    @idempotent
    def create(self, request):
        """File a bug: reported by the caller, ``open``, with a generated ``BUG-…`` id."""
        bug = services.file_bug(self.actor, **validated(s.BugCreateSerializer, request))
        return Response(s.BugSerializer(bug).data, status=status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(tags=TAGS, summary="List standards"))
class StandardViewSet(ReadOnlyViewSet):
    """Quality standards; ``entity_type``/``entity_id`` find those that apply to a row."""

    queryset = Standard.objects.live().order_by("sort_order", "id")
    serializer_class = s.StandardSerializer
    filterset_class = filtersets.StandardFilterSet
    ordering_fields = ["id", "name", "sort_order", "created_at", "updated_at"]

    @extend_schema(
        tags=TAGS,
        summary="Get a standard with its assignments",
        responses=s.StandardDetailSerializer,
    )
    def retrieve(self, request, pk):
        """The standard and the entities it is assigned to."""
        standard = self.get_object()
        assignments = StandardAssignment.objects.filter(standard_id=standard.pk).order_by(
            "entity_type", "entity_id"
        )
        detail = {"assignments": list(assignments)}
        return Response(s.StandardDetailSerializer(Merged(standard, detail)).data)


@_tagged("charter documents", "charter document")
class CharterViewSet(ReadOnlyViewSet):
    """Charter documents (roadmap, ethos, release checklist), by type and version."""

    queryset = CharterDoc.objects.live().order_by("doc_type_key", "version", "id")
    serializer_class = s.CharterSerializer
    filterset_class = filtersets.CharterFilterSet
    ordering_fields = ["id", "version", "created_at", "updated_at"]
