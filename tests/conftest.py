"""Shared fixtures.

``raw_db`` is a fresh contract database (tables, indexes, triggers, views, seed rows) as a
plain ``sqlite3`` connection in autocommit mode with ``foreign_keys=ON``: what the `motus`
tool sees. Trigger and view tests use it so they test the database, not the ORM.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import contract_ddl  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Order in which the apps' trigger/view SQL files load (migration dependency order).
SQL_FILES = [
    ("system", "0002_triggers"),
    ("programs", "0002_triggers"),
    ("programs", "0003_views"),
    ("roadmap", "0002_triggers"),
    ("roadmap", "0003_views"),
    ("kernel", "0003_triggers"),
]


def _build_template(path: Path) -> None:
    from system.sqlfiles import read_statements, sql_path

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    contract_ddl.create_contract_tables(conn)
    contract_ddl.insert_seed(conn)
    for app, name in SQL_FILES:
        if sql_path(ROOT / app, "sqlite", name).exists():
            for statement in read_statements(ROOT / app, "sqlite", name):
                conn.execute(statement)
    conn.close()


@pytest.fixture(scope="session")
def raw_db_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "coordination.db"
    _build_template(path)
    return path


@pytest.fixture
def raw_db(raw_db_template, tmp_path):
    path = tmp_path / "coordination.db"
    shutil.copy(raw_db_template, path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    yield conn
    conn.close()
