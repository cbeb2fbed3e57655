-- PostgreSQL counterpart of ../sqlite/0003_triggers.sql
-- kernel 0003: triggers on kernel tables (contract RULES.md §3), same names, tables, timing,
-- events, UPDATE OF columns and messages as the SQLite file. Each trigger is a function of
-- the same name (RAISE ... ERRCODE '23000' = SQLite's RAISE(ABORT)) plus the trigger itself,
-- dropped first so that the file can be re-run.
--
-- Firing order: PostgreSQL runs same-event triggers alphabetically by name, SQLite the most
-- recently created first (RULES.md §1.9). Here both give the same order:
--   attempts BEFORE INSERT: handoff_requires_reason, no_claim_blocked, no_double_claim
--   leases BEFORE INSERT:   any_check, then exclusive_check or write_check (these two never
--                           both fire: one needs mode 'exclusive', the other 'write'), so a
--                           write over an exclusive lease still reports leases_any_check's message
--   attempts / blockers BEFORE UPDATE: their conditions exclude each other.
--
-- Concurrency: SQLite has one writer at a time; PostgreSQL (READ COMMITTED) does not. The
-- checks "no other active attempt / unresolved blocker on this work item" and "no
-- conflicting active lease on this resource" first take a transaction-scoped advisory lock
-- named after what they protect ('work:<work_id>', 'lease:<type>:<id>'; the same key
-- system.sql.serialize takes), so a second writer waits for the first to commit and its
-- next SELECT then sees the first writer's row.
--
-- Timestamps are compared as text, COLLATE "C" (byte order, as SQLite's BINARY), whatever the
-- database's collation; motus_now() is datetime('now') (system 0002).

-- 53, 54. compiled_contracts is write-once.
CREATE OR REPLACE FUNCTION compiled_contracts_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'KERNEL: Compiled contracts are immutable';
END $$;
DROP TRIGGER IF EXISTS compiled_contracts_no_update ON compiled_contracts;
CREATE TRIGGER compiled_contracts_no_update BEFORE UPDATE ON compiled_contracts FOR EACH ROW
  EXECUTE FUNCTION compiled_contracts_no_update();

CREATE OR REPLACE FUNCTION compiled_contracts_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'KERNEL: Compiled contracts cannot be deleted';
END $$;
DROP TRIGGER IF EXISTS compiled_contracts_no_delete ON compiled_contracts;
CREATE TRIGGER compiled_contracts_no_delete BEFORE DELETE ON compiled_contracts FOR EACH ROW
  EXECUTE FUNCTION compiled_contracts_no_delete();

-- 55. One active attempt (ended_at NULL) per work item, handoffs included.
CREATE OR REPLACE FUNCTION attempts_no_double_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('work:' || NEW.work_id, 0));
  IF EXISTS (SELECT 1 FROM attempts WHERE work_id = NEW.work_id AND ended_at IS NULL) THEN
    RAISE EXCEPTION USING ERRCODE = '23000',
      MESSAGE = 'KERNEL: Work already has active attempt. Use handoff instead of new claim.';
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS attempts_no_double_claim ON attempts;
CREATE TRIGGER attempts_no_double_claim BEFORE INSERT ON attempts FOR EACH ROW
  EXECUTE FUNCTION attempts_no_double_claim();

-- 56. No claim while the work has an unresolved blocker, whatever its severity.
CREATE OR REPLACE FUNCTION attempts_no_claim_blocked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('work:' || NEW.work_id, 0));
  IF EXISTS (SELECT 1 FROM blockers WHERE work_id = NEW.work_id AND resolved_at IS NULL) THEN
    RAISE EXCEPTION USING ERRCODE = '23000',
      MESSAGE = 'KERNEL: Work has unresolved blockers. Resolve blockers before claiming.';
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS attempts_no_claim_blocked ON attempts;
CREATE TRIGGER attempts_no_claim_blocked BEFORE INSERT ON attempts FOR EACH ROW
  EXECUTE FUNCTION attempts_no_claim_blocked();

-- 57. A handoff must say why.
CREATE OR REPLACE FUNCTION attempts_handoff_requires_reason() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.handoff_reason IS NULL OR NEW.handoff_reason = '' THEN
    RAISE EXCEPTION USING ERRCODE = '23000',
      MESSAGE = 'KERNEL: Handoff requires explanation in handoff_reason field';
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS attempts_handoff_requires_reason ON attempts;
CREATE TRIGGER attempts_handoff_requires_reason BEFORE INSERT ON attempts FOR EACH ROW
  WHEN (NEW.handoff_from_attempt_id IS NOT NULL)
  EXECUTE FUNCTION attempts_handoff_requires_reason();

-- 58. outcome NULL -> completed needs evidence recorded against this attempt.
CREATE OR REPLACE FUNCTION attempts_completion_requires_evidence() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM evidence WHERE attempt_id = NEW.id) THEN
    RAISE EXCEPTION USING ERRCODE = '23000',
      MESSAGE = 'KERNEL: Cannot mark attempt completed without evidence. Use record_evidence() first.';
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS attempts_completion_requires_evidence ON attempts;
CREATE TRIGGER attempts_completion_requires_evidence BEFORE UPDATE OF outcome ON attempts
  FOR EACH ROW WHEN (NEW.outcome = 'completed' AND OLD.outcome IS NULL)
  EXECUTE FUNCTION attempts_completion_requires_evidence();

-- 59. outcome NULL -> blocked needs an unresolved blocker recorded against this attempt.
CREATE OR REPLACE FUNCTION attempts_blocked_requires_blocker() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM blockers WHERE attempt_id = NEW.id AND resolved_at IS NULL) THEN
    RAISE EXCEPTION USING ERRCODE = '23000',
      MESSAGE = 'KERNEL: Cannot mark attempt blocked without blocker record. Use create_blocker() first.';
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS attempts_blocked_requires_blocker ON attempts;
CREATE TRIGGER attempts_blocked_requires_blocker BEFORE UPDATE OF outcome ON attempts
  FOR EACH ROW WHEN (NEW.outcome = 'blocked' AND OLD.outcome IS NULL)
  EXECUTE FUNCTION attempts_blocked_requires_blocker();

-- 60, 61. decisions are append-only; corrections supersede.
CREATE OR REPLACE FUNCTION decisions_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000',
    MESSAGE = 'KERNEL: Decision records are immutable. Create a new decision with supersedes_decision_id instead.';
END $$;
DROP TRIGGER IF EXISTS decisions_no_update ON decisions;
CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions FOR EACH ROW
  EXECUTE FUNCTION decisions_no_update();

CREATE OR REPLACE FUNCTION decisions_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'KERNEL: Decision records cannot be deleted.';
END $$;
DROP TRIGGER IF EXISTS decisions_no_delete ON decisions;
CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions FOR EACH ROW
  EXECUTE FUNCTION decisions_no_delete();

-- 62, 63. evidence is append-only.
CREATE OR REPLACE FUNCTION evidence_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000',
    MESSAGE = 'KERNEL: Evidence records are immutable. Create new evidence instead.';
END $$;
DROP TRIGGER IF EXISTS evidence_no_update ON evidence;
CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence FOR EACH ROW
  EXECUTE FUNCTION evidence_no_update();

CREATE OR REPLACE FUNCTION evidence_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'KERNEL: Evidence records cannot be deleted.';
END $$;
DROP TRIGGER IF EXISTS evidence_no_delete ON evidence;
CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence FOR EACH ROW
  EXECUTE FUNCTION evidence_no_delete();

-- 64. Once resolved, a blocker's resolution fields are frozen (even the same value again).
CREATE OR REPLACE FUNCTION blockers_resolution_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'KERNEL: Blocker resolution is immutable';
END $$;
DROP TRIGGER IF EXISTS blockers_resolution_immutable ON blockers;
CREATE TRIGGER blockers_resolution_immutable
  BEFORE UPDATE OF resolved_at, resolved_by, resolution ON blockers
  FOR EACH ROW WHEN (OLD.resolved_at IS NOT NULL)
  EXECUTE FUNCTION blockers_resolution_immutable();

-- 65. Resolving (resolved_at NULL -> non-NULL) needs a resolution text (as it will be after
-- this UPDATE), then evidence or a waiver decision on the same work item strictly later than
-- the blocker's creation (values before the UPDATE).
CREATE OR REPLACE FUNCTION blockers_resolution_requires_justification() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.resolution IS NULL OR NEW.resolution = '' THEN
    RAISE EXCEPTION USING ERRCODE = '23000',
      MESSAGE = 'KERNEL: Blocker resolution requires explanation in resolution field';
  END IF;
  IF NOT EXISTS (
       SELECT 1 FROM evidence
       WHERE work_id = OLD.work_id AND created_at > OLD.created_at COLLATE "C"
     )
     AND NOT EXISTS (
       SELECT 1 FROM decisions
       WHERE work_id = OLD.work_id
         AND decision_type = 'waiver'
         AND decided_at > OLD.created_at COLLATE "C"
     ) THEN
    RAISE EXCEPTION USING ERRCODE = '23000',
      MESSAGE = 'KERNEL: Blocker resolution requires evidence or waiver decision';
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS blockers_resolution_requires_justification ON blockers;
CREATE TRIGGER blockers_resolution_requires_justification BEFORE UPDATE OF resolved_at ON blockers
  FOR EACH ROW WHEN (OLD.resolved_at IS NULL AND NEW.resolved_at IS NOT NULL)
  EXECUTE FUNCTION blockers_resolution_requires_justification();

-- 66..71. Legacy append-only logs.
CREATE OR REPLACE FUNCTION kernel_decisions_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000',
    MESSAGE = 'KERNEL: Decision records are immutable. Create a new decision with supersedes_decision_id instead.';
END $$;
DROP TRIGGER IF EXISTS kernel_decisions_no_update ON kernel_decisions;
CREATE TRIGGER kernel_decisions_no_update BEFORE UPDATE ON kernel_decisions FOR EACH ROW
  EXECUTE FUNCTION kernel_decisions_no_update();

CREATE OR REPLACE FUNCTION kernel_decisions_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'KERNEL: Decision records cannot be deleted.';
END $$;
DROP TRIGGER IF EXISTS kernel_decisions_no_delete ON kernel_decisions;
CREATE TRIGGER kernel_decisions_no_delete BEFORE DELETE ON kernel_decisions FOR EACH ROW
  EXECUTE FUNCTION kernel_decisions_no_delete();

CREATE OR REPLACE FUNCTION kernel_evidence_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000',
    MESSAGE = 'KERNEL: Evidence records are immutable. Create new evidence instead.';
END $$;
DROP TRIGGER IF EXISTS kernel_evidence_no_update ON kernel_evidence;
CREATE TRIGGER kernel_evidence_no_update BEFORE UPDATE ON kernel_evidence FOR EACH ROW
  EXECUTE FUNCTION kernel_evidence_no_update();

CREATE OR REPLACE FUNCTION kernel_evidence_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'KERNEL: Evidence records cannot be deleted.';
END $$;
DROP TRIGGER IF EXISTS kernel_evidence_no_delete ON kernel_evidence;
CREATE TRIGGER kernel_evidence_no_delete BEFORE DELETE ON kernel_evidence FOR EACH ROW
  EXECUTE FUNCTION kernel_evidence_no_delete();

CREATE OR REPLACE FUNCTION kernel_outcomes_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'KERNEL: Outcome records are immutable.';
END $$;
DROP TRIGGER IF EXISTS kernel_outcomes_no_update ON kernel_outcomes;
CREATE TRIGGER kernel_outcomes_no_update BEFORE UPDATE ON kernel_outcomes FOR EACH ROW
  EXECUTE FUNCTION kernel_outcomes_no_update();

CREATE OR REPLACE FUNCTION kernel_outcomes_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'KERNEL: Outcome records cannot be deleted.';
END $$;
DROP TRIGGER IF EXISTS kernel_outcomes_no_delete ON kernel_outcomes;
CREATE TRIGGER kernel_outcomes_no_delete BEFORE DELETE ON kernel_outcomes FOR EACH ROW
  EXECUTE FUNCTION kernel_outcomes_no_delete();

-- 72..74. Lease compatibility. A lease is active while released_at IS NULL and
-- expires_at > now (text comparison). leases_any_check runs first (alphabetically here, last
-- created in SQLite), so a read or write over an active exclusive lease reports its message;
-- leases_write_check's is never seen. All three serialize on the resource's lock, so an
-- exclusive lease and any other lease on one resource cannot both get in.
CREATE OR REPLACE FUNCTION leases_exclusive_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(
    hashtextextended('lease:' || NEW.resource_type || ':' || NEW.resource_id, 0));
  IF EXISTS (
    SELECT 1 FROM leases
    WHERE resource_type = NEW.resource_type
      AND resource_id = NEW.resource_id
      AND released_at IS NULL
      AND expires_at > motus_now() COLLATE "C"
  ) THEN
    RAISE EXCEPTION USING ERRCODE = '23000',
      MESSAGE = 'KERNEL: Cannot acquire exclusive lease - resource has active leases';
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS leases_exclusive_check ON leases;
CREATE TRIGGER leases_exclusive_check BEFORE INSERT ON leases FOR EACH ROW
  WHEN (NEW.mode = 'exclusive')
  EXECUTE FUNCTION leases_exclusive_check();

CREATE OR REPLACE FUNCTION leases_write_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(
    hashtextextended('lease:' || NEW.resource_type || ':' || NEW.resource_id, 0));
  IF EXISTS (
    SELECT 1 FROM leases
    WHERE resource_type = NEW.resource_type
      AND resource_id = NEW.resource_id
      AND mode = 'exclusive'
      AND released_at IS NULL
      AND expires_at > motus_now() COLLATE "C"
  ) THEN
    RAISE EXCEPTION USING ERRCODE = '23000',
      MESSAGE = 'KERNEL: Cannot acquire write lease - exclusive lease active';
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS leases_write_check ON leases;
CREATE TRIGGER leases_write_check BEFORE INSERT ON leases FOR EACH ROW
  WHEN (NEW.mode = 'write')
  EXECUTE FUNCTION leases_write_check();

CREATE OR REPLACE FUNCTION leases_any_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(
    hashtextextended('lease:' || NEW.resource_type || ':' || NEW.resource_id, 0));
  IF EXISTS (
    SELECT 1 FROM leases
    WHERE resource_type = NEW.resource_type
      AND resource_id = NEW.resource_id
      AND mode = 'exclusive'
      AND released_at IS NULL
      AND expires_at > motus_now() COLLATE "C"
  ) THEN
    RAISE EXCEPTION USING ERRCODE = '23000',
      MESSAGE = 'KERNEL: Cannot acquire lease - exclusive lease active on resource';
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS leases_any_check ON leases;
CREATE TRIGGER leases_any_check BEFORE INSERT ON leases FOR EACH ROW
  WHEN (NEW.mode IN ('read', 'write'))
  EXECUTE FUNCTION leases_any_check();
