-- Repairs a coordination.db that the `motus` tool created (RULES.md 3.8, 7.1): its
-- idx_leases_active has a now-relative condition, which makes every INSERT into leases
-- fail on SQLite >= 3.20. The contract's index is deterministic. On a file Django created,
-- this re-creates the same index.
DROP INDEX IF EXISTS idx_leases_active;
CREATE INDEX idx_leases_active ON leases (resource_type, resource_id) WHERE released_at IS NULL;
