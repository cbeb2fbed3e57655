"""The 13 roadmap views (contract RULES.md §4.3, §4.4, §7 2b), tested on the raw database.

Rows are inserted with raw SQL. Items are inserted directly with their final status (the
status-change trigger only checks UPDATEs), and phases are kept under the 50-active-items
limit of ``enforce_phase_limit``.
"""

from __future__ import annotations

import random
import sqlite3

import backends
import pytest
from view_rows import (
    assign,
    bound_work,
    by,
    claim,
    column,
    contract_columns,
    dep,
    item,
    query_plan,
    select,
    split,
    unbound_work,
    view_and_trigger_sql,
    view_columns,
    view_definition,
    view_names,
)

ROADMAP_VIEWS = [
    "v_ready_items",
    "v_blocked_items",
    "v_dependency_graph",
    "v_prerequisite_chain",
    "v_assignment_with_prerequisites",
    "v_unassigned_prerequisites",
    "v_next_rank",
    "v_roadmap_with_deps",
    "v_roadmap_progress",
    "v_missing_prereqs",
    "v_can_deploy",
    "v_claims_needing_tests",
    "v_deploy_blockers",
]


@pytest.mark.parametrize("view", ROADMAP_VIEWS)
def test_view_exists_with_contract_columns(raw_db, view):
    assert view_definition(raw_db, view) is not None, f"{view} missing"
    assert view_columns(raw_db, view) == contract_columns(view)
    select(raw_db, view)  # queryable, cursor columns checked too


# -- v_ready_items ---------------------------------------------------------------------------


def test_ready_items_rules(raw_db):
    item(raw_db, "DONE", status="completed")
    item(raw_db, "OPEN")  # pending, unfinished
    item(raw_db, "GONE", deleted=True)  # soft-deleted, pending
    item(raw_db, "FREE")  # no dependencies
    item(raw_db, "MET")  # blocks -> completed
    dep(raw_db, "MET", "DONE")
    item(raw_db, "UNMET")  # blocks -> pending
    dep(raw_db, "UNMET", "OPEN")
    item(raw_db, "DELBLOCK")  # blocks -> soft-deleted unfinished target: still blocked
    dep(raw_db, "DELBLOCK", "GONE")
    item(raw_db, "SOFTONLY")  # soft and related never block
    dep(raw_db, "SOFTONLY", "OPEN", "soft")
    dep(raw_db, "SOFTONLY", "GONE", "related")
    item(raw_db, "RUNNING", status="in_progress")
    item(raw_db, "DELETED", deleted=True)

    ids = set(column(select(raw_db, "v_ready_items"), "id"))
    assert ids == {"OPEN", "FREE", "MET", "SOFTONLY"}


def test_ready_items_columns_and_order(raw_db):
    item(raw_db, "B2", phase="phase_b", rank=2.0, owner="ann", title="b two")
    item(raw_db, "B0", phase="phase_b", rank=None)
    item(raw_db, "A5", phase="phase_a", rank=5.0)
    item(raw_db, "A1", phase="phase_a", rank=1.5)
    item(raw_db, "AN", phase="phase_a", rank=None)
    rows = select(raw_db, "v_ready_items")
    assert column(rows, "id") == ["AN", "A1", "A5", "B0", "B2"]
    assert rows[-1] == {
        "id": "B2",
        "title": "b two",
        "phase_key": "phase_b",
        "owner": "ann",
        "rank": 2.0,
    }


# -- v_blocked_items -------------------------------------------------------------------------


def test_blocked_items_counts_unmet_blocking_deps(raw_db):
    item(raw_db, "P1")
    item(raw_db, "P2", status="in_progress")
    item(raw_db, "GONE", deleted=True)  # soft-deleted target still counts
    item(raw_db, "DONE", status="completed")
    item(raw_db, "X", status="blocked", title="x")
    for target in ("P1", "P2", "GONE", "DONE"):
        dep(raw_db, "X", target)
    item(raw_db, "S")  # soft/related only: not blocked
    dep(raw_db, "S", "P1", "soft")
    dep(raw_db, "S", "P2", "related")
    item(raw_db, "Y", status="in_progress")
    dep(raw_db, "Y", "P1")

    rows = by(select(raw_db, "v_blocked_items"), "id")
    assert set(rows) == {"X", "Y"}
    x = rows["X"]
    assert (x["title"], x["phase_key"], x["status_key"]) == ("x", "phase_a", "blocked")
    assert x["blocking_count"] == 3
    assert split(x["blocking_items"]) == ["GONE", "P1", "P2"]
    assert (rows["Y"]["blocking_count"], rows["Y"]["blocking_items"]) == (1, "P1")


def test_blocked_items_excludes_completed_deferred_and_deleted(raw_db):
    item(raw_db, "OPEN")
    item(raw_db, "C", status="completed")
    item(raw_db, "D", status="deferred")
    item(raw_db, "DEL", deleted=True)
    item(raw_db, "ODD", status="some_unknown_key")
    for x in ("C", "D", "DEL", "ODD"):
        dep(raw_db, x, "OPEN")
    assert column(select(raw_db, "v_blocked_items"), "id") == ["ODD"]


# -- v_dependency_graph ----------------------------------------------------------------------


def test_dependency_graph_edges_between_live_items(raw_db):
    item(raw_db, "A", title="a", status="in_progress")
    item(raw_db, "B", title="b", status="completed")
    item(raw_db, "C", title="c")
    item(raw_db, "GONE", deleted=True)
    dep(raw_db, "A", "B", "blocks")
    dep(raw_db, "A", "C", "soft")
    dep(raw_db, "C", "B", "related")
    dep(raw_db, "A", "GONE", "blocks")  # dead end: excluded
    item(raw_db, "DEAD", deleted=True)
    dep(raw_db, "DEAD", "B", "blocks")  # dead start: excluded

    rows = sorted(select(raw_db, "v_dependency_graph"), key=lambda r: (r["from_id"], r["to_id"]))
    assert rows == [
        {
            "from_id": "A",
            "from_title": "a",
            "from_status": "in_progress",
            "to_id": "B",
            "to_title": "b",
            "to_status": "completed",
            "dependency_type": "blocks",
        },
        {
            "from_id": "A",
            "from_title": "a",
            "from_status": "in_progress",
            "to_id": "C",
            "to_title": "c",
            "to_status": "pending",
            "dependency_type": "soft",
        },
        {
            "from_id": "C",
            "from_title": "c",
            "from_status": "pending",
            "to_id": "B",
            "to_title": "b",
            "to_status": "completed",
            "dependency_type": "related",
        },
    ]


# -- v_prerequisite_chain --------------------------------------------------------------------


def _diamond(conn):
    """A -> B -> D, A -> C -> D, D -> E (E completed), D -> GONE (soft-deleted)."""
    item(conn, "A")
    item(conn, "B", title="bee")
    item(conn, "C")
    item(conn, "D")
    item(conn, "E", status="completed")
    item(conn, "F")  # reached only through the completed E
    item(conn, "GONE", deleted=True)
    item(conn, "BEHIND")  # reached only through GONE: not listed
    for a, b in [
        ("A", "B"),
        ("A", "C"),
        ("B", "D"),
        ("C", "D"),
        ("D", "E"),
        ("E", "F"),
        ("D", "GONE"),
        ("GONE", "BEHIND"),
    ]:
        dep(conn, a, b)
    item(conn, "S")  # only soft/related edges from A: never followed
    dep(conn, "A", "S", "soft")
    dep(conn, "B", "S", "related")


def test_prerequisite_chain_one_row_per_path(raw_db):
    _diamond(raw_db)
    rows = select(raw_db, "v_prerequisite_chain", "root_item_id = 'A'")
    got = [(r["prereq_id"], r["depth"], r["path"], r["is_complete"]) for r in rows]
    # ordered by (root, depth, prereq_id); two paths to the same prereq tie (no defined order)
    assert [(g[1], g[0]) for g in got] == sorted((g[1], g[0]) for g in got)
    assert sorted(got) == [
        ("B", 1, "A->B", 0),
        ("C", 1, "A->C", 0),
        ("D", 2, "A->B->D", 0),
        ("D", 2, "A->C->D", 0),
        ("E", 3, "A->B->D->E", 1),
        ("E", 3, "A->C->D->E", 1),
        ("F", 4, "A->B->D->E->F", 0),
        ("F", 4, "A->C->D->E->F", 0),
    ]
    assert rows[0]["prereq_title"] == "bee" and rows[0]["prereq_status"] == "pending"
    assert {r["prereq_status"] for r in rows if r["prereq_id"] == "E"} == {"completed"}


def test_prerequisite_chain_roots_and_order(raw_db):
    _diamond(raw_db)
    rows = select(raw_db, "v_prerequisite_chain")
    keys = [(r["root_item_id"], r["depth"], r["prereq_id"]) for r in rows]
    assert keys == sorted(keys)
    roots = {r["root_item_id"] for r in rows}
    # GONE is a root (its own deleted_at is not checked); S has no blocks edges.
    assert roots == {"A", "B", "C", "D", "E", "GONE"}
    assert [r["prereq_id"] for r in rows if r["root_item_id"] == "GONE"] == ["BEHIND"]
    assert [r["prereq_id"] for r in rows if r["root_item_id"] == "D"] == ["E", "F"]


def _chain(conn, n, prefix="L"):
    """L0 -> L1 -> ... -> L{n-1}, spread over phases to respect the phase limit."""
    ids = [f"{prefix}{i}" for i in range(n)]
    for i, x in enumerate(ids):
        item(conn, x, phase=f"chain_{i // 40}")
    for a, b in zip(ids, ids[1:], strict=False):
        dep(conn, a, b)
    return ids


def test_prerequisite_chain_stops_at_depth_50(raw_db):
    ids = _chain(raw_db, 56)
    rows = select(raw_db, "v_prerequisite_chain", "root_item_id = 'L0'")
    assert len(rows) == 50
    assert rows[-1]["depth"] == 50 and rows[-1]["prereq_id"] == "L50"
    assert rows[-1]["path"] == "->".join(ids[:51])


# -- v_assignment_with_prerequisites ---------------------------------------------------------


def test_assignment_view_is_queryable_and_counts_distinct_prereqs(raw_db):
    _diamond(raw_db)
    a = assign(raw_db, "A", "alice")
    rows = select(raw_db, "v_assignment_with_prerequisites")
    assert len(rows) == 1
    row = rows[0]
    assert row["assignment_id"] == a
    assert (row["item_id"], row["item_title"], row["agent_id"], row["role"]) == (
        "A",
        "Title A",
        "alice",
        "implementer",
    )
    assert (row["assignment_status"], row["item_status"], row["readiness"]) == (
        "assigned",
        "pending",
        "blocked",
    )
    # B, C, D (diamond: counted once, though the chain lists it twice) and F (behind the
    # completed E). E is completed; GONE and BEHIND are not in the chain.
    assert row["unmet_prereq_count"] == 4
    chain_ids = {
        r[0]
        for r in raw_db.execute(
            "SELECT prereq_id FROM v_prerequisite_chain WHERE root_item_id = 'A' "
            "AND is_complete = 0"
        )
    }
    assert row["unmet_prereq_count"] == len(chain_ids)
    assert split(row["immediate_blockers"]) == ["B", "C"]


def test_assignment_readiness_and_blockers(raw_db):
    item(raw_db, "OPEN1")
    item(raw_db, "OPEN2")
    item(raw_db, "DONE", status="completed")
    item(raw_db, "GONE", deleted=True)
    item(raw_db, "R")  # only a met dependency: ready
    dep(raw_db, "R", "DONE")
    item(raw_db, "BL")  # blocked by OPEN1, OPEN2 and the soft-deleted GONE
    for t in ("OPEN1", "OPEN2", "GONE", "DONE"):
        dep(raw_db, "BL", t)
    item(raw_db, "SOFT")  # soft dependency only: ready
    dep(raw_db, "SOFT", "OPEN1", "soft")
    item(raw_db, "ONLYGONE")  # blocked only by a soft-deleted item: blocked, yet 0 prereqs
    dep(raw_db, "ONLYGONE", "GONE")
    item(raw_db, "RUN", status="in_progress")
    dep(raw_db, "RUN", "OPEN1", "soft")
    item(raw_db, "FIN", status="completed")
    item(raw_db, "DEL", deleted=True)

    # assignees on the blockers: bob twice (two blockers), carol dropped, dave active,
    # erin completed, bob also as reviewer
    assign(raw_db, "OPEN1", "bob")
    assign(raw_db, "OPEN2", "bob")
    assign(raw_db, "OPEN2", "bob", role="reviewer", status="active")
    assign(raw_db, "OPEN1", "carol", status="dropped")
    assign(raw_db, "GONE", "dave", status="active")
    assign(raw_db, "OPEN2", "erin", status="completed")
    for x in ("R", "BL", "SOFT", "ONLYGONE", "RUN", "FIN", "DEL"):
        assign(raw_db, x, "zed", status="active")

    rows = by(select(raw_db, "v_assignment_with_prerequisites", "agent_id = 'zed'"), "item_id")
    assert set(rows) == {"R", "BL", "SOFT", "ONLYGONE", "RUN", "FIN"}  # DEL: item deleted
    assert {k: r["readiness"] for k, r in rows.items()} == {
        "R": "ready",
        "BL": "blocked",
        "SOFT": "ready",
        "ONLYGONE": "blocked",
        "RUN": "already_active",
        "FIN": "already_active",
    }
    bl = rows["BL"]
    assert split(bl["immediate_blockers"]) == ["GONE", "OPEN1", "OPEN2"]
    assert split(bl["blocker_assignees"]) == ["bob", "dave"]
    assert bl["unmet_prereq_count"] == 2  # OPEN1, OPEN2 (GONE is skipped by the chain rules)
    og = rows["ONLYGONE"]
    assert (og["immediate_blockers"], og["blocker_assignees"], og["unmet_prereq_count"]) == (
        "GONE",
        "dave",
        0,
    )
    for k in ("R", "SOFT", "FIN"):
        assert rows[k]["immediate_blockers"] is None
        assert rows[k]["blocker_assignees"] is None
        assert rows[k]["unmet_prereq_count"] == 0


def test_assignment_view_lists_every_assignment_status(raw_db):
    item(raw_db, "X", status="in_progress")
    ids = {
        assign(raw_db, "X", f"ag{i}", status=s)
        for i, s in enumerate(["assigned", "active", "completed", "dropped"])
    }
    rows = select(raw_db, "v_assignment_with_prerequisites")
    assert set(column(rows, "assignment_id")) == ids
    assert sorted(column(rows, "assignment_status")) == [
        "active",
        "assigned",
        "completed",
        "dropped",
    ]


def test_assignment_prereq_count_respects_depth_50(raw_db):
    ids = _chain(raw_db, 56)
    raw_db.execute("UPDATE roadmap_items SET status_key = 'completed' WHERE id = 'L3'")
    assign(raw_db, "L0", "deep")
    row = select(raw_db, "v_assignment_with_prerequisites", "item_id = 'L0'")[0]
    # levels 1..50 are L1..L50; L3 is completed (and walked through)
    assert row["unmet_prereq_count"] == 49
    assert row["immediate_blockers"] == "L1"
    assert ids[50] == "L50"


def test_assignment_prereq_count_uses_shortest_level(raw_db):
    """X is 50 levels deep along a chain but 1 level deep directly; what lies behind X is
    within 50 levels through the shortcut, so it counts."""
    chain = _chain(raw_db, 50, prefix="C")  # C0 -> C1 -> ... -> C49
    for x in ("X", "Y", "Z"):
        item(raw_db, x, phase="shortcut")
    dep(raw_db, "C49", "X")  # X at level 50 along the chain
    dep(raw_db, "X", "Y")
    dep(raw_db, "Y", "Z")
    dep(raw_db, "C0", "X")  # ... and at level 1 directly
    assign(raw_db, "C0", "a")
    row = select(raw_db, "v_assignment_with_prerequisites", "item_id = 'C0'")[0]
    assert row["unmet_prereq_count"] == 49 + 3  # C1..C49, X, Y, Z
    assert split(row["immediate_blockers"]) == ["C1", "X"]
    listed = {
        r[0]
        for r in raw_db.execute(
            "SELECT prereq_id FROM v_prerequisite_chain WHERE root_item_id = ?", (chain[0],)
        )
    }
    assert len(listed) == 52


@pytest.mark.parametrize("seed", range(6))
def test_assignment_prereq_count_matches_prerequisite_chain(raw_db, seed):
    """On random DAGs the count equals the distinct incomplete ids v_prerequisite_chain lists."""
    rnd = random.Random(seed)
    ids = [f"N{i:02d}" for i in range(36)]
    statuses = ["pending", "completed", "in_progress", "blocked", "deferred"]
    for i, x in enumerate(ids):
        item(raw_db, x, status=rnd.choice(statuses), deleted=rnd.random() < 0.12)
        for p in rnd.sample(ids[:i], min(i, rnd.randint(1, 3))):
            dep(raw_db, x, p, rnd.choice(["blocks"] * 4 + ["soft", "related"]))
    for x in ids:
        assign(raw_db, x, "agent")
    view = {
        r["item_id"]: r["unmet_prereq_count"]
        for r in select(raw_db, "v_assignment_with_prerequisites")
    }
    chain = dict(
        raw_db.execute(
            "SELECT root_item_id, COUNT(DISTINCT prereq_id) FROM v_prerequisite_chain "
            "WHERE is_complete = 0 GROUP BY root_item_id"
        )
    )
    live = {r[0] for r in raw_db.execute("SELECT id FROM roadmap_items WHERE deleted_at IS NULL")}
    assert set(view) == live
    assert view == {x: chain.get(x, 0) for x in live}
    assert any(view.values())


def test_assignment_view_uses_reachability_not_paths(raw_db):
    """A ladder of 40 diamonds has 2**40 paths; the view must not enumerate them."""
    prev = "T0"
    item(raw_db, prev, phase="ladder_0")
    n = 40
    for i in range(1, n + 1):
        left, right, top = f"L{i}", f"R{i}", f"T{i}"
        ph = f"ladder_{i // 15}"
        for x in (left, right, top):
            item(raw_db, x, phase=ph)
        dep(raw_db, left, prev)
        dep(raw_db, right, prev)
        dep(raw_db, top, left)
        dep(raw_db, top, right)
        prev = top
    assign(raw_db, prev, "ladder")
    # A path-enumerating count (2**40 paths) would never finish; fail fast instead.
    bound_work(raw_db, 20_000_000)
    row = select(raw_db, "v_assignment_with_prerequisites", "item_id = ?", (prev,))[0]
    unbound_work(raw_db)
    # 80 levels deep; levels 1..50 hold L/R40..L/R16 and T39..T15: 25 diamonds, 75 items
    assert row["unmet_prereq_count"] == 75
    plan = query_plan(
        raw_db, "SELECT * FROM v_assignment_with_prerequisites WHERE item_id = ?", (prev,)
    )
    assert "v_prerequisite_chain" not in plan
    assert "v_prerequisite_chain" not in view_definition(raw_db, "v_assignment_with_prerequisites")


def test_no_other_view_reads_prerequisite_chain(raw_db):
    found = view_and_trigger_sql(raw_db)
    assert {"v_ready_items", "roadmap_assignment_cascade"} <= {name for name, _ in found}
    for name, sql in found:
        if name != "v_prerequisite_chain":
            assert "v_prerequisite_chain" not in sql, name


# -- v_unassigned_prerequisites --------------------------------------------------------------


def _prereq_rows(conn, rows):
    """Replace whatever the cascade trigger surfaced with exactly these rows."""
    conn.execute("DELETE FROM assignment_prerequisites")
    for row in rows:
        conn.execute(
            "INSERT INTO assignment_prerequisites (source_assignment_id, prerequisite_item_id, "
            "depth, resolved_at) VALUES (?, ?, ?, ?)",
            row,
        )


def test_unassigned_prerequisites_grouping_and_order(raw_db):
    item(raw_db, "W1", title="work one")
    item(raw_db, "W2", title="work two")
    item(raw_db, "W3", title="work three", deleted=True)  # source item deleted: still counts
    item(raw_db, "P", title="pee", phase="phase_b", status="in_progress")
    item(raw_db, "Q")
    item(raw_db, "DONE", status="completed")
    item(raw_db, "GONE", deleted=True)
    item(raw_db, "RES")
    a1 = assign(raw_db, "W1", "x")
    a2 = assign(raw_db, "W2", "x", status="dropped")  # status not considered
    a3 = assign(raw_db, "W3", "x")
    _prereq_rows(
        raw_db,
        [
            (a1, "P", 3, None),
            (a1, "P", 2, None),
            (a2, "P", 4, None),
            (a3, "P", 5, None),
            (a1, "Q", 1, None),
            (a2, "DONE", 1, None),  # completed prerequisite: excluded
            (a1, "GONE", 1, None),  # soft-deleted prerequisite: excluded
            (a1, "RES", 1, "2024-01-01 00:00:00"),  # resolved: excluded
        ],
    )
    rows = select(raw_db, "v_unassigned_prerequisites")
    assert column(rows, "prerequisite_item_id") == ["P", "Q"]
    p = rows[0]
    assert (p["prereq_title"], p["phase_key"], p["status_key"]) == ("pee", "phase_b", "in_progress")
    assert p["blocking_count"] == 3  # distinct source assignments
    assert split(p["blocks_items"]) == ["work one", "work one", "work three", "work two"]
    assert p["min_depth"] == 2
    assert (rows[1]["blocking_count"], rows[1]["blocks_items"], rows[1]["min_depth"]) == (
        1,
        "work one",
        1,
    )


def test_unassigned_prerequisites_ties_ordered_by_min_depth(raw_db):
    for x in ("W", "P1", "P2", "P3"):
        item(raw_db, x)
    a = assign(raw_db, "W", "x")
    _prereq_rows(raw_db, [(a, "P1", 3, None), (a, "P2", 1, None), (a, "P3", 2, None)])
    assert column(select(raw_db, "v_unassigned_prerequisites"), "prerequisite_item_id") == [
        "P2",
        "P3",
        "P1",
    ]


# -- v_next_rank -----------------------------------------------------------------------------


def test_next_rank(raw_db):
    item(raw_db, "A1", phase="phase_a", rank=1.0)
    item(raw_db, "A2", phase="phase_a", rank=2.5)
    item(raw_db, "A3", phase="phase_a", rank=9.0, deleted=True)  # ignored
    item(raw_db, "B1", phase="phase_b")  # all ranks NULL -> 1.0
    item(raw_db, "B2", phase="phase_b")
    item(raw_db, "C1", phase="phase_c", rank=3.0, deleted=True)  # no live item: no row
    rows = by(select(raw_db, "v_next_rank"), "phase_key")
    assert rows == {
        "phase_a": {"phase_key": "phase_a", "next_rank": 3.5},
        "phase_b": {"phase_key": "phase_b", "next_rank": 1.0},
    }
    assert all(isinstance(r["next_rank"], float) for r in rows.values())  # REAL, even 1.0


# -- v_roadmap_with_deps ---------------------------------------------------------------------


def test_roadmap_with_deps(raw_db):
    item(
        raw_db,
        "X",
        phase="phase_b",
        rank=2.0,
        owner="o",
        target_date="2025-01-01",
        title="ex",
        status="blocked",
    )
    item(raw_db, "DONE", status="completed", phase="phase_a", rank=1.0)
    item(raw_db, "OPEN", phase="phase_a", rank=None)
    item(raw_db, "GONE", deleted=True)
    item(raw_db, "Y", phase="phase_b", rank=1.0)
    for t, ty in [("DONE", "blocks"), ("OPEN", "blocks"), ("GONE", "blocks"), ("Y", "soft")]:
        dep(raw_db, "X", t, ty)
    assign(raw_db, "X", "ann", status="active")
    assign(raw_db, "X", "ann", role="reviewer", status="active")  # same agent twice
    assign(raw_db, "X", "bob", status="assigned")  # not active
    assign(raw_db, "X", "cy", role="owner", status="active")

    rows = select(raw_db, "v_roadmap_with_deps")
    assert column(rows, "id") == ["OPEN", "DONE", "Y", "X"]  # phase, then rank (NULL first)
    x = rows[-1]
    assert {
        k: x[k] for k in ("phase_key", "title", "status_key", "owner", "rank", "target_date")
    } == {
        "phase_key": "phase_b",
        "title": "ex",
        "status_key": "blocked",
        "owner": "o",
        "rank": 2.0,
        "target_date": "2025-01-01",
    }
    assert x["blocking_dep_count"] == 3  # met or not, soft-deleted target included
    assert x["unmet_dep_count"] == 2  # OPEN and GONE
    assert split(x["active_agents"]) == ["ann", "ann", "cy"]
    y = rows[2]
    assert (y["blocking_dep_count"], y["unmet_dep_count"], y["active_agents"]) == (0, 0, None)


# -- v_roadmap_progress ----------------------------------------------------------------------


def _phase(conn, phase, statuses):
    for i, s in enumerate(statuses):
        item(conn, f"{phase}-{i}", phase=phase, status=s)


def test_roadmap_progress_counts_and_rounding(raw_db):
    _phase(raw_db, "phase_b", ["completed"] + ["pending"] * 15)  # 1/16 -> 6.3
    _phase(
        raw_db,
        "phase_a",
        ["completed"] * 3 + ["in_progress"] * 2 + ["blocked"] + ["deferred", "weird_key"],
    )
    _phase(raw_db, "phase_c", ["completed"] + ["deferred"] * 79)  # 1/80 -> 1.3
    _phase(raw_db, "phase_d", ["completed", "completed"])  # 100.0
    _phase(raw_db, "phase_e", ["pending"])  # 0.0
    item(raw_db, "dead", phase="phase_e", status="completed", deleted=True)
    rows = by(select(raw_db, "v_roadmap_progress"), "phase_key")
    assert rows["phase_a"] == {
        "phase_key": "phase_a",
        "phase": "Phase A",
        "total_items": 8,
        "completed": 3,
        "in_progress": 2,
        "blocked": 1,
        "pct_complete": 37.5,
    }
    assert rows["phase_b"]["pct_complete"] == 6.3
    assert rows["phase_c"]["total_items"] == 80
    assert rows["phase_c"]["pct_complete"] == 1.3
    assert rows["phase_d"]["pct_complete"] == 100.0
    assert rows["phase_e"]["total_items"] == 1 and rows["phase_e"]["pct_complete"] == 0.0
    assert all(isinstance(r["pct_complete"], float) for r in rows.values())  # REAL, even 0.0


def test_roadmap_progress_order_by_terminology_nulls_first(raw_db):
    item(raw_db, "f", phase="phase_f")  # sort 7
    item(raw_db, "p", phase="post_launch")  # sort 6
    item(raw_db, "u", phase="zz_unknown")  # no terminology row: NULL phase, first
    item(raw_db, "a", phase="phase_a")  # sort 1
    item(raw_db, "c", phase="phase_c")  # sort 3
    rows = select(raw_db, "v_roadmap_progress")
    assert column(rows, "phase_key") == [
        "zz_unknown",
        "phase_a",
        "phase_c",
        "post_launch",
        "phase_f",
    ]
    assert rows[0]["phase"] is None
    assert rows[-1]["phase"] == "Future"


def test_roadmap_progress_uses_deprecated_terminology_sort_order(raw_db):
    raw_db.execute(
        "UPDATE terminology SET sort_order = 0, deprecated_at = '2024-01-01 00:00:00'"
        " WHERE domain = 'roadmap_phase' AND internal_key = 'phase_f'"
    )
    item(raw_db, "a", phase="phase_a")
    item(raw_db, "f", phase="phase_f")
    rows = select(raw_db, "v_roadmap_progress")
    assert column(rows, "phase_key") == ["phase_f", "phase_a"]
    assert rows[0]["phase"] == "Future"


# -- v_missing_prereqs -----------------------------------------------------------------------


def test_missing_prereqs_three_sets(raw_db):
    item(raw_db, "X", status="in_progress")
    item(raw_db, "G", item_type="gate", title="gate", status="pending")
    item(raw_db, "G2", item_type="gate")
    item(raw_db, "G3", item_type="gate")
    item(raw_db, "W", title="work", status="blocked")
    item(raw_db, "S")
    item(raw_db, "R")
    item(raw_db, "H", item_type="holding")
    dep(raw_db, "X", "G", "soft")  # approval_required + dependency_incomplete
    dep(raw_db, "X", "G2", "blocks")  # approval_required only
    dep(raw_db, "X", "G3", "related")  # approval_required
    dep(raw_db, "X", "W", "blocks")  # blocker_unresolved
    dep(raw_db, "X", "S", "soft")  # dependency_incomplete
    dep(raw_db, "X", "R", "related")  # never
    dep(raw_db, "X", "H", "blocks")  # blocker_unresolved (not a gate)
    rows = select(raw_db, "v_missing_prereqs")
    got = sorted((r["item_id"], r["prereq_type"], r["prereq_id"]) for r in rows)
    assert got == sorted(
        [
            ("X", "approval_required", "G"),
            ("X", "dependency_incomplete", "G"),
            ("X", "approval_required", "G2"),
            ("X", "approval_required", "G3"),
            ("X", "blocker_unresolved", "W"),
            ("X", "dependency_incomplete", "S"),
            ("X", "blocker_unresolved", "H"),
        ]
    )
    w = next(r for r in rows if r["prereq_id"] == "W")
    assert (w["prereq_status"], w["prereq_title"], w["prereq_item_type"]) == (
        "blocked",
        "work",
        "work",
    )
    g = [r for r in rows if r["prereq_id"] == "G"]
    assert len(g) == 2 and all(r["prereq_item_type"] == "gate" for r in g)


def test_missing_prereqs_filters(raw_db):
    item(raw_db, "OPEN")
    item(raw_db, "GATE", item_type="gate")
    item(raw_db, "DONE", status="completed")
    item(raw_db, "DONEGATE", status="completed", item_type="gate")
    item(raw_db, "GONE", deleted=True)
    item(raw_db, "GONEGATE", deleted=True, item_type="gate")
    item(raw_db, "X")
    for t in ("DONE", "DONEGATE", "GONE", "GONEGATE"):
        dep(raw_db, "X", t)  # completed or soft-deleted targets: excluded
    for src, st, deleted in [
        ("C", "completed", False),
        ("D", "deferred", False),
        ("Z", "pending", True),
    ]:
        item(raw_db, src, status=st, deleted=deleted)
        dep(raw_db, src, "OPEN")
        dep(raw_db, src, "GATE", "soft")
    assert select(raw_db, "v_missing_prereqs") == []
    item(raw_db, "Y", status="weird")  # unknown status: included
    dep(raw_db, "Y", "OPEN")
    assert [(r["item_id"], r["prereq_type"]) for r in select(raw_db, "v_missing_prereqs")] == [
        ("Y", "blocker_unresolved")
    ]


# -- v_can_deploy / v_claims_needing_tests / v_deploy_blockers -------------------------------


def test_can_deploy_ready_with_no_claims(raw_db):
    assert select(raw_db, "v_can_deploy") == [
        {"target": "website", "status": "READY", "failed_count": 0, "failed_claims": None}
    ]


def test_can_deploy_states(raw_db):
    claim(raw_db, "qual", claim_type="qualitative", status="pending", test_function=None)
    claim(raw_db, "nul", status=None)  # NULL status: neither pending nor failed
    claim(raw_db, "old", status="stale")  # ignored
    claim(raw_db, "ok", status="pass")
    assert select(raw_db, "v_can_deploy")[0]["status"] == "READY"

    claim(raw_db, "q1", status="pending")
    assert select(raw_db, "v_can_deploy") == [
        {"target": "website", "status": "PENDING", "failed_count": 0, "failed_claims": None}
    ]

    claim(raw_db, "f1", status="fail")
    claim(raw_db, "f2", claim_type="qualitative", status="fail")
    rows = select(raw_db, "v_can_deploy")
    assert len(rows) == 1
    assert (rows[0]["target"], rows[0]["status"], rows[0]["failed_count"]) == (
        "website",
        "BLOCKED",
        2,
    )
    assert split(rows[0]["failed_claims"]) == ["f1", "f2"]


def test_can_deploy_matches_the_deploy_gate(raw_db):
    """A website deployment insert succeeds iff v_can_deploy says READY."""

    def gate_allows():
        raw_db.execute("BEGIN")
        try:
            raw_db.execute(
                "INSERT INTO deployment_events (target, version) VALUES ('website', '1')"
            )
            return True
        except sqlite3.IntegrityError:
            return False
        finally:
            raw_db.execute("ROLLBACK")

    seen = []
    for cid, kind, status in [
        ("a", "qualitative", "pending"),
        ("b", "quantitative", "pass"),
        ("c", "quantitative", "stale"),
        ("d", "quantitative", None),
        ("e", "quantitative", "pending"),
        ("f", "qualitative", "fail"),
    ]:
        claim(raw_db, cid, claim_type=kind, status=status)
        state = select(raw_db, "v_can_deploy")[0]["status"]
        seen.append(state)
        assert gate_allows() == (state == "READY"), (cid, state)
    assert seen == ["READY", "READY", "READY", "READY", "PENDING", "BLOCKED"]


def test_claims_needing_tests(raw_db):
    claim(raw_db, "qp", status="pending")
    claim(raw_db, "qpass", status="pass")
    claim(raw_db, "qfail", status="fail")
    claim(raw_db, "qnull", status=None)
    claim(raw_db, "lp", claim_type="qualitative", status="pending", test_function=None)
    rows = select(raw_db, "v_claims_needing_tests")
    assert rows == [{"id": "qp", "claim_text": "Claim text qp", "page": "/page/qp"}]


def test_deploy_blockers_fail_and_stale_nulls_first(raw_db):
    claim(raw_db, "late", status="fail", verified="2024-05-01 00:00:00")
    claim(raw_db, "never", status="stale", verified=None)
    claim(raw_db, "early", status="stale", verified="2024-01-01 00:00:00")
    claim(
        raw_db, "never2", status="fail", verified=None, claim_type="qualitative", test_function=None
    )
    claim(raw_db, "p", status="pass", verified=None)
    claim(raw_db, "q", status="pending")
    claim(raw_db, "n", status=None)
    rows = select(raw_db, "v_deploy_blockers")
    ids = column(rows, "id")
    assert sorted(ids[:2]) == ["never", "never2"]
    assert ids[2:] == ["early", "late"]
    late = rows[-1]
    assert late == {
        "id": "late",
        "claim_text": "Claim text late",
        "page": "/page/late",
        "test_function": "test_claim",
        "test_status": "fail",
        "last_verified_at": "2024-05-01 00:00:00",
    }


# -- forward file replaces old definitions; reverse drops them -------------------------------


def test_forward_file_replaces_existing_views_and_reverse_drops_them(raw_db):
    from pathlib import Path

    from system.sqlfiles import read_statements

    app = Path(__file__).resolve().parent.parent / "roadmap"
    item(raw_db, "A")
    item(raw_db, "B")
    dep(raw_db, "A", "B")
    assign(raw_db, "A", "alice")
    raw_db.execute("DROP VIEW v_assignment_with_prerequisites")
    if backends.POSTGRESQL:
        # An older definition with the contract's columns but other values (PostgreSQL
        # accepts the reference's DISTINCT aggregate with a separator, so that one would work).
        raw_db.execute(
            "CREATE VIEW v_assignment_with_prerequisites AS SELECT ra.id AS assignment_id, "
            "ra.item_id, NULL::text AS item_title, ra.agent_id, ra.role, "
            "ra.status AS assignment_status, NULL::text AS item_status, "
            "'old'::text AS readiness, 0 AS unmet_prereq_count, "
            "NULL::text AS immediate_blockers, NULL::text AS blocker_assignees "
            "FROM roadmap_assignments ra"
        )
        assert select(raw_db, "v_assignment_with_prerequisites")[0]["readiness"] == "old"
    else:
        # the reference's broken definition (DISTINCT aggregate with a separator)
        raw_db.execute(
            "CREATE VIEW v_assignment_with_prerequisites AS SELECT ra.id AS assignment_id, "
            "ra.item_id, NULL AS item_title, ra.agent_id, ra.role, "
            "ra.status AS assignment_status, NULL AS item_status, NULL AS readiness, "
            "0 AS unmet_prereq_count, NULL AS immediate_blockers, "
            "GROUP_CONCAT(DISTINCT ra.agent_id, ', ') AS blocker_assignees "
            "FROM roadmap_assignments ra"
        )
        with pytest.raises(Exception, match="DISTINCT aggregates"):
            raw_db.execute("SELECT * FROM v_assignment_with_prerequisites").fetchall()
    for statement in read_statements(app, backends.VENDOR, "0003_views"):
        raw_db.execute(statement)
    [row] = select(raw_db, "v_assignment_with_prerequisites")
    assert (row["item_title"], row["readiness"], row["unmet_prereq_count"]) == (
        "Title A",
        "blocked",
        1,
    )
    for statement in read_statements(app, backends.VENDOR, "0003_views", reverse=True):
        raw_db.execute(statement)
    assert view_names(raw_db).isdisjoint(ROADMAP_VIEWS)
