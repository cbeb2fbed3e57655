-- roadmap 0002: triggers on roadmap tables (contract RULES.md §4.2, §4.3).
--
-- Frozen SQL of migration roadmap.0002: never edit after it has shipped; a change is a new
-- migration with its own file. Each trigger is dropped first so that running this file on a
-- database created by the upstream tool replaces the tool's own definitions.
--
-- Triggers are created in ascending schema.json `creation_order` (43..52); SQLite runs the
-- most recently created trigger first (RULES.md §1.9), which gives:
--   roadmap_items BEFORE UPDATE:       enforce_completed_immutable, then roadmap_status_check_deps
--   roadmap_assignments AFTER INSERT:  roadmap_prereq_resolved, roadmap_assignment_cascade,
--                                      then roadmap_assignment_audit
--
-- Graph walks (roadmap_dep_no_cycles, roadmap_assignment_cascade) never read
-- v_prerequisite_chain and never enumerate paths (RULES.md §7 2a/2b). They are breadth-first
-- searches that keep ONE row per reached item, at its smallest level, so their cost grows with
-- the number of items and edges reached, not with the number of paths:
--   * the level is carried as a string of that many spaces in a column declared
--     COLLATE RTRIM. Under RTRIM all-space strings compare equal, so UNION (which compares
--     whole rows with each column's collation) queues an item only the first time it is
--     reached, whatever the level;
--   * ORDER BY levels COLLATE BINARY turns the queue into a priority queue on the level
--     (' ' < '  ' < '   ' in BINARY), i.e. a breadth-first walk, so the first time an item
--     is reached is at its smallest level. length(levels) is that level. (When SQLite
--     materializes the CTE it may drop that ORDER BY; its queue is then FIFO, which is
--     breadth-first as well.)

-- 43. Snapshot of a roadmap item whenever an UPDATE changes updated_at (old and new non-NULL
-- and different).
DROP TRIGGER IF EXISTS roadmap_version_capture;
CREATE TRIGGER roadmap_version_capture
AFTER UPDATE ON roadmap_items
FOR EACH ROW
WHEN OLD.updated_at != NEW.updated_at
BEGIN
    INSERT INTO entity_versions (entity_type, entity_id, version, data, changed_by, change_reason)
    VALUES (
        'roadmap_item',
        NEW.id,
        (SELECT COALESCE(MAX(version), 0) + 1 FROM entity_versions
         WHERE entity_type = 'roadmap_item' AND entity_id = NEW.id),
        json_object(
            'title', NEW.title,
            'phase_key', NEW.phase_key,
            'status_key', NEW.status_key,
            'owner', NEW.owner,
            'target_date', NEW.target_date
        ),
        COALESCE(NEW.owner, 'system'),
        NULL
    );
END;

-- 44. Reject an edge that closes a cycle of up to 100 edges. Walk from the new depends_on_id
-- (level 1) along existing edges item_id -> depends_on_id, every dependency type, soft-deleted
-- items included, no step from level 100: reaching the new item_id (a self-edge at once)
-- means the new edge closes a cycle. A 99-edge chain closed by the new edge is rejected; a
-- 100-edge chain is not. Runs before the table's CHECK (item_id != depends_on_id).
DROP TRIGGER IF EXISTS roadmap_dep_no_cycles;
CREATE TRIGGER roadmap_dep_no_cycles
BEFORE INSERT ON roadmap_dependencies
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'Circular dependency detected')
    WHERE EXISTS (
        WITH RECURSIVE reach(id, levels) AS (
            SELECT NEW.depends_on_id AS id, ' ' COLLATE RTRIM AS levels
            UNION
            SELECT d.depends_on_id, reach.levels || ' '
            FROM reach
            JOIN roadmap_dependencies d ON d.item_id = reach.id
            WHERE length(reach.levels) < 100
            ORDER BY levels COLLATE BINARY
        )
        SELECT 1 FROM reach WHERE reach.id = NEW.item_id
    );
END;

-- 45. An item may move to in_progress only when every 'blocks' target is completed. The
-- target's deleted_at is not looked at (RULES.md §4.3); soft/related never block.
DROP TRIGGER IF EXISTS roadmap_status_check_deps;
CREATE TRIGGER roadmap_status_check_deps
BEFORE UPDATE OF status_key ON roadmap_items
FOR EACH ROW
WHEN NEW.status_key = 'in_progress' AND OLD.status_key != 'in_progress'
BEGIN
    SELECT RAISE(ABORT, 'Cannot start: blocking dependencies not complete')
    WHERE EXISTS (
        SELECT 1
        FROM roadmap_dependencies d
        JOIN roadmap_items target ON target.id = d.depends_on_id
        WHERE d.item_id = NEW.id
          AND d.dependency_type = 'blocks'
          AND target.status_key != 'completed'
    );
END;

-- 46. Audit row for every new dependency.
DROP TRIGGER IF EXISTS roadmap_dep_audit_insert;
CREATE TRIGGER roadmap_dep_audit_insert
AFTER INSERT ON roadmap_dependencies
FOR EACH ROW
BEGIN
    INSERT INTO audit_log (event_type, actor, resource_type, resource_id, action,
                           old_value, new_value, context, instance_id)
    VALUES (
        'roadmap_dependency',
        COALESCE(NEW.created_by, 'system'),
        'roadmap_dependency',
        NEW.item_id || '->' || NEW.depends_on_id,
        'create',
        NULL,
        json_object('item_id', NEW.item_id,
                    'depends_on_id', NEW.depends_on_id,
                    'type', NEW.dependency_type),
        NULL,
        (SELECT value FROM instance_config WHERE key = 'instance_id')
    );
END;

-- 47. Audit row for every new assignment (runs last of the three AFTER INSERT triggers).
DROP TRIGGER IF EXISTS roadmap_assignment_audit;
CREATE TRIGGER roadmap_assignment_audit
AFTER INSERT ON roadmap_assignments
FOR EACH ROW
BEGIN
    INSERT INTO audit_log (event_type, actor, resource_type, resource_id, action,
                           old_value, new_value, context, instance_id)
    VALUES (
        'roadmap_assignment',
        COALESCE(NEW.assigned_by, 'system'),
        'roadmap_assignment',
        NEW.item_id,
        'assign',
        NULL,
        json_object('item_id', NEW.item_id, 'agent_id', NEW.agent_id, 'role', NEW.role),
        NULL,
        (SELECT value FROM instance_config WHERE key = 'instance_id')
    );
END;

-- 48. Surface the open, unowned prerequisites of a newly assigned item.
-- The walk has the rules of v_prerequisite_chain (RULES.md §4.4) without reading it: start
-- from the item's 'blocks' edges (level 1), follow only 'blocks' edges, only to live targets
-- (a soft-deleted target is neither listed nor walked through), no step from level 50.
-- Completed and already-assigned prerequisites are walked through but not surfaced.
-- Contract deviation (RULES.md §4.2, §7 2a): one row per prerequisite, at its shallowest
-- depth; the audit row lists each surfaced id once (depth, then id order), read back from
-- the rows just inserted so that both always hold the same set.
DROP TRIGGER IF EXISTS roadmap_assignment_cascade;
CREATE TRIGGER roadmap_assignment_cascade
AFTER INSERT ON roadmap_assignments
FOR EACH ROW
BEGIN
    INSERT INTO assignment_prerequisites
        (source_assignment_id, prerequisite_item_id, depth, surfaced_at, resolved_at)
    SELECT NEW.id, chain.id, length(chain.levels), datetime('now'), NULL
    FROM (
        WITH RECURSIVE prereq(id, levels) AS (
            SELECT d.depends_on_id AS id, ' ' COLLATE RTRIM AS levels
            FROM roadmap_dependencies d
            JOIN roadmap_items target ON target.id = d.depends_on_id
            WHERE d.item_id = NEW.item_id
              AND d.dependency_type = 'blocks'
              AND target.deleted_at IS NULL
            UNION
            SELECT d.depends_on_id, prereq.levels || ' '
            FROM prereq
            JOIN roadmap_dependencies d ON d.item_id = prereq.id
            JOIN roadmap_items target ON target.id = d.depends_on_id
            WHERE length(prereq.levels) < 50
              AND d.dependency_type = 'blocks'
              AND target.deleted_at IS NULL
            ORDER BY levels COLLATE BINARY
        )
        SELECT id, levels FROM prereq
    ) AS chain
    JOIN roadmap_items item ON item.id = chain.id
    WHERE item.status_key != 'completed'
      AND NOT EXISTS (
          SELECT 1 FROM roadmap_assignments a
          WHERE a.item_id = chain.id AND a.status IN ('assigned', 'active')
      )
    ORDER BY length(chain.levels), chain.id;

    INSERT INTO audit_log (event_type, actor, resource_type, resource_id, action,
                           old_value, new_value, context, instance_id)
    SELECT
        'assignment_cascade',
        COALESCE(NEW.assigned_by, 'system'),
        'roadmap_assignment',
        NEW.item_id,
        'cascade_detected',
        NULL,
        json_object('assignment_id', NEW.id,
                    'item_id', NEW.item_id,
                    'agent_id', NEW.agent_id,
                    'unassigned_prereqs', surfaced.ids),
        NULL,
        (SELECT value FROM instance_config WHERE key = 'instance_id')
    FROM (
        SELECT group_concat(prerequisite_item_id, ', ') AS ids
        FROM (
            SELECT prerequisite_item_id FROM assignment_prerequisites
            WHERE source_assignment_id = NEW.id
            ORDER BY depth, prerequisite_item_id
        )
    ) AS surfaced
    WHERE surfaced.ids IS NOT NULL;
END;

-- 49. A new assignment on an item resolves the open prerequisite rows that point at it
-- (any role, any status; runs first of the three AFTER INSERT triggers).
DROP TRIGGER IF EXISTS roadmap_prereq_resolved;
CREATE TRIGGER roadmap_prereq_resolved
AFTER INSERT ON roadmap_assignments
FOR EACH ROW
BEGIN
    UPDATE assignment_prerequisites
    SET resolved_at = datetime('now')
    WHERE prerequisite_item_id = NEW.item_id
      AND resolved_at IS NULL;
END;

-- 50. A completed item cannot move back to another status (its other columns stay editable).
DROP TRIGGER IF EXISTS enforce_completed_immutable;
CREATE TRIGGER enforce_completed_immutable
BEFORE UPDATE ON roadmap_items
FOR EACH ROW
WHEN OLD.status_key = 'completed' AND NEW.status_key != 'completed'
BEGIN
    SELECT RAISE(ABORT, 'POLICY: Completed items cannot be modified');
END;

-- 51. Website deployments need no failed claim (rule 1), then no pending quantitative claim
-- (rule 2). A NULL test_status is neither.
DROP TRIGGER IF EXISTS enforce_deploy_gate;
CREATE TRIGGER enforce_deploy_gate
BEFORE INSERT ON deployment_events
FOR EACH ROW
WHEN NEW.target = 'website'
BEGIN
    SELECT RAISE(ABORT, 'POLICY-001: Cannot deploy - failed claims exist. Run: pytest -k claim')
    WHERE EXISTS (SELECT 1 FROM claims WHERE test_status = 'fail');

    SELECT RAISE(ABORT, 'POLICY-002: Cannot deploy - pending quantitative claims. Run: MOTUS_TRACK_CLAIMS=1 pytest -k claim')
    WHERE EXISTS (
        SELECT 1 FROM claims
        WHERE claim_type = 'quantitative' AND test_status = 'pending'
    );
END;

-- 52. At most 50 live, unfinished items per phase at insert time (the new row's own status
-- does not matter; moving an item into a full phase by UPDATE is not checked).
DROP TRIGGER IF EXISTS enforce_phase_limit;
CREATE TRIGGER enforce_phase_limit
BEFORE INSERT ON roadmap_items
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'POLICY: Maximum 50 active items per phase')
    WHERE (
        SELECT COUNT(*) FROM roadmap_items
        WHERE phase_key = NEW.phase_key
          AND deleted_at IS NULL
          AND status_key NOT IN ('completed', 'deferred')
    ) >= 50;
END;
