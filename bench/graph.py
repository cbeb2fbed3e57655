"""Benchmark the roadmap graph views and triggers on random dependency DAGs.

    python bench/graph.py --items 1000 10000 [--reps 5] [--seed 1] [--window W] [--keep]

For each N it builds a scratch coordination.db (``manage.py migrate`` with MOTUS_DB_PATH if
that yields the contract schema, else the contract DDL from tests/contract_ddl.py plus the
apps' trigger/view SQL files), inserts a random DAG with raw sqlite3, and prints the median
time (ms, over --reps runs) of:

* the distinct prerequisites of the deepest item: the reachability recursion used by
  v_assignment_with_prerequisites and the cascade trigger (one row per reached item at its
  smallest level: the level is a string of spaces compared under RTRIM, so UNION sees one
  item once, and ORDER BY on it makes the walk breadth-first); not v_prerequisite_chain;
* SELECT * FROM v_ready_items, v_blocked_items, v_roadmap_progress, v_missing_prereqs;
* v_assignment_with_prerequisites WHERE item_id = <deepest>;
* the worst dependency inserts: an edge onto the deepest item, so the cycle check walks
  its whole ancestry: once from an ancestor (cycle: must be rejected), once from a
  non-ancestor (must be accepted); each in a transaction that is rolled back;
* an assignment insert on the deepest item (prerequisite cascade), rolled back.

Goal (contract RULES.md §7 2b): each figure <= 100 ms, prerequisites <= 50 ms. Results are
checked against a pure-Python computation of the same sets. Exit status 1 if any figure
fails its goal or any check fails.

The DAG: item i depends on 1-3 distinct earlier items, chosen uniformly among all earlier
items (or among the previous W with --window W, a deeper, more local graph); 85% of edges
are `blocks`, 15% `soft`. The first 55% of items are completed; the rest are mostly pending
with some in_progress/blocked/deferred; ~3% are gates and ~1% soft-deleted; ~3% of open
items have an assignment. The phase limit trigger (50 active items per phase) only checks
INSERTs, so open items are inserted as `deferred` and moved to their status afterwards.

Stdlib only.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHASES = ["phase_a", "phase_b", "phase_c", "phase_d", "phase_e", "post_launch", "phase_f"]
NEEDED_VIEWS = [
    "v_ready_items",
    "v_blocked_items",
    "v_roadmap_progress",
    "v_missing_prereqs",
    "v_assignment_with_prerequisites",
]
WATCHED_TRIGGERS = [
    "roadmap_dep_no_cycles",
    "roadmap_assignment_cascade",
    "enforce_phase_limit",
    "roadmap_status_check_deps",
]
SQL_FILES = [
    ("system", "0002_triggers"),
    ("programs", "0002_triggers"),
    ("programs", "0003_views"),
    ("roadmap", "0002_triggers"),
    ("roadmap", "0003_views"),
    ("kernel", "0003_triggers"),
]
PREREQS_SQL = """
WITH RECURSIVE reach(id, levels) AS (
    SELECT d.depends_on_id AS id, ' ' COLLATE RTRIM AS levels
    FROM roadmap_dependencies d
    JOIN roadmap_items t ON t.id = d.depends_on_id
    WHERE d.item_id = ? AND d.dependency_type = 'blocks' AND t.deleted_at IS NULL
    UNION
    SELECT d.depends_on_id, r.levels || ' '
    FROM reach r
    JOIN roadmap_dependencies d ON d.item_id = r.id AND d.dependency_type = 'blocks'
    JOIN roadmap_items t ON t.id = d.depends_on_id
    WHERE t.deleted_at IS NULL AND length(r.levels) < 50
    ORDER BY levels COLLATE BINARY
)
SELECT id, length(levels) FROM reach
"""


# -- scratch database ------------------------------------------------------------------------


def has_contract(path: Path) -> bool:
    conn = sqlite3.connect(path)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    return {"roadmap_items", "roadmap_dependencies", "terminology", *NEEDED_VIEWS} <= names


def build_template(path: Path) -> str:
    """Create an empty contract database at ``path``; return how it was built."""
    env = dict(os.environ, MOTUS_DB_PATH=str(path))
    try:
        run = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if run.returncode == 0 and has_contract(path):
            return "manage.py migrate"
    except (OSError, subprocess.SubprocessError):
        pass
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    import contract_ddl  # tests/contract_ddl.py

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    contract_ddl.create_contract_tables(conn)
    contract_ddl.insert_seed(conn)
    for app, name in SQL_FILES:
        file = ROOT / app / "migrations" / "sql" / "sqlite" / f"{name}.sql"
        if file.exists():
            for statement in split_statements(file.read_text()):
                conn.execute(statement)
    conn.close()
    return "contract DDL + SQL files"


def split_statements(sql: str) -> list[str]:
    try:
        from system.sqlfiles import split_statements as split
    except ImportError:  # Django not importable: same rule as system/sqlfiles.py
        out, buf = [], ""
        for line in sql.splitlines(keepends=True):
            buf += line
            if sqlite3.complete_statement(buf):
                if any(ln.split("--", 1)[0].strip() for ln in buf.splitlines()):
                    out.append(buf.strip())
                buf = ""
        return out
    return split(sql)


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=30000",
        "cache_size=-64000",
        "temp_store=MEMORY",
        "mmap_size=268435456",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


# -- random DAG ------------------------------------------------------------------------------


class Dag:
    def __init__(self, n: int, rnd: random.Random, window: int | None):
        self.ids = [f"I{i:06d}" for i in range(n)]
        self.edges: list[tuple[str, str, str]] = []  # (item_id, depends_on_id, type)
        self.status, self.deleted, self.gate = {}, set(), set()
        blocks_parents: dict[int, list[int]] = {}
        for i in range(n):
            lo = 0 if window is None else max(0, i - window)
            parents = rnd.sample(range(lo, i), min(i - lo, rnd.randint(1, 3))) if i else []
            for p in parents:
                kind = "blocks" if rnd.random() < 0.85 else "soft"
                self.edges.append((self.ids[i], self.ids[p], kind))
                if kind == "blocks":
                    blocks_parents.setdefault(i, []).append(p)
        for i, x in enumerate(self.ids):
            if i < 0.55 * n:
                self.status[x] = "completed"
            else:
                r = rnd.random()
                parents_done = all(
                    self.status[self.ids[p]] == "completed" for p in blocks_parents.get(i, [])
                )
                self.status[x] = (
                    "in_progress"
                    if r < 0.15 and parents_done
                    else "blocked"
                    if r < 0.20
                    else "deferred"
                    if r < 0.25
                    else "pending"
                )
            if rnd.random() < 0.03:
                self.gate.add(x)
            if rnd.random() < 0.01:
                self.deleted.add(x)
        depth = [0] * n  # longest chain of blocks edges to live items
        for i in range(n):
            depth[i] = 1 + max(
                (depth[p] for p in blocks_parents.get(i, []) if self.ids[p] not in self.deleted),
                default=0,
            )
        best = max(depth)
        self.deepest = self.ids[max(i for i in range(n) if depth[i] == best)]
        self.deleted.discard(self.deepest)
        self.chain = best
        open_items = [x for x in self.ids if self.status[x] != "completed" and x != self.deepest]
        self.assignments = [
            (x, f"agent{rnd.randrange(20)}", rnd.choice(["assigned", "active"]))
            for x in rnd.sample(open_items, len(open_items) * 3 // 100)
        ]
        self.assignments.append((self.deepest, "bench-owner", "active"))

    def insert(self, conn: sqlite3.Connection) -> None:
        early = {"completed", "deferred"}  # statuses the phase limit does not count
        n = len(self.ids)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO roadmap_items (id, phase_key, title, status_key, item_type, rank, "
            "deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    x,
                    PHASES[i * len(PHASES) // n],
                    f"Item {x}",
                    self.status[x] if self.status[x] in early else "deferred",
                    "gate" if x in self.gate else "work",
                    float(i) if i % 5 else None,
                    "2024-01-01 00:00:00" if x in self.deleted else None,
                )
                for i, x in enumerate(self.ids)
            ],
        )
        conn.executemany(
            "INSERT INTO roadmap_dependencies (item_id, depends_on_id, "
            "dependency_type) VALUES (?, ?, ?)",
            self.edges,
        )
        for status in ("pending", "blocked", "in_progress"):
            conn.executemany(
                "UPDATE roadmap_items SET status_key = ? WHERE id = ?",
                [(status, x) for x in self.ids if self.status[x] == status],
            )
        conn.executemany(
            "INSERT INTO roadmap_assignments (item_id, agent_id, status) VALUES (?, ?, ?)",
            self.assignments,
        )
        conn.execute("COMMIT")

    # pure-Python answers used to check the database's
    def reach(self, start: str, *, kinds: set[str], live_only: bool, max_level: int) -> dict:
        """Shortest level of every item reachable from ``start`` (start itself: level 0)."""
        out: dict[str, list[str]] = {}
        for a, b, k in self.edges:
            if k in kinds and not (live_only and b in self.deleted):
                out.setdefault(a, []).append(b)
        seen, queue = {start: 0}, deque([start])
        while queue:
            x = queue.popleft()
            if seen[x] >= max_level:
                continue
            for y in out.get(x, []):
                if y not in seen:
                    seen[y] = seen[x] + 1
                    queue.append(y)
        return seen


# -- measuring -------------------------------------------------------------------------------


def median_ms(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def rolled_back(conn, sql, params, reps, after=None):
    """Median ms of one statement run inside a transaction that is then rolled back.

    Returns (ms, error text or None, result of ``after(cursor)`` run before the rollback).
    """
    times, error, result = [], None, None
    for _ in range(reps):
        conn.execute("BEGIN")
        start = time.perf_counter()
        try:
            cur = conn.execute(sql, params)
            error = None
        except sqlite3.IntegrityError as exc:
            cur, error = None, str(exc)
        times.append((time.perf_counter() - start) * 1000)
        if after and cur is not None:
            result = after(cur)
        conn.execute("ROLLBACK")
    return statistics.median(times), error, result


def expected_views(dag: Dag) -> dict[str, int]:
    """Row counts of the four full-scan views, computed in Python from the contract rules."""
    live = [x for x in dag.ids if x not in dag.deleted]
    unmet: dict[str, int] = {}
    missing = 0
    for a, b, k in dag.edges:
        if k == "blocks" and dag.status[b] != "completed":
            unmet[a] = unmet.get(a, 0) + 1
        if (
            a not in dag.deleted
            and dag.status[a] not in ("completed", "deferred")
            and b not in dag.deleted
            and dag.status[b] != "completed"
        ):
            missing += (b in dag.gate) + (k == "blocks" and b not in dag.gate) + (k == "soft")
    return {
        "v_ready_items": sum(dag.status[x] == "pending" and x not in unmet for x in live),
        "v_blocked_items": sum(
            dag.status[x] not in ("completed", "deferred") and x in unmet for x in live
        ),
        "v_roadmap_progress": len(
            {
                PHASES[i * len(PHASES) // len(dag.ids)]
                for i, x in enumerate(dag.ids)
                if x not in dag.deleted
            }
        ),
        "v_missing_prereqs": missing,
    }


def bench(n: int, template: Path, workdir: Path, args) -> bool:
    path = workdir / f"graph_{n}.db"
    shutil.copy(template, path)
    conn = connect(path)
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    dag = Dag(n, random.Random(args.seed), args.window)
    start = time.perf_counter()
    dag.insert(conn)
    build_s = time.perf_counter() - start
    deep = dag.deepest

    levels = dag.reach(deep, kinds={"blocks"}, live_only=True, max_level=50)
    levels.pop(deep)
    unmet = {x for x in levels if dag.status[x] != "completed"}
    print(
        f"\nN={n}: {len(dag.edges)} dependencies "
        f"({sum(k == 'blocks' for _, _, k in dag.edges)} blocks), deepest {deep} "
        f"(blocks chain {dag.chain}, {len(levels)} prerequisites within 50 levels, "
        f"{len(unmet)} not completed); DAG inserted in {build_s:.1f} s"
    )
    missing = [t for t in WATCHED_TRIGGERS if t not in triggers]
    if missing:
        print(f"  note: triggers missing from the schema: {', '.join(missing)}")

    rows: list[tuple[str, float, float, bool]] = []  # (label, ms, goal, answer correct)

    def timed(label, sql, params, goal, check):
        ms = median_ms(lambda: conn.execute(sql, params).fetchall(), args.reps)
        rows.append((label, ms, goal, check(conn.execute(sql, params).fetchall())))

    timed(
        "prerequisites of deepest item", PREREQS_SQL, (deep,), 50, lambda got: dict(got) == levels
    )
    for view, count in expected_views(dag).items():
        timed(view, f"SELECT * FROM {view}", (), 100, lambda got, c=count: len(got) == c)
    timed(
        "v_assignment_with_prerequisites (1 item)",
        "SELECT * FROM v_assignment_with_prerequisites WHERE item_id = ?",
        (deep,),
        100,
        lambda got: len(got) == 1 and got[0][8] == len(unmet),
    )

    # dependency inserts onto the deepest item: the cycle check walks its whole ancestry
    # (every dependency type, soft-deleted items included, up to 99 existing edges)
    walk = dag.reach(deep, kinds={"blocks", "soft", "related"}, live_only=False, max_level=99)
    ancestor = max((x for x in walk if x != deep), key=lambda x: (walk[x], x), default=None)
    outsider = next(x for x in reversed(dag.ids) if x not in walk)
    dep_sql = (
        "INSERT INTO roadmap_dependencies (item_id, depends_on_id, dependency_type) "
        "VALUES (?, ?, 'blocks')"
    )
    if ancestor is not None:
        ms, err, _ = rolled_back(conn, dep_sql, (ancestor, deep), args.reps)
        rows.append(
            (
                f"dep insert {ancestor}->{deep} (cycle of {walk[ancestor] + 1} edges)",
                ms,
                100,
                err == "Circular dependency detected",
            )
        )
    ms, err, _ = rolled_back(conn, dep_sql, (outsider, deep), args.reps)
    rows.append(
        (
            f"dep insert {outsider}->{deep} (no cycle, {len(walk)} items walked)",
            ms,
            100,
            err is None,
        )
    )

    # assignment on the deepest item: the cascade surfaces its open, unassigned prereqs once
    held = {x for x, _, st in dag.assignments if st in ("assigned", "active")}
    surface = len(unmet - held)
    ms, err, got = rolled_back(
        conn,
        "INSERT INTO roadmap_assignments (item_id, agent_id) VALUES (?, 'bench-agent')",
        (deep,),
        args.reps,
        after=lambda cur: conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT prerequisite_item_id) FROM assignment_prerequisites"
            " WHERE source_assignment_id = ?",
            (cur.lastrowid,),
        ).fetchone(),
    )
    cascade_ok = err is None and (
        "roadmap_assignment_cascade" not in triggers or got == (surface, surface)
    )
    rows.append(
        (f"assignment insert on deepest ({surface} prerequisites surfaced)", ms, 100, cascade_ok)
    )
    conn.close()

    print(f"  {'figure':<58} {'median ms':>9}  {'goal':>6}  result")
    all_ok = True
    for label, ms, goal, check in rows:
        ok = ms <= goal and check
        all_ok &= ok
        verdict = "PASS" if ok else "FAIL" + ("" if check else " (wrong answer)")
        print(f"  {label:<58} {ms:9.2f}  <={goal:>4}  {verdict}")
    if not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return all_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--window",
        type=int,
        default=None,
        help="draw dependencies from the previous W items (default: all)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="motus-bench-"))
    template = workdir / "template.db"
    how = build_template(template)
    print(f"schema built with {how} in {workdir}")
    print("goal: each figure <= 100 ms; prerequisites of the deepest item <= 50 ms")
    results = [bench(n, template, workdir, args) for n in args.items]
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\nOVERALL:", "PASS" if all(results) else "FAIL")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
