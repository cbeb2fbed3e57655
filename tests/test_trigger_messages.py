"""Every message a contract trigger raises, produced verbatim by the database for the write
that offends it: one table, run on SQLite (``make test``) and on PostgreSQL (``make
test-postgres``), over the contract's trigger list (schema.json, the machine form of RULES.md).

Each case builds the smallest state that makes one rule refuse one write, through the raw
connection (as the `motus` tool would write), and names the message it expects. A contract
message without a case fails :func:`test_every_contract_message_has_a_case`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import backends
import pytest
from kernel_rows import (
    CONTRACT,
    add_attempt,
    add_blocker,
    add_decision,
    add_evidence,
    add_item,
    add_lease,
    depend,
    insert,
    now,
    scalar,
)

#: A copy of ../shared/contract/RULES.md, as tests/data/schema.json is of schema.json.
RULES = Path(__file__).resolve().parent / "data" / "RULES.md"


def _audit(conn):
    insert(conn, "audit_log", event_type="t", actor="user:t", action="a", instance_id="i")
    return scalar(conn, "SELECT MAX(id) FROM audit_log")


def _compliance(conn):
    insert(conn, "programs", id="P", name="Program")
    insert(conn, "products", id="PR", program_id="P", name="Product")
    insert(conn, "releases", id="R", product_id="PR", name="1.0")
    insert(
        conn,
        "standards",
        id="S",
        name="Standard",
        level_key="required",
        check_type_key="manual",
        failure_message="no",
    )
    return insert(
        conn,
        "compliance_results",
        standard_id="S",
        release_id="R",
        entity_type="release",
        entity_id="R",
        result="pass",
        checked_by="user:t",
    )


def _version(conn):
    return insert(
        conn,
        "entity_versions",
        entity_type="program",
        entity_id="P",
        version=1,
        data="{}",
        changed_by="user:t",
    )


def _kernel_decision(conn):
    insert(
        conn,
        "kernel_decisions",
        id="kd",
        decision_type="approval",
        decision_summary="ok",
        decided_by="user:t",
    )


def _kernel_evidence(conn):
    insert(conn, "kernel_evidence", id="ke", evidence_type="log", created_by="user:t")


def _kernel_outcome(conn):
    insert(conn, "kernel_outcomes", id="ko", outcome_type="done", created_by="user:t")


def _claim(conn, status, claim_type="qualitative"):
    insert(
        conn,
        "claims",
        id=f"c-{status}-{claim_type}",
        claim_text="Pages load fast",
        page="/",
        claim_type=claim_type,
        test_function="test_pages_load_fast",
        test_status=status,
    )


def _deploy(conn):
    insert(conn, "deployment_events", target="website", version="1.0")


def _full_phase(conn):
    for n in range(50):
        add_item(conn, f"I{n}", phase="full")
    add_item(conn, "X", phase="full")


def _cycle(conn):
    add_item(conn, "A")
    add_item(conn, "B")
    depend(conn, "A", "B")
    depend(conn, "B", "A")


def _start_blocked(conn):
    add_item(conn, "A")
    add_item(conn, "B")
    depend(conn, "A", "B")
    conn.execute("UPDATE roadmap_items SET status_key = 'in_progress' WHERE id = 'A'")


def _reopen_completed(conn):
    add_item(conn, "A", status="completed")
    conn.execute("UPDATE roadmap_items SET status_key = 'pending' WHERE id = 'A'")


def _contract(conn):
    insert(conn, "compiled_contracts", contract_hash="h", compiled_json="{}")


def _double_claim(conn):
    add_item(conn, "W")
    add_attempt(conn, "a1", "W")
    add_attempt(conn, "a2", "W")


def _claim_blocked(conn):
    add_item(conn, "W")
    add_blocker(conn, "b1", "W")
    add_attempt(conn, "a1", "W")


def _handoff_without_reason(conn):
    add_item(conn, "W")
    add_attempt(conn, "a1", "W")
    conn.execute(f"UPDATE attempts SET outcome = 'handed_off', ended_at = {NOW} WHERE id = 'a1'")
    add_attempt(conn, "a2", "W", handoff_from_attempt_id="a1")


def _complete_without_evidence(conn):
    add_item(conn, "W")
    add_attempt(conn, "a1", "W")
    conn.execute("UPDATE attempts SET outcome = 'completed' WHERE id = 'a1'")


def _block_without_blocker(conn):
    add_item(conn, "W")
    add_attempt(conn, "a1", "W")
    conn.execute("UPDATE attempts SET outcome = 'blocked' WHERE id = 'a1'")


def _decision(conn):
    add_item(conn, "W")
    add_decision(conn, "d1", "W")


def _evidence(conn):
    add_item(conn, "W")
    add_evidence(conn, "e1", "W")


def _blocker(conn, **extra):
    add_item(conn, "W")
    add_blocker(conn, "b1", "W", created_at="2024-05-01 10:00:00", **extra)


def _resolve_twice(conn):
    _blocker(conn)
    add_decision(conn, "d1", "W", decision_type="waiver")
    conn.execute(
        f"UPDATE blockers SET resolved_at = {NOW}, resolved_by = 'user:t', resolution = 'ok' "
        "WHERE id = 'b1'"
    )
    conn.execute("UPDATE blockers SET resolution = 'changed' WHERE id = 'b1'")


def _resolve_without_explanation(conn):
    _blocker(conn)
    conn.execute(f"UPDATE blockers SET resolved_at = {NOW}, resolved_by = 'user:t' WHERE id = 'b1'")


def _resolve_without_justification(conn):
    _blocker(conn)
    conn.execute(
        f"UPDATE blockers SET resolved_at = {NOW}, resolved_by = 'user:t', resolution = 'ok' "
        "WHERE id = 'b1'"
    )


def _lease_over(conn, mode_held, mode_wanted):
    add_lease(conn, "l1", mode_held)
    add_lease(conn, "l2", mode_wanted)


NOW = "motus_now()" if backends.POSTGRESQL else "datetime('now')"


def update(table, where="1 = 1"):
    return lambda conn, key: conn.execute(f"UPDATE {table} SET {key} WHERE {where}")


def _update(table, assignment):
    return lambda conn: conn.execute(f"UPDATE {table} SET {assignment}")


def _delete(table):
    return lambda conn: conn.execute(f"DELETE FROM {table}")


#: (trigger, message, build the state, the offending write). ``None`` as the write: the
#: build step itself makes it (its last statement is refused).
CASES = [
    ("audit_log_immutable", "Audit log entries are immutable",
     _audit, _update("audit_log", "actor = 'user:x'")),
    ("audit_log_no_delete", "Audit log entries cannot be deleted",
     _audit, _delete("audit_log")),
    ("compliance_immutable", "Compliance results are immutable",
     _compliance, _update("compliance_results", "result = 'fail'")),
    ("compliance_no_delete", "Compliance results cannot be deleted",
     _compliance, _delete("compliance_results")),
    ("entity_versions_immutable", "Entity version history is immutable",
     _version, _update("entity_versions", "changed_by = 'user:x'")),
    ("entity_versions_no_delete", "Entity version history cannot be deleted",
     _version, _delete("entity_versions")),
    ("roadmap_dep_no_cycles", "Circular dependency detected", _cycle, None),
    ("roadmap_status_check_deps", "Cannot start: blocking dependencies not complete",
     _start_blocked, None),
    ("enforce_completed_immutable", "POLICY: Completed items cannot be modified",
     _reopen_completed, None),
    ("enforce_deploy_gate",
     "POLICY-001: Cannot deploy - failed claims exist. Run: pytest -k claim",
     lambda conn: _claim(conn, "fail"), lambda conn: _deploy(conn)),
    ("enforce_deploy_gate",
     "POLICY-002: Cannot deploy - pending quantitative claims. Run: MOTUS_TRACK_CLAIMS=1 "
     "pytest -k claim",
     lambda conn: _claim(conn, "pending", "quantitative"), lambda conn: _deploy(conn)),
    ("enforce_phase_limit", "POLICY: Maximum 50 active items per phase", _full_phase, None),
    ("compiled_contracts_no_update", "KERNEL: Compiled contracts are immutable",
     _contract, _update("compiled_contracts", "compiled_json = '[]'")),
    ("compiled_contracts_no_delete", "KERNEL: Compiled contracts cannot be deleted",
     _contract, _delete("compiled_contracts")),
    ("attempts_no_double_claim",
     "KERNEL: Work already has active attempt. Use handoff instead of new claim.",
     _double_claim, None),
    ("attempts_no_claim_blocked",
     "KERNEL: Work has unresolved blockers. Resolve blockers before claiming.",
     _claim_blocked, None),
    ("attempts_handoff_requires_reason",
     "KERNEL: Handoff requires explanation in handoff_reason field",
     _handoff_without_reason, None),
    ("attempts_completion_requires_evidence",
     "KERNEL: Cannot mark attempt completed without evidence. Use record_evidence() first.",
     _complete_without_evidence, None),
    ("attempts_blocked_requires_blocker",
     "KERNEL: Cannot mark attempt blocked without blocker record. Use create_blocker() first.",
     _block_without_blocker, None),
    ("decisions_no_update",
     "KERNEL: Decision records are immutable. Create a new decision with "
     "supersedes_decision_id instead.",
     _decision, _update("decisions", "rationale = 'x'")),
    ("decisions_no_delete", "KERNEL: Decision records cannot be deleted.",
     _decision, _delete("decisions")),
    ("evidence_no_update", "KERNEL: Evidence records are immutable. Create new evidence instead.",
     _evidence, _update("evidence", "uri = 'file:///x'")),
    ("evidence_no_delete", "KERNEL: Evidence records cannot be deleted.",
     _evidence, _delete("evidence")),
    ("blockers_resolution_immutable", "KERNEL: Blocker resolution is immutable",
     _resolve_twice, None),
    ("blockers_resolution_requires_justification",
     "KERNEL: Blocker resolution requires explanation in resolution field",
     _resolve_without_explanation, None),
    ("blockers_resolution_requires_justification",
     "KERNEL: Blocker resolution requires evidence or waiver decision",
     _resolve_without_justification, None),
    ("kernel_decisions_no_update",
     "KERNEL: Decision records are immutable. Create a new decision with "
     "supersedes_decision_id instead.",
     _kernel_decision, _update("kernel_decisions", "decision_summary = 'x'")),
    ("kernel_decisions_no_delete", "KERNEL: Decision records cannot be deleted.",
     _kernel_decision, _delete("kernel_decisions")),
    ("kernel_evidence_no_update",
     "KERNEL: Evidence records are immutable. Create new evidence instead.",
     _kernel_evidence, _update("kernel_evidence", "created_by = 'user:x'")),
    ("kernel_evidence_no_delete", "KERNEL: Evidence records cannot be deleted.",
     _kernel_evidence, _delete("kernel_evidence")),
    ("kernel_outcomes_no_update", "KERNEL: Outcome records are immutable.",
     _kernel_outcome, _update("kernel_outcomes", "created_by = 'user:x'")),
    ("kernel_outcomes_no_delete", "KERNEL: Outcome records cannot be deleted.",
     _kernel_outcome, _delete("kernel_outcomes")),
    ("leases_exclusive_check",
     "KERNEL: Cannot acquire exclusive lease - resource has active leases",
     lambda conn: _lease_over(conn, "read", "exclusive"), None),
    ("leases_any_check", "KERNEL: Cannot acquire lease - exclusive lease active on resource",
     lambda conn: _lease_over(conn, "exclusive", "read"), None),
]  # fmt: skip

#: Contract messages no write can produce, because another trigger on the same write fires
#: first and says something else (RULES.md 1.9): checked to be in the trigger's own code.
SHADOWED = {
    ("leases_write_check", "KERNEL: Cannot acquire write lease - exclusive lease active"): (
        "leases_any_check",
        "KERNEL: Cannot acquire lease - exclusive lease active on resource",
        lambda conn: _lease_over(conn, "exclusive", "write"),
    ),
}


def _contract_messages() -> set[tuple[str, str]]:
    return {(t["name"], m) for t in CONTRACT["triggers"] for m in t["raises"]}


def test_every_contract_message_has_a_case():
    covered = {(name, message) for name, message, _, _ in CASES} | set(SHADOWED)
    assert covered == _contract_messages()


def test_every_message_is_the_one_rules_md_states():
    rules = RULES.read_text()
    missing = [m for _, m in _contract_messages() if m not in rules]
    assert missing == []


def _refused(conn, build, write) -> str:
    with pytest.raises(sqlite3.IntegrityError) as refused:
        build(conn)
        if write is not None:
            write(conn)
    return str(refused.value)


@pytest.mark.parametrize(
    ("trigger", "message", "build", "write"),
    CASES,
    ids=[f"{name}-{i}" for i, (name, *_) in enumerate(CASES)],
)
def test_the_offending_write_gets_the_message_verbatim(raw_db, trigger, message, build, write):
    assert _refused(raw_db, build, write) == message


@pytest.mark.parametrize(("trigger", "message"), sorted(SHADOWED))
def test_a_shadowed_message_is_in_its_trigger_and_the_first_trigger_answers(
    raw_db, trigger, message
):
    first_trigger, first_message, build = SHADOWED[(trigger, message)]
    assert _refused(raw_db, build, None) == first_message
    if backends.POSTGRESQL:
        code = scalar(raw_db, "SELECT prosrc FROM pg_proc WHERE proname = ?", (trigger,))
    else:
        code = scalar(raw_db, "SELECT sql FROM sqlite_master WHERE name = ?", (trigger,))
    assert message in code


def test_now_is_the_contract_text(raw_db):
    """The cases above compare the database's own clock text; both backends give one form."""
    text = scalar(raw_db, f"SELECT {NOW}")
    assert len(text) == 19 and text[10] == " " and text == now(raw_db)[:19]
