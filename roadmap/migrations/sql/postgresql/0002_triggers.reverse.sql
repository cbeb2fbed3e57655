-- PostgreSQL counterpart of ../sqlite/0002_triggers.reverse.sql: drop the roadmap 0002
-- triggers and their functions, most recently created first.
DROP TRIGGER IF EXISTS enforce_phase_limit ON roadmap_items;
DROP FUNCTION IF EXISTS enforce_phase_limit();
DROP TRIGGER IF EXISTS enforce_deploy_gate ON deployment_events;
DROP FUNCTION IF EXISTS enforce_deploy_gate();
DROP TRIGGER IF EXISTS enforce_completed_immutable ON roadmap_items;
DROP FUNCTION IF EXISTS enforce_completed_immutable();
DROP TRIGGER IF EXISTS roadmap_prereq_resolved ON roadmap_assignments;
DROP FUNCTION IF EXISTS roadmap_prereq_resolved();
DROP TRIGGER IF EXISTS roadmap_assignment_cascade ON roadmap_assignments;
DROP FUNCTION IF EXISTS roadmap_assignment_cascade();
DROP TRIGGER IF EXISTS roadmap_assignment_audit ON roadmap_assignments;
DROP FUNCTION IF EXISTS roadmap_assignment_audit();
DROP TRIGGER IF EXISTS roadmap_dep_audit_insert ON roadmap_dependencies;
DROP FUNCTION IF EXISTS roadmap_dep_audit_insert();
DROP TRIGGER IF EXISTS roadmap_status_check_deps ON roadmap_items;
DROP FUNCTION IF EXISTS roadmap_status_check_deps();
DROP TRIGGER IF EXISTS roadmap_dep_no_cycles ON roadmap_dependencies;
DROP FUNCTION IF EXISTS roadmap_dep_no_cycles();
DROP TRIGGER IF EXISTS roadmap_version_capture ON roadmap_items;
DROP FUNCTION IF EXISTS roadmap_version_capture();
