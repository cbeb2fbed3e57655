"""The roadmap over HTTP: items, dependencies, assignments, claims, deployments and the
roadmap's read-only views. Writes go through ``roadmap.services``."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import F
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from roadmap import filtersets, services
from roadmap.api import serializers as s
from roadmap.models import (
    Claim,
    DeploymentEvent,
    RoadmapAssignment,
    RoadmapDependency,
    RoadmapItem,
    VBlockedItems,
    VCanDeploy,
    VDeployBlockers,
    VRoadmapProgress,
)
from roadmap.queries import unmet_prerequisites
from system.api.views import MotusViewMixin, MotusViewSet, validated
from system.identity import Actor

#: Apps to the right of roadmap add their part of an item's detail here (the kernel adds the
#: active attempt, counts of evidence/decisions/blockers and next actions), so the roadmap
#: needs no import of them. Each section gets (item id, caller) and returns a dict.
ITEM_DETAIL_SECTIONS: list[Callable[[str, Actor], dict]] = []


def _linked(edges, end: str) -> list[dict]:
    return [
        {
            "id": getattr(edge, f"{end}_id"),
            "title": getattr(edge, end).title,
            "status": getattr(edge, end).status_key,
            "dependency_type": edge.dependency_type,
        }
        for edge in edges
    ]


@extend_schema_view(
    list=extend_schema(tags=["roadmap"]),
)
class ItemViewSet(mixins.ListModelMixin, MotusViewSet):
    """Roadmap items: list/filter/search, detail, create, update, soft delete, dependencies."""

    queryset = RoadmapItem.objects.live().order_by(
        "phase_key", F("rank").asc(nulls_first=True), "sort_order", "id"
    )
    serializer_class = s.RoadmapItemSerializer
    filterset_class = filtersets.RoadmapItemFilterSet
    ordering_fields = ["rank", "sort_order", "updated_at", "created_at", "id"]
    lookup_value_regex = "[^/]+"

    @extend_schema(tags=["roadmap"], responses=s.ItemDetailSerializer)
    def retrieve(self, request, pk):
        item = services.live_item(pk)
        detail = s.RoadmapItemSerializer(item).data
        detail["dependencies"] = _linked(
            RoadmapDependency.objects.filter(item_id=pk).select_related("depends_on"),
            "depends_on",
        )
        detail["dependents"] = _linked(
            RoadmapDependency.objects.filter(depends_on_id=pk).select_related("item"), "item"
        )
        detail["unmet_prerequisites"] = unmet_prerequisites(pk)
        for section in ITEM_DETAIL_SECTIONS:
            detail.update(section(pk, self.actor))
        return Response(detail)

    @extend_schema(
        tags=["roadmap"], request=s.ItemCreateSerializer, responses={201: s.RoadmapItemSerializer}
    )
    def create(self, request):
        """A new item: leads any; agents an ``ADHOC-`` item (pending), within their limits."""
        item = services.create_item(self.actor, **validated(s.ItemCreateSerializer, request))
        return Response(s.RoadmapItemSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["roadmap"], request=s.ItemWriteSerializer, responses=s.RoadmapItemSerializer
    )
    def partial_update(self, request, pk):
        """Leads change any item; others only their own ad-hoc item nobody else works on.
        Setting ``status_key`` is a lead's override and needs ``reason``."""
        changes = dict(validated(s.ItemWriteSerializer, request, partial=True))
        reason = changes.pop("reason", None)
        item = services.update_item(self.actor, pk, changes, reason=reason)
        return Response(s.RoadmapItemSerializer(item).data)

    @extend_schema(tags=["roadmap"], parameters=[s.ItemDeleteSerializer], responses={204: None})
    def destroy(self, request, pk):
        """Soft delete: the item stays in the database with ``deleted_at`` set. Refused (409)
        while unfinished items depend on it, unless ``detach_dependents=true``."""
        params = s.ItemDeleteSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        services.delete_item(
            self.actor,
            pk,
            detach=params.validated_data["detach_dependents"],
            reason=params.validated_data.get("reason"),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["roadmap"],
        request=s.DependencySerializer,
        responses={201: s.DependencySerializer},
    )
    @action(detail=True, methods=["post"])
    def dependencies(self, request, pk):
        """Add "this item depends on depends_on_id"; a cycle → 409 with the database's
        message."""
        fields = validated(s.DependencySerializer, request)
        edge = services.add_dependency(
            self.actor,
            pk,
            fields["depends_on_id"],
            fields.get("dependency_type", "blocks"),
            fields.get("notes"),
        )
        return Response(s.DependencySerializer(edge).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["roadmap"],
        parameters=[OpenApiParameter("depends_on_id", str, OpenApiParameter.PATH)],
        responses={204: None},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path="dependencies/(?P<depends_on_id>[^/]+)",
        url_name="dependency",
    )
    def remove_dependency(self, request, pk, depends_on_id):
        services.remove_dependency(self.actor, pk, depends_on_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(tags=["assignments"]), retrieve=extend_schema(tags=["assignments"])
)
class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    """Who works on what: create, then start → complete (or drop)."""

    queryset = RoadmapAssignment.objects.order_by("-assigned_at", "-id")
    serializer_class = s.AssignmentSerializer
    filterset_class = filtersets.AssignmentFilterSet

    @extend_schema(tags=["assignments"], responses={201: s.AssignmentSerializer})
    def create(self, request):
        fields = validated(s.AssignmentSerializer, request)
        assignment = services.create_assignment(
            self.actor,
            fields["item_id"],
            agent_id=fields.get("agent_id"),
            role=fields.get("role", "implementer"),
            notes=fields.get("notes"),
        )
        return Response(s.AssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)

    def _transition(self, pk, name):
        assignment = services.transition_assignment(self.actor, int(pk), name)
        return Response(s.AssignmentSerializer(assignment).data)

    @extend_schema(tags=["assignments"], request=None, responses=s.AssignmentSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk):
        """assigned → active."""
        return self._transition(pk, "start")

    @extend_schema(tags=["assignments"], request=None, responses=s.AssignmentSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk):
        """active → completed."""
        return self._transition(pk, "complete")

    @extend_schema(tags=["assignments"], request=None, responses=s.AssignmentSerializer)
    @action(detail=True, methods=["post"])
    def drop(self, request, pk):
        """assigned or active → dropped."""
        return self._transition(pk, "drop")


@extend_schema_view(list=extend_schema(tags=["deploy"]), retrieve=extend_schema(tags=["deploy"]))
class ClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    """Statements to verify before a website deploy."""

    queryset = Claim.objects.order_by("id")
    serializer_class = s.ClaimSerializer
    filterset_class = filtersets.ClaimFilterSet
    lookup_value_regex = "[^/]+"

    @extend_schema(tags=["deploy"], responses={201: s.ClaimSerializer})
    def create(self, request):
        claim = services.create_claim(self.actor, **validated(s.ClaimSerializer, request))
        return Response(s.ClaimSerializer(claim).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=["deploy"], responses=s.ClaimSerializer)
    def partial_update(self, request, pk):
        """Record a verification (``test_status``; ``last_verified_at`` is stamped)."""
        instance = Claim.objects.filter(pk=pk).first()
        serializer = s.ClaimSerializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        claim = services.update_claim(self.actor, pk, dict(serializer.validated_data))
        return Response(s.ClaimSerializer(claim).data)


@extend_schema_view(list=extend_schema(tags=["deploy"]), retrieve=extend_schema(tags=["deploy"]))
class DeploymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    """Deployments; a website deploy is refused (409, ``POLICY-…``) while claims fail or
    quantitative claims are pending."""

    queryset = DeploymentEvent.objects.order_by("-created_at", "-id")
    serializer_class = s.DeploymentEventSerializer
    filterset_class = filtersets.DeploymentEventFilterSet

    @extend_schema(tags=["deploy"], responses={201: s.DeploymentEventSerializer})
    def create(self, request):
        fields = validated(s.DeploymentEventSerializer, request)
        event = services.record_deployment(
            self.actor,
            target=fields["target"],
            version=fields["version"],
            status=fields.get("status", "pending"),
        )
        return Response(s.DeploymentEventSerializer(event).data, status=status.HTTP_201_CREATED)


def _view_endpoint(model, serializer, tag, doc, ordering=()):
    """A read-only list over one of the roadmap's SQL views."""
    view = type(
        f"{model.__name__}View",
        (MotusViewMixin, generics.ListAPIView),
        {
            "serializer_class": serializer,
            "pagination_class": None,
            "filter_backends": [],
            # No ordering given: the view's own ORDER BY stands.
            "get_queryset": lambda self: model.objects.order_by(*ordering),
            "__doc__": doc,
        },
    )
    return extend_schema_view(get=extend_schema(tags=[tag]))(view)


BlockedItemsView = _view_endpoint(
    VBlockedItems,
    s.BlockedItemSerializer,
    "roadmap",
    "Items held up by unfinished blocking dependencies (v_blocked_items).",
    ("id",),
)
RoadmapProgressView = _view_endpoint(
    VRoadmapProgress,
    s.RoadmapProgressSerializer,
    "roadmap",
    "Progress per phase (v_roadmap_progress, in phase order).",
)
CanDeployView = _view_endpoint(
    VCanDeploy, s.CanDeploySerializer, "deploy", "Website deploy readiness (v_can_deploy)."
)
DeployBlockersView = _view_endpoint(
    VDeployBlockers,
    s.DeployBlockerSerializer,
    "deploy",
    "Failed or stale claims (v_deploy_blockers, oldest verification first).",
)
