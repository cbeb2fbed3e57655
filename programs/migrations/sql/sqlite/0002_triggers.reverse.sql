-- Reverse of programs 0002_triggers.sql: drop its triggers, most recently created first.
DROP TRIGGER IF EXISTS bug_version_capture;
DROP TRIGGER IF EXISTS feature_version_capture;
DROP TRIGGER IF EXISTS product_version_capture;
DROP TRIGGER IF EXISTS cr_version_capture;
DROP TRIGGER IF EXISTS entity_versions_no_delete;
DROP TRIGGER IF EXISTS entity_versions_immutable;
DROP TRIGGER IF EXISTS charter_singleton_enforce;
DROP TRIGGER IF EXISTS compliance_no_delete;
DROP TRIGGER IF EXISTS compliance_immutable;
