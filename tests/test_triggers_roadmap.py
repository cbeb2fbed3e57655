"""Triggers of app `roadmap` (RULES.md §4.2, §4.3, §1.9) on a raw contract database."""

from __future__ import annotations

import json
import random
import re
import sqlite3
from collections import deque

import backends
import pytest
from kernel_rows import (
    OLD,
    add_chain,
    add_item,
    add_items,
    assign,
    audit_rows,
    check_trigger_files,
    depend,
    insert,
    instance_id,
    now,
    one,
    prerequisites,
    raises,
    rows,
    scalar,
    versions,
)
from view_rows import bound_work, unbound_work

CYCLE = "Circular dependency detected"
CANNOT_START = "Cannot start: blocking dependencies not complete"
COMPLETED_IMMUTABLE = "POLICY: Completed items cannot be modified"
PHASE_FULL = "POLICY: Maximum 50 active items per phase"
FAILED_CLAIMS = "POLICY-001: Cannot deploy - failed claims exist. Run: pytest -k claim"
PENDING_CLAIMS = (
    "POLICY-002: Cannot deploy - pending quantitative claims. "
    "Run: MOTUS_TRACK_CLAIMS=1 pytest -k claim"
)
# The database's own NOT NULL error (not a trigger message), in each engine's words.
NO_INSTANCE_ID = (
    'null value in column "instance_id" of relation "audit_log" violates not-null constraint'
    if backends.POSTGRESQL
    else "NOT NULL constraint failed: audit_log.instance_id"
)


def set_status(conn, item_id: str, status: str) -> None:
    conn.execute("UPDATE roadmap_items SET status_key = ? WHERE id = ?", (status, item_id))


def status(conn, item_id: str) -> str:
    return scalar(conn, "SELECT status_key FROM roadmap_items WHERE id = ?", (item_id,))


def soft_delete(conn, item_id: str) -> None:
    conn.execute("UPDATE roadmap_items SET deleted_at = ? WHERE id = ?", (now(conn), item_id))


def assert_json(text: str, expected: dict) -> None:
    """Trigger-written JSON (RULES.md §1.6): these keys, in this order, with these values. On
    SQLite also the exact text (no whitespace); PostgreSQL's json_build_object puts spaces
    around ':' and after ',' (accepted: readers parse the JSON)."""
    assert json.loads(text, object_pairs_hook=list) == list(expected.items()), text
    if not backends.POSTGRESQL:
        assert text == json.dumps(expected, separators=(",", ":"))


@pytest.fixture(autouse=True)
def bounded_work(raw_db):
    """Each test here needs about a million VM instructions at most. A graph walk that
    enumerates paths would run for hours on the larger graphs below; fail fast instead."""
    bound_work(raw_db, 100_000_000)


@pytest.mark.sqlite_only  # reads the sqlite/ SQL files and sqlite_master
def test_sql_files_follow_contract(raw_db):
    check_trigger_files(raw_db, "roadmap", "0002_triggers")


# PostgreSQL trigger type bits (pg_trigger.tgtype).
ROW, BEFORE, INSERT, DELETE, UPDATE = 1, 2, 4, 8, 16


def pg_triggers(conn) -> dict[str, dict]:
    """The database's own triggers on PostgreSQL: table, timing, event, UPDATE OF columns,
    whether per row, and the name and source of the function each one runs."""
    found = rows(
        conn,
        "SELECT t.tgname AS name, c.relname AS tbl, t.tgtype AS type, p.proname AS function, "
        "p.prosrc AS source, ARRAY(SELECT a.attname::text FROM unnest(t.tgattr) AS k(attnum) "
        "JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = k.attnum) AS columns "
        "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal",
    )
    result = {}
    for r in found:
        kind = r["type"]
        events = [
            e
            for bit, e in ((INSERT, "INSERT"), (DELETE, "DELETE"), (UPDATE, "UPDATE"))
            if kind & bit
        ]
        result[r["name"]] = {
            "table": r["tbl"],
            "timing": "BEFORE" if kind & BEFORE else "AFTER",
            "events": events,
            "row": bool(kind & ROW),
            "columns": list(r["columns"]),
            "function": r["function"],
            "source": r["source"],
        }
    return result


def pg_functions(conn) -> set[str]:
    return {
        r[0]
        for r in conn.execute(
            "SELECT proname FROM pg_proc WHERE pronamespace = current_schema()::regnamespace"
        )
    }


@pytest.mark.postgresql_only
def test_postgresql_sql_files_follow_contract(raw_db):
    """The PostgreSQL counterpart of test_sql_files_follow_contract: every contract trigger of
    the app exists with its table, timing, event and UPDATE OF columns, for each row, runs the
    function of the same name, and that function raises each contract message; the forward
    file re-runs in place, and the reverse file drops exactly these triggers and functions."""
    from kernel_rows import ROOT, contract_triggers

    from system.sqlfiles import read_statements

    specs = contract_triggers("roadmap")
    names = [t["name"] for t in specs]
    live = pg_triggers(raw_db)
    for spec in specs:
        got = live[spec["name"]]
        assert (got["table"], got["timing"], got["events"], got["columns"], got["row"]) == (
            spec["table"],
            spec["timing"],
            [spec["event"]],
            spec["update_of"],
            True,
        ), spec["name"]
        assert got["function"] == spec["name"]
        for message in spec["raises"]:
            assert "ERRCODE = '23000'" in got["source"], spec["name"]
            assert f"'{message}'" in got["source"], (spec["name"], message)

    forward = read_statements(ROOT / "roadmap", "postgresql", "0002_triggers")
    reverse = read_statements(ROOT / "roadmap", "postgresql", "0002_triggers", reverse=True)
    functions = pg_functions(raw_db)
    assert set(names) <= functions
    for statement in forward:
        raw_db.execute(statement)
    assert pg_triggers(raw_db) == live
    for statement in reverse:
        raw_db.execute(statement)
    assert set(pg_triggers(raw_db)) == set(live) - set(names)
    assert pg_functions(raw_db) == functions - set(names)


# -- roadmap_version_capture -------------------------------------------------------------
def test_roadmap_version_capture_snapshots_the_new_row(raw_db):
    add_item(raw_db, "D", updated_at=OLD)
    before = now(raw_db)
    raw_db.execute(
        "UPDATE roadmap_items SET title = 'new2', status_key = 'completed', "
        "updated_at = ? WHERE id = 'D'",
        (now(raw_db),),
    )
    [snapshot] = versions(raw_db, "roadmap_item", "D")
    assert_json(
        snapshot["raw_data"],
        {
            "title": "new2",
            "phase_key": "phase_a",
            "status_key": "completed",
            "owner": None,
            "target_date": None,
        },
    )
    assert (snapshot["version"], snapshot["changed_by"], snapshot["change_reason"]) == (
        1,
        "system",
        None,
    )
    assert before <= snapshot["created_at"] <= now(raw_db)


def test_roadmap_version_capture_versions_and_owner(raw_db):
    add_item(raw_db, "D", updated_at=OLD)
    raw_db.execute("UPDATE roadmap_items SET title = 'same stamp' WHERE id = 'D'")
    assert versions(raw_db, "roadmap_item", "D") == []  # updated_at unchanged: no snapshot
    raw_db.execute(
        "UPDATE roadmap_items SET owner = 'ann', target_date = '2030-01-01', "
        "updated_at = '2001-01-02 00:00:00' WHERE id = 'D'"
    )
    raw_db.execute("UPDATE roadmap_items SET updated_at = '2001-01-03 00:00:00' WHERE id = 'D'")
    snapshots = versions(raw_db, "roadmap_item", "D")
    assert [(v["version"], v["changed_by"]) for v in snapshots] == [(1, "ann"), (2, "ann")]
    assert snapshots[0]["data"]["target_date"] == "2030-01-01"


# -- roadmap_dep_no_cycles ---------------------------------------------------------------
def test_self_edge_reports_the_cycle_not_the_check(raw_db):
    add_item(raw_db, "A")
    with raises(CYCLE):
        depend(raw_db, "A", "A")


def test_two_and_three_item_cycles_are_rejected(raw_db):
    add_items(raw_db, "A", "B", "C")
    depend(raw_db, "A", "B")
    with raises(CYCLE):
        depend(raw_db, "B", "A")
    depend(raw_db, "B", "C")
    with raises(CYCLE):
        depend(raw_db, "C", "A")
    assert scalar(raw_db, "SELECT count(*) FROM roadmap_dependencies") == 2


def test_cycle_check_follows_every_type_and_soft_deleted_items(raw_db):
    add_items(raw_db, "A", "B", "C")
    depend(raw_db, "A", "B", "soft")
    depend(raw_db, "B", "C", "related")
    soft_delete(raw_db, "B")
    with raises(CYCLE):
        depend(raw_db, "C", "A", "related")


def test_edges_that_close_no_cycle_are_accepted(raw_db):
    add_items(raw_db, "A", "B", "C", "D")
    depend(raw_db, "A", "B")
    depend(raw_db, "A", "C")
    depend(raw_db, "B", "D")
    depend(raw_db, "C", "D")  # diamond, no cycle
    depend(raw_db, "A", "D")
    assert scalar(raw_db, "SELECT count(*) FROM roadmap_dependencies") == 5


def test_99_edge_chain_closed_by_the_new_edge_is_rejected(raw_db):
    chain = add_chain(raw_db, "X", 100)  # X0 -> X1 -> ... -> X99: 99 edges
    with raises(CYCLE):
        depend(raw_db, chain[-1], chain[0])  # the cycle would have 100 edges


def test_100_edge_chain_can_be_closed(raw_db):
    chain = add_chain(raw_db, "X", 101)  # 100 edges
    depend(raw_db, chain[-1], chain[0])  # a 101-edge cycle is beyond the walk
    assert scalar(raw_db, "SELECT count(*) FROM roadmap_dependencies") == 101


def test_cycle_found_through_a_short_route_when_a_long_route_exists(raw_db):
    # S -> L0 -> ... -> L97 -> M puts M at level 100, where the walk stops; S -> M puts it at
    # level 2, from where T (level 3) is reached. Only the shortest level may count.
    long_route = add_chain(raw_db, "L", 98)
    add_items(raw_db, "S", "M", "T", phase="phase_b")
    depend(raw_db, "S", long_route[0])
    depend(raw_db, long_route[-1], "M")
    depend(raw_db, "S", "M")
    depend(raw_db, "M", "T")
    with raises(CYCLE):
        depend(raw_db, "T", "S")


def ladder(conn, layers: int) -> list[tuple[str, str]]:
    """`layers` layers of two items; each item depends on both items of the next layer.

    The number of paths from the top doubles with every layer (2**layers), so a walk that
    enumerates paths never finishes, while a reachability walk sees 2 * layers items.
    """
    pairs = [(f"L{k}a", f"L{k}b") for k in range(layers)]
    for k, pair in enumerate(pairs):
        add_items(conn, *pair, phase=f"ladder-{k // 20}")
    for upper, lower in reversed(list(zip(pairs, pairs[1:], strict=False))):
        for item in upper:
            for target in lower:
                depend(conn, item, target)
    return pairs


def test_graph_walks_do_not_enumerate_paths(raw_db):
    # A path-enumerating walk would run "forever"; make it fail fast instead.
    bound_work(raw_db, 20_000_000)
    pairs = ladder(raw_db, 41)  # 2**40 paths from the top to the bottom layer
    with raises(CYCLE):
        depend(raw_db, pairs[-1][0], pairs[0][0])
    assignment = assign(raw_db, pairs[0][0])
    unbound_work(raw_db)
    surfaced = prerequisites(raw_db, assignment)
    assert surfaced == {item: k for k, pair in enumerate(pairs) if k for item in pair}


# -- roadmap_status_check_deps -----------------------------------------------------------
def test_start_rejected_while_a_blocking_dependency_is_open(raw_db):
    add_items(raw_db, "A", "B")
    depend(raw_db, "A", "B")
    with raises(CANNOT_START):
        set_status(raw_db, "A", "in_progress")
    assert status(raw_db, "A") == "pending"
    set_status(raw_db, "B", "completed")
    set_status(raw_db, "A", "in_progress")
    assert status(raw_db, "A") == "in_progress"


def test_soft_deleted_unfinished_target_still_blocks(raw_db):
    add_items(raw_db, "A", "B")
    depend(raw_db, "A", "B")
    soft_delete(raw_db, "B")
    with raises(CANNOT_START):
        set_status(raw_db, "A", "in_progress")


def test_soft_and_related_dependencies_never_block(raw_db):
    add_items(raw_db, "A", "B", "C")
    depend(raw_db, "A", "B", "soft")
    depend(raw_db, "A", "C", "related")
    set_status(raw_db, "A", "in_progress")
    assert status(raw_db, "A") == "in_progress"


def test_only_the_move_into_in_progress_is_checked(raw_db):
    add_items(raw_db, "A", "B", "C")
    depend(raw_db, "A", "B")
    set_status(raw_db, "A", "blocked")
    set_status(raw_db, "A", "completed")  # straight to completed: not checked
    add_item(raw_db, "S", status="in_progress")
    depend(raw_db, "S", "C")
    set_status(raw_db, "S", "in_progress")  # already in progress: not checked
    assert (status(raw_db, "A"), status(raw_db, "S")) == ("completed", "in_progress")


# -- enforce_completed_immutable ---------------------------------------------------------
def test_completed_items_cannot_change_status(raw_db):
    add_item(raw_db, "A", status="completed")
    for other in ("pending", "in_progress", "deferred"):
        with raises(COMPLETED_IMMUTABLE):
            set_status(raw_db, "A", other)
    assert status(raw_db, "A") == "completed"


def test_completed_items_keep_other_columns_editable(raw_db):
    add_item(raw_db, "A", status="completed")
    raw_db.execute(
        "UPDATE roadmap_items SET title = 'renamed', owner = 'ann', "
        "status_key = 'completed' WHERE id = 'A'"
    )
    soft_delete(raw_db, "A")
    row = one(raw_db, "SELECT title, owner, deleted_at FROM roadmap_items WHERE id = 'A'")
    assert row["title"] == "renamed" and row["owner"] == "ann" and row["deleted_at"]


def test_completed_to_in_progress_with_open_deps_reports_the_policy(raw_db):
    # RULES.md §1.9: enforce_completed_immutable runs before roadmap_status_check_deps.
    add_items(raw_db, "B")
    add_item(raw_db, "A", status="completed")
    depend(raw_db, "A", "B")
    with raises(COMPLETED_IMMUTABLE):
        set_status(raw_db, "A", "in_progress")


# -- roadmap_dep_audit_insert ------------------------------------------------------------
def test_dependency_insert_writes_an_audit_row(raw_db):
    add_items(raw_db, "A", "B", "C")
    before = now(raw_db)
    depend(raw_db, "B", "A")
    depend(raw_db, "C", "A", "soft", created_by="user:ann")
    first, second = audit_rows(raw_db, "roadmap_dependency")
    assert before <= first.pop("timestamp") <= now(raw_db)
    first.pop("id")
    assert_json(first.pop("new_value"), {"item_id": "B", "depends_on_id": "A", "type": "blocks"})
    assert first == {
        "event_type": "roadmap_dependency",
        "actor": "system",
        "resource_type": "roadmap_dependency",
        "resource_id": "B->A",
        "action": "create",
        "old_value": None,
        "context": None,
        "instance_id": instance_id(raw_db),
        "protocol_version": 1,
    }
    assert (second["actor"], second["resource_id"]) == ("user:ann", "C->A")
    assert_json(second["new_value"], {"item_id": "C", "depends_on_id": "A", "type": "soft"})


def test_audit_rows_need_the_instance_id(raw_db):
    add_items(raw_db, "A", "B")
    raw_db.execute("DELETE FROM instance_config WHERE key = 'instance_id'")
    with pytest.raises(sqlite3.IntegrityError, match=f"^{re.escape(NO_INSTANCE_ID)}$"):
        depend(raw_db, "A", "B")
    with pytest.raises(sqlite3.IntegrityError, match=f"^{re.escape(NO_INSTANCE_ID)}$"):
        assign(raw_db, "A")


# -- roadmap_assignment_audit ------------------------------------------------------------
def test_assignment_insert_writes_an_audit_row(raw_db):
    add_items(raw_db, "A")
    before = now(raw_db)
    assign(raw_db, "A", "agent-7", role="reviewer")
    assign(raw_db, "A", "agent-8", assigned_by="user:bo")
    first, second = audit_rows(raw_db, "roadmap_assignment")
    assert before <= first.pop("timestamp") <= now(raw_db)
    first.pop("id")
    assert_json(first.pop("new_value"), {"item_id": "A", "agent_id": "agent-7", "role": "reviewer"})
    assert first == {
        "event_type": "roadmap_assignment",
        "actor": "system",
        "resource_type": "roadmap_assignment",
        "resource_id": "A",
        "action": "assign",
        "old_value": None,
        "context": None,
        "instance_id": instance_id(raw_db),
        "protocol_version": 1,
    }
    assert second["actor"] == "user:bo"
    assert_json(second["new_value"], {"item_id": "A", "agent_id": "agent-8", "role": "implementer"})
    assert audit_rows(raw_db, "assignment_cascade") == []  # A has no prerequisites


# -- roadmap_assignment_cascade ----------------------------------------------------------
def test_cascade_surfaces_the_transitive_chain(raw_db):
    add_items(raw_db, "A", "B", "C")
    depend(raw_db, "A", "B")
    depend(raw_db, "B", "C")
    before = now(raw_db)
    assignment = assign(raw_db, "A", "agent-1", assigned_by="user:ann")
    after = now(raw_db)
    found = rows(raw_db, "SELECT * FROM assignment_prerequisites ORDER BY depth")
    assert [
        (r["source_assignment_id"], r["prerequisite_item_id"], r["depth"], r["resolved_at"])
        for r in found
    ] == [(assignment, "B", 1, None), (assignment, "C", 2, None)]
    assert all(before <= r["surfaced_at"] <= after for r in found)

    [cascade] = audit_rows(raw_db, "assignment_cascade")
    assert before <= cascade.pop("timestamp") <= after
    cascade.pop("id")
    assert_json(
        cascade.pop("new_value"),
        {
            "assignment_id": assignment,
            "item_id": "A",
            "agent_id": "agent-1",
            "unassigned_prereqs": "B, C",
        },
    )
    assert cascade == {
        "event_type": "assignment_cascade",
        "actor": "user:ann",
        "resource_type": "roadmap_assignment",
        "resource_id": "A",
        "action": "cascade_detected",
        "old_value": None,
        "context": None,
        "instance_id": instance_id(raw_db),
        "protocol_version": 1,
    }


def test_cascade_audit_row_comes_before_the_assignment_audit_row(raw_db):
    # RULES.md §1.9: roadmap_assignment_cascade runs before roadmap_assignment_audit.
    add_items(raw_db, "A", "B")
    depend(raw_db, "A", "B")
    assign(raw_db, "A")
    [cascade] = audit_rows(raw_db, "assignment_cascade")
    [assignment] = audit_rows(raw_db, "roadmap_assignment")
    assert cascade["id"] < assignment["id"]
    assert cascade["actor"] == "system"


def test_diamond_gives_one_row_at_the_shallowest_depth(raw_db):
    add_items(raw_db, "A", "B", "C", "D")
    depend(raw_db, "A", "B")
    depend(raw_db, "B", "C")
    depend(raw_db, "A", "C")  # A -> C and A -> B -> C
    depend(raw_db, "C", "D")
    assignment = assign(raw_db, "A")
    assert prerequisites(raw_db, assignment) == {"B": 1, "C": 1, "D": 2}
    [cascade] = audit_rows(raw_db, "assignment_cascade")
    listed = json.loads(cascade["new_value"])["unassigned_prereqs"].split(", ")
    assert sorted(listed) == ["B", "C", "D"]


def test_shallowest_depth_even_when_the_long_path_is_found_first(raw_db):
    # A -> B -> C -> D -> E and A -> Z -> E: E is at depth 3, not 4.
    add_items(raw_db, "A", "B", "C", "D", "E", "Z")
    for item, target in [("A", "B"), ("B", "C"), ("C", "D"), ("D", "E"), ("A", "Z"), ("Z", "E")]:
        depend(raw_db, item, target)
    assert prerequisites(raw_db, assign(raw_db, "A")) == {"B": 1, "Z": 1, "C": 2, "E": 2, "D": 3}


def test_cascade_surfaces_beyond_an_item_also_reached_at_depth_50(raw_db):
    # A -> L0 -> ... -> L48 -> M puts M at depth 50 (no step from there); A -> M puts it at
    # depth 1, so its prerequisite T is surfaced at depth 2.
    long_route = add_chain(raw_db, "L", 49)
    add_items(raw_db, "A", "M", "T", phase="phase_b")
    depend(raw_db, "A", long_route[0])
    depend(raw_db, long_route[-1], "M")
    depend(raw_db, "A", "M")
    depend(raw_db, "M", "T")
    surfaced = prerequisites(raw_db, assign(raw_db, "A"))
    assert (surfaced["M"], surfaced["T"], len(surfaced)) == (1, 2, 51)


def test_cascade_skips_soft_deleted_targets_entirely(raw_db):
    add_items(raw_db, "A", "B", "C", "D")
    depend(raw_db, "A", "B")
    depend(raw_db, "B", "C")  # C only reachable through B
    depend(raw_db, "A", "D")
    soft_delete(raw_db, "B")
    assert prerequisites(raw_db, assign(raw_db, "A")) == {"D": 1}


def test_cascade_walks_through_completed_and_assigned_prerequisites(raw_db):
    add_items(raw_db, "A", "B", "C", "D", "E")
    add_item(raw_db, "DONE", status="completed")
    for item, target in [("A", "DONE"), ("DONE", "B"), ("A", "C"), ("C", "D"), ("A", "E")]:
        depend(raw_db, item, target)
    assign(raw_db, "C", "agent-2", status="active")
    assign(raw_db, "E", "agent-3", status="dropped")  # dropped/completed do not count
    assign(raw_db, "E", "agent-4", status="completed")
    assignment = assign(raw_db, "A")
    assert prerequisites(raw_db, assignment) == {"B": 2, "D": 2, "E": 1}


def test_cascade_follows_only_blocking_edges(raw_db):
    add_items(raw_db, "A", "B", "C", "D")
    depend(raw_db, "A", "B", "soft")
    depend(raw_db, "A", "C", "related")
    depend(raw_db, "A", "D")
    depend(raw_db, "D", "B", "soft")
    assert prerequisites(raw_db, assign(raw_db, "A")) == {"D": 1}


def test_cascade_stops_at_depth_50(raw_db):
    chain = add_chain(raw_db, "X", 52)  # X0 has 51 prerequisites in a row
    surfaced = prerequisites(raw_db, assign(raw_db, chain[0]))
    assert surfaced == {item: depth for depth, item in enumerate(chain[1:51], start=1)}


def test_cascade_ignores_the_items_own_deletion_role_and_status(raw_db):
    add_items(raw_db, "A", "B")
    depend(raw_db, "A", "B")
    soft_delete(raw_db, "A")
    assignment = assign(raw_db, "A", role="observer", status="dropped")
    assert prerequisites(raw_db, assignment) == {"B": 1}


def test_no_cascade_audit_row_without_open_prerequisites(raw_db):
    add_items(raw_db, "A", "B")
    add_item(raw_db, "C", status="completed")
    depend(raw_db, "A", "C")
    depend(raw_db, "B", "A")
    assign(raw_db, "A", "agent-1")
    assign(raw_db, "B", "agent-2")  # A already has an assignment
    assert rows(raw_db, "SELECT * FROM assignment_prerequisites") == []
    assert audit_rows(raw_db, "assignment_cascade") == []


def reference_prerequisites(conn, root: str) -> dict[str, int]:
    """The cascade's rules (RULES.md §4.2/§4.4) in Python: breadth-first, shallowest depth."""
    live = {
        r["id"]: r["status_key"]
        for r in rows(conn, "SELECT id, status_key FROM roadmap_items WHERE deleted_at IS NULL")
    }
    edges: dict[str, list[str]] = {}
    for r in rows(
        conn,
        "SELECT item_id, depends_on_id FROM roadmap_dependencies WHERE dependency_type = 'blocks'",
    ):
        if r["depends_on_id"] in live:
            edges.setdefault(r["item_id"], []).append(r["depends_on_id"])
    owned = {
        r["item_id"]
        for r in rows(
            conn, "SELECT item_id FROM roadmap_assignments WHERE status IN ('assigned', 'active')"
        )
    }
    depth: dict[str, int] = {}
    queue = deque((target, 1) for target in edges.get(root, []))
    while queue:
        item, level = queue.popleft()
        if item in depth:
            continue
        depth[item] = level
        if level < 50:
            queue.extend((target, level + 1) for target in edges.get(item, []))
    return {item: d for item, d in depth.items() if live[item] != "completed" and item not in owned}


def test_cascade_matches_a_reference_walk_on_a_random_graph(raw_db):
    rng = random.Random(20240601)
    items = [f"R{i:03d}" for i in range(150)]
    for i, item in enumerate(items):
        add_item(
            raw_db,
            item,
            phase=f"random-{i // 40}",
            status=rng.choice(["pending"] * 4 + ["completed", "blocked"]),
        )
    for i, item in enumerate(items[1:], start=1):
        window = items[max(0, i - 12) : i]
        for target in rng.sample(window, min(len(window), rng.randint(1, 3))):
            depend(raw_db, item, target, rng.choice(["blocks"] * 5 + ["soft", "related"]))
    for item in rng.sample(items, 15):
        soft_delete(raw_db, item)
    for item in rng.sample(items, 10):
        assign(raw_db, item, "seed-agent", status=rng.choice(["active", "dropped"]))
    deepest = 0
    for root in items[-1:-60:-3]:
        expected = reference_prerequisites(raw_db, root)
        assignment = assign(raw_db, root, "checker", role="observer", status="dropped")
        assert prerequisites(raw_db, assignment) == expected
        deepest = max(deepest, *expected.values(), 0)
    assert deepest >= 5  # the graph is deep enough for the comparison to mean something


# -- roadmap_prereq_resolved -------------------------------------------------------------
def test_assigning_a_prerequisite_resolves_its_open_rows(raw_db):
    add_items(raw_db, "A", "B", "C", "X")
    depend(raw_db, "A", "B")
    depend(raw_db, "B", "C")
    depend(raw_db, "X", "C")
    first = assign(raw_db, "A")
    second = assign(raw_db, "X", "agent-2")
    before = now(raw_db)
    c_assignment = assign(raw_db, "C", "agent-9", role="observer", status="dropped")
    after = now(raw_db)
    found = {
        (r["source_assignment_id"], r["prerequisite_item_id"]): r["resolved_at"]
        for r in rows(raw_db, "SELECT * FROM assignment_prerequisites")
    }
    assert found[(first, "B")] is None
    assert before <= found[(first, "C")] <= after
    assert before <= found[(second, "C")] <= after
    # Later changes to the assignment neither reopen rows nor surface new ones.
    raw_db.execute("UPDATE roadmap_assignments SET status = 'active' WHERE id = ?", (c_assignment,))
    assert found == {
        (r["source_assignment_id"], r["prerequisite_item_id"]): r["resolved_at"]
        for r in rows(raw_db, "SELECT * FROM assignment_prerequisites")
    }


def test_prereq_resolution_keeps_an_earlier_resolution(raw_db):
    add_items(raw_db, "A", "B")
    depend(raw_db, "A", "B")
    first = assign(raw_db, "A")
    raw_db.execute(
        "UPDATE assignment_prerequisites SET resolved_at = ? WHERE source_assignment_id = ?",
        (OLD, first),
    )
    assign(raw_db, "B")
    assert scalar(raw_db, "SELECT resolved_at FROM assignment_prerequisites") == OLD


# -- enforce_deploy_gate -----------------------------------------------------------------
def claim(conn, claim_id: str, claim_type: str, test_status: str | None) -> None:
    insert(
        conn,
        "claims",
        id=claim_id,
        claim_text=f"Claim {claim_id}",
        page="/",
        claim_type=claim_type,
        test_function="test_x",
        test_status=test_status,
    )


def deploy(conn, target: str = "website", **extra) -> int:
    return insert(conn, "deployment_events", target=target, version="1.0", **extra)


def test_deploy_gate_rejects_failed_claims_first(raw_db):
    claim(raw_db, "q", "quantitative", "pending")
    claim(raw_db, "f", "qualitative", "fail")
    with raises(FAILED_CLAIMS):
        deploy(raw_db)
    raw_db.execute("UPDATE claims SET test_status = 'pass' WHERE id = 'f'")
    with raises(PENDING_CLAIMS):
        deploy(raw_db, status="blocked")  # the new row's status does not matter
    raw_db.execute("UPDATE claims SET test_status = 'pass' WHERE id = 'q'")
    deploy(raw_db)
    assert scalar(raw_db, "SELECT count(*) FROM deployment_events") == 1


def test_deploy_gate_ignores_stale_null_and_qualitative_pending(raw_db):
    claim(raw_db, "s", "quantitative", "stale")
    claim(raw_db, "n", "quantitative", None)
    claim(raw_db, "p", "qualitative", "pending")
    deploy(raw_db)
    assert scalar(raw_db, "SELECT count(*) FROM deployment_events") == 1


def test_deploy_gate_only_gates_the_website(raw_db):
    claim(raw_db, "f", "quantitative", "fail")
    claim(raw_db, "q", "quantitative", "pending")
    deploy(raw_db, "pypi")
    deploy(raw_db, "docs")
    assert scalar(raw_db, "SELECT count(*) FROM deployment_events") == 2


# -- enforce_phase_limit -----------------------------------------------------------------
def test_phase_limit_rejects_the_51st_active_item(raw_db):
    for i in range(50):
        add_item(raw_db, f"A{i}", status="blocked" if i % 2 else "pending")
    with raises(PHASE_FULL):
        add_item(raw_db, "over")
    with raises(PHASE_FULL):
        add_item(raw_db, "over-done", status="completed")  # the new row's status is irrelevant
    add_item(raw_db, "elsewhere", phase="phase_b")


@pytest.mark.parametrize("free_one", ["completed", "deferred", "deleted"])
def test_phase_limit_counts_only_live_unfinished_items(raw_db, free_one):
    for i in range(50):
        add_item(raw_db, f"A{i}")
    if free_one == "deleted":
        soft_delete(raw_db, "A0")
    else:
        set_status(raw_db, "A0", free_one)
    add_item(raw_db, "fits")
    with raises(PHASE_FULL):
        add_item(raw_db, "over")


def test_phase_limit_is_not_checked_on_update(raw_db):
    for i in range(50):
        add_item(raw_db, f"A{i}")
    add_item(raw_db, "mover", phase="phase_b")
    raw_db.execute("UPDATE roadmap_items SET phase_key = 'phase_a' WHERE id = 'mover'")
    assert scalar(raw_db, "SELECT count(*) FROM roadmap_items WHERE phase_key = 'phase_a'") == 51


# -- concurrent writers (PostgreSQL) -----------------------------------------------------------
# SQLite has one writer at a time. On PostgreSQL two transactions run side by side, so the
# checks that look at other rows take an advisory lock first (phase limit: 'phase:<key>';
# cycle check: 'dependencies'): the second writer waits for the first to end and then sees its
# rows, where without the lock both would pass the check on the same state.


def race(raw_db, first, second) -> Exception | None:
    """Run ``first`` in an open transaction on ``raw_db``, then ``second`` on another
    connection in a thread; once that one waits on an advisory lock, commit the first.
    Returns what ``second`` raised (None if it succeeded)."""
    import threading
    import time

    other = backends.PgConnection(raw_db.url)
    outcome: dict = {}

    def run_second():
        try:
            other.execute("BEGIN")
            second(other)
            other.execute("COMMIT")
            outcome["error"] = None
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            other.execute("ROLLBACK")
            outcome["error"] = exc

    try:
        raw_db.execute("BEGIN")
        first(raw_db)
        thread = threading.Thread(target=run_second)
        thread.start()
        deadline = time.monotonic() + 30
        while not scalar(
            raw_db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ):
            assert thread.is_alive() and time.monotonic() < deadline, "second never waited"
            time.sleep(0.02)
        raw_db.execute("COMMIT")
        thread.join(30)
        assert not thread.is_alive()
        return outcome["error"]
    finally:
        other.close()


@pytest.mark.postgresql_only
def test_concurrent_inserts_cannot_both_take_the_last_place_in_a_phase(raw_db):
    unbound_work(raw_db)
    for i in range(49):
        add_item(raw_db, f"A{i}")
    error = race(raw_db, lambda c: add_item(c, "first"), lambda c: add_item(c, "second"))
    assert isinstance(error, sqlite3.IntegrityError) and str(error) == PHASE_FULL
    assert scalar(raw_db, "SELECT count(*) FROM roadmap_items WHERE phase_key = 'phase_a'") == 50


@pytest.mark.postgresql_only
def test_concurrent_edges_cannot_close_a_cycle_between_them(raw_db):
    unbound_work(raw_db)
    add_items(raw_db, "A", "B", "C")
    depend(raw_db, "A", "B")
    error = race(raw_db, lambda c: depend(c, "B", "C"), lambda c: depend(c, "C", "A"))
    assert isinstance(error, sqlite3.IntegrityError) and str(error) == CYCLE
    assert scalar(raw_db, "SELECT count(*) FROM roadmap_dependencies") == 2
