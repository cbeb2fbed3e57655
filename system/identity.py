"""Who is acting: the identity string written into worker_id, created_by, decided_by, actor.

One Django user per agent or person. Agents are the users in the group ``agents``
(``create_agent`` puts them there); everyone else is a person. The identity always comes
from the authenticated user, never from a request body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

AGENT_GROUP = "agents"


def is_agent(user) -> bool:
    """Membership of the ``agents`` group, looked up once per user object."""
    cached = getattr(user, "_motus_is_agent", None)
    if cached is None:
        cached = user.groups.filter(name=AGENT_GROUP).exists()
        user._motus_is_agent = cached
    return cached


def identity_of(user) -> str:
    """``agent:NAME`` for a member of the ``agents`` group, ``user:NAME`` otherwise."""
    return f"{'agent' if is_agent(user) else 'user'}:{user.get_username()}"


@dataclass(frozen=True)
class Actor:
    """The caller as the database records it: ``agent:NAME``, ``user:NAME`` or ``system``."""

    identity: str
    is_staff: bool = False
    #: The Django user behind the identity: what :mod:`system.policy` asks for permissions.
    #: ``None`` for the ``system`` actor, which may do everything.
    user: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, user) -> Actor:
        return cls(identity=identity_of(user), is_staff=user.is_staff, user=user)

    @property
    def worker_type(self) -> str:
        """The ``attempts.worker_type`` for this caller (agent, human or system)."""
        if self.identity.startswith("agent:"):
            return "agent"
        return "system" if self.identity == "system" else "human"


SYSTEM = Actor(identity="system", is_staff=True)


def user_of(identity: str):
    """The active user an identity string (``agent:NAME`` / ``user:NAME``) names, or
    ``None``: unknown, inactive, or of the other kind (``user:X`` for an agent account)."""
    from django.contrib.auth.models import User

    kind, _, username = identity.partition(":")
    if kind not in ("agent", "user") or not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None or is_agent(user) != (kind == "agent"):
        return None
    return user
