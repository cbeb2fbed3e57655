-- The review step (system.policy, kernel.services.release): an item whose implementer is
-- done waits in status `review` for a reviewer's decision. The `motus` tool writes this
-- status too; an adopted file may already have the row.
INSERT OR IGNORE INTO terminology (domain, internal_key, display_name, description, sort_order)
VALUES ('roadmap_status', 'review', 'In Review', 'Done by its implementer; waiting for a reviewer', 6);

-- 'true': every completion waits for a reviewer, not only items with a reviewer assignment.
INSERT OR IGNORE INTO instance_config (key, value) VALUES ('review_required', 'false');
