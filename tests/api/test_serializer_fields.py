"""Serializer fields built once per class (``system.api.serializers.FieldsOnce``): rendering
shares one bound set per class; validating, or rendering with a context, binds its own; the
row-dict shortcut renders exactly what DRF's own ``to_representation`` does."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework import serializers

from kernel.api import serializers as kernel_serializers
from roadmap.models import VReadyItems
from system.api.serializers import NextActionSerializer, Timestamp
from system.fields import parse_timestamp

NOW = "2026-12-02 07:00:14"
ATTEMPT = {
    "id": "att-1",
    "work_id": "W#1",
    "worker_id": "agent:ann",
    "worker_type": "agent",
    "contract_hash": "ab" * 32,
    "handoff_from_attempt_id": None,
    "handoff_reason": None,
    "started_at": NOW,
    "ended_at": None,
    "outcome": None,
    "notes": None,
    "lease_active": True,
    "context_hash": None,
    "role": None,
    "strategy_id": None,
}
LEASE = {
    "id": "lease-1",
    "resource_type": "work_item",
    "resource_id": "W#1",
    "mode": "exclusive",
    "worker_id": "agent:ann",
    "attempt_id": "att-1",
    "acquired_at": NOW,
    "ttl_seconds": 900,
    "expires_at": "2026-12-02 07:15:14",
    "released_at": None,
    "heartbeat_at": None,
}


def drf_rendering(serializer_class, row):
    """The row as DRF's own ``Serializer.to_representation`` renders it."""
    return serializers.Serializer.to_representation(serializer_class(), row)


def test_rendering_shares_one_bound_field_set_per_class():
    first = kernel_serializers.AttemptSerializer(ATTEMPT)
    second = kernel_serializers.AttemptSerializer({**ATTEMPT, "id": "att-2"})
    assert first.fields is second.fields
    assert first.data["id"] == "att-1"
    assert second.data["id"] == "att-2"


@pytest.mark.parametrize(
    "serializer_class, row",
    [
        (kernel_serializers.AttemptSerializer, ATTEMPT),
        (kernel_serializers.AttemptSerializer, {**ATTEMPT, "ended_at": NOW, "outcome": "failed"}),
        (kernel_serializers.LeaseSerializer, LEASE),
        (kernel_serializers.LeaseSerializer, {**LEASE, "released_at": NOW}),
    ],
)
def test_the_row_shortcut_renders_what_drf_renders(serializer_class, row):
    rendered = serializer_class(row).data
    assert dict(rendered) == drf_rendering(serializer_class, row)
    assert set(rendered) == set(serializer_class().fields)


@pytest.mark.parametrize(
    "row",
    [
        {"action": "claim", "method": "POST", "href": "/api/v1/work/A%231/claim/"},
        {"action": "release", "method": "POST", "href": "/x/", "note": "Needs evidence."},
        {"action": "release", "method": "POST", "href": "/x/", "note": None},
    ],
)
def test_a_row_without_an_optional_key_renders_what_drf_renders(row):
    """A key the row lacks: DRF leaves a field that is not required out (``note``)."""
    serializer_class = NextActionSerializer
    assert dict(serializer_class(row).data) == drf_rendering(serializer_class, row)


def test_values_of_another_type_go_through_the_field():
    """Only a value of exactly the field's own type is sent as it is: an integer column's
    ``True`` or text ``"900"`` is converted as DRF converts it."""
    for ttl in (True, "900", 900.0):
        row = {**LEASE, "ttl_seconds": ttl}
        rendered = kernel_serializers.LeaseSerializer(row).data
        assert rendered == drf_rendering(kernel_serializers.LeaseSerializer, row)
        assert type(rendered["ttl_seconds"]) is int


def test_validation_binds_its_own_fields_and_keeps_its_errors():
    refused = kernel_serializers.ClaimRequestSerializer(data={"ttl_seconds": "soon"})
    accepted = kernel_serializers.ClaimRequestSerializer(data={"ttl_seconds": 600})
    assert refused.fields is not accepted.fields
    assert not refused.is_valid()
    assert accepted.is_valid(), accepted.errors
    assert accepted.validated_data == {"ttl_seconds": 600}
    assert "ttl_seconds" in refused.errors
    for field in refused.fields.values():
        assert field.parent is refused


def test_a_context_binds_its_own_fields_and_does_not_leak():
    row = VReadyItems(id="R1", title="Ready", phase_key="phase_a", owner=None, rank=1.0)
    with_context = kernel_serializers.ReadyItemSerializer(row, context={"may_claim": True})
    assert with_context.data["claim"]["href"] == "/api/v1/work/R1/claim/"
    without = kernel_serializers.ReadyItemSerializer(row)
    assert without.data["claim"] is None
    assert with_context.fields is not without.fields
    # And rendering with a context again after a shared rendering still sees its context.
    again = kernel_serializers.ReadyItemSerializer([row], many=True, context={"may_claim": True})
    assert again.data[0]["claim"]["method"] == "POST"


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-02 07:00:14",  # the database's form
        "2026-12-02T07:00:14Z",  # the events' form
        "2026-12-02T07:00:14+02:00",
        "2026-12-02 07:00:14.250000",
        "2026-12-02 070014.2",  # ISO's basic time form, 19 characters too
        dt.datetime(2026, 12, 2, 7, 0, 14, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 2, 7, 0, 14, 123456, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 2, 9, 0, 14, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.datetime(2026, 12, 2, 7, 0, 14),  # naive: the server's time zone, UTC
    ],
)
def test_timestamps_render_as_drf_renders_them_in_utc(value):
    """:class:`Timestamp` renders what DRF's DateTimeField renders of the parsed value (the
    shortcut for the database's text and for datetimes skips only DRF's time-zone lookup)."""
    parsed = parse_timestamp(value) if isinstance(value, str) else value
    expected = serializers.DateTimeField().to_representation(parsed)
    assert Timestamp().to_representation(value) == expected
    assert expected.endswith("Z")


@pytest.mark.parametrize("text", ["not a time", "2026-13-45 07:00:14", "2026-12-02 25:00:00", ""])
def test_text_that_is_no_timestamp_is_sent_unchanged(text):
    assert Timestamp().to_representation(text) == text
