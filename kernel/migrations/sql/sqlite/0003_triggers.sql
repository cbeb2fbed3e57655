-- kernel 0003: triggers on kernel tables (contract RULES.md §3).
--
-- Frozen SQL of migration kernel.0003: never edit after it has shipped; a change is a new
-- migration with its own file. Each trigger is dropped first so that running this file on a
-- database created by the upstream tool replaces the tool's own definitions.
--
-- Triggers are created in ascending schema.json `creation_order` (53..74); SQLite runs the
-- most recently created trigger first (RULES.md §1.9), which gives:
--   attempts BEFORE INSERT: handoff_requires_reason, no_claim_blocked, then no_double_claim
--   leases BEFORE INSERT:   any_check, write_check, then exclusive_check
--
-- Timestamps are compared as text; they must be written as datetime('now') writes them
-- (RULES.md §1.3).

-- 53, 54. compiled_contracts is write-once.
DROP TRIGGER IF EXISTS compiled_contracts_no_update;
CREATE TRIGGER compiled_contracts_no_update
BEFORE UPDATE ON compiled_contracts
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Compiled contracts are immutable');
END;

DROP TRIGGER IF EXISTS compiled_contracts_no_delete;
CREATE TRIGGER compiled_contracts_no_delete
BEFORE DELETE ON compiled_contracts
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Compiled contracts cannot be deleted');
END;

-- 55. One active attempt (ended_at NULL) per work item, handoffs included.
DROP TRIGGER IF EXISTS attempts_no_double_claim;
CREATE TRIGGER attempts_no_double_claim
BEFORE INSERT ON attempts
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Work already has active attempt. Use handoff instead of new claim.')
    WHERE EXISTS (
        SELECT 1 FROM attempts WHERE work_id = NEW.work_id AND ended_at IS NULL
    );
END;

-- 56. No claim while the work has an unresolved blocker, whatever its severity.
DROP TRIGGER IF EXISTS attempts_no_claim_blocked;
CREATE TRIGGER attempts_no_claim_blocked
BEFORE INSERT ON attempts
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Work has unresolved blockers. Resolve blockers before claiming.')
    WHERE EXISTS (
        SELECT 1 FROM blockers WHERE work_id = NEW.work_id AND resolved_at IS NULL
    );
END;

-- 57. A handoff must say why.
DROP TRIGGER IF EXISTS attempts_handoff_requires_reason;
CREATE TRIGGER attempts_handoff_requires_reason
BEFORE INSERT ON attempts
FOR EACH ROW
WHEN NEW.handoff_from_attempt_id IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Handoff requires explanation in handoff_reason field')
    WHERE NEW.handoff_reason IS NULL OR NEW.handoff_reason = '';
END;

-- 58. outcome NULL -> completed needs evidence recorded against this attempt.
DROP TRIGGER IF EXISTS attempts_completion_requires_evidence;
CREATE TRIGGER attempts_completion_requires_evidence
BEFORE UPDATE OF outcome ON attempts
FOR EACH ROW
WHEN NEW.outcome = 'completed' AND OLD.outcome IS NULL
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Cannot mark attempt completed without evidence. Use record_evidence() first.')
    WHERE NOT EXISTS (SELECT 1 FROM evidence WHERE attempt_id = NEW.id);
END;

-- 59. outcome NULL -> blocked needs an unresolved blocker recorded against this attempt.
DROP TRIGGER IF EXISTS attempts_blocked_requires_blocker;
CREATE TRIGGER attempts_blocked_requires_blocker
BEFORE UPDATE OF outcome ON attempts
FOR EACH ROW
WHEN NEW.outcome = 'blocked' AND OLD.outcome IS NULL
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Cannot mark attempt blocked without blocker record. Use create_blocker() first.')
    WHERE NOT EXISTS (
        SELECT 1 FROM blockers WHERE attempt_id = NEW.id AND resolved_at IS NULL
    );
END;

-- 60, 61. decisions are append-only; corrections supersede.
DROP TRIGGER IF EXISTS decisions_no_update;
CREATE TRIGGER decisions_no_update
BEFORE UPDATE ON decisions
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Decision records are immutable. Create a new decision with supersedes_decision_id instead.');
END;

DROP TRIGGER IF EXISTS decisions_no_delete;
CREATE TRIGGER decisions_no_delete
BEFORE DELETE ON decisions
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Decision records cannot be deleted.');
END;

-- 62, 63. evidence is append-only.
DROP TRIGGER IF EXISTS evidence_no_update;
CREATE TRIGGER evidence_no_update
BEFORE UPDATE ON evidence
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Evidence records are immutable. Create new evidence instead.');
END;

DROP TRIGGER IF EXISTS evidence_no_delete;
CREATE TRIGGER evidence_no_delete
BEFORE DELETE ON evidence
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Evidence records cannot be deleted.');
END;

-- 64. Once resolved, a blocker's resolution fields are frozen (even the same value again).
DROP TRIGGER IF EXISTS blockers_resolution_immutable;
CREATE TRIGGER blockers_resolution_immutable
BEFORE UPDATE OF resolved_at, resolved_by, resolution ON blockers
FOR EACH ROW
WHEN OLD.resolved_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Blocker resolution is immutable');
END;

-- 65. Resolving (resolved_at NULL -> non-NULL) needs a resolution text (as it will be after
-- this UPDATE), then evidence or a waiver decision on the same work item strictly later than
-- the blocker's creation (values before the UPDATE).
DROP TRIGGER IF EXISTS blockers_resolution_requires_justification;
CREATE TRIGGER blockers_resolution_requires_justification
BEFORE UPDATE OF resolved_at ON blockers
FOR EACH ROW
WHEN OLD.resolved_at IS NULL AND NEW.resolved_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Blocker resolution requires explanation in resolution field')
    WHERE NEW.resolution IS NULL OR NEW.resolution = '';

    SELECT RAISE(ABORT, 'KERNEL: Blocker resolution requires evidence or waiver decision')
    WHERE NOT EXISTS (
            SELECT 1 FROM evidence
            WHERE work_id = OLD.work_id AND created_at > OLD.created_at
        )
      AND NOT EXISTS (
            SELECT 1 FROM decisions
            WHERE work_id = OLD.work_id
              AND decision_type = 'waiver'
              AND decided_at > OLD.created_at
        );
END;

-- 66..71. Legacy append-only logs.
DROP TRIGGER IF EXISTS kernel_decisions_no_update;
CREATE TRIGGER kernel_decisions_no_update
BEFORE UPDATE ON kernel_decisions
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Decision records are immutable. Create a new decision with supersedes_decision_id instead.');
END;

DROP TRIGGER IF EXISTS kernel_decisions_no_delete;
CREATE TRIGGER kernel_decisions_no_delete
BEFORE DELETE ON kernel_decisions
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Decision records cannot be deleted.');
END;

DROP TRIGGER IF EXISTS kernel_evidence_no_update;
CREATE TRIGGER kernel_evidence_no_update
BEFORE UPDATE ON kernel_evidence
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Evidence records are immutable. Create new evidence instead.');
END;

DROP TRIGGER IF EXISTS kernel_evidence_no_delete;
CREATE TRIGGER kernel_evidence_no_delete
BEFORE DELETE ON kernel_evidence
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Evidence records cannot be deleted.');
END;

DROP TRIGGER IF EXISTS kernel_outcomes_no_update;
CREATE TRIGGER kernel_outcomes_no_update
BEFORE UPDATE ON kernel_outcomes
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Outcome records are immutable.');
END;

DROP TRIGGER IF EXISTS kernel_outcomes_no_delete;
CREATE TRIGGER kernel_outcomes_no_delete
BEFORE DELETE ON kernel_outcomes
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Outcome records cannot be deleted.');
END;

-- 72..74. Lease compatibility. A lease is active while released_at IS NULL and
-- expires_at > now (text comparison). leases_any_check runs first, so a read or write over an
-- active exclusive lease reports its message; leases_write_check's is never seen.
DROP TRIGGER IF EXISTS leases_exclusive_check;
CREATE TRIGGER leases_exclusive_check
BEFORE INSERT ON leases
FOR EACH ROW
WHEN NEW.mode = 'exclusive'
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Cannot acquire exclusive lease - resource has active leases')
    WHERE EXISTS (
        SELECT 1 FROM leases
        WHERE resource_type = NEW.resource_type
          AND resource_id = NEW.resource_id
          AND released_at IS NULL
          AND expires_at > datetime('now')
    );
END;

DROP TRIGGER IF EXISTS leases_write_check;
CREATE TRIGGER leases_write_check
BEFORE INSERT ON leases
FOR EACH ROW
WHEN NEW.mode = 'write'
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Cannot acquire write lease - exclusive lease active')
    WHERE EXISTS (
        SELECT 1 FROM leases
        WHERE resource_type = NEW.resource_type
          AND resource_id = NEW.resource_id
          AND mode = 'exclusive'
          AND released_at IS NULL
          AND expires_at > datetime('now')
    );
END;

DROP TRIGGER IF EXISTS leases_any_check;
CREATE TRIGGER leases_any_check
BEFORE INSERT ON leases
FOR EACH ROW
WHEN NEW.mode IN ('read', 'write')
BEGIN
    SELECT RAISE(ABORT, 'KERNEL: Cannot acquire lease - exclusive lease active on resource')
    WHERE EXISTS (
        SELECT 1 FROM leases
        WHERE resource_type = NEW.resource_type
          AND resource_id = NEW.resource_id
          AND mode = 'exclusive'
          AND released_at IS NULL
          AND expires_at > datetime('now')
    );
END;
