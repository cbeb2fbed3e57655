"""The API's gate: an authenticated caller whose role may read (``system.policy.READ``).

What a caller may *write* is decided by the service functions (``system.policy``), the same
for the API, the admin, the commands and the MCP server.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from system import policy


class CanRead(BasePermission):
    message = (
        "Your account has no role that may read the roadmap; a lead or admin gives roles in "
        "the admin (Users → Groups)."
    )

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and policy.user_can(user, policy.READ))
