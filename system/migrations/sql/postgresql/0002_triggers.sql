-- PostgreSQL counterpart of ../sqlite/0002_triggers.sql (same trigger names, same messages).
--
-- Frozen SQL of migration system.0002, like the SQLite file. Each trigger is dropped first and
-- its function created with OR REPLACE, so the file re-runs on a database that has them.
-- A trigger NAME runs the function NAME(); rule errors use SQLSTATE 23000 (system/db_errors.py).

-- The contract's timestamp text, YYYY-MM-DD HH:MM:SS UTC, as SQLite's datetime('now', shift)
-- gives it (one value for the whole statement, as SQLite's 'now'): every PostgreSQL trigger
-- and view of every app takes the time from here.
CREATE OR REPLACE FUNCTION motus_now(shift interval DEFAULT interval '0 seconds') RETURNS text
LANGUAGE sql VOLATILE AS $$
  SELECT to_char(timezone('UTC', statement_timestamp()) + shift, 'YYYY-MM-DD HH24:MI:SS')
$$;

-- JSON text as SQLite's json_object writes it (RULES.md 1.6): no whitespace between tokens,
-- keys in the order given. json_build_object keeps the order but writes '{"a" : 1, "b" : 2}';
-- this re-joins the pairs of such a (flat) object compactly: motus_json(json_build_object(…)).
CREATE OR REPLACE FUNCTION motus_json(object json) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT '{' || COALESCE(string_agg(to_json(pair.key)::text || ':' || pair.value::text, ','
                                    ORDER BY pair.n), '') || '}'
  FROM json_each(object) WITH ORDINALITY AS pair(key, value, n)
$$;

-- 1, 2. audit_log is append-only: no UPDATE, no DELETE. (TRUNCATE, which SQLite does not have,
-- fires no row trigger: only the test framework's flush uses it.)
CREATE OR REPLACE FUNCTION audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'Audit log entries are immutable';
END $$;
DROP TRIGGER IF EXISTS audit_log_immutable ON audit_log;
CREATE TRIGGER audit_log_immutable BEFORE UPDATE ON audit_log FOR EACH ROW
  EXECUTE FUNCTION audit_log_immutable();

CREATE OR REPLACE FUNCTION audit_log_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'Audit log entries cannot be deleted';
END $$;
DROP TRIGGER IF EXISTS audit_log_no_delete ON audit_log;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW
  EXECUTE FUNCTION audit_log_no_delete();

-- 3. Rolling 7-day window: every insert deletes rows checked more than 7 days ago (text
-- comparison), the new row included when it is that old. (PostgreSQL runs AFTER ROW triggers
-- at the end of the statement: after a multi-row INSERT the result is the same.)
CREATE OR REPLACE FUNCTION health_check_cleanup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM health_check_results WHERE checked_at < motus_now(interval '-7 days');
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS health_check_cleanup ON health_check_results;
CREATE TRIGGER health_check_cleanup AFTER INSERT ON health_check_results FOR EACH ROW
  EXECUTE FUNCTION health_check_cleanup();

-- 4..18. <table>_audit_insert (RULES.md 1.7): after an insert that left created_at or
-- updated_at NULL or '', fill each empty one with now. As in SQLite this is an AFTER INSERT
-- trigger running an UPDATE of the new row (by its primary key: PostgreSQL has no rowid), so
-- NOT NULL and CHECK constraints see the same values in the same order as there. In SQLite
-- that UPDATE then fires <table>_updated_at, which replaces a non-empty updated_at with now:
-- here the UPDATE writes updated_at = now itself (same stored row; one "now" for both columns,
-- as SQLite's datetime('now') is one value per statement).
-- Firing order: health_check_results has two AFTER INSERT triggers; PostgreSQL runs
-- health_check_cleanup first (alphabetical), SQLite runs this helper first. Same result: the
-- cleanup looks only at checked_at, the helper only at created_at / updated_at, and a row the
-- cleanup deleted is simply not found by the helper's UPDATE.

CREATE OR REPLACE FUNCTION sessions_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ts text := motus_now();
BEGIN
  UPDATE sessions
  SET created_at = COALESCE(NULLIF(created_at, ''), ts),
      updated_at = ts
  WHERE id = NEW.id;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS sessions_audit_insert ON sessions;
CREATE TRIGGER sessions_audit_insert AFTER INSERT ON sessions FOR EACH ROW
  WHEN (NEW.created_at IS NULL OR NEW.created_at = ''
        OR NEW.updated_at IS NULL OR NEW.updated_at = '')
  EXECUTE FUNCTION sessions_audit_insert();

CREATE OR REPLACE FUNCTION session_cache_state_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ts text := motus_now();
BEGIN
  UPDATE session_cache_state
  SET created_at = COALESCE(NULLIF(created_at, ''), ts),
      updated_at = ts
  WHERE key = NEW.key;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS session_cache_state_audit_insert ON session_cache_state;
CREATE TRIGGER session_cache_state_audit_insert AFTER INSERT ON session_cache_state FOR EACH ROW
  WHEN (NEW.created_at IS NULL OR NEW.created_at = ''
        OR NEW.updated_at IS NULL OR NEW.updated_at = '')
  EXECUTE FUNCTION session_cache_state_audit_insert();

CREATE OR REPLACE FUNCTION session_event_cache_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ts text := motus_now();
BEGIN
  UPDATE session_event_cache
  SET created_at = COALESCE(NULLIF(created_at, ''), ts),
      updated_at = ts
  WHERE id = NEW.id;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS session_event_cache_audit_insert ON session_event_cache;
CREATE TRIGGER session_event_cache_audit_insert AFTER INSERT ON session_event_cache FOR EACH ROW
  WHEN (NEW.created_at IS NULL OR NEW.created_at = ''
        OR NEW.updated_at IS NULL OR NEW.updated_at = '')
  EXECUTE FUNCTION session_event_cache_audit_insert();

CREATE OR REPLACE FUNCTION session_file_cache_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ts text := motus_now();
BEGIN
  UPDATE session_file_cache
  SET created_at = COALESCE(NULLIF(created_at, ''), ts),
      updated_at = ts
  WHERE id = NEW.id;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS session_file_cache_audit_insert ON session_file_cache;
CREATE TRIGGER session_file_cache_audit_insert AFTER INSERT ON session_file_cache FOR EACH ROW
  WHEN (NEW.created_at IS NULL OR NEW.created_at = ''
        OR NEW.updated_at IS NULL OR NEW.updated_at = '')
  EXECUTE FUNCTION session_file_cache_audit_insert();

CREATE OR REPLACE FUNCTION circuit_breakers_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ts text := motus_now();
BEGIN
  UPDATE circuit_breakers
  SET created_at = COALESCE(NULLIF(created_at, ''), ts),
      updated_at = ts
  WHERE name = NEW.name;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS circuit_breakers_audit_insert ON circuit_breakers;
CREATE TRIGGER circuit_breakers_audit_insert AFTER INSERT ON circuit_breakers FOR EACH ROW
  WHEN (NEW.created_at IS NULL OR NEW.created_at = ''
        OR NEW.updated_at IS NULL OR NEW.updated_at = '')
  EXECUTE FUNCTION circuit_breakers_audit_insert();

CREATE OR REPLACE FUNCTION detected_patterns_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ts text := motus_now();
BEGIN
  UPDATE detected_patterns
  SET created_at = COALESCE(NULLIF(created_at, ''), ts),
      updated_at = ts
  WHERE id = NEW.id;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS detected_patterns_audit_insert ON detected_patterns;
CREATE TRIGGER detected_patterns_audit_insert AFTER INSERT ON detected_patterns FOR EACH ROW
  WHEN (NEW.created_at IS NULL OR NEW.created_at = ''
        OR NEW.updated_at IS NULL OR NEW.updated_at = '')
  EXECUTE FUNCTION detected_patterns_audit_insert();

CREATE OR REPLACE FUNCTION learned_patterns_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ts text := motus_now();
BEGIN
  UPDATE learned_patterns
  SET created_at = COALESCE(NULLIF(created_at, ''), ts),
      updated_at = ts
  WHERE id = NEW.id;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS learned_patterns_audit_insert ON learned_patterns;
CREATE TRIGGER learned_patterns_audit_insert AFTER INSERT ON learned_patterns FOR EACH ROW
  WHEN (NEW.created_at IS NULL OR NEW.created_at = ''
        OR NEW.updated_at IS NULL OR NEW.updated_at = '')
  EXECUTE FUNCTION learned_patterns_audit_insert();

CREATE OR REPLACE FUNCTION ground_rules_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ts text := motus_now();
BEGIN
  UPDATE ground_rules
  SET created_at = COALESCE(NULLIF(created_at, ''), ts),
      updated_at = ts
  WHERE id = NEW.id;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS ground_rules_audit_insert ON ground_rules;
CREATE TRIGGER ground_rules_audit_insert AFTER INSERT ON ground_rules FOR EACH ROW
  WHEN (NEW.created_at IS NULL OR NEW.created_at = ''
        OR NEW.updated_at IS NULL OR NEW.updated_at = '')
  EXECUTE FUNCTION ground_rules_audit_insert();

CREATE OR REPLACE FUNCTION skills_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ts text := motus_now();
BEGIN
  UPDATE skills
  SET created_at = COALESCE(NULLIF(created_at, ''), ts),
      updated_at = ts
  WHERE skill_name = NEW.skill_name;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS skills_audit_insert ON skills;
CREATE TRIGGER skills_audit_insert AFTER INSERT ON skills FOR EACH ROW
  WHEN (NEW.created_at IS NULL OR NEW.created_at = ''
        OR NEW.updated_at IS NULL OR NEW.updated_at = '')
  EXECUTE FUNCTION skills_audit_insert();

CREATE OR REPLACE FUNCTION preferences_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ts text := motus_now();
BEGIN
  UPDATE preferences
  SET created_at = COALESCE(NULLIF(created_at, ''), ts),
      updated_at = ts
  WHERE key = NEW.key;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS preferences_audit_insert ON preferences;
CREATE TRIGGER preferences_audit_insert AFTER INSERT ON preferences FOR EACH ROW
  WHEN (NEW.created_at IS NULL OR NEW.created_at = ''
        OR NEW.updated_at IS NULL OR NEW.updated_at = '')
  EXECUTE FUNCTION preferences_audit_insert();

CREATE OR REPLACE FUNCTION instance_config_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ts text := motus_now();
BEGIN
  UPDATE instance_config
  SET created_at = COALESCE(NULLIF(created_at, ''), ts),
      updated_at = ts
  WHERE key = NEW.key;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS instance_config_audit_insert ON instance_config;
CREATE TRIGGER instance_config_audit_insert AFTER INSERT ON instance_config FOR EACH ROW
  WHEN (NEW.created_at IS NULL OR NEW.created_at = ''
        OR NEW.updated_at IS NULL OR NEW.updated_at = '')
  EXECUTE FUNCTION instance_config_audit_insert();

CREATE OR REPLACE FUNCTION health_check_results_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ts text := motus_now();
BEGIN
  UPDATE health_check_results
  SET created_at = COALESCE(NULLIF(created_at, ''), ts),
      updated_at = ts
  WHERE id = NEW.id;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS health_check_results_audit_insert ON health_check_results;
CREATE TRIGGER health_check_results_audit_insert AFTER INSERT ON health_check_results FOR EACH ROW
  WHEN (NEW.created_at IS NULL OR NEW.created_at = ''
        OR NEW.updated_at IS NULL OR NEW.updated_at = '')
  EXECUTE FUNCTION health_check_results_audit_insert();

CREATE OR REPLACE FUNCTION idempotency_keys_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ts text := motus_now();
BEGIN
  UPDATE idempotency_keys
  SET created_at = COALESCE(NULLIF(created_at, ''), ts),
      updated_at = ts
  WHERE key = NEW.key;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS idempotency_keys_audit_insert ON idempotency_keys;
CREATE TRIGGER idempotency_keys_audit_insert AFTER INSERT ON idempotency_keys FOR EACH ROW
  WHEN (NEW.created_at IS NULL OR NEW.created_at = ''
        OR NEW.updated_at IS NULL OR NEW.updated_at = '')
  EXECUTE FUNCTION idempotency_keys_audit_insert();

CREATE OR REPLACE FUNCTION resource_quotas_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ts text := motus_now();
BEGIN
  UPDATE resource_quotas
  SET created_at = COALESCE(NULLIF(created_at, ''), ts),
      updated_at = ts
  WHERE resource_type = NEW.resource_type;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS resource_quotas_audit_insert ON resource_quotas;
CREATE TRIGGER resource_quotas_audit_insert AFTER INSERT ON resource_quotas FOR EACH ROW
  WHEN (NEW.created_at IS NULL OR NEW.created_at = ''
        OR NEW.updated_at IS NULL OR NEW.updated_at = '')
  EXECUTE FUNCTION resource_quotas_audit_insert();

CREATE OR REPLACE FUNCTION terminology_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ts text := motus_now();
BEGIN
  UPDATE terminology
  SET created_at = COALESCE(NULLIF(created_at, ''), ts),
      updated_at = ts
  WHERE id = NEW.id;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS terminology_audit_insert ON terminology;
CREATE TRIGGER terminology_audit_insert AFTER INSERT ON terminology FOR EACH ROW
  WHEN (NEW.created_at IS NULL OR NEW.created_at = ''
        OR NEW.updated_at IS NULL OR NEW.updated_at = '')
  EXECUTE FUNCTION terminology_audit_insert();

-- 19..33. <table>_updated_at (RULES.md 1.7): an UPDATE that left a non-NULL updated_at
-- unchanged sets it to now. NULL = NULL is not true, so a NULL updated_at is never touched.
-- SQLite: AFTER UPDATE running a second UPDATE of the row (recursive_triggers OFF keeps it from
-- firing itself again). Here: BEFORE UPDATE setting NEW.updated_at, the same stored row with no
-- second UPDATE and nothing to recurse. No other BEFORE UPDATE trigger shares these tables, so
-- the WHEN clause sees the statement's final NEW row, as SQLite's AFTER trigger does.

CREATE OR REPLACE FUNCTION sessions_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := motus_now();
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS sessions_updated_at ON sessions;
CREATE TRIGGER sessions_updated_at BEFORE UPDATE ON sessions FOR EACH ROW
  WHEN (NEW.updated_at = OLD.updated_at)
  EXECUTE FUNCTION sessions_updated_at();

CREATE OR REPLACE FUNCTION session_cache_state_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := motus_now();
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS session_cache_state_updated_at ON session_cache_state;
CREATE TRIGGER session_cache_state_updated_at BEFORE UPDATE ON session_cache_state FOR EACH ROW
  WHEN (NEW.updated_at = OLD.updated_at)
  EXECUTE FUNCTION session_cache_state_updated_at();

CREATE OR REPLACE FUNCTION session_event_cache_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := motus_now();
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS session_event_cache_updated_at ON session_event_cache;
CREATE TRIGGER session_event_cache_updated_at BEFORE UPDATE ON session_event_cache FOR EACH ROW
  WHEN (NEW.updated_at = OLD.updated_at)
  EXECUTE FUNCTION session_event_cache_updated_at();

CREATE OR REPLACE FUNCTION session_file_cache_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := motus_now();
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS session_file_cache_updated_at ON session_file_cache;
CREATE TRIGGER session_file_cache_updated_at BEFORE UPDATE ON session_file_cache FOR EACH ROW
  WHEN (NEW.updated_at = OLD.updated_at)
  EXECUTE FUNCTION session_file_cache_updated_at();

CREATE OR REPLACE FUNCTION circuit_breakers_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := motus_now();
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS circuit_breakers_updated_at ON circuit_breakers;
CREATE TRIGGER circuit_breakers_updated_at BEFORE UPDATE ON circuit_breakers FOR EACH ROW
  WHEN (NEW.updated_at = OLD.updated_at)
  EXECUTE FUNCTION circuit_breakers_updated_at();

CREATE OR REPLACE FUNCTION detected_patterns_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := motus_now();
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS detected_patterns_updated_at ON detected_patterns;
CREATE TRIGGER detected_patterns_updated_at BEFORE UPDATE ON detected_patterns FOR EACH ROW
  WHEN (NEW.updated_at = OLD.updated_at)
  EXECUTE FUNCTION detected_patterns_updated_at();

CREATE OR REPLACE FUNCTION learned_patterns_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := motus_now();
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS learned_patterns_updated_at ON learned_patterns;
CREATE TRIGGER learned_patterns_updated_at BEFORE UPDATE ON learned_patterns FOR EACH ROW
  WHEN (NEW.updated_at = OLD.updated_at)
  EXECUTE FUNCTION learned_patterns_updated_at();

CREATE OR REPLACE FUNCTION ground_rules_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := motus_now();
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS ground_rules_updated_at ON ground_rules;
CREATE TRIGGER ground_rules_updated_at BEFORE UPDATE ON ground_rules FOR EACH ROW
  WHEN (NEW.updated_at = OLD.updated_at)
  EXECUTE FUNCTION ground_rules_updated_at();

CREATE OR REPLACE FUNCTION skills_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := motus_now();
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS skills_updated_at ON skills;
CREATE TRIGGER skills_updated_at BEFORE UPDATE ON skills FOR EACH ROW
  WHEN (NEW.updated_at = OLD.updated_at)
  EXECUTE FUNCTION skills_updated_at();

CREATE OR REPLACE FUNCTION preferences_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := motus_now();
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS preferences_updated_at ON preferences;
CREATE TRIGGER preferences_updated_at BEFORE UPDATE ON preferences FOR EACH ROW
  WHEN (NEW.updated_at = OLD.updated_at)
  EXECUTE FUNCTION preferences_updated_at();

CREATE OR REPLACE FUNCTION instance_config_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := motus_now();
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS instance_config_updated_at ON instance_config;
CREATE TRIGGER instance_config_updated_at BEFORE UPDATE ON instance_config FOR EACH ROW
  WHEN (NEW.updated_at = OLD.updated_at)
  EXECUTE FUNCTION instance_config_updated_at();

CREATE OR REPLACE FUNCTION health_check_results_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := motus_now();
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS health_check_results_updated_at ON health_check_results;
CREATE TRIGGER health_check_results_updated_at BEFORE UPDATE ON health_check_results FOR EACH ROW
  WHEN (NEW.updated_at = OLD.updated_at)
  EXECUTE FUNCTION health_check_results_updated_at();

CREATE OR REPLACE FUNCTION idempotency_keys_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := motus_now();
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS idempotency_keys_updated_at ON idempotency_keys;
CREATE TRIGGER idempotency_keys_updated_at BEFORE UPDATE ON idempotency_keys FOR EACH ROW
  WHEN (NEW.updated_at = OLD.updated_at)
  EXECUTE FUNCTION idempotency_keys_updated_at();

CREATE OR REPLACE FUNCTION resource_quotas_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := motus_now();
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS resource_quotas_updated_at ON resource_quotas;
CREATE TRIGGER resource_quotas_updated_at BEFORE UPDATE ON resource_quotas FOR EACH ROW
  WHEN (NEW.updated_at = OLD.updated_at)
  EXECUTE FUNCTION resource_quotas_updated_at();

CREATE OR REPLACE FUNCTION terminology_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := motus_now();
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS terminology_updated_at ON terminology;
CREATE TRIGGER terminology_updated_at BEFORE UPDATE ON terminology FOR EACH ROW
  WHEN (NEW.updated_at = OLD.updated_at)
  EXECUTE FUNCTION terminology_updated_at();
