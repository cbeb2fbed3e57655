"""Triggers of app `kernel` (RULES.md §3, §1.9) on a raw contract database."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from backends import POSTGRESQL, PgConnection
from kernel_rows import (
    FUTURE,
    OLD,
    add_attempt,
    add_blocker,
    add_decision,
    add_evidence,
    add_item,
    add_lease,
    check_trigger_files,
    end_attempt,
    insert,
    now,
    one,
    raises,
    scalar,
)

DOUBLE_CLAIM = "KERNEL: Work already has active attempt. Use handoff instead of new claim."
BLOCKED_CLAIM = "KERNEL: Work has unresolved blockers. Resolve blockers before claiming."
HANDOFF_REASON = "KERNEL: Handoff requires explanation in handoff_reason field"
NEEDS_EVIDENCE = (
    "KERNEL: Cannot mark attempt completed without evidence. Use record_evidence() first."
)
NEEDS_BLOCKER = (
    "KERNEL: Cannot mark attempt blocked without blocker record. Use create_blocker() first."
)
RESOLUTION_FROZEN = "KERNEL: Blocker resolution is immutable"
NEEDS_EXPLANATION = "KERNEL: Blocker resolution requires explanation in resolution field"
NEEDS_JUSTIFICATION = "KERNEL: Blocker resolution requires evidence or waiver decision"
EXCLUSIVE_BUSY = "KERNEL: Cannot acquire exclusive lease - resource has active leases"
WRITE_BLOCKED = "KERNEL: Cannot acquire write lease - exclusive lease active"
ANY_BLOCKED = "KERNEL: Cannot acquire lease - exclusive lease active on resource"

T0 = "2024-05-01 10:00:00"  # a blocker's creation time
T0_PLUS_1S = "2024-05-01 10:00:01"


@pytest.fixture
def work(raw_db) -> str:
    """A roadmap item W (kernel work items are roadmap items) and a second one, V."""
    add_item(raw_db, "V")
    return add_item(raw_db, "W")


def test_sql_files_follow_contract(raw_db):
    check_trigger_files(raw_db, "kernel", "0003_triggers")


# -- immutable tables --------------------------------------------------------------------
def _contract(conn) -> str:
    insert(conn, "compiled_contracts", contract_hash="h1", compiled_json="{}")
    return "contract_hash = 'h1'"


def _decision(conn) -> str:
    add_item(conn, "W")
    add_decision(conn, "d1", "W")
    return "id = 'd1'"


def _evidence(conn) -> str:
    add_item(conn, "W")
    add_evidence(conn, "e1", "W")
    return "id = 'e1'"


def _kernel_decision(conn) -> str:
    insert(
        conn,
        "kernel_decisions",
        id="kd1",
        decision_type="approval",
        decision_summary="ok",
        decided_by="user:ann",
    )
    return "id = 'kd1'"


def _kernel_evidence(conn) -> str:
    insert(conn, "kernel_evidence", id="ke1", evidence_type="log", created_by="agent:x")
    return "id = 'ke1'"


def _kernel_outcome(conn) -> str:
    insert(conn, "kernel_outcomes", id="ko1", outcome_type="done", created_by="agent:x")
    return "id = 'ko1'"


# table -> (inserts one row and returns its WHERE clause, a column, update error, delete error)
IMMUTABLE = {
    "compiled_contracts": (
        _contract,
        "compiled_json",
        "KERNEL: Compiled contracts are immutable",
        "KERNEL: Compiled contracts cannot be deleted",
    ),
    "decisions": (
        _decision,
        "rationale",
        "KERNEL: Decision records are immutable. Create a new decision with "
        "supersedes_decision_id instead.",
        "KERNEL: Decision records cannot be deleted.",
    ),
    "evidence": (
        _evidence,
        "title",
        "KERNEL: Evidence records are immutable. Create new evidence instead.",
        "KERNEL: Evidence records cannot be deleted.",
    ),
    "kernel_decisions": (
        _kernel_decision,
        "rationale",
        "KERNEL: Decision records are immutable. Create a new decision with "
        "supersedes_decision_id instead.",
        "KERNEL: Decision records cannot be deleted.",
    ),
    "kernel_evidence": (
        _kernel_evidence,
        "title",
        "KERNEL: Evidence records are immutable. Create new evidence instead.",
        "KERNEL: Evidence records cannot be deleted.",
    ),
    "kernel_outcomes": (
        _kernel_outcome,
        "description",
        "KERNEL: Outcome records are immutable.",
        "KERNEL: Outcome records cannot be deleted.",
    ),
}


@pytest.mark.parametrize("table", IMMUTABLE)
def test_no_update(raw_db, table):
    make_row, column, message, _ = IMMUTABLE[table]
    where = make_row(raw_db)
    with raises(message):  # even an UPDATE that writes the same value
        raw_db.execute(f"UPDATE {table} SET {column} = {column} WHERE {where}")
    with raises(message):
        raw_db.execute(f"UPDATE {table} SET {column} = 'changed' WHERE {where}")
    assert scalar(raw_db, f"SELECT {column} FROM {table} WHERE {where}") != "changed"


@pytest.mark.parametrize("table", IMMUTABLE)
def test_no_delete(raw_db, table):
    make_row, _, _, message = IMMUTABLE[table]
    where = make_row(raw_db)
    with raises(message):
        raw_db.execute(f"DELETE FROM {table} WHERE {where}")
    assert scalar(raw_db, f"SELECT count(*) FROM {table} WHERE {where}") == 1


def test_decisions_are_corrected_by_superseding(raw_db, work):
    add_decision(raw_db, "d1", work)
    add_decision(raw_db, "d2", work, supersedes_decision_id="d1")
    assert scalar(raw_db, "SELECT supersedes_decision_id FROM decisions WHERE id = 'd2'") == "d1"


# -- attempts: insert rules --------------------------------------------------------------
def test_attempts_no_double_claim(raw_db, work):
    add_attempt(raw_db, "a1", work)
    add_attempt(raw_db, "v1", "V")  # another work item is independent
    with raises(DOUBLE_CLAIM):
        add_attempt(raw_db, "a2", work)
    end_attempt(raw_db, "a1", "failed")
    add_attempt(raw_db, "a2", work)
    assert scalar(raw_db, "SELECT count(*) FROM attempts WHERE work_id = ?", (work,)) == 2


def test_handoffs_are_not_exempt_from_the_double_claim_rule(raw_db, work):
    add_attempt(raw_db, "a1", work)
    with raises(DOUBLE_CLAIM):
        add_attempt(raw_db, "a2", work, handoff_from_attempt_id="a1", handoff_reason="tired")
    # The documented sequence: end the old attempt, then insert the handoff.
    end_attempt(raw_db, "a1", "handed_off")
    add_attempt(raw_db, "a2", work, handoff_from_attempt_id="a1", handoff_reason="tired")


@pytest.mark.parametrize("severity", ["blocking", "warning", None])
def test_attempts_no_claim_blocked(raw_db, work, severity):
    add_blocker(raw_db, "b1", work, severity=severity)
    with raises(BLOCKED_CLAIM):
        add_attempt(raw_db, "a1", work)
    add_attempt(raw_db, "v1", "V")


def test_a_resolved_blocker_no_longer_blocks_claims(raw_db, work):
    add_blocker(raw_db, "b1", work, created_at=T0)
    add_evidence(raw_db, "e1", work, created_at=T0_PLUS_1S)
    raw_db.execute(
        "UPDATE blockers SET resolved_at = ?, resolved_by = 'ann', "
        "resolution = 'fixed' WHERE id = 'b1'",
        (now(raw_db),),
    )
    add_attempt(raw_db, "a1", work)
    assert raw_db.execute("SELECT id FROM attempts WHERE work_id = ?", (work,)).fetchall() == [
        ("a1",)
    ]


@pytest.mark.parametrize("reason", [None, ""])
def test_attempts_handoff_requires_reason(raw_db, work, reason):
    add_attempt(raw_db, "a1", work)
    end_attempt(raw_db, "a1")
    with raises(HANDOFF_REASON):
        add_attempt(raw_db, "a2", work, handoff_from_attempt_id="a1", handoff_reason=reason)
    add_attempt(raw_db, "a2", work, handoff_from_attempt_id="a1", handoff_reason="new shift")


def test_attempt_insert_precedence(raw_db, work):
    # RULES.md §1.9: handoff reason, then unresolved blockers, then the active attempt.
    add_attempt(raw_db, "a1", work)
    add_blocker(raw_db, "b1", work)
    with raises(HANDOFF_REASON):
        add_attempt(raw_db, "a2", work, handoff_from_attempt_id="a1")
    with raises(BLOCKED_CLAIM):
        add_attempt(raw_db, "a2", work, handoff_from_attempt_id="a1", handoff_reason="why")
    with raises(BLOCKED_CLAIM):
        add_attempt(raw_db, "a2", work)


# -- attempts: outcome rules -------------------------------------------------------------
def set_outcome(conn, attempt_id: str, outcome: str) -> None:
    conn.execute(
        "UPDATE attempts SET outcome = ?, ended_at = ? WHERE id = ?",
        (outcome, now(conn), attempt_id),
    )


def outcome(conn, attempt_id: str) -> str | None:
    return scalar(conn, "SELECT outcome FROM attempts WHERE id = ?", (attempt_id,))


def test_attempts_completion_requires_evidence(raw_db, work):
    add_attempt(raw_db, "a1", work)
    add_attempt(raw_db, "v1", "V")
    add_evidence(raw_db, "e-other", "V", attempt_id="v1")  # another attempt's evidence
    add_evidence(raw_db, "e-work", work)  # on the work item, but not on this attempt
    with raises(NEEDS_EVIDENCE):
        set_outcome(raw_db, "a1", "completed")
    assert outcome(raw_db, "a1") is None
    add_evidence(raw_db, "e1", work, attempt_id="a1")
    set_outcome(raw_db, "a1", "completed")
    assert outcome(raw_db, "a1") == "completed"


def test_completion_from_a_non_null_outcome_is_not_checked(raw_db, work):
    add_attempt(raw_db, "a1", work)
    set_outcome(raw_db, "a1", "failed")
    set_outcome(raw_db, "a1", "completed")
    assert outcome(raw_db, "a1") == "completed"


def test_attempts_blocked_requires_blocker(raw_db, work):
    add_attempt(raw_db, "a1", work)
    add_blocker(raw_db, "b-work", work)  # on the work item, not on this attempt
    add_blocker(raw_db, "b-resolved", work, attempt_id="a1", created_at=T0)
    add_evidence(raw_db, "e1", work, created_at=T0_PLUS_1S)
    raw_db.execute(
        "UPDATE blockers SET resolved_at = ?, resolution = 'done' WHERE id = 'b-resolved'",
        (now(raw_db),),
    )
    with raises(NEEDS_BLOCKER):
        set_outcome(raw_db, "a1", "blocked")
    add_blocker(raw_db, "b-open", work, attempt_id="a1")
    set_outcome(raw_db, "a1", "blocked")
    assert outcome(raw_db, "a1") == "blocked"


def test_outcome_rules_only_run_when_outcome_is_set(raw_db, work):
    add_attempt(raw_db, "a1", work)
    raw_db.execute("UPDATE attempts SET notes = 'still going' WHERE id = 'a1'")
    set_outcome(raw_db, "a1", "handed_off")  # neither completed nor blocked: not checked
    assert outcome(raw_db, "a1") == "handed_off"


# -- blockers ----------------------------------------------------------------------------
def resolve(conn, blocker_id: str, resolution: str | None = "fixed it", **extra) -> None:
    sets = {"resolved_at": now(conn), "resolved_by": "user:ann", "resolution": resolution, **extra}
    assignments = ", ".join(f"{column} = ?" for column in sets)
    conn.execute(f"UPDATE blockers SET {assignments} WHERE id = ?", (*sets.values(), blocker_id))


def resolved_at(conn, blocker_id: str) -> str | None:
    return scalar(conn, "SELECT resolved_at FROM blockers WHERE id = ?", (blocker_id,))


@pytest.mark.parametrize("resolution", [None, ""])
def test_resolution_requires_an_explanation(raw_db, work, resolution):
    add_blocker(raw_db, "b1", work, created_at=T0)
    add_decision(raw_db, "waiver", work, "waiver", decided_at=T0_PLUS_1S)
    with raises(NEEDS_EXPLANATION):
        resolve(raw_db, "b1", resolution)
    assert resolved_at(raw_db, "b1") is None


def test_explanation_is_checked_before_justification(raw_db, work):
    add_blocker(raw_db, "b1", work, created_at=T0)
    with raises(NEEDS_EXPLANATION):
        resolve(raw_db, "b1", None)
    with raises(NEEDS_JUSTIFICATION):
        resolve(raw_db, "b1", "because")


def test_resolution_set_by_an_earlier_update_counts(raw_db, work):
    add_blocker(raw_db, "b1", work, created_at=T0)
    add_evidence(raw_db, "e1", work, created_at=T0_PLUS_1S)
    # Setting resolution alone (no resolved_at) is not checked at all.
    raw_db.execute("UPDATE blockers SET resolution = 'explained earlier' WHERE id = 'b1'")
    raw_db.execute("UPDATE blockers SET resolved_at = ? WHERE id = 'b1'", (now(raw_db),))
    assert resolved_at(raw_db, "b1") is not None


def test_evidence_in_the_same_second_is_ignored(raw_db, work):
    add_blocker(raw_db, "b1", work, created_at=T0)
    add_evidence(raw_db, "same-second", work, created_at=T0)
    add_evidence(raw_db, "earlier", work, created_at=OLD)
    add_evidence(raw_db, "other-work", "V", created_at=FUTURE)
    with raises(NEEDS_JUSTIFICATION):
        resolve(raw_db, "b1")
    add_evidence(raw_db, "later", work, created_at=T0_PLUS_1S)
    resolve(raw_db, "b1")
    assert resolved_at(raw_db, "b1") is not None


def test_a_later_waiver_justifies_resolution(raw_db, work):
    add_blocker(raw_db, "b1", work, created_at=T0)
    add_decision(raw_db, "same-second", work, "waiver", decided_at=T0)
    add_decision(raw_db, "not-a-waiver", work, "approval", decided_at=T0_PLUS_1S)
    add_decision(raw_db, "other-work", "V", "waiver", decided_at=T0_PLUS_1S)
    with raises(NEEDS_JUSTIFICATION):
        resolve(raw_db, "b1")
    add_decision(raw_db, "waiver", work, "waiver", decided_at=T0_PLUS_1S)
    resolve(raw_db, "b1")
    assert resolved_at(raw_db, "b1") is not None


def test_legacy_kernel_logs_do_not_justify_resolution(raw_db, work):
    add_blocker(raw_db, "b1", work, created_at=T0)
    insert(
        raw_db,
        "kernel_evidence",
        id="ke",
        work_id=work,
        evidence_type="log",
        created_by="agent:x",
        created_at=T0_PLUS_1S,
    )
    insert(
        raw_db,
        "kernel_decisions",
        id="kd",
        work_id=work,
        decision_type="waiver",
        decision_summary="waived",
        decided_by="ann",
        decided_at=T0_PLUS_1S,
    )
    with raises(NEEDS_JUSTIFICATION):
        resolve(raw_db, "b1")


def test_justification_uses_the_blockers_values_before_the_update(raw_db, work):
    add_blocker(raw_db, "b1", work, created_at=T0)
    add_evidence(raw_db, "e-v", "V", created_at=T0_PLUS_1S)
    # Moving the blocker to V in the same UPDATE does not make V's evidence count.
    with raises(NEEDS_JUSTIFICATION):
        resolve(raw_db, "b1", work_id="V")


@pytest.fixture
def resolved_blocker(raw_db, work) -> str:
    add_blocker(raw_db, "b1", work, created_at=T0)
    add_evidence(raw_db, "e1", work, created_at=T0_PLUS_1S)
    resolve(raw_db, "b1", "first answer")
    return "b1"


@pytest.mark.parametrize(
    "assignment",
    [
        "resolved_at = resolved_at",  # even the same value again
        "resolved_by = 'user:bo'",
        "resolution = 'second answer'",
        "resolved_at = NULL",
    ],
)
def test_blockers_resolution_immutable(raw_db, resolved_blocker, assignment):
    before = one(raw_db, "SELECT resolved_at, resolved_by, resolution FROM blockers")
    with raises(RESOLUTION_FROZEN):
        raw_db.execute(f"UPDATE blockers SET {assignment} WHERE id = ?", (resolved_blocker,))
    assert one(raw_db, "SELECT resolved_at, resolved_by, resolution FROM blockers") == before


def test_resolved_blockers_keep_other_columns_editable_and_deletable(raw_db, resolved_blocker):
    raw_db.execute(
        "UPDATE blockers SET title = 'renamed', needs = 'x' WHERE id = ?", (resolved_blocker,)
    )
    assert scalar(raw_db, "SELECT title FROM blockers") == "renamed"
    raw_db.execute("DELETE FROM blockers WHERE id = ?", (resolved_blocker,))
    assert scalar(raw_db, "SELECT count(*) FROM blockers") == 0


# -- leases ------------------------------------------------------------------------------
# (mode already active on the resource, new mode) -> expected error or None
MATRIX = {
    ("read", "read"): None,
    ("read", "write"): None,
    ("read", "exclusive"): EXCLUSIVE_BUSY,
    ("write", "read"): None,
    ("write", "write"): None,
    ("write", "exclusive"): EXCLUSIVE_BUSY,
    ("exclusive", "read"): ANY_BLOCKED,
    ("exclusive", "write"): ANY_BLOCKED,  # leases_any_check runs before leases_write_check
    ("exclusive", "exclusive"): EXCLUSIVE_BUSY,
}


@pytest.mark.parametrize(("held", "wanted"), MATRIX)
def test_lease_compatibility_matrix(raw_db, held, wanted):
    add_lease(raw_db, "held", held)
    message = MATRIX[held, wanted]
    if message is None:
        add_lease(raw_db, "new", wanted)
        assert scalar(raw_db, "SELECT count(*) FROM leases") == 2
    else:
        with raises(message):
            add_lease(raw_db, "new", wanted)
        assert scalar(raw_db, "SELECT count(*) FROM leases") == 1


@pytest.mark.parametrize("held", ["read", "write", "exclusive"])
@pytest.mark.parametrize("wanted", ["read", "write", "exclusive"])
@pytest.mark.parametrize("inactive", ["expired", "released", "other resource", "other type"])
def test_inactive_or_unrelated_leases_do_not_count(raw_db, held, wanted, inactive):
    options = {
        "expired": {"expires_at": now(raw_db, "-1 second")},
        "released": {"released_at": now(raw_db)},
        "other resource": {"resource_id": "res-2"},
        "other type": {"resource_type": "table"},
    }
    add_lease(raw_db, "held", held, **options[inactive])
    add_lease(raw_db, "new", wanted)
    assert scalar(raw_db, "SELECT count(*) FROM leases") == 2


def test_a_lease_expiring_now_is_no_longer_active(raw_db):
    # Active means expires_at > now (text): a lease expiring this very second does not count.
    raw_db.execute(
        "INSERT INTO leases (id, resource_type, resource_id, mode, worker_id, ttl_seconds, "
        "expires_at) VALUES ('held', 'file', 'res-1', 'exclusive', 'w', 0, ?)",
        (now(raw_db),),
    )
    add_lease(raw_db, "new", "exclusive", expires_at=now(raw_db, "+1 hour"))
    assert raw_db.execute("SELECT id FROM leases ORDER BY id").fetchall() == [
        ("held",),
        ("new",),
    ]


def test_leases_write_check_rejects_a_write_over_an_exclusive_lease(raw_db):
    # Shadowed by leases_any_check (RULES.md §1.9); without it, its own message shows.
    add_lease(raw_db, "held", "exclusive")
    raw_db.execute("DROP TRIGGER leases_any_check" + (" ON leases" if POSTGRESQL else ""))
    with raises(WRITE_BLOCKED):
        add_lease(raw_db, "new", "write")
    add_lease(raw_db, "reader", "read")  # write_check only looks at write leases


# -- concurrency (PostgreSQL) ------------------------------------------------------------
# SQLite lets one writer in at a time, so its check-then-insert triggers cannot race. On
# PostgreSQL (READ COMMITTED) they could, and the trigger functions serialize on an advisory
# lock ('work:<id>', 'lease:<type>:<id>'). Here RACERS transactions, each on its own
# connection, insert at the same moment and hold their transaction open a little while
# before COMMIT, so without the lock every one of them would get in.
RACERS = 32


def race(url: str, inserts: list) -> list:
    """Run ``inserts[i](conn)`` in thread i inside BEGIN ... COMMIT on a connection of its own,
    all released together; returns, per thread, None (committed) or the exception."""
    connections = [PgConnection(url) for _ in inserts]
    start = threading.Barrier(len(inserts))
    results: list = [None] * len(inserts)

    def run(i: int) -> None:
        conn = connections[i]
        try:
            conn.execute("BEGIN")
            start.wait(timeout=60)
            inserts[i](conn)
            time.sleep(0.2)  # keep the row uncommitted while the others check
            conn.execute("COMMIT")
        except Exception as exc:  # noqa: BLE001 - reported per thread
            results[i] = exc
            conn.execute("ROLLBACK")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(inserts))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads), "a racer hangs"
    finally:
        for conn in connections:
            conn.close()
    return results


def assert_one_winner(results: list, message: str) -> None:
    winners = [r for r in results if r is None]
    losers = [r for r in results if r is not None]
    assert len(winners) == 1, f"{len(winners)} transactions got in"
    for exc in losers:
        assert isinstance(exc, sqlite3.IntegrityError), repr(exc)
        assert str(exc) == message


@pytest.mark.postgresql_only
def test_concurrent_claims_on_one_work_item_admit_exactly_one(raw_db, raw_db_path, work):
    claims = [
        lambda conn, i=i: add_attempt(conn, f"race-{i}", work, worker_id=f"worker-{i}")
        for i in range(RACERS)
    ]
    assert_one_winner(race(raw_db_path, claims), DOUBLE_CLAIM)
    assert scalar(raw_db, "SELECT count(*) FROM attempts WHERE ended_at IS NULL") == 1


@pytest.mark.postgresql_only
def test_concurrent_exclusive_leases_on_one_resource_admit_exactly_one(raw_db, raw_db_path):
    leases = [
        lambda conn, i=i: add_lease(conn, f"race-{i}", "exclusive", worker_id=f"worker-{i}")
        for i in range(RACERS)
    ]
    assert_one_winner(race(raw_db_path, leases), EXCLUSIVE_BUSY)
    assert scalar(raw_db, "SELECT count(*) FROM leases") == 1


@pytest.mark.postgresql_only
def test_concurrent_mixed_leases_never_share_a_resource_with_an_exclusive(raw_db, raw_db_path):
    modes = ["exclusive", "read", "write", "exclusive"] * (RACERS // 4)
    leases = [
        lambda conn, i=i, mode=mode: add_lease(conn, f"race-{i}", mode, worker_id=f"w-{i}")
        for i, mode in enumerate(modes)
    ]
    results = race(raw_db_path, leases)
    for exc in (r for r in results if r is not None):
        assert isinstance(exc, sqlite3.IntegrityError), repr(exc)
        assert str(exc) in (EXCLUSIVE_BUSY, ANY_BLOCKED)
    held = [mode for mode, r in zip(modes, results, strict=True) if r is None]
    assert held == ["exclusive"] or (held and "exclusive" not in held), held
    assert scalar(raw_db, "SELECT count(*) FROM leases") == len(held)
