"""How API callers prove who they are: a per-client token, or a staff admin session."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication

from system.identity import AGENT_GROUP
from system.models import ApiToken


class TokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>`` (``Token <token>`` is accepted too).

    One indexed query finds the token, its user and whether the user is an agent.
    """

    schemes = ("bearer", "token")

    def authenticate(self, request):
        scheme, _, raw_key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() not in self.schemes:
            return None
        raw_key = raw_key.strip()
        if not raw_key:
            raise exceptions.AuthenticationFailed("The Authorization header has no token.")
        agent_membership = User.groups.through.objects.filter(
            user_id=OuterRef("user_id"), group__name=AGENT_GROUP
        )
        token = (
            ApiToken.objects.select_related("user")
            .annotate(owner_is_agent=Exists(agent_membership))
            .filter(key_digest=ApiToken.digest(raw_key), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Unknown or revoked token.")
        token.user._motus_is_agent = token.owner_is_agent
        token.note_use()
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class StaffSessionAuthentication(SessionAuthentication):
    """Staff may use the API from their admin session (with its CSRF protection)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None or not result[0].is_staff:
            return None
        return result
