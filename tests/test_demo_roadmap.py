"""``manage.py demo_roadmap``: a roadmap with work in flight, written through the services."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from kernel.models import Attempt, Blocker
from roadmap.models import RoadmapDependency, RoadmapItem
from system.models import AuditLog


def test_demo_roadmap_builds_phases_gates_and_work_in_flight(db):
    call_command("demo_roadmap", items=60, agents=3, cycles=8, seed=3)
    items = RoadmapItem.objects.filter(deleted_at__isnull=True)
    assert items.count() == 60
    assert set(items.values_list("phase_key", flat=True)) == {
        "phase_a",
        "phase_b",
        "phase_c",
        "phase_d",
        "phase_e",
    }
    assert items.filter(item_type="gate").count() == 5
    statuses = {s: items.filter(status_key=s).count() for s in ["completed", "review"]}
    assert statuses == {"completed": 8, "review": 1}
    assert items.filter(status_key="blocked").count() == 2
    assert items.filter(status_key="in_progress").count() == 2
    open_blockers = Blocker.objects.filter(resolved_at__isnull=True)
    assert open_blockers.count() == 2
    assert all(b.needs for b in open_blockers)
    assert Attempt.objects.filter(ended_at__isnull=True).count() == 2
    # Cross-phase prerequisites: phase B's first items wait on phase A's gate.
    gate_a = items.get(phase_key="phase_a", item_type="gate")
    assert RoadmapDependency.objects.filter(
        depends_on_id=gate_a.id, item__phase_key="phase_b"
    ).exists()
    actors = set(AuditLog.objects.values_list("actor", flat=True))
    assert {"user:demo-lead", "agent:demo-agent-1"} <= actors


def test_demo_roadmap_refuses_a_roadmap_with_items(db):
    call_command("demo_roadmap", items=10, agents=1, cycles=1)
    with pytest.raises(CommandError, match="already has items"):
        call_command("demo_roadmap", items=10, agents=1, cycles=1)
