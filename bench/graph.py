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

    python bench/graph.py --compare [--items 150 500] [--reps 3] [--screenshots DIR]

compares layout engines for the graph page on the same random DAGs (live items only, phases
as above, random titles of 3-10 words): this project's lane layout (roadmap.graph_layout,
drawn by roadmap.graph_svg; importable without Django), the hand-written layout it
replaced (read from git, ``PREVIOUS_LAYOUT``), grandalf's Sugiyama layout (if the pip
package is installed) and Graphviz ``dot`` with and without one cluster per phase (if
installed). Per engine: median time (ms, the SVG or the layout), picture width and height
(px), the scale at which it fits the graph page's box (``FIT_WIDTH``), edges drawn as lines
and edge crossings (points where two drawn edges cross, counted geometrically on the drawn
curves). With --screenshots, each picture is saved as SVG and, through Playwright and
Debian's Chromium, as a PNG of the first screen fitted to the box's width.
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


# -- --compare: layout engines for the graph page ----------------------------------------------

#: The graph box's width (px) on /roadmap/graph/ in a 1400 px window, beside the side list
#: (tests/test_browser_graph.py measures it): a picture wider than this is scaled down.
FIT_WIDTH = 1040
#: The box size every engine gets (px; dot's points are taken as px).
BOX_W, BOX_H = 180, 66
PREVIOUS_LAYOUT = "6e02c2b:roadmap/graph_svg.py"  # the hand-written layout this replaced
_WORDS = (
    "add index lease store heartbeat claim review gate staging deploy migrate check token "
    "agent cache audit export phase limit cycle trigger view page graph layout list filter "
    "retry budget schema contract release feature bug report admin form date owner"
).split()


def compare_graph(n: int, seed: int, window: int | None):
    """The random DAG of ``n`` items as the graph page would draw it: nodes (id, title,
    phase, state), edges (prerequisite, item, type), live items only."""
    dag = Dag(n, random.Random(seed), window)
    rnd = random.Random(seed + 1)
    live = [x for x in dag.ids if x not in dag.deleted]
    phase = {x: PHASES[i * len(PHASES) // n] for i, x in enumerate(dag.ids)}
    unmet = {a for a, b, k in dag.edges if k == "blocks" and dag.status[b] != "completed"}
    state = {}
    for x in live:
        status = dag.status[x]
        state[x] = {
            "completed": "completed",
            "deferred": "deferred",
            "blocked": "blocker",
            "in_progress": "in_progress",
        }.get(status, "blocked" if x in unmet else "ready")
    titles = {
        x: " ".join(rnd.choice(_WORDS) for _ in range(rnd.randint(3, 10))).capitalize()
        for x in live
    }
    edges = [(b, a, k) for a, b, k in dag.edges if a in titles and b in titles]
    return live, titles, phase, state, edges


def _sample_cubic(p0, p1, p2, p3, steps=8):
    out = []
    for i in range(1, steps + 1):
        t = i / steps
        u = 1 - t
        out.append(
            tuple(
                u**3 * a + 3 * u * u * t * b + 3 * u * t * t * c + t**3 * d
                for a, b, c, d in zip(p0, p1, p2, p3, strict=True)
            )
        )
    return out


def _path_points(d: str) -> list[tuple[float, float]]:
    """Points along an SVG path made of M, L and C commands (absolute)."""
    import re

    tokens = re.findall(r"[MLC]|-?[\d.]+(?:e-?\d+)?", d)
    points: list[tuple[float, float]] = []
    i, command = 0, "M"
    while i < len(tokens):
        if tokens[i] in "MLC":
            command = tokens[i]
            i += 1
            continue
        if command == "C":
            coords = [float(t) for t in tokens[i : i + 6]]
            i += 6
            ctrl = [(coords[0], coords[1]), (coords[2], coords[3]), (coords[4], coords[5])]
            points += _sample_cubic(points[-1], *ctrl)
        else:
            points.append((float(tokens[i]), float(tokens[i + 1])))
            i += 2
    return points


def _crossings(polylines: list[list[tuple[float, float]]], near: float = 4.0) -> int:
    """Points where two different edges cross, leaving out those within ``near`` px of an
    end of either edge (edges meeting at a box)."""
    cell = 64.0
    buckets: dict[tuple[int, int], list[int]] = {}
    segments = []
    for e, line in enumerate(polylines):
        for a, b in zip(line, line[1:], strict=False):
            k = len(segments)
            segments.append((e, a, b))
            for cx in range(int(min(a[0], b[0]) // cell), int(max(a[0], b[0]) // cell) + 1):
                for cy in range(int(min(a[1], b[1]) // cell), int(max(a[1], b[1]) // cell) + 1):
                    buckets.setdefault((cx, cy), []).append(k)
    ends = [(line[0], line[-1]) for line in polylines]
    found = set()
    for members in buckets.values():
        for i, k in enumerate(members):
            e1, a, b = segments[k]
            for m in members[i + 1 :]:
                e2, c, d = segments[m]
                if e1 == e2 or (min(k, m), max(k, m)) in found:
                    continue
                point = _intersection(a, b, c, d)
                if point is None:
                    continue
                if any(
                    abs(point[0] - q[0]) < near and abs(point[1] - q[1]) < near
                    for q in (*ends[e1], *ends[e2])
                ):
                    continue
                found.add((min(k, m), max(k, m)))
    return len(found)


def _intersection(a, b, c, d):
    rx, ry = b[0] - a[0], b[1] - a[1]
    sx, sy = d[0] - c[0], d[1] - c[1]
    denominator = rx * sy - ry * sx
    if abs(denominator) < 1e-9:
        return None
    t = ((c[0] - a[0]) * sy - (c[1] - a[1]) * sx) / denominator
    u = ((c[0] - a[0]) * ry - (c[1] - a[1]) * rx) / denominator
    if 0 < t < 1 and 0 <= u <= 1:
        return (a[0] + t * rx, a[1] + t * ry)
    return None


def _svg_size(svg: str) -> tuple[float, float]:
    import re

    box = re.search(r'viewBox="([-\d. ]+)"', svg).group(1).split()
    return float(box[2]), float(box[3])


def engine_new(graph):
    """This project's layout (roadmap.graph_layout via roadmap.graph_svg)."""
    import re

    from roadmap.graph_svg import GraphEdge, GraphNode, Lane, render_svg

    live, titles, phase, state, edges = graph
    nodes = [GraphNode(x, titles[x], "", phase[x], state[x]) for x in live]
    lanes = [Lane(p, p.replace("_", " ").title()) for p in PHASES]
    svg = render_svg(
        nodes,
        [GraphEdge(a, b, k) for a, b, k in edges],
        href_for=lambda x: f"/roadmap/{x}/",
        state_labels={},
        lanes=lanes,
    )
    drawn = [_path_points(d) for d in re.findall(r'class="edge"[^>]* d="([^"]+)"', svg)]
    return svg, drawn, _svg_size(svg)


def engine_previous(graph):
    """The hand-written layout this replaced (from git: ``PREVIOUS_LAYOUT``)."""
    import re
    import types

    source = subprocess.run(
        ["git", "show", PREVIOUS_LAYOUT], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    module = sys.modules.get("previous_graph_svg")
    if module is None:
        module = types.ModuleType("previous_graph_svg")
        sys.modules[module.__name__] = module
        exec(compile(source, PREVIOUS_LAYOUT, "exec"), module.__dict__)
    live, titles, phase, state, edges = graph
    svg = module.render_svg(
        [module.GraphNode(x, titles[x], state[x]) for x in live],
        [module.GraphEdge(a, b, k) for a, b, k in edges],
        href_for=lambda x: f"/roadmap/{x}/",
        status_names={},
    )
    drawn = []
    for points in re.findall(r'<polyline class="edge"[^>]* points="([^"]+)"', svg):
        drawn.append([tuple(float(v) for v in p.split(",")) for p in points.split()])
    return svg, drawn, _svg_size(svg)


def engine_dot(graph, clusters: bool):
    """Graphviz ``dot`` (top to bottom; with ``clusters``, one cluster per phase)."""
    import json
    from xml.sax.saxutils import escape

    live, titles, phase, state, edges = graph
    lines = [
        "digraph G {",
        "rankdir=TB; newrank=true; nodesep=0.4; ranksep=0.5;",
        f"node [shape=box, fixedsize=true, width={BOX_W / 72}, height={BOX_H / 72},"
        ' fontsize=10, fontname="DejaVu Sans"];',
    ]
    for p in PHASES:
        members = [x for x in live if phase[x] == p]
        if clusters:
            lines.append(f'subgraph cluster_{p} {{ label="{p}";')
        lines += [f'"{x}" [label="{x}\\n{escape(titles[x][:28])}"];' for x in members]
        if clusters:
            lines.append("}")
    style = {"blocks": "solid", "soft": "dashed", "related": "dotted"}
    lines += [f'"{a}" -> "{b}" [style={style[k]}];' for a, b, k in edges]
    lines.append("}")
    source = "\n".join(lines)
    svg = subprocess.run(
        ["dot", "-Tsvg"], input=source, capture_output=True, text=True, check=True
    ).stdout
    layout = json.loads(
        subprocess.run(
            ["dot", "-Tjson"], input=source, capture_output=True, text=True, check=True
        ).stdout
    )
    x0, y0, x1, y1 = (float(v) for v in layout["bb"].split(","))
    drawn = []
    for edge in layout.get("edges", []):
        for op in edge.get("_draw_", []):
            if op["op"] == "b":
                pts = [tuple(p) for p in op["points"]]
                line = [pts[0]]
                for i in range(1, len(pts) - 2, 3):
                    line += _sample_cubic(line[-1], pts[i], pts[i + 1], pts[i + 2])
                drawn.append(line)
    return svg, drawn, (x1 - x0, y1 - y0)


def engine_grandalf(graph):
    """grandalf's Sugiyama layout (pip ``grandalf``), top to bottom; boxes and polylines
    through its dummy points drawn by this function for the screenshot."""
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    class View:
        w, h = BOX_W, BOX_H

    class EdgeView:
        def setpath(self, points):
            self.points = points

    live, titles, phase, state, edges = graph
    vertices = {x: Vertex(x) for x in live}
    for v in vertices.values():
        v.view = View()
    graph_edges = []
    for a, b, _ in edges:
        e = Edge(vertices[a], vertices[b])
        e.view = EdgeView()
        graph_edges.append(e)
    g = Graph(list(vertices.values()), graph_edges)
    offset = 0.0
    for component in g.C:
        layout = SugiyamaLayout(component)
        layout.init_all()
        layout.draw(3)
        xs = [v.view.xy[0] for v in component.sV]
        shift = offset - min(xs) + BOX_W / 2
        for v in component.sV:
            v.view.xy = (v.view.xy[0] + shift, v.view.xy[1])
        for e in component.sE:
            e.view.points = [(x + shift, y) for x, y in e.view.points]
        offset += max(xs) - min(xs) + BOX_W + 40
    xs = [v.view.xy[0] for v in vertices.values()]
    ys = [v.view.xy[1] for v in vertices.values()]
    width, height = max(xs) + BOX_W / 2 + 20, max(ys) + BOX_H / 2 + 20
    drawn = []
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}"'
        f' viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="10">'
    ]
    for e in graph_edges:
        points = list(e.view.points)
        if not points:
            continue
        (sx, sy), (tx, ty) = points[0], points[-1]
        points[0] = (sx, sy + BOX_H / 2 * (1 if ty > sy else -1))
        points[-1] = (tx, ty - BOX_H / 2 * (1 if ty > sy else -1))
        drawn.append(points)
        out.append(
            '<polyline fill="none" stroke="#4b5563" points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            + '"/>'
        )
    for x, v in vertices.items():
        cx, cy = v.view.xy
        out.append(
            f'<rect x="{cx - BOX_W / 2:.1f}" y="{cy - BOX_H / 2:.1f}" width="{BOX_W}"'
            f' height="{BOX_H}" fill="#f3f4f6" stroke="#6b7280"/>'
            f'<text x="{cx - BOX_W / 2 + 6:.1f}" y="{cy:.1f}">{x}</text>'
        )
    out.append("</svg>")
    return "\n".join(out), drawn, (width, height)


def compare(args) -> int:
    """Time, size, fit scale, drawn edges and edge crossings of each layout engine."""
    import shutil as sh

    sys.path.insert(0, str(ROOT))
    engines = [("previous hand-written", engine_previous), ("lanes (this project)", engine_new)]
    try:
        import grandalf  # noqa: F401

        engines.append(("grandalf 0.8", engine_grandalf))
    except ImportError:
        print("grandalf not installed (.venv/bin/pip install grandalf): left out")
    if sh.which("dot"):
        engines.append(("dot", lambda g: engine_dot(g, clusters=False)))
        engines.append(("dot, phase clusters", lambda g: engine_dot(g, clusters=True)))
    else:
        print("Graphviz dot not installed (apt-get install graphviz): left out")
    shots = Path(args.screenshots) if args.screenshots else None
    print(
        f"fit: the picture scaled to the graph box ({FIT_WIDTH} px wide in a 1400 px window);"
        " crossings: points where two drawn edges cross (geometric, away from the boxes)"
    )
    header = (
        f"{'items':>5} {'engine':<22} {'ms':>7} {'width':>7} {'height':>7} {'fit':>6}"
        f" {'edges drawn':>12} {'crossings':>10}"
    )
    print(header)
    for n in args.items:
        graph = compare_graph(n, args.seed, args.window)
        for name, engine in engines:
            times = []
            for _ in range(args.reps):
                start = time.perf_counter()
                svg, drawn, (width, height) = engine(graph)
                times.append((time.perf_counter() - start) * 1000)
            fit = min(1.0, FIT_WIDTH / width)
            crossings = _crossings(drawn)
            print(
                f"{n:>5} {name:<22} {statistics.median(times):>7.0f} {width:>7.0f}"
                f" {height:>7.0f} {fit:>6.0%} {len(drawn):>5}/{len(graph[4]):<6} {crossings:>10}"
            )
            if shots:
                shots.mkdir(parents=True, exist_ok=True)
                slug = name.split()[0].strip(",").lower() + (
                    "-clusters" if "clusters" in name else ""
                )
                (shots / f"{n}-{slug}.svg").write_text(svg)
    if shots:
        _screenshots(shots)
    return 0


def _screenshots(folder: Path) -> None:
    """Each SVG of ``folder`` fitted to the graph box's width, first screen, as PNG."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("playwright not installed: no screenshots")
        return
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        for svg in sorted(folder.glob("*.svg")):
            html = folder / f"{svg.stem}.html"
            html.write_text(
                '<!doctype html><body style="margin:0 0 0 16px">'
                f'<img src="{svg.name}" style="width:{FIT_WIDTH}px; border:1px solid #ccc"></body>'
            )
            page.goto(html.as_uri())
            page.screenshot(path=str(folder / f"{svg.stem}.png"))
        browser.close()
    print(f"screenshots in {folder}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--items", type=int, nargs="+", help="default: 1000 10000 (with --compare: 150 500)"
    )
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--window",
        type=int,
        default=None,
        help="draw dependencies from the previous W items (default: all)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument(
        "--compare", action="store_true", help="compare the graph page's layout engines"
    )
    parser.add_argument("--screenshots", help="with --compare: save SVGs and PNGs here")
    args = parser.parse_args()
    if args.compare:
        args.items = args.items or [150, 500]
        return compare(args)
    args.items = args.items or [1000, 10000]
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
