-- Reverse of roadmap 0002_triggers.sql: drop its triggers, most recently created first.
DROP TRIGGER IF EXISTS enforce_phase_limit;
DROP TRIGGER IF EXISTS enforce_deploy_gate;
DROP TRIGGER IF EXISTS enforce_completed_immutable;
DROP TRIGGER IF EXISTS roadmap_prereq_resolved;
DROP TRIGGER IF EXISTS roadmap_assignment_cascade;
DROP TRIGGER IF EXISTS roadmap_assignment_audit;
DROP TRIGGER IF EXISTS roadmap_dep_audit_insert;
DROP TRIGGER IF EXISTS roadmap_status_check_deps;
DROP TRIGGER IF EXISTS roadmap_dep_no_cycles;
DROP TRIGGER IF EXISTS roadmap_version_capture;
