"""The roadmap over HTTP: items, dependencies, assignments, claims, deployments and the
roadmap's read-only views. Writes go through ``roadmap.services``."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import F
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
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
from system.api.filters import StrictQueryParameters
from system.api.idempotency import idempotent
from system.api.rendering import Merged
from system.api.serializers import INT64_MAX, INT64_MIN
from system.api.views import MotusViewMixin, MotusViewSet, validated
from system.errors import NotFound
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


def item_detail(item_id: str, actor: Actor) -> dict:
    """An item's detail as ``GET /api/v1/items/{id}/`` (and the MCP ``roadmap_item`` tool)
    answer it: the item, its dependencies and dependents, its unmet prerequisites, and the
    sections of :data:`ITEM_DETAIL_SECTIONS` (the kernel's state and next actions)."""
    item = services.live_item(item_id)
    detail = {
        "dependencies": _linked(
            RoadmapDependency.objects.filter(item_id=item_id)
            .select_related("depends_on")
            .order_by("depends_on_id"),
            "depends_on",
        ),
        "dependents": _linked(
            RoadmapDependency.objects.filter(depends_on_id=item_id)
            .select_related("item")
            .order_by("item_id"),
            "item",
        ),
        "unmet_prerequisites": unmet_prerequisites(item_id),
        "active_attempt": None,
        "counts": {"evidence": 0, "decisions": 0, "open_blockers": 0, "blockers": 0},
        "next_actions": [],
    }
    for section in ITEM_DETAIL_SECTIONS:
        detail.update(section(item_id, actor))
    return s.ItemDetailSerializer(Merged(item, detail)).data


@extend_schema_view(
    list=extend_schema(tags=["roadmap"], summary="List roadmap items"),
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

    @extend_schema(
        tags=["roadmap"], summary="Get an item with its state", responses=s.ItemDetailSerializer
    )
    def retrieve(self, request, pk):
        """The item, its dependencies and dependents, its unmet prerequisites, its active
        attempt and counts, and what you may do about it now (``next_actions``)."""
        return Response(item_detail(pk, self.actor))

    @extend_schema(
        tags=["roadmap"],
        summary="Create an item",
        request=s.ItemCreateSerializer,
        responses={201: s.RoadmapItemSerializer},
        examples=[
            OpenApiExample(
                "An ad-hoc item (agents)",
                value={"title": "Fix the flaky lease test", "phase_key": "phase_a"},
            )
        ],
    )
    @idempotent
    def create(self, request):
        """A new item: leads any; agents an ``ADHOC-`` item (pending), within their limits."""
        item = services.create_item(self.actor, **validated(s.ItemCreateSerializer, request))
        return Response(s.RoadmapItemSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["roadmap"],
        summary="Change an item",
        request=s.ItemWriteSerializer,
        responses=s.RoadmapItemSerializer,
        examples=[
            OpenApiExample("Retitle", value={"title": "Fix the flaky lease heartbeat test"}),
            OpenApiExample(
                "A lead sets the status",
                value={"status_key": "deferred", "reason": "Waiting for the 2.0 schema"},
            ),
        ],
    )
    def partial_update(self, request, pk):
        """Leads change any item; others only their own ad-hoc item nobody else works on.
        Setting ``status_key`` is a lead's override and needs ``reason``."""
        changes = dict(validated(s.ItemWriteSerializer, request, partial=True))
        reason = changes.pop("reason", None)
        item = services.update_item(self.actor, pk, changes, reason=reason)
        return Response(s.RoadmapItemSerializer(item).data)

    @extend_schema(
        tags=["roadmap"],
        summary="Delete an item (soft)",
        parameters=[s.ItemDeleteSerializer],
        responses={204: None},
    )
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
        summary="Add a dependency",
        request=s.DependencySerializer,
        responses={201: s.DependencySerializer},
        examples=[OpenApiExample("Blocked by RM-7", value={"depends_on_id": "RM-7"})],
    )
    @action(detail=True, methods=["post"])
    @idempotent
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
        summary="Remove a dependency",
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
        """Remove "this item depends on depends_on_id"."""
        services.remove_dependency(self.actor, pk, depends_on_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _assignment_id(pk: str) -> int:
    """An assignment's integer key from the URL (anything else names no assignment)."""
    try:
        value = int(pk)
    except ValueError:
        raise NotFound(f"No assignment {pk!r}.") from None
    if not INT64_MIN <= value <= INT64_MAX:
        raise NotFound(f"No assignment {pk!r}.")
    return value


@extend_schema_view(
    list=extend_schema(tags=["assignments"], summary="List assignments"),
    retrieve=extend_schema(tags=["assignments"], summary="Get an assignment"),
)
class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    """Who works on what: create, then start → complete (or drop)."""

    queryset = RoadmapAssignment.objects.order_by("-assigned_at", "-id")
    serializer_class = s.AssignmentSerializer
    filterset_class = filtersets.AssignmentFilterSet

    @extend_schema(
        tags=["assignments"],
        summary="Assign an item",
        responses={201: s.AssignmentSerializer},
        examples=[
            OpenApiExample("Take it myself", value={"item_id": "RM-42"}),
            OpenApiExample(
                "A lead asks for a review",
                value={"item_id": "RM-42", "agent_id": "agent:reviewer-2", "role": "reviewer"},
            ),
        ],
    )
    @idempotent
    def create(self, request):
        """Assign an item: to yourself (default), or, as a lead, to somebody else."""
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
        assignment = services.transition_assignment(self.actor, _assignment_id(pk), name)
        return Response(s.AssignmentSerializer(assignment).data)

    @extend_schema(
        tags=["assignments"],
        summary="Start an assignment",
        request=None,
        responses=s.AssignmentSerializer,
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def start(self, request, pk):
        """assigned → active."""
        return self._transition(pk, "start")

    @extend_schema(
        tags=["assignments"],
        summary="Complete an assignment",
        request=None,
        responses=s.AssignmentSerializer,
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def complete(self, request, pk):
        """active → completed."""
        return self._transition(pk, "complete")

    @extend_schema(
        tags=["assignments"],
        summary="Drop an assignment",
        request=None,
        responses=s.AssignmentSerializer,
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def drop(self, request, pk):
        """assigned or active → dropped."""
        return self._transition(pk, "drop")


@extend_schema_view(
    list=extend_schema(tags=["deploy"], summary="List deploy-gate claims"),
    retrieve=extend_schema(tags=["deploy"], summary="Get a deploy-gate claim"),
)
class ClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    """Statements to verify before a website deploy."""

    queryset = Claim.objects.order_by("id")
    serializer_class = s.ClaimSerializer
    filterset_class = filtersets.ClaimFilterSet
    lookup_value_regex = "[^/]+"

    @extend_schema(
        tags=["deploy"],
        summary="Leads: add a deploy-gate claim",
        responses={201: s.ClaimSerializer},
        examples=[
            OpenApiExample(
                "A measured claim",
                value={
                    "id": "CL-RPS",
                    "claim_text": "The ready list answers within 50 ms",
                    "page": "/api/v1/work/ready/",
                    "claim_type": "quantitative",
                    "test_function": "test_ready_list_latency",
                },
            )
        ],
    )
    @idempotent
    def create(self, request):
        """A statement to verify before a website deploy."""
        claim = services.create_claim(self.actor, **validated(s.ClaimSerializer, request))
        return Response(s.ClaimSerializer(claim).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["deploy"],
        summary="Record a verification (or edit the claim)",
        responses=s.ClaimSerializer,
        examples=[OpenApiExample("It passed", value={"test_status": "pass"})],
    )
    def partial_update(self, request, pk):
        """Record a verification (``test_status``; ``last_verified_at`` is stamped); leads
        may edit the claim itself. The id never changes."""
        instance = Claim.objects.filter(pk=pk).first()
        if instance is None:
            raise NotFound(f"No claim {pk!r}.")
        serializer = s.ClaimSerializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        claim = services.update_claim(self.actor, pk, dict(serializer.validated_data))
        return Response(s.ClaimSerializer(claim).data)


@extend_schema_view(
    list=extend_schema(tags=["deploy"], summary="List deployments"),
    retrieve=extend_schema(tags=["deploy"], summary="Get a deployment"),
)
class DeploymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    """Deployments; a website deploy is refused (409, ``POLICY-…``) while claims fail or
    quantitative claims are pending."""

    queryset = DeploymentEvent.objects.order_by("-created_at", "-id")
    serializer_class = s.DeploymentEventSerializer
    filterset_class = filtersets.DeploymentEventFilterSet

    @extend_schema(
        tags=["deploy"],
        summary="Record a deployment",
        responses={201: s.DeploymentEventSerializer},
        examples=[OpenApiExample("Website 1.4.0", value={"target": "website", "version": "1.4.0"})],
    )
    @idempotent
    def create(self, request):
        """A deployment; a website deploy meets the claims gate."""
        fields = validated(s.DeploymentEventSerializer, request)
        event = services.record_deployment(
            self.actor,
            target=fields["target"],
            version=fields["version"],
            status=fields.get("status", "pending"),
        )
        return Response(s.DeploymentEventSerializer(event).data, status=status.HTTP_201_CREATED)


def _view_endpoint(model, serializer, tag, summary, doc, ordering=()):
    """A read-only list over one of the roadmap's SQL views."""
    view = type(
        f"{model.__name__}View",
        (MotusViewMixin, generics.ListAPIView),
        {
            "serializer_class": serializer,
            "pagination_class": None,
            # No filters: any query parameter is refused (400) rather than ignored.
            "filter_backends": [StrictQueryParameters],
            # No ordering given: the view's own ORDER BY stands.
            "get_queryset": lambda self: model.objects.order_by(*ordering),
            "__doc__": doc,
        },
    )
    return extend_schema_view(get=extend_schema(tags=[tag], summary=summary))(view)


BlockedItemsView = _view_endpoint(
    VBlockedItems,
    s.BlockedItemSerializer,
    "roadmap",
    "Items held up by prerequisites",
    "Items held up by unfinished blocking dependencies (v_blocked_items).",
    ("id",),
)
RoadmapProgressView = _view_endpoint(
    VRoadmapProgress,
    s.RoadmapProgressSerializer,
    "roadmap",
    "Progress per phase",
    "Progress per phase (v_roadmap_progress, in phase order).",
)
CanDeployView = _view_endpoint(
    VCanDeploy,
    s.CanDeploySerializer,
    "deploy",
    "Can the website deploy?",
    "Website deploy readiness (v_can_deploy).",
)
DeployBlockersView = _view_endpoint(
    VDeployBlockers,
    s.DeployBlockerSerializer,
    "deploy",
    "Claims blocking a deploy",
    "Failed or stale claims (v_deploy_blockers, oldest verification first).",
)
