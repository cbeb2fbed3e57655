"""The roadmap as a document: items by phase with status, owner, dependencies and progress
(``manage.py export_roadmap``, ``/roadmap/export.json``, ``/roadmap/export.md``; what
``motus roadmap export`` gives the tool's users).

JSON is the complete form: every live item with every column of ``roadmap_items`` exactly
as stored (text timestamps, ``rank`` as a number), plus

- ``status`` (the status's display name) and ``readiness`` (the pages' badge: ``ready``,
  ``held``, ``blocked``, ``review`` or ``null``);
- ``dependencies``: every edge from the item (``depends_on_id``, ``dependency_type``,
  ``notes``, ``created_at``, ``created_by``) with the target's status, whether it is
  deleted, and ``satisfied`` (the target is completed, what ``v_ready_items`` asks);
- ``progress``: its prerequisites (``blocks`` and ``soft`` edges) and how many of them are
  completed.

Phases come in their terminology order (phases unknown to the terminology first, as in
``v_roadmap_progress``), items by rank, sort order and id, each phase with its counts and
``pct_complete`` computed as ``v_roadmap_progress`` does (``in_review`` added). Markdown is
the same content as tables for people. A fixed number of queries, whatever the number of
items.
"""

from __future__ import annotations

import json

from django.db import connection

from roadmap.pages_queries import REVIEW_STATUS, readiness
from system.fields import format_timestamp, utc_now
from system.sql import bytewise_sql
from system.terminology import display_names_by_domain

EXPORT_FORMAT = "motus-roadmap-export"
EXPORT_VERSION = 1
#: Edge types that make the target a prerequisite (``related`` does not).
PREREQUISITE_TYPES = ("blocks", "soft")
#: Ids per readiness query (it binds each id three times).
_READINESS_CHUNK = 300


class UnknownPhase(ValueError):
    pass


def _rows(sql: str, params=()) -> tuple[list[str], list[tuple]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [c[0] for c in cursor.description], cursor.fetchall()


def known_phases() -> dict[str, str]:
    """Phase key → display name: the terminology's phases, then any other phase a live item
    uses."""
    _, rows = _rows(
        "SELECT internal_key, display_name FROM terminology WHERE domain = 'roadmap_phase'"
        " ORDER BY sort_order NULLS FIRST, id"
    )
    phases = dict(rows)
    _, used = _rows("SELECT DISTINCT phase_key FROM roadmap_items WHERE deleted_at IS NULL")
    for (key,) in sorted(used):  # code-point (SQLite's) order whatever the collation
        phases.setdefault(key, key)
    return phases


def resolve_phase(value: str) -> str:
    """The phase key ``value`` names: a key, or a display name (any case)."""
    phases = known_phases()
    if value in phases:
        return value
    for key, name in phases.items():
        if name.casefold() == value.strip().casefold():
            return key
    raise UnknownPhase(
        f"No phase {value!r}. Phases: "
        + ", ".join(f"{key} ({name})" for key, name in phases.items())
    )


def build_export(phase: str | None = None) -> dict:
    """The export as a dict (see the module docstring). ``phase``: a key or display name."""
    phase_key = resolve_phase(phase) if phase else None
    where, params = ("AND ri.phase_key = %s", [phase_key]) if phase_key else ("", [])
    columns, item_rows = _rows(
        "SELECT ri.* FROM roadmap_items ri"
        " LEFT JOIN terminology t"
        "   ON t.domain = 'roadmap_phase' AND t.internal_key = ri.phase_key"
        f" WHERE ri.deleted_at IS NULL {where}"
        f" ORDER BY t.sort_order NULLS FIRST, {bytewise_sql('ri.phase_key')},"
        f" ri.rank NULLS FIRST, ri.sort_order, {bytewise_sql('ri.id')}",
        params,
    )
    items = [dict(zip(columns, row, strict=True)) for row in item_rows]
    _, edge_rows = _rows(
        "SELECT d.item_id, d.depends_on_id, d.dependency_type, d.notes, d.created_at,"
        " d.created_by, t.status_key, t.deleted_at IS NOT NULL, t.title"
        " FROM roadmap_dependencies d"
        " JOIN roadmap_items ri ON ri.id = d.item_id AND ri.deleted_at IS NULL"
        " LEFT JOIN roadmap_items t ON t.id = d.depends_on_id"
        f" WHERE 1 = 1 {where}"
        f" ORDER BY {bytewise_sql('d.item_id')}, d.dependency_type,"
        f" {bytewise_sql('d.depends_on_id')}",
        params,
    )
    edges: dict[str, list[dict]] = {}
    for item_id, target, kind, notes, created_at, created_by, status, deleted, title in edge_rows:
        edges.setdefault(item_id, []).append(
            {
                "depends_on_id": target,
                "dependency_type": kind,
                "notes": notes,
                "created_at": created_at,
                "created_by": created_by,
                "depends_on_title": title,
                "depends_on_status_key": status,
                "depends_on_deleted": bool(deleted),
                "satisfied": status == "completed",
            }
        )
    ids = [item["id"] for item in items]
    badges: dict[str, str] = {}
    for start in range(0, len(ids), _READINESS_CHUNK):
        badges.update(readiness(ids[start : start + _READINESS_CHUNK]))
    names = display_names_by_domain("roadmap_phase", "roadmap_status")
    phases: list[dict] = []
    for item in items:
        deps = edges.get(item["id"], [])
        prerequisites = [d for d in deps if d["dependency_type"] in PREREQUISITE_TYPES]
        item["status"] = names["roadmap_status"].get(item["status_key"], item["status_key"])
        item["readiness"] = badges.get(item["id"])
        item["dependencies"] = deps
        item["progress"] = {
            "prerequisites": len(prerequisites),
            "prerequisites_completed": sum(d["satisfied"] for d in prerequisites),
        }
        if not phases or phases[-1]["key"] != item["phase_key"]:
            key = item["phase_key"]
            phases.append({"key": key, "name": names["roadmap_phase"].get(key, key), "items": []})
        phases[-1]["items"].append(item)
    for group in phases:
        group["progress"] = _progress(group["items"])
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": format_timestamp(utc_now()),
        "phase": phase_key,
        "progress": _progress(items),
        "phases": phases,
    }


def _progress(items: list[dict]) -> dict:
    """Counts as ``v_roadmap_progress`` makes them, plus ``in_review``."""
    total = len(items)

    def count(status):
        return sum(item["status_key"] == status for item in items)

    completed = count("completed")
    return {
        "total_items": total,
        "completed": completed,
        "in_progress": count("in_progress"),
        "in_review": count(REVIEW_STATUS),
        "blocked": count("blocked"),
        "pct_complete": round(100.0 * completed / total, 1) if total else 0.0,
    }


def to_json(export: dict) -> str:
    return json.dumps(export, indent=2, ensure_ascii=False) + "\n"


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def to_markdown(export: dict) -> str:
    p = export["progress"]
    lines = [
        "# Roadmap" + (f" — phase {export['phase']}" if export["phase"] else ""),
        "",
        f"Exported {export['exported_at']} UTC: {p['total_items']} items, {p['completed']} "
        f"completed ({p['pct_complete']}%), {p['in_progress']} in progress, "
        f"{p['in_review']} in review, {p['blocked']} blocked.",
    ]
    for phase in export["phases"]:
        p = phase["progress"]
        lines += [
            "",
            f"## {_cell(phase['name'])} (`{phase['key']}`)",
            "",
            f"{p['completed']} of {p['total_items']} completed ({p['pct_complete']}%); "
            f"{p['in_progress']} in progress, {p['in_review']} in review, "
            f"{p['blocked']} blocked.",
            "",
            "| Item | Title | Status | Owner | Depends on | Prerequisites done |",
            "|---|---|---|---|---|---|",
        ]
        for item in phase["items"]:
            deps = ", ".join(
                f"`{_cell(d['depends_on_id'])}` ({d['dependency_type']}"
                + (", done" if d["satisfied"] else "")
                + ")"
                for d in item["dependencies"]
            )
            progress = item["progress"]
            done = (
                f"{progress['prerequisites_completed']}/{progress['prerequisites']}"
                if progress["prerequisites"]
                else "—"
            )
            status = item["status"] + (
                f" ({item['readiness']})" if item["readiness"] in ("ready", "blocked") else ""
            )
            lines.append(
                f"| `{_cell(item['id'])}` | {_cell(item['title'])} | {_cell(status)} "
                f"| {_cell(item['owner']) or '—'} | {deps or '—'} | {done} |"
            )
    if not export["phases"]:
        lines += ["", "No items."]
    return "\n".join(lines) + "\n"
