-- PostgreSQL counterpart of ../sqlite/0002_triggers.sql (same trigger names, tables, timings,
-- events and messages; contract RULES.md §4.2, §4.3).
--
-- Each trigger NAME runs the function NAME(); rules raise their message with SQLSTATE 23000
-- (system.db_errors: "a kernel rule"). Times come from motus_now() (system 0002).
--
-- Firing order (RULES.md §1.9). PostgreSQL fires triggers of the same table, timing and event
-- alphabetically by name, SQLite the most recently created first:
--   roadmap_items BEFORE UPDATE: enforce_completed_immutable, then roadmap_status_check_deps
--     in both (alphabetical order happens to be SQLite's order).
--   roadmap_assignments AFTER INSERT: SQLite runs roadmap_prereq_resolved, then
--     roadmap_assignment_cascade, then roadmap_assignment_audit; PostgreSQL would run
--     roadmap_assignment_audit first and give the assignment's audit row a lower id than the
--     cascade's. See 47-49 below for how the SQLite result is kept.
--
-- Graph walks (roadmap_dep_no_cycles, roadmap_assignment_cascade) never read
-- v_prerequisite_chain and never enumerate paths (RULES.md §7 2a/2b). PostgreSQL has no RTRIM
-- collation trick and its recursive term cannot look at the rows found so far, so the walk
-- keeps one row per (item, level): UNION drops a row already found, and since every step adds
-- one level a walk of at most N levels holds at most N rows per item, whatever the number of
-- paths (RULES.md §4.2 allows this). An item's smallest level is MIN(level).
--
-- Concurrency: SQLite has one writer at a time; PostgreSQL (READ COMMITTED) does not. The
-- checks that count or search other rows (phase limit, dependency cycles) first take a
-- transaction-level advisory lock naming what they protect, so two writers cannot both pass
-- the check on the same state; the next SELECT then sees the other writer's committed rows.

-- 43. Snapshot of a roadmap item whenever an UPDATE changes updated_at (old and new non-NULL
-- and different).
CREATE OR REPLACE FUNCTION roadmap_version_capture() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO entity_versions (entity_type, entity_id, version, data, changed_by, change_reason)
    VALUES (
        'roadmap_item',
        NEW.id,
        (SELECT COALESCE(MAX(version), 0) + 1 FROM entity_versions
         WHERE entity_type = 'roadmap_item' AND entity_id = NEW.id),
        motus_json(json_build_object(
            'title', NEW.title,
            'phase_key', NEW.phase_key,
            'status_key', NEW.status_key,
            'owner', NEW.owner,
            'target_date', NEW.target_date
        )),
        COALESCE(NEW.owner, 'system'),
        NULL
    );
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS roadmap_version_capture ON roadmap_items;
CREATE TRIGGER roadmap_version_capture
AFTER UPDATE ON roadmap_items
FOR EACH ROW
WHEN (OLD.updated_at <> NEW.updated_at)
EXECUTE FUNCTION roadmap_version_capture();

-- 44. Reject an edge that closes a cycle of up to 100 edges. Walk from the new depends_on_id
-- (level 1) along existing edges item_id -> depends_on_id, every dependency type, soft-deleted
-- items included, no step from level 100: reaching the new item_id (a self-edge at once)
-- means the new edge closes a cycle. A 99-edge chain closed by the new edge is rejected; a
-- 100-edge chain is not. Runs before the table's CHECK (item_id != depends_on_id).
-- The lock 'dependencies' (whole graph) keeps two concurrent inserts from closing one cycle
-- between them, each having checked the graph without the other's edge.
CREATE OR REPLACE FUNCTION roadmap_dep_no_cycles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('dependencies', 0));
    IF EXISTS (
        WITH RECURSIVE reach(id, level) AS (
            SELECT NEW.depends_on_id, 1
            UNION
            SELECT d.depends_on_id, reach.level + 1
            FROM reach
            JOIN roadmap_dependencies d ON d.item_id = reach.id
            WHERE reach.level < 100
        )
        SELECT 1 FROM reach WHERE reach.id = NEW.item_id
    ) THEN
        RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = 'Circular dependency detected';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS roadmap_dep_no_cycles ON roadmap_dependencies;
CREATE TRIGGER roadmap_dep_no_cycles
BEFORE INSERT ON roadmap_dependencies
FOR EACH ROW
EXECUTE FUNCTION roadmap_dep_no_cycles();

-- 45. An item may move to in_progress only when every 'blocks' target is completed. The
-- target's deleted_at is not looked at (RULES.md §4.3); soft/related never block.
CREATE OR REPLACE FUNCTION roadmap_status_check_deps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1
        FROM roadmap_dependencies d
        JOIN roadmap_items target ON target.id = d.depends_on_id
        WHERE d.item_id = NEW.id
          AND d.dependency_type = 'blocks'
          AND target.status_key <> 'completed'
    ) THEN
        RAISE EXCEPTION USING ERRCODE = '23000',
            MESSAGE = 'Cannot start: blocking dependencies not complete';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS roadmap_status_check_deps ON roadmap_items;
CREATE TRIGGER roadmap_status_check_deps
BEFORE UPDATE OF status_key ON roadmap_items
FOR EACH ROW
WHEN (NEW.status_key = 'in_progress' AND OLD.status_key <> 'in_progress')
EXECUTE FUNCTION roadmap_status_check_deps();

-- 46. Audit row for every new dependency.
CREATE OR REPLACE FUNCTION roadmap_dep_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
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
        motus_json(json_build_object('item_id', NEW.item_id,
                          'depends_on_id', NEW.depends_on_id,
                          'type', NEW.dependency_type)),
        NULL,
        (SELECT value FROM instance_config WHERE key = 'instance_id')
    );
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS roadmap_dep_audit_insert ON roadmap_dependencies;
CREATE TRIGGER roadmap_dep_audit_insert
AFTER INSERT ON roadmap_dependencies
FOR EACH ROW
EXECUTE FUNCTION roadmap_dep_audit_insert();

-- 47-49. The three AFTER INSERT triggers of roadmap_assignments. SQLite runs
-- roadmap_prereq_resolved, roadmap_assignment_cascade, roadmap_assignment_audit in that
-- order; PostgreSQL fires them alphabetically: audit, cascade, resolved. The SQLite result
-- is kept this way:
--   * roadmap_assignment_audit fires first, so its function does the cascade's work first
--     (the prerequisite rows and the assignment_cascade audit row), then writes the
--     assignment's own audit row: the cascade's audit row gets the lower id, as on SQLite.
--     roadmap_assignment_cascade stays in place under its contract name, and its function
--     does nothing (its work is done by then).
--   * roadmap_prereq_resolved fires last, after the cascade. It leaves alone the rows the
--     cascade has just written for this same assignment (source_assignment_id = NEW.id):
--     on SQLite those rows did not exist yet when it ran, so it resolves the same rows.
-- (As for every AFTER ROW trigger in PostgreSQL, the three run once the whole INSERT
-- statement has written its rows; SQLite runs them after each row. Only a multi-row INSERT
-- can tell the difference.)

-- 47. Audit row for every new assignment (after the cascade's work, see above).
-- 48. (done here) Surface the open, unowned prerequisites of a newly assigned item.
-- The walk has the rules of v_prerequisite_chain (RULES.md §4.4) without reading it: start
-- from the item's 'blocks' edges (level 1), follow only 'blocks' edges, only to live targets
-- (a soft-deleted target is neither listed nor walked through), no step from level 50.
-- Completed and already-assigned prerequisites are walked through but not surfaced.
-- Contract deviation (RULES.md §4.2, §7 2a): one row per prerequisite, at its shallowest
-- depth; the audit row lists each surfaced id once (depth, then id order), read back from
-- the rows just inserted so that both always hold the same set.
CREATE OR REPLACE FUNCTION roadmap_assignment_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- roadmap_assignment_cascade's work (48).
    INSERT INTO assignment_prerequisites
        (source_assignment_id, prerequisite_item_id, depth, surfaced_at, resolved_at)
    SELECT NEW.id, chain.id, chain.depth, motus_now(), NULL
    FROM (
        WITH RECURSIVE prereq(id, level) AS (
            SELECT d.depends_on_id, 1
            FROM roadmap_dependencies d
            JOIN roadmap_items target ON target.id = d.depends_on_id
            WHERE d.item_id = NEW.item_id
              AND d.dependency_type = 'blocks'
              AND target.deleted_at IS NULL
            UNION
            SELECT d.depends_on_id, prereq.level + 1
            FROM prereq
            JOIN roadmap_dependencies d ON d.item_id = prereq.id
            JOIN roadmap_items target ON target.id = d.depends_on_id
            WHERE prereq.level < 50
              AND d.dependency_type = 'blocks'
              AND target.deleted_at IS NULL
        )
        SELECT id, MIN(level) AS depth FROM prereq GROUP BY id
    ) AS chain
    JOIN roadmap_items item ON item.id = chain.id
    WHERE item.status_key <> 'completed'
      AND NOT EXISTS (
          SELECT 1 FROM roadmap_assignments a
          WHERE a.item_id = chain.id AND a.status IN ('assigned', 'active')
      )
    ORDER BY chain.depth, chain.id COLLATE "C";

    INSERT INTO audit_log (event_type, actor, resource_type, resource_id, action,
                           old_value, new_value, context, instance_id)
    SELECT
        'assignment_cascade',
        COALESCE(NEW.assigned_by, 'system'),
        'roadmap_assignment',
        NEW.item_id,
        'cascade_detected',
        NULL,
        motus_json(json_build_object('assignment_id', NEW.id,
                          'item_id', NEW.item_id,
                          'agent_id', NEW.agent_id,
                          'unassigned_prereqs', surfaced.ids)),
        NULL,
        (SELECT value FROM instance_config WHERE key = 'instance_id')
    FROM (
        SELECT string_agg(prerequisite_item_id, ', '
                          ORDER BY depth, prerequisite_item_id COLLATE "C") AS ids
        FROM assignment_prerequisites
        WHERE source_assignment_id = NEW.id
    ) AS surfaced
    WHERE surfaced.ids IS NOT NULL;

    -- roadmap_assignment_audit's own work (47).
    INSERT INTO audit_log (event_type, actor, resource_type, resource_id, action,
                           old_value, new_value, context, instance_id)
    VALUES (
        'roadmap_assignment',
        COALESCE(NEW.assigned_by, 'system'),
        'roadmap_assignment',
        NEW.item_id,
        'assign',
        NULL,
        motus_json(json_build_object('item_id', NEW.item_id, 'agent_id', NEW.agent_id,
                          'role', NEW.role)),
        NULL,
        (SELECT value FROM instance_config WHERE key = 'instance_id')
    );
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS roadmap_assignment_audit ON roadmap_assignments;
CREATE TRIGGER roadmap_assignment_audit
AFTER INSERT ON roadmap_assignments
FOR EACH ROW
EXECUTE FUNCTION roadmap_assignment_audit();

-- 48. Its work is done by roadmap_assignment_audit(), which PostgreSQL fires before it (see
-- 47-49 above).
CREATE OR REPLACE FUNCTION roadmap_assignment_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS roadmap_assignment_cascade ON roadmap_assignments;
CREATE TRIGGER roadmap_assignment_cascade
AFTER INSERT ON roadmap_assignments
FOR EACH ROW
EXECUTE FUNCTION roadmap_assignment_cascade();

-- 49. A new assignment on an item resolves the open prerequisite rows that point at it
-- (any role, any status), except those the cascade has just surfaced for this assignment
-- (see 47-49 above: on SQLite this trigger ran before they existed).
CREATE OR REPLACE FUNCTION roadmap_prereq_resolved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE assignment_prerequisites
    SET resolved_at = motus_now()
    WHERE prerequisite_item_id = NEW.item_id
      AND resolved_at IS NULL
      AND source_assignment_id <> NEW.id;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS roadmap_prereq_resolved ON roadmap_assignments;
CREATE TRIGGER roadmap_prereq_resolved
AFTER INSERT ON roadmap_assignments
FOR EACH ROW
EXECUTE FUNCTION roadmap_prereq_resolved();

-- 50. A completed item cannot move back to another status (its other columns stay editable).
CREATE OR REPLACE FUNCTION enforce_completed_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = '23000',
        MESSAGE = 'POLICY: Completed items cannot be modified';
END $$;
DROP TRIGGER IF EXISTS enforce_completed_immutable ON roadmap_items;
CREATE TRIGGER enforce_completed_immutable
BEFORE UPDATE ON roadmap_items
FOR EACH ROW
WHEN (OLD.status_key = 'completed' AND NEW.status_key <> 'completed')
EXECUTE FUNCTION enforce_completed_immutable();

-- 51. Website deployments need no failed claim (rule 1), then no pending quantitative claim
-- (rule 2). A NULL test_status is neither.
CREATE OR REPLACE FUNCTION enforce_deploy_gate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM claims WHERE test_status = 'fail') THEN
        RAISE EXCEPTION USING ERRCODE = '23000',
            MESSAGE = 'POLICY-001: Cannot deploy - failed claims exist. Run: pytest -k claim';
    END IF;
    IF EXISTS (
        SELECT 1 FROM claims
        WHERE claim_type = 'quantitative' AND test_status = 'pending'
    ) THEN
        RAISE EXCEPTION USING ERRCODE = '23000',
            MESSAGE = 'POLICY-002: Cannot deploy - pending quantitative claims. Run: MOTUS_TRACK_CLAIMS=1 pytest -k claim';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS enforce_deploy_gate ON deployment_events;
CREATE TRIGGER enforce_deploy_gate
BEFORE INSERT ON deployment_events
FOR EACH ROW
WHEN (NEW.target = 'website')
EXECUTE FUNCTION enforce_deploy_gate();

-- 52. At most 50 live, unfinished items per phase at insert time (the new row's own status
-- does not matter; moving an item into a full phase by UPDATE is not checked).
-- The lock 'phase:<key>' keeps two concurrent inserts from both taking the 50th place.
CREATE OR REPLACE FUNCTION enforce_phase_limit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('phase:' || NEW.phase_key, 0));
    IF (
        SELECT COUNT(*) FROM roadmap_items
        WHERE phase_key = NEW.phase_key
          AND deleted_at IS NULL
          AND status_key NOT IN ('completed', 'deferred')
    ) >= 50 THEN
        RAISE EXCEPTION USING ERRCODE = '23000',
            MESSAGE = 'POLICY: Maximum 50 active items per phase';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS enforce_phase_limit ON roadmap_items;
CREATE TRIGGER enforce_phase_limit
BEFORE INSERT ON roadmap_items
FOR EACH ROW
EXECUTE FUNCTION enforce_phase_limit();
