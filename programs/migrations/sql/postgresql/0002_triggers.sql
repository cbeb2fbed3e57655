-- PostgreSQL counterpart of ../sqlite/0002_triggers.sql
-- programs 0002: triggers on program tables (contract RULES.md §5.2), same names, tables,
-- timings, events and messages as the SQLite file.
--
-- Frozen SQL of migration programs.0002: never edit after it has shipped; a change is a new
-- migration with its own file. Each trigger is dropped first so that the file can be re-run.
--
-- Firing order (RULES.md §1.9): no two of these triggers share a table, timing and event, so
-- PostgreSQL's alphabetical order and SQLite's newest-first order give the same result.
-- Rule violations raise SQLSTATE 23000 (IntegrityError, "a kernel rule") with the contract's
-- message verbatim.

-- 34, 35. compliance_results is append-only.
CREATE OR REPLACE FUNCTION compliance_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'Compliance results are immutable';
END $$;
DROP TRIGGER IF EXISTS compliance_immutable ON compliance_results;
CREATE TRIGGER compliance_immutable BEFORE UPDATE ON compliance_results FOR EACH ROW
  EXECUTE FUNCTION compliance_immutable();

CREATE OR REPLACE FUNCTION compliance_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'Compliance results cannot be deleted';
END $$;
DROP TRIGGER IF EXISTS compliance_no_delete ON compliance_results;
CREATE TRIGGER compliance_no_delete BEFORE DELETE ON compliance_results FOR EACH ROW
  EXECUTE FUNCTION compliance_no_delete();

-- 36. Inserting an active charter doc deactivates the live active doc of the same type.
-- Column defaults are applied before BEFORE triggers run, so an omitted is_active (default 1)
-- counts as active. The new row's own deleted_at is not looked at.
-- PostgreSQL only: SQLite runs one writer at a time; here two concurrent active inserts of one
-- type would each miss the other's uncommitted row and the second would fail on
-- idx_charter_singleton. The advisory lock (key 'charter:<type>') makes the second wait, and
-- its UPDATE (a new statement, so a new snapshot) then deactivates the first one's doc, as
-- the serial SQLite order does.
CREATE OR REPLACE FUNCTION charter_singleton_enforce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('charter:' || NEW.doc_type_key, 0));
  UPDATE charter_docs
     SET is_active = 0,
         updated_at = motus_now()
   WHERE doc_type_key = NEW.doc_type_key
     AND is_active = 1
     AND deleted_at IS NULL;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS charter_singleton_enforce ON charter_docs;
CREATE TRIGGER charter_singleton_enforce BEFORE INSERT ON charter_docs FOR EACH ROW
  WHEN (NEW.is_active = 1) EXECUTE FUNCTION charter_singleton_enforce();

-- 37, 38. entity_versions is append-only.
CREATE OR REPLACE FUNCTION entity_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'Entity version history is immutable';
END $$;
DROP TRIGGER IF EXISTS entity_versions_immutable ON entity_versions;
CREATE TRIGGER entity_versions_immutable BEFORE UPDATE ON entity_versions FOR EACH ROW
  EXECUTE FUNCTION entity_versions_immutable();

CREATE OR REPLACE FUNCTION entity_versions_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'Entity version history cannot be deleted';
END $$;
DROP TRIGGER IF EXISTS entity_versions_no_delete ON entity_versions;
CREATE TRIGGER entity_versions_no_delete BEFORE DELETE ON entity_versions FOR EACH ROW
  EXECUTE FUNCTION entity_versions_no_delete();

-- 39..42. Version capture: an UPDATE that changes updated_at (old and new both non-NULL and
-- different; <> is not true when either side is NULL) appends a snapshot of the NEW row.
-- version = highest version of that entity + 1 (first is 1).
-- data: SQLite's json_object text exactly (RULES.md §1.6: keys in order, no whitespace), so it
-- is spelled out key by key with to_json() for each value rather than json_build_object(),
-- whose text has spaces around ':' and after ','. All these values are TEXT columns (JSON
-- strings); NULL becomes JSON null.
-- Concurrency: no advisory lock is needed. The UPDATE holds the entity's row lock until
-- commit, so a second writer of the same entity waits, and its MAX(version) (a new statement)
-- sees the first one's committed snapshot.
CREATE OR REPLACE FUNCTION cr_version_capture() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO entity_versions (entity_type, entity_id, version, data, changed_by, change_reason)
  VALUES (
    'cr',
    NEW.id,
    (SELECT COALESCE(MAX(version), 0) + 1 FROM entity_versions
      WHERE entity_type = 'cr' AND entity_id = NEW.id),
    '{"title":' || COALESCE(to_json(NEW.title)::text, 'null')
      || ',"status_key":' || COALESCE(to_json(NEW.status_key)::text, 'null')
      || ',"type_key":' || COALESCE(to_json(NEW.type_key)::text, 'null')
      || ',"size":' || COALESCE(to_json(NEW.size)::text, 'null')
      || ',"owner":' || COALESCE(to_json(NEW.owner)::text, 'null')
      || ',"product_id":' || COALESCE(to_json(NEW.product_id)::text, 'null')
      || ',"feature_id":' || COALESCE(to_json(NEW.feature_id)::text, 'null')
      || ',"target_version":' || COALESCE(to_json(NEW.target_version)::text, 'null')
      || '}',
    COALESCE(NEW.owner, 'system'),
    NULL
  );
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS cr_version_capture ON change_requests;
CREATE TRIGGER cr_version_capture AFTER UPDATE ON change_requests FOR EACH ROW
  WHEN (OLD.updated_at <> NEW.updated_at) EXECUTE FUNCTION cr_version_capture();

CREATE OR REPLACE FUNCTION product_version_capture() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO entity_versions (entity_type, entity_id, version, data, changed_by, change_reason)
  VALUES (
    'product',
    NEW.id,
    (SELECT COALESCE(MAX(version), 0) + 1 FROM entity_versions
      WHERE entity_type = 'product' AND entity_id = NEW.id),
    '{"name":' || COALESCE(to_json(NEW.name)::text, 'null')
      || ',"status_key":' || COALESCE(to_json(NEW.status_key)::text, 'null')
      || ',"version":' || COALESCE(to_json(NEW.version)::text, 'null')
      || ',"program_id":' || COALESCE(to_json(NEW.program_id)::text, 'null')
      || '}',
    'system',
    NULL
  );
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS product_version_capture ON products;
CREATE TRIGGER product_version_capture AFTER UPDATE ON products FOR EACH ROW
  WHEN (OLD.updated_at <> NEW.updated_at) EXECUTE FUNCTION product_version_capture();

CREATE OR REPLACE FUNCTION feature_version_capture() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO entity_versions (entity_type, entity_id, version, data, changed_by, change_reason)
  VALUES (
    'feature',
    NEW.id,
    (SELECT COALESCE(MAX(version), 0) + 1 FROM entity_versions
      WHERE entity_type = 'feature' AND entity_id = NEW.id),
    '{"name":' || COALESCE(to_json(NEW.name)::text, 'null')
      || ',"status_key":' || COALESCE(to_json(NEW.status_key)::text, 'null')
      || ',"version":' || COALESCE(to_json(NEW.version)::text, 'null')
      || ',"product_id":' || COALESCE(to_json(NEW.product_id)::text, 'null')
      || '}',
    'system',
    NULL
  );
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS feature_version_capture ON features;
CREATE TRIGGER feature_version_capture AFTER UPDATE ON features FOR EACH ROW
  WHEN (OLD.updated_at <> NEW.updated_at) EXECUTE FUNCTION feature_version_capture();

CREATE OR REPLACE FUNCTION bug_version_capture() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO entity_versions (entity_type, entity_id, version, data, changed_by, change_reason)
  VALUES (
    'bug',
    NEW.id,
    (SELECT COALESCE(MAX(version), 0) + 1 FROM entity_versions
      WHERE entity_type = 'bug' AND entity_id = NEW.id),
    '{"title":' || COALESCE(to_json(NEW.title)::text, 'null')
      || ',"status_key":' || COALESCE(to_json(NEW.status_key)::text, 'null')
      || ',"severity_key":' || COALESCE(to_json(NEW.severity_key)::text, 'null')
      || ',"feature_id":' || COALESCE(to_json(NEW.feature_id)::text, 'null')
      || ',"feature_version":' || COALESCE(to_json(NEW.feature_version)::text, 'null')
      || ',"fix_cr_id":' || COALESCE(to_json(NEW.fix_cr_id)::text, 'null')
      || '}',
    COALESCE(NEW.assigned_to, 'system'),
    NULL
  );
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS bug_version_capture ON bugs;
CREATE TRIGGER bug_version_capture AFTER UPDATE ON bugs FOR EACH ROW
  WHEN (OLD.updated_at <> NEW.updated_at) EXECUTE FUNCTION bug_version_capture();
