"""The roadmap export (``manage.py export_roadmap``, ``/roadmap/export.json``,
``/roadmap/export.md``): the JSON export parsed back gives every live item with every
column as stored and all its dependencies; the Markdown shows the same; the pages need the
read permission like the other pages."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from roadmap import export
from roadmap.models import RoadmapDependency, RoadmapItem


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def item(item_id, phase="phase_a", status="pending", **fields):
    return RoadmapItem.objects.create(
        id=item_id,
        phase_key=phase,
        title=fields.pop("title", f"Item {item_id}"),
        status_key=status,
        **fields,
    )


def depend(item_id, on, kind="blocks", notes=None):
    RoadmapDependency.objects.create(
        item_id=item_id, depends_on_id=on, dependency_type=kind, notes=notes
    )


@pytest.fixture
def roadmap(db):
    """Items in three phases, every kind of edge, an edge to a deleted item, a deleted
    item with edges of its own, text that needs escaping in Markdown."""
    item("A1", status="completed", owner="alice", rank=1.0, description="first | piped")
    item("A2", owner="bob", rank=2.5, external_id="GH-7", external_url="https://x/7")
    item("A3", status="review", title="Needs a\nsecond look", item_type="gate")
    item("B1", phase="phase_b", status="in_progress", owner="agent:carol", target_date="2026-03")
    item("B2", phase="phase_b", status="blocked")
    item("C1", phase="phase_c", status="deferred", sort_order=4)
    item("GONE", phase="phase_b")
    depend("A2", "A1", notes="after the first")
    depend("A3", "A2")
    depend("B1", "A1", "soft")
    depend("B1", "A3", "related")
    depend("B2", "B1")
    depend("B2", "GONE")
    depend("GONE", "A1")
    RoadmapItem.objects.filter(pk="GONE").soft_delete(by="user:lead", reason="dropped")


def exported(*args) -> str:
    out = io.StringIO()
    call_command("export_roadmap", *args, stdout=out)
    return out.getvalue()


def test_json_export_round_trips_every_live_item_with_its_fields_and_dependencies(roadmap):
    data = json.loads(exported("--format", "json"))
    assert data["format"] == "motus-roadmap-export" and data["version"] == 1
    items = {i["id"]: i for phase in data["phases"] for i in phase["items"]}

    stored = {row["id"]: row for row in raw("SELECT * FROM roadmap_items")}
    live = {key: row for key, row in stored.items() if row["deleted_at"] is None}
    assert set(items) == set(live) == {"A1", "A2", "A3", "B1", "B2", "C1"}
    for item_id, row in live.items():
        assert {column: items[item_id][column] for column in row} == row

    edges = raw(
        "SELECT item_id, depends_on_id, dependency_type, notes, created_at, created_by"
        " FROM roadmap_dependencies"
    )
    for item_id, entry in items.items():
        mine = [e for e in edges if e["item_id"] == item_id]
        assert sorted(
            (d["depends_on_id"], d["dependency_type"], d["notes"], d["created_at"])
            for d in entry["dependencies"]
        ) == sorted(
            (e["depends_on_id"], e["dependency_type"], e["notes"], e["created_at"]) for e in mine
        )
    # The whole file parses back into the same items in the same order, twice over.
    again = json.loads(export.to_json(data))
    assert again == data


def test_export_groups_by_phase_with_status_owner_dependencies_and_progress(roadmap):
    data = export.build_export()
    assert [p["key"] for p in data["phases"]] == ["phase_a", "phase_b", "phase_c"]
    phase_a = data["phases"][0]
    assert phase_a["name"] == "Phase A"
    assert [i["id"] for i in phase_a["items"]] == ["A3", "A1", "A2"]  # rank: NULL first
    assert phase_a["progress"] == {
        "total_items": 3,
        "completed": 1,
        "in_progress": 0,
        "in_review": 1,
        "blocked": 0,
        "pct_complete": 33.3,
    }
    with connection.cursor() as cursor:  # the view's own figure
        cursor.execute("SELECT pct_complete FROM v_roadmap_progress WHERE phase_key = 'phase_a'")
        assert cursor.fetchone()[0] == 33.3
    assert data["progress"]["total_items"] == 6 and data["progress"]["completed"] == 1

    items = {i["id"]: i for p in data["phases"] for i in p["items"]}
    assert items["A2"]["status"] == "Pending" and items["A2"]["readiness"] == "ready"
    assert items["A2"]["owner"] == "bob"
    assert items["A3"]["status"] == "In Review" and items["A3"]["readiness"] == "review"
    assert items["A2"]["progress"] == {"prerequisites": 1, "prerequisites_completed": 1}
    assert items["B1"]["progress"] == {"prerequisites": 1, "prerequisites_completed": 1}
    (to_gone,) = [d for d in items["B2"]["dependencies"] if d["depends_on_id"] == "GONE"]
    assert to_gone["depends_on_deleted"] is True and to_gone["satisfied"] is False
    assert items["B2"]["progress"] == {"prerequisites": 2, "prerequisites_completed": 0}
    assert items["B2"]["readiness"] == "blocked"


def test_phase_filter_by_key_or_display_name(roadmap):
    by_key = json.loads(exported("--format", "json", "--phase", "phase_b"))
    by_name = json.loads(exported("--format", "json", "--phase", "phase b"))
    for data in (by_key, by_name):
        assert data["phase"] == "phase_b"
        assert [p["key"] for p in data["phases"]] == ["phase_b"]
        assert [i["id"] for i in data["phases"][0]["items"]] == ["B1", "B2"]
    with pytest.raises(CommandError, match="No phase 'nope'. Phases: phase_a"):
        exported("--phase", "nope")


def test_markdown_export_lists_each_phase_and_item(roadmap, tmp_path):
    text = exported()
    assert text.startswith("# Roadmap\n")
    assert "## Phase A (`phase_a`)" in text and "## Phase B (`phase_b`)" in text
    assert "1 of 3 completed (33.3%); 0 in progress, 1 in review, 0 blocked." in text
    assert "| `A2` | Item A2 | Pending (ready) | bob | `A1` (blocks, done) | 1/1 |" in text
    assert "| `A3` | Needs a second look | In Review | — | `A2` (blocks) | 0/1 |" in text
    assert (
        "| `B2` | Item B2 | Blocked (blocked) | — | `B1` (blocks), `GONE` (blocks) | 0/2 |"
    ) in text
    assert "GONE |" not in text  # the deleted item has no row of its own
    target = tmp_path / "roadmap.md"
    out = exported("--output", str(target))
    assert out == f"Wrote 6 item(s) to {target}.\n"
    written = target.read_text().splitlines()
    assert written[2].startswith("Exported ")  # the export time: the only line that differs
    assert written[:2] + written[3:] == text.splitlines()[:2] + text.splitlines()[3:]


def test_export_of_an_empty_roadmap(db):
    assert "No items." in exported()
    assert json.loads(exported("--format", "json"))["phases"] == []


# -- the pages -----------------------------------------------------------------------------


def test_export_pages_give_the_same_export(roadmap, reader):
    as_json = reader.get("/roadmap/export.json")
    assert as_json.status_code == 200
    assert as_json["Content-Type"] == "application/json; charset=utf-8"
    data = json.loads(as_json.content)
    expected = export.build_export()
    data.pop("exported_at"), expected.pop("exported_at")
    assert data == expected

    as_markdown = reader.get("/roadmap/export.md?phase=phase_c")
    assert as_markdown.status_code == 200
    assert as_markdown["Content-Type"] == "text/markdown; charset=utf-8"
    body = as_markdown.content.decode()
    assert "## Phase C (`phase_c`)" in body and "`C1`" in body and "`A1`" not in body
    assert reader.get("/roadmap/export.json?phase=nope").status_code == 404


@pytest.mark.parametrize("url", ["/roadmap/export.json", "/roadmap/export.md"])
def test_export_pages_need_the_read_permission(db, client, django_user_model, url):
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    client.force_login(django_user_model.objects.create_user("norole"))
    assert client.get(url).status_code == 403
