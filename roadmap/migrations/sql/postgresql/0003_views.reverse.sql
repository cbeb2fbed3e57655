-- PostgreSQL counterpart of ../sqlite/0003_views.reverse.sql: drop the thirteen roadmap and
-- deploy views.
DROP VIEW IF EXISTS v_deploy_blockers;
DROP VIEW IF EXISTS v_claims_needing_tests;
DROP VIEW IF EXISTS v_can_deploy;
DROP VIEW IF EXISTS v_missing_prereqs;
DROP VIEW IF EXISTS v_roadmap_progress;
DROP VIEW IF EXISTS v_roadmap_with_deps;
DROP VIEW IF EXISTS v_next_rank;
DROP VIEW IF EXISTS v_unassigned_prerequisites;
DROP VIEW IF EXISTS v_assignment_with_prerequisites;
DROP VIEW IF EXISTS v_prerequisite_chain;
DROP VIEW IF EXISTS v_dependency_graph;
DROP VIEW IF EXISTS v_blocked_items;
DROP VIEW IF EXISTS v_ready_items;
