"""Leases over HTTP: the lease triggers' compatibility matrix as 409s, holder-only calls,
staff force-release, expiry without cleanup, and the events log."""

from __future__ import annotations

import datetime as dt

import pytest
from api_support import error_of

from kernel.models import Event, Lease
from system.fields import utc_now
from system.models import AuditLog

EXCLUSIVE_BUSY = "KERNEL: Cannot acquire exclusive lease - resource has active leases"
ANY_BLOCKED = "KERNEL: Cannot acquire lease - exclusive lease active on resource"


def acquire(client, mode, resource_id="src/app.py", ttl=60):
    return client.post(
        "/api/v1/leases/",
        {"resource_type": "file", "resource_id": resource_id, "mode": mode, "ttl_seconds": ttl},
    )


def acquired(client, mode, **kwargs) -> dict:
    response = acquire(client, mode, **kwargs)
    assert response.status_code == 201, response.content
    return response.json()["lease"]


def test_acquire_writes_the_lease_event_and_audit(alice):
    lease = acquired(alice, "write", ttl=120)
    row = Lease.objects.get(pk=lease["id"])
    assert (row.worker_id, row.mode, row.ttl_seconds) == ("agent:alice", "write", 120)
    assert row.expires_at - row.acquired_at == dt.timedelta(seconds=120)
    assert lease["expires_at"].endswith("Z")
    assert Event.objects.get(lease_id=lease["id"]).event_type == "LEASE_CLAIMED"
    assert AuditLog.objects.filter(resource_id=lease["id"], action="acquire").exists()
    assert [a["action"] for a in acquire(alice, "read", "other").json()["next_actions"]] == [
        "heartbeat",
        "release",
    ]


@pytest.mark.parametrize(
    "held, wanted, message",
    [
        ("read", "exclusive", EXCLUSIVE_BUSY),
        ("write", "exclusive", EXCLUSIVE_BUSY),
        ("exclusive", "exclusive", EXCLUSIVE_BUSY),
        ("exclusive", "read", ANY_BLOCKED),
        ("exclusive", "write", ANY_BLOCKED),
    ],
)
def test_conflicting_lease_is_409_with_the_kernel_message(alice, bob, held, wanted, message):
    acquired(alice, held)
    response = acquire(bob, wanted)
    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["message"]) == ("kernel_rule", message)
    assert Lease.objects.count() == 1
    assert Event.objects.count() == 1


def test_shared_modes_coexist(alice, bob):
    acquired(alice, "read")
    acquired(bob, "write")
    acquired(bob, "read")
    assert Lease.objects.count() == 3


def test_expired_leases_stop_counting_without_cleanup(alice, bob):
    old = acquired(alice, "exclusive")
    Lease.objects.filter(pk=old["id"]).update(expires_at=utc_now() - dt.timedelta(seconds=1))
    acquired(bob, "exclusive")
    assert Lease.objects.get(pk=old["id"]).released_at is None
    active = bob.get("/api/v1/leases/").json()["results"]
    assert [lease["worker_id"] for lease in active] == ["agent:bob"]
    inactive = bob.get("/api/v1/leases/", {"active": "false"}).json()["results"]
    assert [(lease["id"], lease["is_active"]) for lease in inactive] == [(old["id"], False)]


def test_heartbeat_by_the_holder_extends_and_logs(alice, bob):
    lease = acquired(alice, "write", ttl=30)
    url = f"/api/v1/leases/{lease['id']}/heartbeat/"
    assert bob.post(url).status_code == 403
    response = alice.post(url, {"ttl_seconds": 300})
    assert response.status_code == 200
    row = Lease.objects.get(pk=lease["id"])
    assert row.expires_at >= utc_now() + dt.timedelta(seconds=290)
    assert row.last_heartbeat is not None
    assert Event.objects.filter(lease_id=lease["id"], event_type="heartbeat").count() == 1
    Lease.objects.filter(pk=lease["id"]).update(expires_at=utc_now() - dt.timedelta(seconds=1))
    expired = alice.post(url)
    assert expired.status_code == 409 and error_of(expired)["code"] == "lease_inactive"
    assert alice.post("/api/v1/leases/lease-none/heartbeat/").status_code == 404


def test_release_by_the_holder_only_once(alice, bob):
    lease = acquired(alice, "exclusive")
    url = f"/api/v1/leases/{lease['id']}/release/"
    forbidden = bob.post(url)
    assert forbidden.status_code == 403 and error_of(forbidden)["code"] == "permission_denied"
    response = alice.post(url, {"reason": "done"})
    assert response.status_code == 200
    assert response.json()["lease"]["released_at"] is not None
    again = alice.post(url)
    assert again.status_code == 409 and error_of(again)["code"] == "lease_released"
    acquired(bob, "exclusive")
    history = alice.get(f"/api/v1/leases/{lease['id']}/").json()
    assert [e["event_type"] for e in history["events"]] == ["LEASE_CLAIMED", "LEASE_RELEASED"]
    assert history["events"][1]["payload"]["reason"] == "done"
    assert history["is_active"] is False


def test_staff_force_release_needs_staff_and_a_reason(alice, bob, staff):
    lease = acquired(alice, "exclusive")
    url = f"/api/v1/leases/{lease['id']}/force-release/"
    assert bob.post(url, {"reason": "mine"}).status_code == 403
    no_reason = staff.post(url, {"reason": ""})
    assert no_reason.status_code == 400 and "reason" in error_of(no_reason)["fields"]
    response = staff.post(url, {"reason": "agent crashed"})
    assert response.status_code == 200
    audit = AuditLog.objects.get(resource_id=lease["id"], action="force_release")
    assert audit.actor == "user:sam" and "agent crashed" in audit.context
    event = Event.objects.get(lease_id=lease["id"], event_type="LEASE_RELEASED")
    assert '"forced":true' in event.payload
    assert (
        staff.post("/api/v1/leases/lease-none/force-release/", {"reason": "x"}).status_code == 404
    )


def test_a_claims_lease_is_released_with_its_attempt(alice, make_item):
    make_item("A")
    lease_id = alice.post("/api/v1/work/A/claim/").json()["lease"]["id"]
    response = alice.post(f"/api/v1/leases/{lease_id}/release/")
    assert response.status_code == 409 and error_of(response)["code"] == "attempt_lease"
    assert Lease.objects.get(pk=lease_id).released_at is None


@pytest.mark.parametrize(
    "body, field",
    [
        ({"resource_type": "f", "resource_id": "x", "mode": "shared", "ttl_seconds": 5}, "mode"),
        (
            {"resource_type": "f", "resource_id": "x", "mode": "read", "ttl_seconds": 0},
            "ttl_seconds",
        ),
        ({"resource_type": "f", "mode": "read", "ttl_seconds": 5}, "resource_id"),
        ({"resource_type": "f", "resource_id": "x", "mode": "read"}, "ttl_seconds"),
    ],
)
def test_lease_validation(alice, body, field):
    response = alice.post("/api/v1/leases/", body)
    assert response.status_code == 400 and field in error_of(response)["fields"]
    assert not Lease.objects.exists()


def test_lease_list_filters(alice, bob):
    acquired(alice, "read", resource_id="a")
    acquired(bob, "read", resource_id="b")
    mine = alice.get("/api/v1/leases/", {"worker_id": "agent:alice"}).json()
    assert [lease["resource_id"] for lease in mine["results"]] == ["a"]
    assert alice.get("/api/v1/leases/", {"resource_id": "b"}).json()["count"] == 1
    assert alice.get("/api/v1/leases/lease-none/").status_code == 404
