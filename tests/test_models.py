"""Model behaviour on top of the contract: stored formats, DB defaults, soft delete,
``updated_at`` on save (so version-capture triggers fire) and view models."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection

from programs.models import Product, Program
from roadmap.models import RoadmapItem, VRoadmapProgress
from system.fields import format_timestamp, parse_timestamp
from system.models import Terminology


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def test_timestamp_text_round_trip():
    value = dt.datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=dt.UTC)
    assert format_timestamp(value) == "2026-01-02 03:04:05"
    assert parse_timestamp("2026-01-02 03:04:05") == value.replace(microsecond=0)
    assert parse_timestamp("2026-01-02T03:04:05Z") == value.replace(microsecond=0)
    assert parse_timestamp("not a time") is None


@pytest.mark.django_db
def test_orm_writes_timestamps_in_the_contract_format():
    other_zone = dt.timezone(dt.timedelta(hours=2))
    Program.objects.create(
        id="p1", name="P", created_at=dt.datetime(2026, 5, 1, 12, 0, 0, 999, tzinfo=other_zone)
    )
    assert raw("SELECT created_at, updated_at FROM programs WHERE id = 'p1'")[0][0] == (
        "2026-05-01 10:00:00"
    )
    program = Program.objects.get(pk="p1")
    assert program.created_at == dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_raw_insert_gets_the_contract_defaults_and_the_orm_reads_them():
    raw("INSERT INTO roadmap_items (id, phase_key, title) VALUES ('R1', 'phase_a', 'Raw')")
    item = RoadmapItem.objects.get(pk="R1")
    assert (item.status_key, item.scope, item.item_type, item.sort_order) == (
        "pending",
        "user",
        "work",
        0,
    )
    assert isinstance(item.created_at, dt.datetime)
    assert abs((dt.datetime.now(dt.UTC) - item.created_at).total_seconds()) < 60


@pytest.mark.django_db
def test_non_timestamp_text_in_a_timestamp_column_is_read_unchanged():
    raw(
        "INSERT INTO roadmap_items (id, phase_key, title, completed_at) "
        "VALUES ('R2', 'phase_a', 'Odd', 'sometime')"
    )
    assert RoadmapItem.objects.get(pk="R2").completed_at == "sometime"


@pytest.mark.django_db
def test_boolean_columns_store_integers():
    Program.objects.create(id="prg", name="P")
    from programs.models import CharterDoc

    CharterDoc.objects.create(
        id="c1", doc_type_key="roadmap", version="1", title="R", content_hash="h"
    )
    # An INTEGER column holding 1, as SQLite's typeof() and PostgreSQL's catalog tell
    # (bigint there: the contract's INTEGER is SQLite's 64-bit integer).
    assert raw("SELECT is_active FROM charter_docs") == [(1,)]
    if connection.vendor == "postgresql":
        assert raw("SELECT pg_typeof(is_active)::text FROM charter_docs") == [("bigint",)]
    else:
        assert raw("SELECT typeof(is_active) FROM charter_docs") == [("integer",)]
    assert CharterDoc.objects.get().is_active is True


@pytest.mark.django_db
def test_saving_an_update_sets_updated_at_and_captures_a_version():
    program = Program.objects.create(id="prg", name="P")
    product = Product.objects.create(id="prd", program=program, name="Old")
    raw("UPDATE products SET updated_at = '2000-01-01 00:00:00' WHERE id = 'prd'")
    product.refresh_from_db()
    product.name = "New"
    product.save()
    assert raw("SELECT updated_at > '2000-01-01 00:00:00' FROM products") == [(1,)]
    # version 1: the raw UPDATE above changed updated_at too; version 2: the save
    versions = raw("SELECT entity_type, entity_id, version, data FROM entity_versions")
    assert sorted((t, i, v, json.loads(data)["name"]) for t, i, v, data in versions) == [
        ("product", "prd", 1, "Old"),
        ("product", "prd", 2, "New"),
    ]


@pytest.mark.django_db
def test_soft_delete_and_restore():
    Program.objects.create(id="a", name="A")
    Program.objects.create(id="b", name="B")
    assert Program.objects.filter(pk="a").soft_delete(by="user:lead") == 1
    assert list(Program.objects.live().values_list("id", flat=True)) == ["b"]
    assert Program.objects.count() == 2  # the row stays
    assert Program.objects.filter(pk="a").restore() == 1
    assert Program.objects.live().count() == 2


@pytest.mark.django_db
def test_soft_delete_fills_deleted_by_and_reason_where_the_table_has_them():
    Terminology.objects.filter(domain="plane").soft_delete(by="user:lead", reason="unused")
    assert raw(
        "SELECT DISTINCT deleted_by, deletion_reason, deleted_at IS NOT NULL "
        "FROM terminology WHERE domain = 'plane'"
    ) == [("user:lead", "unused", 1)]


@pytest.mark.django_db
def test_view_models_read_the_views():
    RoadmapItem.objects.create(id="A", phase_key="phase_a", title="A", status_key="completed")
    RoadmapItem.objects.create(id="B", phase_key="phase_a", title="B")
    progress = VRoadmapProgress.objects.get(phase_key="phase_a")
    assert (progress.phase, progress.total_items, progress.completed, progress.pct_complete) == (
        "Phase A",
        2,
        1,
        50.0,
    )
