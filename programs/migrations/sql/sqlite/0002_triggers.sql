-- programs 0002: triggers on program tables (contract RULES.md §5.2).
--
-- Frozen SQL of migration programs.0002: never edit after it has shipped; a change is a new
-- migration with its own file. Each trigger is dropped first so that running this file on a
-- database created by the upstream tool replaces the tool's own definitions.
--
-- Triggers are created in ascending schema.json `creation_order` (34..42); SQLite runs the
-- most recently created trigger first (RULES.md §1.9).

-- 34, 35. compliance_results is append-only.
DROP TRIGGER IF EXISTS compliance_immutable;
CREATE TRIGGER compliance_immutable
BEFORE UPDATE ON compliance_results
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'Compliance results are immutable');
END;

DROP TRIGGER IF EXISTS compliance_no_delete;
CREATE TRIGGER compliance_no_delete
BEFORE DELETE ON compliance_results
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'Compliance results cannot be deleted');
END;

-- 36. Inserting an active charter doc deactivates the live active doc of the same type.
-- Column defaults are applied before BEFORE triggers run, so an omitted is_active (default 1)
-- counts as active. The new row's own deleted_at is not looked at.
DROP TRIGGER IF EXISTS charter_singleton_enforce;
CREATE TRIGGER charter_singleton_enforce
BEFORE INSERT ON charter_docs
FOR EACH ROW
WHEN NEW.is_active = 1
BEGIN
    UPDATE charter_docs
    SET is_active = 0,
        updated_at = datetime('now')
    WHERE doc_type_key = NEW.doc_type_key
      AND is_active = 1
      AND deleted_at IS NULL;
END;

-- 37, 38. entity_versions is append-only.
DROP TRIGGER IF EXISTS entity_versions_immutable;
CREATE TRIGGER entity_versions_immutable
BEFORE UPDATE ON entity_versions
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'Entity version history is immutable');
END;

DROP TRIGGER IF EXISTS entity_versions_no_delete;
CREATE TRIGGER entity_versions_no_delete
BEFORE DELETE ON entity_versions
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'Entity version history cannot be deleted');
END;

-- 39..42. Version capture: an UPDATE that changes updated_at (old and new both non-NULL and
-- different; the != comparison is not true when either side is NULL) appends a snapshot of
-- the NEW row. version = highest version of that entity + 1 (first is 1).
DROP TRIGGER IF EXISTS cr_version_capture;
CREATE TRIGGER cr_version_capture
AFTER UPDATE ON change_requests
FOR EACH ROW
WHEN OLD.updated_at != NEW.updated_at
BEGIN
    INSERT INTO entity_versions (entity_type, entity_id, version, data, changed_by, change_reason)
    VALUES (
        'cr',
        NEW.id,
        (SELECT COALESCE(MAX(version), 0) + 1 FROM entity_versions
         WHERE entity_type = 'cr' AND entity_id = NEW.id),
        json_object(
            'title', NEW.title,
            'status_key', NEW.status_key,
            'type_key', NEW.type_key,
            'size', NEW.size,
            'owner', NEW.owner,
            'product_id', NEW.product_id,
            'feature_id', NEW.feature_id,
            'target_version', NEW.target_version
        ),
        COALESCE(NEW.owner, 'system'),
        NULL
    );
END;

DROP TRIGGER IF EXISTS product_version_capture;
CREATE TRIGGER product_version_capture
AFTER UPDATE ON products
FOR EACH ROW
WHEN OLD.updated_at != NEW.updated_at
BEGIN
    INSERT INTO entity_versions (entity_type, entity_id, version, data, changed_by, change_reason)
    VALUES (
        'product',
        NEW.id,
        (SELECT COALESCE(MAX(version), 0) + 1 FROM entity_versions
         WHERE entity_type = 'product' AND entity_id = NEW.id),
        json_object(
            'name', NEW.name,
            'status_key', NEW.status_key,
            'version', NEW.version,
            'program_id', NEW.program_id
        ),
        'system',
        NULL
    );
END;

DROP TRIGGER IF EXISTS feature_version_capture;
CREATE TRIGGER feature_version_capture
AFTER UPDATE ON features
FOR EACH ROW
WHEN OLD.updated_at != NEW.updated_at
BEGIN
    INSERT INTO entity_versions (entity_type, entity_id, version, data, changed_by, change_reason)
    VALUES (
        'feature',
        NEW.id,
        (SELECT COALESCE(MAX(version), 0) + 1 FROM entity_versions
         WHERE entity_type = 'feature' AND entity_id = NEW.id),
        json_object(
            'name', NEW.name,
            'status_key', NEW.status_key,
            'version', NEW.version,
            'product_id', NEW.product_id
        ),
        'system',
        NULL
    );
END;

DROP TRIGGER IF EXISTS bug_version_capture;
CREATE TRIGGER bug_version_capture
AFTER UPDATE ON bugs
FOR EACH ROW
WHEN OLD.updated_at != NEW.updated_at
BEGIN
    INSERT INTO entity_versions (entity_type, entity_id, version, data, changed_by, change_reason)
    VALUES (
        'bug',
        NEW.id,
        (SELECT COALESCE(MAX(version), 0) + 1 FROM entity_versions
         WHERE entity_type = 'bug' AND entity_id = NEW.id),
        json_object(
            'title', NEW.title,
            'status_key', NEW.status_key,
            'severity_key', NEW.severity_key,
            'feature_id', NEW.feature_id,
            'feature_version', NEW.feature_version,
            'fix_cr_id', NEW.fix_cr_id
        ),
        COALESCE(NEW.assigned_to, 'system'),
        NULL
    );
END;
