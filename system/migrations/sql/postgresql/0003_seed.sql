-- PostgreSQL counterpart of ../sqlite/0003_seed.sql
-- Required seed rows of the contract (RULES.md 6, Appendix D) and the 20 schema_version rows
-- the `motus` tool checks on start. ON CONFLICT DO NOTHING (SQLite: INSERT OR IGNORE): a
-- database already seeded keeps its rows (and its instance_id) untouched.

INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (1, 'plane', 'control_plane', 'Control Plane', 'Where decisions are made', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (2, 'plane', 'ops_plane', 'Ops Plane', 'Where coordination happens', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (3, 'plane', 'data_plane', 'Data Plane', 'Where work happens', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (4, 'artifact', 'flight_rule', 'Flight Rule', 'Pre-computed decision (no thinking)', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (5, 'artifact', 'playbook', 'Playbook', 'Domain guidance (MUST/SHOULD/MAY)', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (6, 'artifact', 'cr', 'Change Request', 'Discrete work item', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (7, 'artifact', 'adr', 'ADR', 'Architectural decision record', 4, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (8, 'cr_status', 'queue', 'Queue', 'Not started', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (9, 'cr_status', 'in_progress', 'In Progress', 'Active work', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (10, 'cr_status', 'review', 'Review', 'Awaiting review', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (11, 'cr_status', 'done', 'Done', 'Completed', 4, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (12, 'cr_type', 'defect', 'Defect', 'Bug fix', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (13, 'cr_type', 'enhancement', 'Enhancement', 'New capability', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (14, 'cr_type', 'chore', 'Chore', 'Operational/maintenance', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (15, 'cr_type', 'spec', 'Spec', 'Design work', 4, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (16, 'artifact', 'dna', 'DNA', 'DEPRECATED: Use flight_rule', 99, motus_now(), 'flight_rule') ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (17, 'artifact', 'skill_pack', 'Skill Pack', 'DEPRECATED: Use playbook', 99, motus_now(), 'playbook') ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (18, 'product_status', 'active', 'Active', 'Product is actively developed', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (19, 'product_status', 'maintenance', 'Maintenance', 'Bug fixes only', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (20, 'product_status', 'deprecated', 'Deprecated', 'No new development', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (21, 'product_status', 'archived', 'Archived', 'No longer supported', 4, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (22, 'feature_status', 'planned', 'Planned', 'Not yet started', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (23, 'feature_status', 'in_development', 'In Development', 'Active work', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (24, 'feature_status', 'beta', 'Beta', 'Testing phase', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (25, 'feature_status', 'stable', 'Stable', 'Production ready', 4, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (26, 'feature_status', 'deprecated', 'Deprecated', 'Being phased out', 5, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (27, 'roadmap_phase', 'phase_a', 'Phase A', 'Foundation', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (28, 'roadmap_phase', 'phase_b', 'Phase B', 'Core Development', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (29, 'roadmap_phase', 'phase_c', 'Phase C', 'Functional Verification', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (30, 'roadmap_phase', 'phase_d', 'Phase D', 'Claims Validation', 4, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (31, 'roadmap_phase', 'phase_e', 'Phase E', 'Release Preparation', 5, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (32, 'roadmap_phase', 'post_launch', 'Post-Launch', 'Maintenance and growth', 6, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (33, 'roadmap_status', 'pending', 'Pending', 'Not started', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (34, 'roadmap_status', 'in_progress', 'In Progress', 'Active work', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (35, 'roadmap_status', 'blocked', 'Blocked', 'Waiting on dependency', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (36, 'roadmap_status', 'completed', 'Completed', 'Done', 4, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (37, 'roadmap_status', 'deferred', 'Deferred', 'Moved to later phase', 5, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (38, 'bug_severity', 'critical', 'Critical', 'System unusable', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (39, 'bug_severity', 'high', 'High', 'Major feature broken', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (40, 'bug_severity', 'medium', 'Medium', 'Feature degraded', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (41, 'bug_severity', 'low', 'Low', 'Minor issue', 4, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (42, 'bug_status', 'open', 'Open', 'Not yet addressed', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (43, 'bug_status', 'confirmed', 'Confirmed', 'Reproduced', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (44, 'bug_status', 'in_progress', 'In Progress', 'Being fixed', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (45, 'bug_status', 'fixed', 'Fixed', 'Fix implemented', 4, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (46, 'bug_status', 'verified', 'Verified', 'Fix confirmed', 5, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (47, 'bug_status', 'wont_fix', 'Won''t Fix', 'Intentional or not worth fixing', 6, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (48, 'charter_type', 'roadmap', 'Roadmap', 'Single source of truth for planning', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (49, 'charter_type', 'ethos', 'Ethos', 'Agent operating principles', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (50, 'charter_type', 'release_checklist', 'Release Checklist', 'Go-live verification', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (51, 'program_type', 'software', 'Software', 'Code-based deliverables', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (52, 'program_type', 'content', 'Content', 'Written/media deliverables', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (53, 'program_type', 'infrastructure', 'Infrastructure', 'Systems and tooling', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (54, 'release_type', 'version', 'Version', 'Semantic versioned software release', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (55, 'release_type', 'post', 'Post', 'Blog post or article', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (56, 'release_type', 'campaign', 'Campaign', 'Marketing or outreach campaign', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (57, 'release_type', 'deploy', 'Deploy', 'Infrastructure deployment', 4, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (58, 'release_status', 'pending', 'Pending', 'Not yet started', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (59, 'release_status', 'in_progress', 'In Progress', 'Active work', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (60, 'release_status', 'ready', 'Ready', 'Ready for release', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (61, 'release_status', 'published', 'Published', 'Released to public', 4, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (62, 'release_status', 'archived', 'Archived', 'No longer active', 5, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (63, 'standard_level', 'program', 'Program', 'Standards for entire program', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (64, 'standard_level', 'product', 'Product', 'Standards for product', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (65, 'standard_level', 'feature', 'Feature', 'Standards for feature', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (66, 'standard_level', 'release', 'Release', 'Standards for release', 4, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (67, 'standard_level', 'cr', 'CR', 'Standards for change request', 5, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (68, 'check_type', 'boolean', 'Boolean', 'Pass/Fail check', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (69, 'check_type', 'threshold', 'Threshold', 'Numeric threshold check', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (70, 'check_type', 'pattern', 'Pattern', 'Regex pattern check', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (71, 'check_type', 'manual', 'Manual', 'Human verification required', 4, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (72, 'roadmap_item_type', 'work', 'Work', 'Regular deliverable item requiring effort', 1, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (73, 'roadmap_item_type', 'gate', 'Gate', 'Checkpoint requiring verification before next phase', 2, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (74, 'roadmap_item_type', 'holding', 'Holding', 'Future item not yet actionable - parked for later', 3, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (75, 'roadmap_item_type', 'integration', 'Integration', 'Post-feature alignment: vault sync, conflict removal, verification, website update', 4, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO terminology (id, domain, internal_key, display_name, description, sort_order, deprecated_at, replaced_by) VALUES (76, 'roadmap_phase', 'phase_f', 'Future', 'Holding area for post-v0.1.0 enhancements', 7, NULL, NULL) ON CONFLICT DO NOTHING;
-- terminology.id is an identity column here: move its sequence past the explicit ids.
SELECT setval(pg_get_serial_sequence('terminology', 'id'), (SELECT COALESCE(MAX(id), 1) FROM terminology));

-- instance_id: 32 lowercase hex characters, generated once per install (SQLite: 16 random
-- bytes, lower(hex(randomblob(16))); here the md5 of a strong-random UUID, same shape).
INSERT INTO instance_config (key, value) VALUES ('instance_id', md5(gen_random_uuid()::text || clock_timestamp()::text)) ON CONFLICT DO NOTHING;
INSERT INTO instance_config (key, value) VALUES ('instance_name', 'default') ON CONFLICT DO NOTHING;
INSERT INTO instance_config (key, value) VALUES ('protocol_version', '1') ON CONFLICT DO NOTHING;
INSERT INTO instance_config (key, value) VALUES ('federation_enabled', 'false') ON CONFLICT DO NOTHING;
INSERT INTO instance_config (key, value) VALUES ('federation_upstream_url', '') ON CONFLICT DO NOTHING;
INSERT INTO instance_config (key, value) VALUES ('federation_api_key', '') ON CONFLICT DO NOTHING;
INSERT INTO instance_config (key, value) VALUES ('created_at', motus_now()) ON CONFLICT DO NOTHING;

INSERT INTO resource_quotas (resource_type, soft_limit, hard_limit, current_usage, last_warning_at, last_reset_at, reset_interval_hours) VALUES ('active_claims_per_agent', 10, 50, 0, NULL, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO resource_quotas (resource_type, soft_limit, hard_limit, current_usage, last_warning_at, last_reset_at, reset_interval_hours) VALUES ('events_per_hour', 1000, 10000, 0, NULL, NULL, 1) ON CONFLICT DO NOTHING;
INSERT INTO resource_quotas (resource_type, soft_limit, hard_limit, current_usage, last_warning_at, last_reset_at, reset_interval_hours) VALUES ('db_size_mb', 500, 1000, 0, NULL, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO resource_quotas (resource_type, soft_limit, hard_limit, current_usage, last_warning_at, last_reset_at, reset_interval_hours) VALUES ('pending_outbox', 1000, 10000, 0, NULL, NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO resource_quotas (resource_type, soft_limit, hard_limit, current_usage, last_warning_at, last_reset_at, reset_interval_hours) VALUES ('concurrent_sessions', 5, 20, 0, NULL, NULL, NULL) ON CONFLICT DO NOTHING;

INSERT INTO circuit_breakers (name, state, failure_count, success_count, last_failure_at, last_success_at, opened_at, failure_threshold, recovery_timeout_seconds) VALUES ('database', 'closed', 0, 0, NULL, NULL, NULL, 3, 10) ON CONFLICT DO NOTHING;
INSERT INTO circuit_breakers (name, state, failure_count, success_count, last_failure_at, last_success_at, opened_at, failure_threshold, recovery_timeout_seconds) VALUES ('federation', 'closed', 0, 0, NULL, NULL, NULL, 5, 60) ON CONFLICT DO NOTHING;
INSERT INTO circuit_breakers (name, state, failure_count, success_count, last_failure_at, last_success_at, opened_at, failure_threshold, recovery_timeout_seconds) VALUES ('file_system', 'closed', 0, 0, NULL, NULL, NULL, 3, 30) ON CONFLICT DO NOTHING;

INSERT INTO extension_points (point_name, handler_id, handler_type, handler_path, priority, is_enabled) VALUES ('pre_claim_acquire', 'quota_check', 'builtin', NULL, 10, 1) ON CONFLICT DO NOTHING;
INSERT INTO extension_points (point_name, handler_id, handler_type, handler_path, priority, is_enabled) VALUES ('pre_claim_acquire', 'namespace_acl', 'builtin', NULL, 20, 1) ON CONFLICT DO NOTHING;
INSERT INTO extension_points (point_name, handler_id, handler_type, handler_path, priority, is_enabled) VALUES ('post_claim_acquire', 'audit_log', 'builtin', NULL, 90, 1) ON CONFLICT DO NOTHING;
INSERT INTO extension_points (point_name, handler_id, handler_type, handler_path, priority, is_enabled) VALUES ('post_claim_acquire', 'federation_publish', 'builtin', NULL, 100, 1) ON CONFLICT DO NOTHING;
INSERT INTO extension_points (point_name, handler_id, handler_type, handler_path, priority, is_enabled) VALUES ('pre_command', 'health_check', 'builtin', NULL, 10, 1) ON CONFLICT DO NOTHING;
INSERT INTO extension_points (point_name, handler_id, handler_type, handler_path, priority, is_enabled) VALUES ('on_error', 'audit_log', 'builtin', NULL, 10, 1) ON CONFLICT DO NOTHING;
INSERT INTO extension_points (point_name, handler_id, handler_type, handler_path, priority, is_enabled) VALUES ('on_quota_warning', 'audit_log', 'builtin', NULL, 10, 1) ON CONFLICT DO NOTHING;

INSERT INTO schema_version (version, migration_name, checksum) VALUES (1, 'initial_schema', '1fd26306fa347221') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (2, 'project_memory', '55bdde78334c3159') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (3, 'session_cache', '23150197c1a11b2d') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (4, 'add_audit_columns', 'd9e575c741b81eec') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (5, 'program_management', '3c5fa217a092be69') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (6, 'dogfood_current_roadmap', '923c6a09db4beb42') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (7, 'roadmap_dependencies', '2cc6efe4bccb3efb') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (8, 'claims_policy', '1125b207dc6bec0a') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (9, 'fix_deploy_gate', '76c1d235d18ec1a5') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (10, 'fix_phase_limit_status', '5291659683dbdabd') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (11, 'roadmap_reality_reset', '24e2ca0f09d1b3e8') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (12, 'item_type_terminology', 'cd41f2afd79651ec') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (13, 'add_roadmap_external_fields', '595389901c9a21f7') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (14, 'plan_events', 'a26e00c9f6ee9c2f') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (15, 'missing_prereqs_view', '1ef88551bdf37b5e') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (16, 'kernel_governance_tables', 'd546ec66f81120be') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (17, 'minify_bool_columns', 'c11046cad5e453bf') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (18, 'add_standards_doc_path', '8a94124813c2e524') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (19, 'kernel_leases', '55c9b3d400161a3a') ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version, migration_name, checksum) VALUES (20, 'clear_seed_roadmap', '0cbe6a2ee45d2810') ON CONFLICT DO NOTHING;
