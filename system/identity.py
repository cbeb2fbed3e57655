"""Who is acting: the identity string written into worker_id, created_by, decided_by, actor.

One Django user per agent or person. Agents are the users in the group ``agents``
(``create_agent`` puts them there); everyone else is a person. The identity always comes
from the authenticated user, never from a request body.
"""

from __future__ import annotations

from dataclasses import dataclass

AGENT_GROUP = "agents"


def is_agent(user) -> bool:
    """Membership of the ``agents`` group, looked up once per user object."""
    cached = getattr(user, "_motus_is_agent", None)
    if cached is None:
        cached = user.groups.filter(name=AGENT_GROUP).exists()
        user._motus_is_agent = cached
    return cached


@dataclass(frozen=True)
class Actor:
    """The caller as the database records it: ``agent:NAME``, ``user:NAME`` or ``system``."""

    identity: str
    is_staff: bool = False

    @classmethod
    def of(cls, user) -> Actor:
        kind = "agent" if is_agent(user) else "user"
        return cls(identity=f"{kind}:{user.get_username()}", is_staff=user.is_staff)

    @property
    def worker_type(self) -> str:
        """The ``attempts.worker_type`` for this caller (agent, human or system)."""
        if self.identity.startswith("agent:"):
            return "agent"
        return "system" if self.identity == "system" else "human"


SYSTEM = Actor(identity="system", is_staff=True)
