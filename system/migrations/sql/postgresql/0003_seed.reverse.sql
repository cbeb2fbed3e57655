-- PostgreSQL counterpart of ../sqlite/0003_seed.reverse.sql
-- Reverse of 0003_seed: remove exactly the seed rows (by key). Plain SQL, same text as SQLite's.

DELETE FROM schema_version WHERE version BETWEEN 1 AND 20;
DELETE FROM extension_points WHERE point_name = 'pre_claim_acquire' AND handler_id = 'quota_check';
DELETE FROM extension_points WHERE point_name = 'pre_claim_acquire' AND handler_id = 'namespace_acl';
DELETE FROM extension_points WHERE point_name = 'post_claim_acquire' AND handler_id = 'audit_log';
DELETE FROM extension_points WHERE point_name = 'post_claim_acquire' AND handler_id = 'federation_publish';
DELETE FROM extension_points WHERE point_name = 'pre_command' AND handler_id = 'health_check';
DELETE FROM extension_points WHERE point_name = 'on_error' AND handler_id = 'audit_log';
DELETE FROM extension_points WHERE point_name = 'on_quota_warning' AND handler_id = 'audit_log';
DELETE FROM circuit_breakers WHERE name IN ('database', 'federation', 'file_system');
DELETE FROM resource_quotas WHERE resource_type IN ('active_claims_per_agent', 'events_per_hour', 'db_size_mb', 'pending_outbox', 'concurrent_sessions');
DELETE FROM instance_config WHERE key IN ('instance_id', 'instance_name', 'protocol_version', 'federation_enabled', 'federation_upstream_url', 'federation_api_key', 'created_at');
DELETE FROM terminology WHERE id BETWEEN 1 AND 76;
