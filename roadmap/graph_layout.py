"""Layered layout of a dependency graph in lanes, top to bottom (pure Python, no Django).

The picture reads like a page: one horizontal band ("lane") per phase, in the phases' order,
each prerequisite above the items that depend on it, and never more than ``Grid.columns``
boxes side by side, so it fits the page's width whatever the number of items (it grows
downwards instead). A Sugiyama-style layout, with a width bound:

1. **Rows** within each lane: the items linked inside their lane are taken in order of their
   longest chain of prerequisites; each goes in the first row below all its prerequisites of
   the same lane that has fewer than ``columns`` boxes (a longest-path layering with a width
   bound, as in Coffman–Graham's). Items with no dependency inside their lane fill the free
   places last: from the top when a prerequisite in an earlier lane points at them, else
   from the bottom (the first given lowest). Cycles (longer than the database's cycle check
   catches) are broken by ignoring the back edges of a depth-first search.
2. **Arrows**: an edge from a box to a box at most ``max_span`` rows further down is drawn;
   it crosses the rows in between through the gaps between boxes (one dummy point per row).
   Longer edges and edges pointing upwards (a prerequisite in a later phase, a cycle's back
   edge) are listed in ``Layout.far`` instead: the renderer names them inside the boxes, so
   no long lines cross the picture and no bundle of parallel lines forms.
3. **Order** within rows: barycentre sweeps down and up over boxes and dummy points; the
   order with the fewest crossings seen is kept.
4. **Columns**: each row's boxes go to grid columns in their order, each as close to the
   mean position of its drawn neighbours as possible (dynamic programming over the at most
   ``columns`` places; three passes). Dummy points sit in the gaps between the boxes of
   their row, as close to a straight line as their order allows.

Its cost is about linear in the items and edges (the dummies are at most ``max_span - 1``
per edge): a few tens of milliseconds for 500 items (``bench/graph.py --compare``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Grid:
    """Sizes (px) and limits of the layout."""

    #: At most this many boxes side by side.
    columns: int = 5
    box_width: float = 180
    column_gap: float = 40
    row_gap: float = 38
    #: Height of a lane's title strip, above its first row.
    lane_header: float = 26
    #: Space below a lane's last row.
    lane_padding: float = 12
    #: Left and right margins (dummy points may use them).
    margin: float = 24
    #: Edges spanning more rows than this are not drawn (see ``Layout.far``).
    max_span: int = 3
    #: A box grows by this much for each side (prerequisites, dependents) on which it has
    #: far edges: room for the renderer to name them.
    far_line: float = 15
    sweeps: int = 8


@dataclass(frozen=True)
class Box:
    """A node to place: its lane (index in lane order) and its height without far edges."""

    id: str
    lane: int
    height: float


@dataclass
class Placement:
    """Top-left corner and size of a placed box; its global row and grid column."""

    x: float
    y: float
    width: float
    height: float
    row: int
    column: int


@dataclass(frozen=True)
class Route:
    """A drawn edge (index into the edges given): vertical runs ``(x, y_top, y_bottom)``,
    from the source box's bottom to the target box's top, joined by curves between rows."""

    edge: int
    runs: list[tuple[float, float, float]]


@dataclass(frozen=True)
class LaneBand:
    lane: int
    top: float
    bottom: float


@dataclass
class Layout:
    boxes: dict[str, Placement]
    routes: list[Route]
    #: Edges (indices) not drawn as lines: spanning more than ``max_span`` rows, or upwards.
    far: list[int]
    lanes: list[LaneBand]
    #: Per global row, its boxes and dummy points in left-to-right order.
    rows: list[list[str]]
    width: float
    height: float
    #: Per global row, the drawn edge pieces (upper end, lower end) to the next row.
    pieces: list[list[tuple[str, str]]] = field(default_factory=list)

    def crossings(self) -> int:
        """Crossings between drawn edge pieces of neighbouring rows (the ordering's count)."""
        return _total_crossings(self.rows, self.pieces)


def layered_layout(
    boxes: Sequence[Box], edges: Sequence[tuple[str, str]], grid: Grid = Grid()
) -> Layout:
    """Place ``boxes`` (in their given order as the starting order) and route ``edges``
    (``(prerequisite id, dependent id)`` pairs; unknown ids and self-loops are ignored)."""
    box_of = {box.id: box for box in boxes}
    order = {box.id: i for i, box in enumerate(boxes)}
    known = [(i, s, t) for i, (s, t) in enumerate(edges) if s in box_of and t in box_of and s != t]
    known_by_index = {i: (s, t) for i, s, t in known}
    forward = _acyclic(list(box_of), [(s, t) for _, s, t in known])

    # 1. rows, lane by lane
    lanes = sorted({box.lane for box in boxes})
    row_of: dict[str, int] = {}
    lane_rows: list[tuple[int, int]] = []  # (lane, rows) in lane order
    for lane in lanes:
        ids = [box.id for box in boxes if box.lane == lane]
        inside = [(s, t) for s, t in forward if box_of[s].lane == lane and box_of[t].lane == lane]
        from_above = {t for _, s, t in known if box_of[t].lane == lane and box_of[s].lane < lane}
        local = _rows_in_lane(ids, inside, from_above, grid.columns, order)
        offset = sum(count for _, count in lane_rows)
        for node, row in local.items():
            row_of[node] = offset + row
        lane_rows.append((lane, max(local.values()) + 1))
    row_count = sum(count for _, count in lane_rows)

    # 2. drawn edges (with a dummy per row crossed) and far ones
    rows: list[list[str]] = [[] for _ in range(row_count)]
    for node in sorted(row_of, key=order.__getitem__):
        rows[row_of[node]].append(node)
    chains: dict[int, list[str]] = {}
    far: list[int] = []
    for i, s, t in known:
        span = row_of[t] - row_of[s]
        if 0 < span <= grid.max_span:
            dummies = [f"\0{i}\0{row}" for row in range(row_of[s] + 1, row_of[t])]
            for dummy, row in zip(dummies, range(row_of[s] + 1, row_of[t]), strict=True):
                row_of[dummy] = row
                rows[row].append(dummy)
            chains[i] = [s, *dummies, t]
        else:
            far.append(i)
    pieces: list[list[tuple[str, str]]] = [[] for _ in range(row_count)]
    for chain in chains.values():
        for upper, lower in zip(chain, chain[1:], strict=False):
            pieces[row_of[upper]].append((upper, lower))

    # 3. order within rows
    rows = _order_by_barycentre(rows, pieces, grid.sweeps)

    # Boxes grow by a line for their far prerequisites and one for their far dependents.
    far_sides: dict[str, int] = defaultdict(int)
    for side in ({known_by_index[i][0] for i in far}, {known_by_index[i][1] for i in far}):
        for node in side:
            far_sides[node] += 1
    height_of = {n: box_of[n].height + far_sides[n] * grid.far_line for n in box_of}

    # 4. columns and coordinates
    columns = max((sum(n in box_of for n in row) for row in rows), default=1)
    width = 2 * grid.margin + columns * grid.box_width + (columns - 1) * grid.column_gap
    row_top, row_bottom, bands = _row_heights(lane_rows, rows, height_of, grid)
    x_of = _columns_and_gaps(rows, pieces, box_of, columns, width, grid)
    placements = {}
    for r, row in enumerate(rows):
        for node in row:
            if node in box_of:
                placements[node] = Placement(
                    x=x_of[node] - grid.box_width / 2,
                    y=row_top[r],
                    width=grid.box_width,
                    height=height_of[node],
                    row=r,
                    column=round(
                        (x_of[node] - grid.margin - grid.box_width / 2)
                        / (grid.box_width + grid.column_gap)
                    ),
                )
    routes = _routes(chains, placements, x_of, row_of, row_top, row_bottom)
    height = bands[-1].bottom if bands else 0
    return Layout(
        boxes=placements,
        routes=routes,
        far=far,
        lanes=bands,
        rows=rows,
        width=width,
        height=height,
        pieces=pieces,
    )


# -- 1. rows ----------------------------------------------------------------------------------


def _acyclic(node_ids: list[str], edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The edges minus the back edges of an iterative depth-first search."""
    outgoing: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for edge in dict.fromkeys(edges):
        outgoing[edge[0]].append(edge)
    state: dict[str, int] = {}  # 1 = on the stack, 2 = finished
    forward: set[tuple[str, str]] = set()
    for root in node_ids:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(outgoing[root]))]
        while stack:
            node, pending = stack[-1]
            edge = next(pending, None)
            if edge is None:
                state[node] = 2
                stack.pop()
                continue
            if state.get(edge[1]) == 1:
                continue
            forward.add(edge)
            if edge[1] not in state:
                state[edge[1]] = 1
                stack.append((edge[1], iter(outgoing[edge[1]])))
    return forward


def _rows_in_lane(
    ids: list[str],
    inside: list[tuple[str, str]],
    from_above: set[str],
    columns: int,
    order: dict[str, int],
) -> dict[str, int]:
    """Row (0-based, within the lane) of each of ``ids``; see step 1 of the module docstring."""
    prerequisites: dict[str, list[str]] = defaultdict(list)
    dependents: dict[str, list[str]] = defaultdict(list)
    for s, t in inside:
        prerequisites[t].append(s)
        dependents[s].append(t)
    linked = [n for n in ids if prerequisites[n] or dependents[n]]
    level = _longest_path_levels(linked, dependents, prerequisites)
    counts: list[int] = []
    row_of: dict[str, int] = {}

    def put(node: str, row: int) -> None:
        while len(counts) <= row:
            counts.append(0)
        counts[row] += 1
        row_of[node] = row

    for node in sorted(linked, key=lambda n: (level[n], order[n])):
        row = max((row_of[p] + 1 for p in prerequisites[node]), default=0)
        while row < len(counts) and counts[row] >= columns:
            row += 1
        put(node, row)
    loose = [n for n in ids if n not in row_of]
    for node in [n for n in loose if n in from_above]:
        row = next((r for r, c in enumerate(counts) if c < columns), len(counts))
        put(node, row)
    # The others go as low as possible, the first given lowest: rows are added below if the
    # free places are too few, then filled from the last row upwards.
    last = [n for n in loose if n not in from_above]
    missing = len(last) - sum(columns - c for c in counts)
    for _ in range(-(-missing // columns) if missing > 0 else 0):
        counts.append(0)
    row = len(counts) - 1
    for node in last:
        while counts[row] >= columns:
            row -= 1
        put(node, row)
    return row_of


def _longest_path_levels(
    nodes: list[str], dependents: dict[str, list[str]], prerequisites: dict[str, list[str]]
) -> dict[str, int]:
    """Length of the longest chain of prerequisites leading to each node (edges acyclic)."""
    waiting = {n: len(prerequisites[n]) for n in nodes}
    level = dict.fromkeys(nodes, 0)
    ready = [n for n in nodes if waiting[n] == 0]
    while ready:
        node = ready.pop()
        for dependent in dependents[node]:
            level[dependent] = max(level[dependent], level[node] + 1)
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    return level


# -- 3. order ---------------------------------------------------------------------------------


def _order_by_barycentre(
    rows: list[list[str]], pieces: list[list[tuple[str, str]]], sweeps: int
) -> list[list[str]]:
    above: dict[str, list[str]] = defaultdict(list)
    below: dict[str, list[str]] = defaultdict(list)
    for row_pieces in pieces:
        for upper, lower in row_pieces:
            above[lower].append(upper)
            below[upper].append(lower)
    rows = [list(row) for row in rows]
    best, best_crossings = [list(row) for row in rows], _total_crossings(rows, pieces)
    for sweep in range(sweeps):
        if best_crossings == 0:
            break
        downwards = sweep % 2 == 0
        indices = range(1, len(rows)) if downwards else range(len(rows) - 2, -1, -1)
        neighbours = above if downwards else below
        for r in indices:
            reference = rows[r - 1] if downwards else rows[r + 1]
            position = {node: i for i, node in enumerate(reference)}
            current = {node: i for i, node in enumerate(rows[r])}

            def barycentre(node, neighbours=neighbours, position=position, current=current):
                placed = [position[n] for n in neighbours[node] if n in position]
                return sum(placed) / len(placed) if placed else current[node]

            # Keys in the reference row's index scale; a node without neighbours keeps its
            # own index, which is comparable enough to leave it near where it was.
            rows[r].sort(key=lambda node: (barycentre(node), current[node]))
        crossings = _total_crossings(rows, pieces)
        if crossings < best_crossings:
            best, best_crossings = [list(row) for row in rows], crossings
    return best


def _total_crossings(rows: list[list[str]], pieces: list[list[tuple[str, str]]]) -> int:
    return sum(_crossings_between(rows[r], rows[r + 1], pieces[r]) for r in range(len(rows) - 1))


def _crossings_between(upper: list[str], lower: list[str], pieces) -> int:
    """Crossings of the pieces between two rows: inversions, counted with a Fenwick tree."""
    upper_pos = {node: i for i, node in enumerate(upper)}
    lower_pos = {node: i for i, node in enumerate(lower)}
    ends = sorted((upper_pos[a], lower_pos[b]) for a, b in pieces)
    tree = [0] * (len(lower) + 1)
    crossings = 0
    for seen, (_, target) in enumerate(ends):
        # Pieces seen so far whose lower end lies strictly right of this one cross it.
        i, at_or_left = target + 1, 0
        while i > 0:
            at_or_left += tree[i]
            i -= i & -i
        crossings += seen - at_or_left
        i = target + 1
        while i <= len(lower):
            tree[i] += 1
            i += i & -i
    return crossings


# -- 4. coordinates ---------------------------------------------------------------------------


def _row_heights(lane_rows, rows, height_of, grid: Grid):
    """Top and bottom y of every row, and the lanes' bands."""
    row_top: list[float] = []
    row_bottom: list[float] = []
    bands: list[LaneBand] = []
    y = 0.0
    r = 0
    for lane, count in lane_rows:
        top = y
        y += grid.lane_header
        for _ in range(count):
            height = max((height_of[n] for n in rows[r] if n in height_of), default=0)
            row_top.append(y)
            row_bottom.append(y + height)
            y += height + grid.row_gap
            r += 1
        y += grid.lane_padding - grid.row_gap
        bands.append(LaneBand(lane=lane, top=top, bottom=y))
    return row_top, row_bottom, bands


def _columns_and_gaps(rows, pieces, box_of, columns: int, width: float, grid: Grid):
    """Centre x of every box and dummy point (step 4 of the module docstring)."""
    step = grid.box_width + grid.column_gap
    first = grid.margin + grid.box_width / 2
    above: dict[str, list[str]] = defaultdict(list)
    below: dict[str, list[str]] = defaultdict(list)
    for row_pieces in pieces:
        for upper, lower in row_pieces:
            above[lower].append(upper)
            below[upper].append(lower)
    x_of: dict[str, float] = {}
    passes = [
        (range(len(rows)), (above,)),
        (range(len(rows) - 1, -1, -1), (above, below)),
        (range(len(rows)), (above, below)),
    ]
    for indices, sides in passes:
        for r in indices:
            row = rows[r]

            def wanted(node, sides=sides):
                xs = [x_of[n] for side in sides for n in side[node] if n in x_of]
                return sum(xs) / len(xs) if xs else x_of.get(node)

            real = [n for n in row if n in box_of]
            targets = [wanted(n) for n in real]
            places = _best_columns(
                [None if t is None else (t - first) / step for t in targets], columns
            )
            for node, column in zip(real, places, strict=True):
                x_of[node] = first + column * step
            _place_dummies(row, box_of, x_of, [wanted(n) for n in row], width, grid)
    return x_of


def _best_columns(wanted: list[float | None], columns: int) -> list[int]:
    """Strictly increasing columns in ``0..columns-1``, one per entry, minimising the total
    distance to the wanted (fractional) columns; entries without a wish are spread evenly."""
    count = len(wanted)
    if count == 0:
        return []
    spread = [(i + 0.5) * columns / count - 0.5 for i in range(count)]
    costs = [
        [
            abs(c - (w if w is not None else spread[i])) * (1 if w is not None else 0.1)
            for c in range(columns)
        ]
        for i, w in enumerate(wanted)
    ]
    infinity = float("inf")
    # best[i][c]: least cost of entries 0..i with entry i in column c; choice: where i-1 went.
    best = [[infinity] * columns for _ in range(count)]
    choice = [[-1] * columns for _ in range(count)]
    for c in range(columns):
        best[0][c] = costs[0][c]
    for i in range(1, count):
        running, running_at = infinity, -1
        for c in range(columns):
            if c - 1 >= 0 and best[i - 1][c - 1] < running:
                running, running_at = best[i - 1][c - 1], c - 1
            if running < infinity:
                best[i][c] = running + costs[i][c]
                choice[i][c] = running_at
    column = min(range(columns), key=lambda c: best[count - 1][c])
    out = [0] * count
    for i in range(count - 1, -1, -1):
        out[i] = column
        column = choice[i][column]
    return out


#: Least room (px) kept between a dummy point and a box, and between two dummy points.
_DUMMY_CLEARANCE = 6
_DUMMY_SPACING = 8


def _place_dummies(row, box_of, x_of, wanted, width: float, grid: Grid) -> None:
    """Put each run of dummy points between two boxes of the row (or a box and the edge of
    the picture) in the gap, in order, near where they want to be."""
    half = grid.box_width / 2
    run: list[tuple[str, float | None]] = []
    left = _DUMMY_CLEARANCE / 2
    for node, wish in [*zip(row, wanted, strict=True), (None, None)]:
        if node is not None and node not in box_of:
            run.append((node, wish))
            continue
        right = x_of[node] - half - _DUMMY_CLEARANCE if node is not None else width - 3
        if run:
            xs = _spread_in(left, right, [w for _, w in run])
            for (dummy, _), x in zip(run, xs, strict=True):
                x_of[dummy] = x
            run = []
        if node is not None:
            left = x_of[node] + half + _DUMMY_CLEARANCE


def _spread_in(lo: float, hi: float, wishes: list[float | None]) -> list[float]:
    """Increasing positions in [lo, hi], ``_DUMMY_SPACING`` apart if there is room (else
    evenly spread), each as close to its wish (None: the middle) as that allows."""
    count = len(wishes)
    if hi - lo <= _DUMMY_SPACING * (count + 1):
        return [lo + (hi - lo) * (i + 1) / (count + 1) for i in range(count)]
    middle = (lo + hi) / 2
    xs = [min(max(w if w is not None else middle, lo), hi) for w in wishes]
    for i in range(1, count):
        xs[i] = max(xs[i], xs[i - 1] + _DUMMY_SPACING)
    xs[-1] = min(xs[-1], hi)
    for i in range(count - 2, -1, -1):
        xs[i] = min(xs[i], xs[i + 1] - _DUMMY_SPACING)
    return xs


def _routes(chains, placements, x_of, row_of, row_top, row_bottom) -> list[Route]:
    """Vertical runs of every drawn edge; several edges leaving (entering) one box are spread
    along its bottom (top) side in the order of where they go (come from)."""
    out_port: dict[int, float] = {}
    in_port: dict[int, float] = {}
    leaving: dict[str, list[int]] = defaultdict(list)
    entering: dict[str, list[int]] = defaultdict(list)
    for i, chain in chains.items():
        leaving[chain[0]].append(i)
        entering[chain[-1]].append(i)
    for ports, by_box, neighbour in ((out_port, leaving, 1), (in_port, entering, -2)):
        for node, edges in by_box.items():
            box = placements[node]
            edges.sort(key=lambda i: (x_of[chains[i][neighbour]], i))
            for k, i in enumerate(edges):
                ports[i] = box.x + box.width * (0.2 + 0.6 * (k + 1) / (len(edges) + 1))
    routes = []
    for i, chain in chains.items():
        source, target = placements[chain[0]], placements[chain[-1]]
        runs = [(out_port[i], source.y + source.height, row_bottom[source.row])]
        for dummy in chain[1:-1]:
            runs.append((x_of[dummy], row_top[row_of[dummy]], row_bottom[row_of[dummy]]))
        runs.append((in_port[i], target.y, target.y))
        routes.append(Route(edge=i, runs=runs))
    return routes
