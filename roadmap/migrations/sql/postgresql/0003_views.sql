-- PostgreSQL counterpart of ../sqlite/0003_views.sql: the thirteen roadmap and deploy views
-- (contract RULES.md §4.3, §4.4, §7), same names, columns, rows and values.
--
-- Shared definitions:
-- * live item: roadmap_items.deleted_at IS NULL.
-- * unmet blocking dependency of X (§4.3): a roadmap_dependencies row with item_id = X,
--   dependency_type 'blocks', whose target row exists with status_key != 'completed'.
--   The target's deleted_at is NOT looked at.
-- * prerequisites of X (v_prerequisite_chain rules): follow 'blocks' edges to live targets
--   only, at most 50 levels; completed targets are walked through.
--
-- Performance (§7 2b): v_prerequisite_chain enumerates paths by definition; no other view
-- reads it. Reachability is a recursion seeded at the item in question (a correlated
-- subquery, run only for the rows a caller selects) that keeps one row per (item, level):
-- UNION drops a row already found, and every step adds one level, so a walk of 50 levels
-- holds at most 50 rows per item whatever the number of paths. (PostgreSQL has no RTRIM
-- collation to compare levels as equal, and its recursive term cannot look at the rows
-- found so far; counting DISTINCT ids gives the same set as the SQLite walk.)
--
-- PostgreSQL differences from the SQLite text: ascending ORDER BY puts NULLs first only with
-- NULLS FIRST (SQLite's default); text is ordered COLLATE "C" (SQLite's BINARY order,
-- whatever the database's collation); GROUP_CONCAT(x, ', ') is string_agg(x, ', ');
-- SQLite's round() is numeric round() (half away from zero) cast back to float8.

-- Live pending items with no unmet blocking dependency; by phase, then rank (NULLs first).
DROP VIEW IF EXISTS v_ready_items;
CREATE VIEW v_ready_items AS
SELECT
    ri.id         AS id,
    ri.title      AS title,
    ri.phase_key  AS phase_key,
    ri.owner      AS owner,
    ri.rank       AS rank
FROM roadmap_items ri
WHERE ri.deleted_at IS NULL
  AND ri.status_key = 'pending'
  AND NOT EXISTS (
      SELECT 1
      FROM roadmap_dependencies d
      JOIN roadmap_items t ON t.id = d.depends_on_id
      WHERE d.item_id = ri.id
        AND d.dependency_type = 'blocks'
        AND t.status_key <> 'completed'
  )
ORDER BY ri.phase_key COLLATE "C", ri.rank NULLS FIRST;

-- One row per live, not completed/deferred item with at least one unmet blocking dependency.
DROP VIEW IF EXISTS v_blocked_items;
CREATE VIEW v_blocked_items AS
SELECT
    ri.id                         AS id,
    ri.title                      AS title,
    ri.phase_key                  AS phase_key,
    ri.status_key                 AS status_key,
    COUNT(*)                      AS blocking_count,
    string_agg(t.id, ', ')        AS blocking_items
FROM roadmap_items ri
JOIN roadmap_dependencies d ON d.item_id = ri.id AND d.dependency_type = 'blocks'
JOIN roadmap_items t ON t.id = d.depends_on_id AND t.status_key <> 'completed'
WHERE ri.deleted_at IS NULL
  AND ri.status_key NOT IN ('completed', 'deferred')
GROUP BY ri.id, ri.title, ri.phase_key, ri.status_key;

-- One row per dependency (every type) whose two ends are live items.
DROP VIEW IF EXISTS v_dependency_graph;
CREATE VIEW v_dependency_graph AS
SELECT
    d.item_id          AS from_id,
    f.title            AS from_title,
    f.status_key       AS from_status,
    d.depends_on_id    AS to_id,
    t.title            AS to_title,
    t.status_key       AS to_status,
    d.dependency_type  AS dependency_type
FROM roadmap_dependencies d
JOIN roadmap_items f ON f.id = d.item_id
JOIN roadmap_items t ON t.id = d.depends_on_id
WHERE f.deleted_at IS NULL
  AND t.deleted_at IS NULL;

-- Transitive blocking prerequisites, ONE ROW PER PATH (by definition: the path column).
-- Seeds: every 'blocks' edge to a live target (the root's own deleted_at is not checked).
-- Steps: 'blocks' edges to live targets, none taken from depth 50 or deeper.
-- Completed prerequisites are listed and walked through. UNION removes duplicate rows.
-- Its size grows with the number of paths: nothing else may read this view (§7 2b).
DROP VIEW IF EXISTS v_prerequisite_chain;
CREATE VIEW v_prerequisite_chain AS
WITH RECURSIVE chain(root_item_id, prereq_id, prereq_title, prereq_status, depth, path) AS (
    SELECT d.item_id, t.id, t.title, t.status_key, 1, d.item_id || '->' || t.id
    FROM roadmap_dependencies d
    JOIN roadmap_items t ON t.id = d.depends_on_id
    WHERE d.dependency_type = 'blocks'
      AND t.deleted_at IS NULL
    UNION
    SELECT c.root_item_id, t.id, t.title, t.status_key, c.depth + 1, c.path || '->' || t.id
    FROM chain c
    JOIN roadmap_dependencies d ON d.item_id = c.prereq_id AND d.dependency_type = 'blocks'
    JOIN roadmap_items t ON t.id = d.depends_on_id
    WHERE t.deleted_at IS NULL
      AND c.depth < 50
)
SELECT
    root_item_id,
    prereq_id,
    prereq_title,
    prereq_status,
    depth,
    path,
    CASE WHEN prereq_status = 'completed' THEN 1 ELSE 0 END AS is_complete
FROM chain
ORDER BY root_item_id COLLATE "C", depth, prereq_id COLLATE "C";

-- Each assignment whose item is live, with the item's readiness.
-- * readiness: 'already_active' (completed/in_progress), else 'ready' (no unmet blocking
--   dependency, §4.3), else 'blocked'.
-- * unmet_prereq_count: distinct prerequisites (v_prerequisite_chain rules) not completed,
--   from a reachability recursion seeded at this assignment's item's direct 'blocks'
--   edges, one row per (item, level): 'blocks' edges, live targets only, levels 1..50;
--   completed items are walked through. (The item itself counts only if a cycle leads back
--   to it, as in v_prerequisite_chain.)
-- * immediate_blockers: direct unmet blocking dependencies (soft-deleted targets included).
-- * blocker_assignees: distinct agents holding an assigned/active assignment on those
--   blockers; de-duplicated in a subquery first, as in the SQLite text.
DROP VIEW IF EXISTS v_assignment_with_prerequisites;
CREATE VIEW v_assignment_with_prerequisites AS
SELECT
    ra.id            AS assignment_id,
    ra.item_id       AS item_id,
    ri.title         AS item_title,
    ra.agent_id      AS agent_id,
    ra.role          AS role,
    ra.status        AS assignment_status,
    ri.status_key    AS item_status,
    CASE
        WHEN ri.status_key IN ('completed', 'in_progress') THEN 'already_active'
        WHEN NOT EXISTS (
            SELECT 1
            FROM roadmap_dependencies d
            JOIN roadmap_items t ON t.id = d.depends_on_id
            WHERE d.item_id = ra.item_id
              AND d.dependency_type = 'blocks'
              AND t.status_key <> 'completed'
        ) THEN 'ready'
        ELSE 'blocked'
    END              AS readiness,
    (
        WITH RECURSIVE reach(id, level) AS (
            SELECT d.depends_on_id, 1
            FROM roadmap_dependencies d
            JOIN roadmap_items t ON t.id = d.depends_on_id
            WHERE d.item_id = ra.item_id
              AND d.dependency_type = 'blocks'
              AND t.deleted_at IS NULL
            UNION
            SELECT d.depends_on_id, r.level + 1
            FROM reach r
            JOIN roadmap_dependencies d ON d.item_id = r.id AND d.dependency_type = 'blocks'
            JOIN roadmap_items t ON t.id = d.depends_on_id
            WHERE t.deleted_at IS NULL
              AND r.level < 50
        )
        SELECT COUNT(DISTINCT r.id)
        FROM reach r
        JOIN roadmap_items p ON p.id = r.id
        WHERE p.status_key <> 'completed'
    )                AS unmet_prereq_count,
    (
        SELECT string_agg(t.id, ', ')
        FROM roadmap_dependencies d
        JOIN roadmap_items t ON t.id = d.depends_on_id
        WHERE d.item_id = ra.item_id
          AND d.dependency_type = 'blocks'
          AND t.status_key <> 'completed'
    )                AS immediate_blockers,
    (
        SELECT string_agg(agents.agent_id, ', ')
        FROM (
            SELECT DISTINCT a.agent_id AS agent_id
            FROM roadmap_dependencies d
            JOIN roadmap_items t ON t.id = d.depends_on_id
            JOIN roadmap_assignments a ON a.item_id = t.id
            WHERE d.item_id = ra.item_id
              AND d.dependency_type = 'blocks'
              AND t.status_key <> 'completed'
              AND a.status IN ('assigned', 'active')
        ) AS agents
    )                AS blocker_assignees
FROM roadmap_assignments ra
JOIN roadmap_items ri ON ri.id = ra.item_id
WHERE ri.deleted_at IS NULL;

-- Open prerequisites still without an owner: one row per prerequisite item over the
-- unresolved assignment_prerequisites rows whose prerequisite is live and not completed.
-- The source assignment's status and its item's deletion are not considered.
DROP VIEW IF EXISTS v_unassigned_prerequisites;
CREATE VIEW v_unassigned_prerequisites AS
SELECT
    ap.prerequisite_item_id                  AS prerequisite_item_id,
    p.title                                  AS prereq_title,
    p.phase_key                              AS phase_key,
    p.status_key                             AS status_key,
    COUNT(DISTINCT ap.source_assignment_id)  AS blocking_count,
    string_agg(src.title, ', ')              AS blocks_items,
    MIN(ap.depth)                            AS min_depth
FROM assignment_prerequisites ap
JOIN roadmap_items p ON p.id = ap.prerequisite_item_id
LEFT JOIN roadmap_assignments sa ON sa.id = ap.source_assignment_id
LEFT JOIN roadmap_items src ON src.id = sa.item_id
WHERE ap.resolved_at IS NULL
  AND p.deleted_at IS NULL
  AND p.status_key <> 'completed'
GROUP BY ap.prerequisite_item_id, p.title, p.phase_key, p.status_key
ORDER BY blocking_count DESC, min_depth ASC;

-- Next free rank per phase with at least one live item: highest rank + 1.0, or 1.0
-- (rank is float8, so next_rank is too).
DROP VIEW IF EXISTS v_next_rank;
CREATE VIEW v_next_rank AS
SELECT
    phase_key                          AS phase_key,
    COALESCE(MAX(rank), 0.0) + 1.0     AS next_rank
FROM roadmap_items
WHERE deleted_at IS NULL
GROUP BY phase_key;

-- Every live item with its blocking dependency counts and active agents.
DROP VIEW IF EXISTS v_roadmap_with_deps;
CREATE VIEW v_roadmap_with_deps AS
SELECT
    ri.id           AS id,
    ri.phase_key    AS phase_key,
    ri.title        AS title,
    ri.status_key   AS status_key,
    ri.owner        AS owner,
    ri.rank         AS rank,
    ri.target_date  AS target_date,
    (
        SELECT COUNT(*)
        FROM roadmap_dependencies d
        WHERE d.item_id = ri.id
          AND d.dependency_type = 'blocks'
    )               AS blocking_dep_count,
    (
        SELECT COUNT(*)
        FROM roadmap_dependencies d
        JOIN roadmap_items t ON t.id = d.depends_on_id
        WHERE d.item_id = ri.id
          AND d.dependency_type = 'blocks'
          AND t.status_key <> 'completed'
    )               AS unmet_dep_count,
    (
        SELECT string_agg(a.agent_id, ', ')
        FROM roadmap_assignments a
        WHERE a.item_id = ri.id
          AND a.status = 'active'
    )               AS active_agents
FROM roadmap_items ri
WHERE ri.deleted_at IS NULL
ORDER BY ri.phase_key COLLATE "C", ri.rank NULLS FIRST;

-- Progress per phase among live items (every status counts in total_items).
-- pct_complete: numeric round() rounds half away from zero like SQLite's (1/16 -> 6.3),
-- cast to float8 (REAL). Order: the phase's terminology sort_order; phases without one
-- (NULL) first.
DROP VIEW IF EXISTS v_roadmap_progress;
CREATE VIEW v_roadmap_progress AS
SELECT
    ri.phase_key                                                       AS phase_key,
    t.display_name                                                     AS phase,
    COUNT(*)                                                           AS total_items,
    SUM(CASE WHEN ri.status_key = 'completed' THEN 1 ELSE 0 END)       AS completed,
    SUM(CASE WHEN ri.status_key = 'in_progress' THEN 1 ELSE 0 END)     AS in_progress,
    SUM(CASE WHEN ri.status_key = 'blocked' THEN 1 ELSE 0 END)         AS blocked,
    round(100.0 * SUM(CASE WHEN ri.status_key = 'completed' THEN 1 ELSE 0 END) / COUNT(*),
          1)::float8                                                   AS pct_complete
FROM roadmap_items ri
LEFT JOIN terminology t ON t.domain = 'roadmap_phase' AND t.internal_key = ri.phase_key
WHERE ri.deleted_at IS NULL
GROUP BY ri.phase_key, t.display_name, t.sort_order
ORDER BY t.sort_order NULLS FIRST;

-- Why an item cannot proceed: three sets appended without removing duplicates. In every
-- set the item is live and not completed/deferred, the target is live and not completed.
--   approval_required     : any dependency type, target item_type = 'gate'
--   blocker_unresolved    : 'blocks', target item_type != 'gate'
--   dependency_incomplete : 'soft', any target item_type (gates included)
DROP VIEW IF EXISTS v_missing_prereqs;
CREATE VIEW v_missing_prereqs AS
SELECT
    d.item_id                  AS item_id,
    'approval_required'::text  AS prereq_type,
    t.id                       AS prereq_id,
    t.status_key               AS prereq_status,
    t.title                    AS prereq_title,
    t.item_type                AS prereq_item_type
FROM roadmap_dependencies d
JOIN roadmap_items i ON i.id = d.item_id
JOIN roadmap_items t ON t.id = d.depends_on_id
WHERE i.deleted_at IS NULL
  AND i.status_key NOT IN ('completed', 'deferred')
  AND t.deleted_at IS NULL
  AND t.status_key <> 'completed'
  AND t.item_type = 'gate'
UNION ALL
SELECT
    d.item_id,
    'blocker_unresolved',
    t.id,
    t.status_key,
    t.title,
    t.item_type
FROM roadmap_dependencies d
JOIN roadmap_items i ON i.id = d.item_id
JOIN roadmap_items t ON t.id = d.depends_on_id
WHERE i.deleted_at IS NULL
  AND i.status_key NOT IN ('completed', 'deferred')
  AND t.deleted_at IS NULL
  AND t.status_key <> 'completed'
  AND d.dependency_type = 'blocks'
  AND t.item_type <> 'gate'
UNION ALL
SELECT
    d.item_id,
    'dependency_incomplete',
    t.id,
    t.status_key,
    t.title,
    t.item_type
FROM roadmap_dependencies d
JOIN roadmap_items i ON i.id = d.item_id
JOIN roadmap_items t ON t.id = d.depends_on_id
WHERE i.deleted_at IS NULL
  AND i.status_key NOT IN ('completed', 'deferred')
  AND t.deleted_at IS NULL
  AND t.status_key <> 'completed'
  AND d.dependency_type = 'soft';

-- Website deploy readiness, always exactly one row; matches enforce_deploy_gate:
-- BLOCKED if any claim failed, else PENDING if any quantitative claim is pending, else READY.
-- A NULL test_status counts as neither failed nor pending.
DROP VIEW IF EXISTS v_can_deploy;
CREATE VIEW v_can_deploy AS
SELECT
    'website'::text AS target,
    CASE
        WHEN EXISTS (SELECT 1 FROM claims WHERE test_status = 'fail') THEN 'BLOCKED'
        WHEN EXISTS (
            SELECT 1 FROM claims
            WHERE claim_type = 'quantitative' AND test_status = 'pending'
        ) THEN 'PENDING'
        ELSE 'READY'
    END AS status,
    (SELECT COUNT(*) FROM claims WHERE test_status = 'fail') AS failed_count,
    (SELECT string_agg(id, ', ') FROM claims WHERE test_status = 'fail') AS failed_claims;

-- Quantitative claims with no test function or a pending test.
DROP VIEW IF EXISTS v_claims_needing_tests;
CREATE VIEW v_claims_needing_tests AS
SELECT
    id          AS id,
    claim_text  AS claim_text,
    page        AS page
FROM claims
WHERE claim_type = 'quantitative'
  AND (test_function IS NULL OR test_status = 'pending');

-- Failed or stale claims, least recently verified first (never verified, NULL, first).
DROP VIEW IF EXISTS v_deploy_blockers;
CREATE VIEW v_deploy_blockers AS
SELECT
    id                AS id,
    claim_text        AS claim_text,
    page              AS page,
    test_function     AS test_function,
    test_status       AS test_status,
    last_verified_at  AS last_verified_at
FROM claims
WHERE test_status IN ('fail', 'stale')
ORDER BY last_verified_at COLLATE "C" ASC NULLS FIRST;
