-- PostgreSQL counterpart of ../sqlite/0002_triggers.reverse.sql
-- Reverse of programs 0002_triggers.sql: drop its triggers and their functions, most
-- recently created first.
DROP TRIGGER IF EXISTS bug_version_capture ON bugs;
DROP FUNCTION IF EXISTS bug_version_capture();
DROP TRIGGER IF EXISTS feature_version_capture ON features;
DROP FUNCTION IF EXISTS feature_version_capture();
DROP TRIGGER IF EXISTS product_version_capture ON products;
DROP FUNCTION IF EXISTS product_version_capture();
DROP TRIGGER IF EXISTS cr_version_capture ON change_requests;
DROP FUNCTION IF EXISTS cr_version_capture();
DROP TRIGGER IF EXISTS entity_versions_no_delete ON entity_versions;
DROP FUNCTION IF EXISTS entity_versions_no_delete();
DROP TRIGGER IF EXISTS entity_versions_immutable ON entity_versions;
DROP FUNCTION IF EXISTS entity_versions_immutable();
DROP TRIGGER IF EXISTS charter_singleton_enforce ON charter_docs;
DROP FUNCTION IF EXISTS charter_singleton_enforce();
DROP TRIGGER IF EXISTS compliance_no_delete ON compliance_results;
DROP FUNCTION IF EXISTS compliance_no_delete();
DROP TRIGGER IF EXISTS compliance_immutable ON compliance_results;
DROP FUNCTION IF EXISTS compliance_immutable();
