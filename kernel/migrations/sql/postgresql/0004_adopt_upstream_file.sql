-- PostgreSQL counterpart of ../sqlite/0004_adopt_upstream_file.sql
-- On PostgreSQL there is no upstream `motus` file to adopt (RULES.md 3.8, 7.1): the index
-- 0001_initial made is already the contract's. Re-create it exactly as the SQLite file does,
-- so both backends end this migration in the same state.
DROP INDEX IF EXISTS idx_leases_active;
CREATE INDEX idx_leases_active ON leases (resource_type, resource_id) WHERE released_at IS NULL;
