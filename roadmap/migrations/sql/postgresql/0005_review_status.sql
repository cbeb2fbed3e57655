-- PostgreSQL counterpart of ../sqlite/0005_review_status.sql
-- The review step (system.policy, kernel.services.release): an item whose implementer is
-- done waits in status `review` for a reviewer's decision. The `motus` tool writes this
-- status too; an adopted file may already have the row.
-- SQLite's INSERT OR IGNORE is ON CONFLICT on the row's natural key: the terminology id comes
-- from its identity sequence (moved past the seeded ids by system 0003_seed).
INSERT INTO terminology (domain, internal_key, display_name, description, sort_order)
VALUES ('roadmap_status', 'review', 'In Review', 'Done by its implementer; waiting for a reviewer', 6)
ON CONFLICT (domain, internal_key) DO NOTHING;

-- 'true': every completion waits for a reviewer, not only items with a reviewer assignment.
INSERT INTO instance_config (key, value) VALUES ('review_required', 'false')
ON CONFLICT (key) DO NOTHING;
