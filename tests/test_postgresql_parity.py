"""PostgreSQL parity with the contract: every contract table (its columns, types, keys,
foreign keys), trigger (table, timing, event, UPDATE OF columns, every message in its
function), view (its columns, queryable), index (table, columns, unique, partial condition)
and seed row has its counterpart in a database migrated on PostgreSQL.

``check_schema.py`` (the contract's own checker) reads ``sqlite_master`` and PRAGMAs, so on
PostgreSQL the same facts are read from the catalogs by ``schema_diff.pg_schema_differences``
(which ``test_migrations`` uses too); the seed rows are checked by the contract checker's own
``check_seed``, pointed at the PostgreSQL connection.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from kernel_rows import CONTRACT
from schema_diff import pg_schema_differences

pytestmark = pytest.mark.postgresql_only

#: A copy of ../shared/contract/check_schema.py (as tests/data/schema.json is of schema.json).
CHECKER = Path(__file__).resolve().parent / "data" / "check_schema.py"


def test_every_contract_table_trigger_view_and_index_has_its_counterpart(raw_db_path):
    assert pg_schema_differences(raw_db_path) == []


def test_seed_rows_by_the_contract_checker(raw_db):
    spec = importlib.util.spec_from_file_location("check_schema", CHECKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    checker = module.Checker.__new__(module.Checker)
    checker.c, checker.db, checker.mismatches, checker.counts = CONTRACT, raw_db, [], {}
    checker.check_seed()
    ok, total = checker.counts["seed"]
    assert checker.mismatches == []
    assert (
        ok
        == total
        == sum(CONTRACT["counts"]["seed_rows"].values())
        + len(CONTRACT["schema_version"]["rows"])
        + 1
    )
