"""The 6 program-management views (contract RULES.md §5.3), tested on the raw database."""

from __future__ import annotations

from pathlib import Path

import backends
import pytest
from view_rows import (
    by,
    column,
    contract_columns,
    feature,
    product,
    program,
    select,
    view_columns,
    view_names,
)

PROGRAMS_VIEWS = [
    "v_open_crs",
    "v_bugs_by_version",
    "v_active_charters",
    "v_compliance_status",
    "v_standards_summary",
    "v_programs_summary",
]


@pytest.mark.parametrize("view", PROGRAMS_VIEWS)
def test_view_exists_with_contract_columns(raw_db, view):
    assert view in view_names(raw_db), f"{view} missing"
    assert view_columns(raw_db, view) == contract_columns(view)
    select(raw_db, view)


@pytest.fixture
def hierarchy(raw_db):
    """Program PG -> products P1 (live), PDEL (soft-deleted) -> features F1, FDEL."""
    program(raw_db, "PG")
    product(raw_db, "P1", "PG", name="Prod One")
    product(raw_db, "PDEL", "PG", name="Prod Gone", deleted=True)
    feature(raw_db, "F1", "P1", name="Feat One")
    feature(raw_db, "FDEL", "P1", name="Feat Gone", deleted=True)
    return raw_db


# -- v_open_crs ------------------------------------------------------------------------------


def _cr(conn, id, *, status="queue", created, product=None, feature=None, deleted=False, **extra):
    conn.execute(
        "INSERT INTO change_requests (id, title, status_key, product_id, feature_id, created_at, "
        "deleted_at, size, owner, target_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            id,
            f"CR {id}",
            status,
            product,
            feature,
            created,
            "2024-01-01 00:00:00" if deleted else None,
            extra.get("size", "M"),
            extra.get("owner"),
            extra.get("target_version"),
        ),
    )


def test_open_crs_rows_columns_and_order(hierarchy):
    db = hierarchy
    _cr(
        db,
        "C1",
        status="queue",
        created="2024-01-01 00:00:00",
        product="P1",
        feature="F1",
        size="L",
        owner="ann",
        target_version="1.2",
    )
    _cr(
        db,
        "C2",
        status="in_progress",
        created="2024-03-01 00:00:00",
        product="PDEL",
        feature="FDEL",
    )
    _cr(db, "C3", status="mystery", created="2024-02-01 00:00:00")  # unknown key: open
    _cr(db, "C4", status="done", created="2024-04-01 00:00:00")
    _cr(db, "C5", status="review", created="2024-05-01 00:00:00", deleted=True)
    rows = select(db, "v_open_crs")
    assert column(rows, "id") == ["C2", "C3", "C1"]  # created_at descending
    assert rows[-1] == {
        "id": "C1",
        "title": "CR C1",
        "status_key": "queue",
        "status": "Queue",
        "size": "L",
        "owner": "ann",
        "product_name": "Prod One",
        "feature_name": "Feat One",
        "target_version": "1.2",
        "created_at": "2024-01-01 00:00:00",
    }
    c2 = rows[0]  # soft-deleted product and feature are still shown
    assert (c2["status"], c2["product_name"], c2["feature_name"]) == (
        "In Progress",
        "Prod Gone",
        "Feat Gone",
    )
    c3 = rows[1]
    assert (c3["status"], c3["product_name"], c3["feature_name"]) == (None, None, None)


# -- v_bugs_by_version -----------------------------------------------------------------------


def _bug(
    conn,
    id,
    feature_id,
    *,
    severity="medium",
    status="open",
    created,
    deleted=False,
    fix_cr=None,
    fixed_in=None,
):
    conn.execute(
        "INSERT INTO bugs (id, title, feature_id, feature_version, severity_key, status_key, "
        "fix_cr_id, fixed_in_version, created_at, deleted_at) "
        "VALUES (?, ?, ?, '1.0', ?, ?, ?, ?, ?, ?)",
        (
            id,
            f"Bug {id}",
            feature_id,
            severity,
            status,
            fix_cr,
            fixed_in,
            created,
            "2024-01-01 00:00:00" if deleted else None,
        ),
    )


def test_bugs_by_version_order_and_columns(hierarchy):
    db = hierarchy
    _cr(db, "FIX", created="2024-01-01 00:00:00")
    _bug(db, "low_new", "F1", severity="low", created="2024-09-01 00:00:00")
    _bug(db, "odd", "F1", severity="cosmic", created="2024-01-01 00:00:00")
    _bug(db, "med", "F1", severity="medium", created="2024-01-01 00:00:00")
    _bug(db, "high_old", "F1", severity="high", created="2024-01-01 00:00:00")
    _bug(
        db,
        "high_new",
        "FDEL",
        severity="high",
        created="2024-06-01 00:00:00",
        status="fixed",
        fix_cr="FIX",
        fixed_in="1.1",
    )
    _bug(db, "crit", "F1", severity="critical", created="2023-01-01 00:00:00")
    _bug(db, "gone", "F1", severity="critical", created="2025-01-01 00:00:00", deleted=True)
    rows = select(db, "v_bugs_by_version")
    ids = column(rows, "id")
    assert ids[:4] == ["crit", "high_new", "high_old", "med"]
    assert ids[4:] == ["low_new", "odd"]  # low and unknown share rank 4: newest first
    hn = by(rows, "id")["high_new"]
    assert hn == {
        "id": "high_new",
        "title": "Bug high_new",
        "feature_name": "Feat Gone",
        "feature_version": "1.0",
        "severity": "High",
        "status": "Fixed",
        "fix_cr_id": "FIX",
        "fixed_in_version": "1.1",
        "created_at": "2024-06-01 00:00:00",
    }
    assert by(rows, "id")["odd"]["severity"] is None


# -- v_active_charters -----------------------------------------------------------------------


def _charter(conn, id, doc_type, *, active=1, deleted=False, approved_by=None):
    conn.execute(
        "INSERT INTO charter_docs (id, doc_type_key, version, title, content_hash, is_active, "
        "approved_by, approved_at, created_at, deleted_at) "
        "VALUES (?, ?, '1', ?, 'h', ?, ?, ?, '2024-01-01 00:00:00', ?)",
        (
            id,
            doc_type,
            f"Doc {id}",
            active,
            approved_by,
            "2024-01-02 00:00:00" if approved_by else None,
            "2024-01-03 00:00:00" if deleted else None,
        ),
    )


def test_active_charters(raw_db):
    _charter(raw_db, "R1", "roadmap", approved_by="boss")
    _charter(raw_db, "E0", "ethos", active=0)
    _charter(raw_db, "C1", "release_checklist", deleted=True)
    _charter(raw_db, "X1", "custom_type")
    rows = by(select(raw_db, "v_active_charters"), "id")
    assert set(rows) == {"R1", "X1"}
    assert rows["R1"] == {
        "id": "R1",
        "doc_type_key": "roadmap",
        "doc_type": "Roadmap",
        "version": "1",
        "title": "Doc R1",
        "approved_by": "boss",
        "approved_at": "2024-01-02 00:00:00",
        "created_at": "2024-01-01 00:00:00",
    }
    assert rows["X1"]["doc_type"] is None


# -- v_compliance_status ---------------------------------------------------------------------


def _standard(
    conn,
    id,
    *,
    blocking=1,
    level="release",
    check="boolean",
    sort=0,
    deleted=False,
    name=None,
    created="2024-01-01 00:00:00",
):
    conn.execute(
        "INSERT INTO standards (id, name, level_key, check_type_key, failure_message, "
        "is_blocking, sort_order, deleted_at, created_at) "
        "VALUES (?, ?, ?, ?, 'failed', ?, ?, ?, ?)",
        (
            id,
            name or f"Std {id}",
            level,
            check,
            blocking,
            sort,
            "2024-01-01 00:00:00" if deleted else None,
            created,
        ),
    )


def _release(conn, id, product_id, *, deleted=False):
    conn.execute(
        "INSERT INTO releases (id, product_id, name, deleted_at) VALUES (?, ?, ?, ?)",
        (id, product_id, f"Release {id}", "2024-01-01 00:00:00" if deleted else None),
    )


def _result(conn, standard, release, result):
    conn.execute(
        "INSERT INTO compliance_results (standard_id, entity_type, entity_id, release_id, "
        "result, checked_by) VALUES (?, 'release', ?, ?, ?, 'ci')",
        (standard, release or "-", release, result),
    )


def test_compliance_status(hierarchy):
    db = hierarchy
    _standard(db, "SB", blocking=1)
    _standard(db, "SW", blocking=0)
    _standard(db, "SD", blocking=1, deleted=True)  # soft-deleted standard still counts
    for rel in ("BLOCK", "WARN", "CLEAR", "EMPTY", "DELPROD", "DELREL", "GONEBLOCK"):
        _release(db, rel, "PDEL" if rel == "DELPROD" else "P1", deleted=rel == "DELREL")
    # BLOCK: a blocking standard failed; SB has 3 results -> passed+failed > total_checks
    for r in ("pass", "pass", "fail"):
        _result(db, "SB", "BLOCK", r)
    _result(db, "SW", "BLOCK", "skip")
    # WARN: only a non-blocking failure; skip/error count toward total only
    _result(db, "SW", "WARN", "fail")
    _result(db, "SB", "WARN", "error")
    _result(db, "SD", "WARN", "skip")
    # CLEAR: passes only
    _result(db, "SB", "CLEAR", "pass")
    _result(db, "SW", "CLEAR", "pass")
    # DELPROD: product soft-deleted, release still listed
    _result(db, "SW", "DELPROD", "pass")
    _result(db, "SB", "DELREL", "fail")
    # GONEBLOCK: the failing blocking standard is soft-deleted: still blocked
    _result(db, "SD", "GONEBLOCK", "fail")
    _result(db, "SB", None, "fail")  # no release: belongs to no row

    rows = by(select(db, "v_compliance_status"), "release_id")
    assert set(rows) == {"BLOCK", "WARN", "CLEAR", "EMPTY", "DELPROD", "GONEBLOCK"}

    def summary(rel):
        r = rows[rel]
        return r["total_checks"], r["passed"], r["failed"], r["status"]

    assert summary("BLOCK") == (2, 2, 1, "blocked")
    assert summary("WARN") == (3, 0, 1, "warnings")
    assert summary("CLEAR") == (2, 2, 0, "clear")
    assert summary("EMPTY") == (0, 0, 0, "clear")
    assert summary("DELPROD") == (1, 1, 0, "clear")
    assert summary("GONEBLOCK") == (1, 0, 1, "blocked")
    assert (rows["DELPROD"]["release_name"], rows["DELPROD"]["product_name"]) == (
        "Release DELPROD",
        "Prod Gone",
    )
    assert rows["BLOCK"]["product_name"] == "Prod One"


# -- v_standards_summary ---------------------------------------------------------------------


def test_standards_summary(raw_db):
    _standard(raw_db, "feat2", level="feature", check="threshold", sort=2, blocking=0)
    _standard(raw_db, "feat1", level="feature", check="manual", sort=1)
    _standard(raw_db, "prog", level="program", check="pattern", sort=9)
    _standard(raw_db, "cr", level="cr", sort=0)
    _standard(raw_db, "odd", level="galaxy", check="vibes", sort=5)  # unknown: NULL, first
    _standard(raw_db, "gone", level="program", deleted=True)
    for assignment in [
        ("feat2", "feature", "a"),
        ("feat2", "feature", "b"),
        ("feat2", "product", "a"),
        ("prog", "program", "x"),
    ]:
        raw_db.execute(
            "INSERT INTO standard_assignments (standard_id, entity_type, entity_id) "
            "VALUES (?, ?, ?)",
            assignment,
        )
    rows = select(raw_db, "v_standards_summary")
    assert column(rows, "id") == ["odd", "prog", "feat1", "feat2", "cr"]
    r = by(rows, "id")
    assert r["feat2"] == {
        "id": "feat2",
        "name": "Std feat2",
        "level": "Feature",
        "check_type": "Threshold",
        "is_blocking": 0,
        "assignments": 3,
        "created_at": "2024-01-01 00:00:00",
    }
    assert (r["odd"]["level"], r["odd"]["check_type"]) == (None, None)
    assert (r["prog"]["assignments"], r["cr"]["assignments"]) == (1, 0)
    assert r["cr"]["level"] == "CR"


# -- v_programs_summary ----------------------------------------------------------------------


def test_programs_summary(raw_db):
    program(raw_db, "A", name="Alpha", type_key="content", status_key="maintenance", owner="ann")
    program(raw_db, "B", type_key="unknown_type", status_key="unknown_status")
    program(raw_db, "Z", deleted=True)
    product(raw_db, "A1", "A")
    product(raw_db, "A2", "A")
    product(raw_db, "A3", "A", deleted=True)
    product(raw_db, "Z1", "Z")
    raw_db.execute("UPDATE programs SET created_at = '2024-01-01 00:00:00' WHERE id = 'A'")
    rows = by(select(raw_db, "v_programs_summary"), "id")
    assert set(rows) == {"A", "B"}
    assert rows["A"] == {
        "id": "A",
        "name": "Alpha",
        "type": "Content",
        "status": "Maintenance",
        "owner": "ann",
        "product_count": 2,
        "created_at": "2024-01-01 00:00:00",
    }
    assert (rows["B"]["type"], rows["B"]["status"], rows["B"]["product_count"]) == (None, None, 0)


def test_programs_summary_status_uses_product_status_domain(raw_db):
    # a cr_status-only key must not be resolved: programs use product_status
    program(raw_db, "Q", status_key="queue")
    program(raw_db, "D", status_key="deprecated")
    rows = by(select(raw_db, "v_programs_summary"), "id")
    assert rows["Q"]["status"] is None
    assert rows["D"]["status"] == "Deprecated"


# -- forward file replaces old definitions; reverse drops them -------------------------------


def test_forward_file_replaces_existing_views_and_reverse_drops_them(raw_db):
    from system.sqlfiles import read_statements

    app = Path(__file__).resolve().parent.parent / "programs"
    raw_db.execute("DROP VIEW v_open_crs")
    raw_db.execute("CREATE VIEW v_open_crs AS SELECT 1 AS stale")
    for statement in read_statements(app, backends.VENDOR, "0003_views"):
        raw_db.execute(statement)
    select(raw_db, "v_open_crs")
    for statement in read_statements(app, backends.VENDOR, "0003_views", reverse=True):
        raw_db.execute(statement)
    assert view_names(raw_db).isdisjoint(PROGRAMS_VIEWS)
