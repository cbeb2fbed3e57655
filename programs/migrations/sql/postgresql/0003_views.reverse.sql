-- PostgreSQL counterpart of ../sqlite/0003_views.reverse.sql
-- Reverse of programs 0003_views.sql: drop the six program-management views.
DROP VIEW IF EXISTS v_programs_summary;
DROP VIEW IF EXISTS v_standards_summary;
DROP VIEW IF EXISTS v_compliance_status;
DROP VIEW IF EXISTS v_active_charters;
DROP VIEW IF EXISTS v_bugs_by_version;
DROP VIEW IF EXISTS v_open_crs;
