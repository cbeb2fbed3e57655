-- PostgreSQL counterpart of ../sqlite/0003_views.sql
-- programs 0003: the six program-management views (contract RULES.md §5.3), same names,
-- columns (in order) and rows as the SQLite file.
--
-- Frozen with its migration: a later change is a new migration with a new file.
-- Each view is dropped first so the file can be re-run.
--
-- Terminology joins are LEFT JOINs on (domain, internal_key) and ignore deprecated_at and
-- deleted_at (§1.5): an unknown key gives a NULL display value, never a missing row.
-- PostgreSQL sorts NULLs last in ascending order and first in descending order, SQLite the
-- other way round: ORDER BY clauses say NULLS FIRST / NULLS LAST to keep SQLite's order.

-- Change requests that are not done (unknown status keys count as open), newest first.
-- Linked product/feature are shown even when soft-deleted.
DROP VIEW IF EXISTS v_open_crs;
CREATE VIEW v_open_crs AS
SELECT
    cr.id              AS id,
    cr.title           AS title,
    cr.status_key      AS status_key,
    st.display_name    AS status,
    cr.size            AS size,
    cr.owner           AS owner,
    p.name             AS product_name,
    f.name             AS feature_name,
    cr.target_version  AS target_version,
    cr.created_at      AS created_at
FROM change_requests cr
LEFT JOIN terminology st ON st.domain = 'cr_status' AND st.internal_key = cr.status_key
LEFT JOIN products p ON p.id = cr.product_id
LEFT JOIN features f ON f.id = cr.feature_id
WHERE cr.deleted_at IS NULL
  AND cr.status_key <> 'done'
ORDER BY cr.created_at DESC NULLS LAST;

-- Live bugs whose feature row exists (the feature may be soft-deleted); no grouping despite
-- the name. Severity rank critical=1, high=2, medium=3, anything else 4; then newest first.
DROP VIEW IF EXISTS v_bugs_by_version;
CREATE VIEW v_bugs_by_version AS
SELECT
    b.id                AS id,
    b.title             AS title,
    f.name              AS feature_name,
    b.feature_version   AS feature_version,
    sev.display_name    AS severity,
    st.display_name     AS status,
    b.fix_cr_id         AS fix_cr_id,
    b.fixed_in_version  AS fixed_in_version,
    b.created_at        AS created_at
FROM bugs b
JOIN features f ON f.id = b.feature_id
LEFT JOIN terminology sev ON sev.domain = 'bug_severity' AND sev.internal_key = b.severity_key
LEFT JOIN terminology st ON st.domain = 'bug_status' AND st.internal_key = b.status_key
WHERE b.deleted_at IS NULL
ORDER BY
    CASE b.severity_key
        WHEN 'critical' THEN 1
        WHEN 'high' THEN 2
        WHEN 'medium' THEN 3
        ELSE 4
    END,
    b.created_at DESC NULLS LAST;

-- The active, live charter document of each type (at most one per type).
DROP VIEW IF EXISTS v_active_charters;
CREATE VIEW v_active_charters AS
SELECT
    c.id             AS id,
    c.doc_type_key   AS doc_type_key,
    t.display_name   AS doc_type,
    c.version        AS version,
    c.title          AS title,
    c.approved_by    AS approved_by,
    c.approved_at    AS approved_at,
    c.created_at     AS created_at
FROM charter_docs c
LEFT JOIN terminology t ON t.domain = 'charter_type' AND t.internal_key = c.doc_type_key
WHERE c.is_active = 1
  AND c.deleted_at IS NULL;

-- Compliance roll-up: one row per live release whose product row exists (the product may
-- be soft-deleted). total_checks = distinct standards with a result; passed/failed count
-- result rows; results of soft-deleted standards still count. A release with no results
-- shows 0, 0, 0, 'clear'. (COUNT and SUM give bigint here: still integers.)
DROP VIEW IF EXISTS v_compliance_status;
CREATE VIEW v_compliance_status AS
SELECT
    r.id                                                        AS release_id,
    r.name                                                      AS release_name,
    p.name                                                      AS product_name,
    COUNT(DISTINCT res.standard_id)                             AS total_checks,
    SUM(CASE WHEN res.result = 'pass' THEN 1 ELSE 0 END)        AS passed,
    SUM(CASE WHEN res.result = 'fail' THEN 1 ELSE 0 END)        AS failed,
    CASE
        WHEN SUM(CASE WHEN res.result = 'fail' AND s.is_blocking = 1 THEN 1 ELSE 0 END) > 0
            THEN 'blocked'
        WHEN SUM(CASE WHEN res.result = 'fail' THEN 1 ELSE 0 END) > 0
            THEN 'warnings'
        ELSE 'clear'
    END                                                         AS status
FROM releases r
JOIN products p ON p.id = r.product_id
LEFT JOIN compliance_results res ON res.release_id = r.id
LEFT JOIN standards s ON s.id = res.standard_id
WHERE r.deleted_at IS NULL
GROUP BY r.id, r.name, p.name;

-- Live standards with their level/check-type names and number of assignments, ordered by
-- the level's terminology sort_order (unknown level: NULL, first), then standards.sort_order.
DROP VIEW IF EXISTS v_standards_summary;
CREATE VIEW v_standards_summary AS
SELECT
    s.id               AS id,
    s.name             AS name,
    lv.display_name    AS level,
    ct.display_name    AS check_type,
    s.is_blocking      AS is_blocking,
    (SELECT COUNT(*) FROM standard_assignments sa WHERE sa.standard_id = s.id) AS assignments,
    s.created_at       AS created_at
FROM standards s
LEFT JOIN terminology lv ON lv.domain = 'standard_level' AND lv.internal_key = s.level_key
LEFT JOIN terminology ct ON ct.domain = 'check_type' AND ct.internal_key = s.check_type_key
WHERE s.deleted_at IS NULL
ORDER BY lv.sort_order NULLS FIRST, s.sort_order NULLS FIRST;

-- Live programs; status uses the product_status domain (there is no program_status domain);
-- product_count counts live products only.
DROP VIEW IF EXISTS v_programs_summary;
CREATE VIEW v_programs_summary AS
SELECT
    pg.id              AS id,
    pg.name            AS name,
    ty.display_name    AS type,
    st.display_name    AS status,
    pg.owner           AS owner,
    (SELECT COUNT(*) FROM products p
      WHERE p.program_id = pg.id AND p.deleted_at IS NULL) AS product_count,
    pg.created_at      AS created_at
FROM programs pg
LEFT JOIN terminology ty ON ty.domain = 'program_type' AND ty.internal_key = pg.type_key
LEFT JOIN terminology st ON st.domain = 'product_status' AND st.internal_key = pg.status_key
WHERE pg.deleted_at IS NULL;
