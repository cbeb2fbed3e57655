"""Fixtures of the API tests: agents and people with real tokens, an HTTP client speaking
JSON through Django's full request stack, and work items seeded in the test database."""

from __future__ import annotations

import pytest
from api_support import ApiClient, make_user

from roadmap.models import RoadmapDependency, RoadmapItem


@pytest.fixture
def api_for(db):
    """``api_for("alice")`` → a client for agent alice; ``agent=False`` for a person;
    ``role=`` a role of ``system.policy.Role`` (see ``make_user`` for the defaults)."""

    def factory(
        name: str, *, agent: bool = True, staff: bool = False, role: str | None = None
    ) -> ApiClient:
        user, token = make_user(name, agent=agent, staff=staff, role=role)
        return ApiClient(f"{'agent' if agent else 'user'}:{name}", token, user)

    return factory


@pytest.fixture
def alice(api_for):
    return api_for("alice")


@pytest.fixture
def bob(api_for):
    return api_for("bob")


@pytest.fixture
def staff(api_for):
    return api_for("sam", agent=False, staff=True)


@pytest.fixture
def anonymous(db):
    return ApiClient("anonymous", None)


@pytest.fixture
def make_item(db):
    """Seed a roadmap item (phase_a, pending unless told otherwise)."""

    def factory(item_id: str, *, depends_on=(), **fields) -> RoadmapItem:
        fields.setdefault("phase_key", "phase_a")
        fields.setdefault("title", f"Item {item_id}")
        item = RoadmapItem.objects.create(id=item_id, **fields)
        for target in depends_on:
            RoadmapDependency.objects.create(item_id=item_id, depends_on_id=target)
        return item

    return factory
