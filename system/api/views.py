"""Base classes of every API view: the caller's identity and idempotent POSTs."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from system import policy
from system.api.filters import Pagination
from system.api.serializers import AuditLogSerializer, WhoAmISerializer
from system.filtersets import AuditLogFilterSet
from system.identity import Actor
from system.models import AuditLog


def validated(serializer_class, request, **kwargs) -> dict:
    """The request body validated by ``serializer_class`` (400 with field errors if not)."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class MotusViewMixin:
    """``self.actor`` is the authenticated caller. Lists page with bounded
    ``limit``/``offset`` (:class:`Pagination`). POST handlers carry
    :func:`idempotency.idempotent`."""

    pagination_class = Pagination

    @property
    def actor(self) -> Actor:
        request = self.request
        actor = getattr(request, "_motus_actor", None)
        if actor is None:
            actor = request._motus_actor = Actor.of(request.user)
        return actor


class MotusAPIView(MotusViewMixin, APIView):
    pass


class MotusViewSet(MotusViewMixin, viewsets.GenericViewSet):
    pass


class WhoAmIView(MotusAPIView):
    """The caller's identity (what the API writes as worker, author and actor) and roles.
    Open to every authenticated caller, so an account without a role can see why it is
    refused elsewhere."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=WhoAmISerializer, tags=["identity"], summary="Who am I")
    def get(self, request):
        user = request.user
        return Response(
            WhoAmISerializer(
                {
                    "identity": self.actor.identity,
                    "worker_type": self.actor.worker_type,
                    "username": user.get_username(),
                    "is_staff": self.actor.is_staff,
                    "roles": policy.roles_of(user),
                    "permissions": sorted(
                        {
                            rule.permission
                            for rule in policy.MATRIX
                            if policy.user_can(user, rule.permission)
                        }
                    ),
                }
            ).data
        )


@extend_schema_view(
    list=extend_schema(tags=["governance"], summary="List the audit trail"),
    retrieve=extend_schema(tags=["governance"], summary="Get an audit entry"),
)
class AuditLogViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    """The audit trail, newest first (read-only: the database forbids changes)."""

    queryset = AuditLog.objects.order_by("-id")
    serializer_class = AuditLogSerializer
    filterset_class = AuditLogFilterSet
