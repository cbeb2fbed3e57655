-- system 0002: triggers on system tables (contract RULES.md §1.7, §2.2).
--
-- Frozen SQL of migration system.0002: never edit after it has shipped; a change is a new
-- migration with its own file. Each trigger is dropped first so that running this file on a
-- database created by the upstream tool replaces the tool's own definitions.
--
-- Triggers are created in ascending schema.json `creation_order` (1..33): SQLite runs the most
-- recently created trigger first, so this order fixes the precedence of RULES.md §1.9
-- (e.g. health_check_results_audit_insert runs before health_check_cleanup).

-- 1, 2. audit_log is append-only: no UPDATE, no DELETE.
DROP TRIGGER IF EXISTS audit_log_immutable;
CREATE TRIGGER audit_log_immutable
BEFORE UPDATE ON audit_log
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'Audit log entries are immutable');
END;

DROP TRIGGER IF EXISTS audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete
BEFORE DELETE ON audit_log
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'Audit log entries cannot be deleted');
END;

-- 3. Rolling 7-day window: every insert deletes rows checked more than 7 days ago (text
-- comparison), the new row included when it is that old.
DROP TRIGGER IF EXISTS health_check_cleanup;
CREATE TRIGGER health_check_cleanup
AFTER INSERT ON health_check_results
FOR EACH ROW
BEGIN
    DELETE FROM health_check_results WHERE checked_at < datetime('now', '-7 days');
END;

-- 4..18. <table>_audit_insert (RULES.md §1.7): after an insert that left created_at or
-- updated_at NULL or '', fill each empty one with now. Because this is an UPDATE, the
-- table's <table>_updated_at trigger then replaces a non-empty updated_at with now.
DROP TRIGGER IF EXISTS sessions_audit_insert;
CREATE TRIGGER sessions_audit_insert
AFTER INSERT ON sessions
FOR EACH ROW
WHEN NEW.created_at IS NULL OR NEW.created_at = ''
  OR NEW.updated_at IS NULL OR NEW.updated_at = ''
BEGIN
    UPDATE sessions
    SET created_at = COALESCE(NULLIF(created_at, ''), datetime('now')),
        updated_at = COALESCE(NULLIF(updated_at, ''), datetime('now'))
    WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS session_cache_state_audit_insert;
CREATE TRIGGER session_cache_state_audit_insert
AFTER INSERT ON session_cache_state
FOR EACH ROW
WHEN NEW.created_at IS NULL OR NEW.created_at = ''
  OR NEW.updated_at IS NULL OR NEW.updated_at = ''
BEGIN
    UPDATE session_cache_state
    SET created_at = COALESCE(NULLIF(created_at, ''), datetime('now')),
        updated_at = COALESCE(NULLIF(updated_at, ''), datetime('now'))
    WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS session_event_cache_audit_insert;
CREATE TRIGGER session_event_cache_audit_insert
AFTER INSERT ON session_event_cache
FOR EACH ROW
WHEN NEW.created_at IS NULL OR NEW.created_at = ''
  OR NEW.updated_at IS NULL OR NEW.updated_at = ''
BEGIN
    UPDATE session_event_cache
    SET created_at = COALESCE(NULLIF(created_at, ''), datetime('now')),
        updated_at = COALESCE(NULLIF(updated_at, ''), datetime('now'))
    WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS session_file_cache_audit_insert;
CREATE TRIGGER session_file_cache_audit_insert
AFTER INSERT ON session_file_cache
FOR EACH ROW
WHEN NEW.created_at IS NULL OR NEW.created_at = ''
  OR NEW.updated_at IS NULL OR NEW.updated_at = ''
BEGIN
    UPDATE session_file_cache
    SET created_at = COALESCE(NULLIF(created_at, ''), datetime('now')),
        updated_at = COALESCE(NULLIF(updated_at, ''), datetime('now'))
    WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS circuit_breakers_audit_insert;
CREATE TRIGGER circuit_breakers_audit_insert
AFTER INSERT ON circuit_breakers
FOR EACH ROW
WHEN NEW.created_at IS NULL OR NEW.created_at = ''
  OR NEW.updated_at IS NULL OR NEW.updated_at = ''
BEGIN
    UPDATE circuit_breakers
    SET created_at = COALESCE(NULLIF(created_at, ''), datetime('now')),
        updated_at = COALESCE(NULLIF(updated_at, ''), datetime('now'))
    WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS detected_patterns_audit_insert;
CREATE TRIGGER detected_patterns_audit_insert
AFTER INSERT ON detected_patterns
FOR EACH ROW
WHEN NEW.created_at IS NULL OR NEW.created_at = ''
  OR NEW.updated_at IS NULL OR NEW.updated_at = ''
BEGIN
    UPDATE detected_patterns
    SET created_at = COALESCE(NULLIF(created_at, ''), datetime('now')),
        updated_at = COALESCE(NULLIF(updated_at, ''), datetime('now'))
    WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS learned_patterns_audit_insert;
CREATE TRIGGER learned_patterns_audit_insert
AFTER INSERT ON learned_patterns
FOR EACH ROW
WHEN NEW.created_at IS NULL OR NEW.created_at = ''
  OR NEW.updated_at IS NULL OR NEW.updated_at = ''
BEGIN
    UPDATE learned_patterns
    SET created_at = COALESCE(NULLIF(created_at, ''), datetime('now')),
        updated_at = COALESCE(NULLIF(updated_at, ''), datetime('now'))
    WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS ground_rules_audit_insert;
CREATE TRIGGER ground_rules_audit_insert
AFTER INSERT ON ground_rules
FOR EACH ROW
WHEN NEW.created_at IS NULL OR NEW.created_at = ''
  OR NEW.updated_at IS NULL OR NEW.updated_at = ''
BEGIN
    UPDATE ground_rules
    SET created_at = COALESCE(NULLIF(created_at, ''), datetime('now')),
        updated_at = COALESCE(NULLIF(updated_at, ''), datetime('now'))
    WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS skills_audit_insert;
CREATE TRIGGER skills_audit_insert
AFTER INSERT ON skills
FOR EACH ROW
WHEN NEW.created_at IS NULL OR NEW.created_at = ''
  OR NEW.updated_at IS NULL OR NEW.updated_at = ''
BEGIN
    UPDATE skills
    SET created_at = COALESCE(NULLIF(created_at, ''), datetime('now')),
        updated_at = COALESCE(NULLIF(updated_at, ''), datetime('now'))
    WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS preferences_audit_insert;
CREATE TRIGGER preferences_audit_insert
AFTER INSERT ON preferences
FOR EACH ROW
WHEN NEW.created_at IS NULL OR NEW.created_at = ''
  OR NEW.updated_at IS NULL OR NEW.updated_at = ''
BEGIN
    UPDATE preferences
    SET created_at = COALESCE(NULLIF(created_at, ''), datetime('now')),
        updated_at = COALESCE(NULLIF(updated_at, ''), datetime('now'))
    WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS instance_config_audit_insert;
CREATE TRIGGER instance_config_audit_insert
AFTER INSERT ON instance_config
FOR EACH ROW
WHEN NEW.created_at IS NULL OR NEW.created_at = ''
  OR NEW.updated_at IS NULL OR NEW.updated_at = ''
BEGIN
    UPDATE instance_config
    SET created_at = COALESCE(NULLIF(created_at, ''), datetime('now')),
        updated_at = COALESCE(NULLIF(updated_at, ''), datetime('now'))
    WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS health_check_results_audit_insert;
CREATE TRIGGER health_check_results_audit_insert
AFTER INSERT ON health_check_results
FOR EACH ROW
WHEN NEW.created_at IS NULL OR NEW.created_at = ''
  OR NEW.updated_at IS NULL OR NEW.updated_at = ''
BEGIN
    UPDATE health_check_results
    SET created_at = COALESCE(NULLIF(created_at, ''), datetime('now')),
        updated_at = COALESCE(NULLIF(updated_at, ''), datetime('now'))
    WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS idempotency_keys_audit_insert;
CREATE TRIGGER idempotency_keys_audit_insert
AFTER INSERT ON idempotency_keys
FOR EACH ROW
WHEN NEW.created_at IS NULL OR NEW.created_at = ''
  OR NEW.updated_at IS NULL OR NEW.updated_at = ''
BEGIN
    UPDATE idempotency_keys
    SET created_at = COALESCE(NULLIF(created_at, ''), datetime('now')),
        updated_at = COALESCE(NULLIF(updated_at, ''), datetime('now'))
    WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS resource_quotas_audit_insert;
CREATE TRIGGER resource_quotas_audit_insert
AFTER INSERT ON resource_quotas
FOR EACH ROW
WHEN NEW.created_at IS NULL OR NEW.created_at = ''
  OR NEW.updated_at IS NULL OR NEW.updated_at = ''
BEGIN
    UPDATE resource_quotas
    SET created_at = COALESCE(NULLIF(created_at, ''), datetime('now')),
        updated_at = COALESCE(NULLIF(updated_at, ''), datetime('now'))
    WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS terminology_audit_insert;
CREATE TRIGGER terminology_audit_insert
AFTER INSERT ON terminology
FOR EACH ROW
WHEN NEW.created_at IS NULL OR NEW.created_at = ''
  OR NEW.updated_at IS NULL OR NEW.updated_at = ''
BEGIN
    UPDATE terminology
    SET created_at = COALESCE(NULLIF(created_at, ''), datetime('now')),
        updated_at = COALESCE(NULLIF(updated_at, ''), datetime('now'))
    WHERE rowid = NEW.rowid;
END;

-- 19..33. <table>_updated_at (RULES.md §1.7): an UPDATE that left a non-NULL updated_at
-- unchanged sets it to now. NULL = NULL is not true, so a NULL updated_at is never touched.
-- Relies on recursive_triggers being OFF (SQLite default): the inner UPDATE does not fire
-- this trigger again.
DROP TRIGGER IF EXISTS sessions_updated_at;
CREATE TRIGGER sessions_updated_at
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE sessions SET updated_at = datetime('now') WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS session_cache_state_updated_at;
CREATE TRIGGER session_cache_state_updated_at
AFTER UPDATE ON session_cache_state
FOR EACH ROW
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE session_cache_state SET updated_at = datetime('now') WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS session_event_cache_updated_at;
CREATE TRIGGER session_event_cache_updated_at
AFTER UPDATE ON session_event_cache
FOR EACH ROW
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE session_event_cache SET updated_at = datetime('now') WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS session_file_cache_updated_at;
CREATE TRIGGER session_file_cache_updated_at
AFTER UPDATE ON session_file_cache
FOR EACH ROW
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE session_file_cache SET updated_at = datetime('now') WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS circuit_breakers_updated_at;
CREATE TRIGGER circuit_breakers_updated_at
AFTER UPDATE ON circuit_breakers
FOR EACH ROW
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE circuit_breakers SET updated_at = datetime('now') WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS detected_patterns_updated_at;
CREATE TRIGGER detected_patterns_updated_at
AFTER UPDATE ON detected_patterns
FOR EACH ROW
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE detected_patterns SET updated_at = datetime('now') WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS learned_patterns_updated_at;
CREATE TRIGGER learned_patterns_updated_at
AFTER UPDATE ON learned_patterns
FOR EACH ROW
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE learned_patterns SET updated_at = datetime('now') WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS ground_rules_updated_at;
CREATE TRIGGER ground_rules_updated_at
AFTER UPDATE ON ground_rules
FOR EACH ROW
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE ground_rules SET updated_at = datetime('now') WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS skills_updated_at;
CREATE TRIGGER skills_updated_at
AFTER UPDATE ON skills
FOR EACH ROW
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE skills SET updated_at = datetime('now') WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS preferences_updated_at;
CREATE TRIGGER preferences_updated_at
AFTER UPDATE ON preferences
FOR EACH ROW
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE preferences SET updated_at = datetime('now') WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS instance_config_updated_at;
CREATE TRIGGER instance_config_updated_at
AFTER UPDATE ON instance_config
FOR EACH ROW
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE instance_config SET updated_at = datetime('now') WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS health_check_results_updated_at;
CREATE TRIGGER health_check_results_updated_at
AFTER UPDATE ON health_check_results
FOR EACH ROW
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE health_check_results SET updated_at = datetime('now') WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS idempotency_keys_updated_at;
CREATE TRIGGER idempotency_keys_updated_at
AFTER UPDATE ON idempotency_keys
FOR EACH ROW
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE idempotency_keys SET updated_at = datetime('now') WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS resource_quotas_updated_at;
CREATE TRIGGER resource_quotas_updated_at
AFTER UPDATE ON resource_quotas
FOR EACH ROW
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE resource_quotas SET updated_at = datetime('now') WHERE rowid = NEW.rowid;
END;

DROP TRIGGER IF EXISTS terminology_updated_at;
CREATE TRIGGER terminology_updated_at
AFTER UPDATE ON terminology
FOR EACH ROW
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE terminology SET updated_at = datetime('now') WHERE rowid = NEW.rowid;
END;
