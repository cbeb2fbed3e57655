"""Helpers shared by the page tests: element text by id, rows, items, query counts."""

from __future__ import annotations

import datetime as dt
import random
from html.parser import HTMLParser

from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kernel import services
from roadmap.models import RoadmapAssignment, RoadmapDependency, RoadmapItem, VReadyItems
from system import policy
from system.identity import Actor

T0 = dt.datetime(2026, 1, 1, 9, 0, 0, tzinfo=dt.UTC)
PAGES = ["/", "/roadmap/", "/roadmap/graph/", "/roadmap/graph.svg", "/programs/"]


# -- helpers -------------------------------------------------------------------------------


class _ElementText(HTMLParser):
    """Text content of every element that has an id, and the attributes of each tag."""

    VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
    #: Tags that separate words, as a browser lays them out.
    BLOCKS = {
        "article",
        "br",
        "dd",
        "div",
        "dt",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "li",
        "p",
        "section",
        "td",
        "th",
        "tr",
    }

    def __init__(self):
        super().__init__()
        self.texts: dict[str, str] = {}
        self.tags: list[tuple[str, dict]] = []
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag in self.BLOCKS:
            self.handle_data(" ")
        if tag in self.VOID:
            return
        self._open.append((tag, attrs.get("id")))
        if attrs.get("id"):
            self.texts[attrs["id"]] = ""

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.handle_data(" ")
        while self._open:
            open_tag, _ = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        for _, element_id in self._open:
            if element_id:
                self.texts[element_id] += data


def parse(response) -> _ElementText:
    parser = _ElementText()
    parser.feed(response.content.decode())
    return parser


def text(response, element_id: str) -> str:
    """Whitespace-normalised text of the element with this id."""
    return " ".join(parse(response).texts[element_id].split())


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def item(item_id, phase="phase_a", status="pending", **fields):
    return RoadmapItem.objects.create(
        id=item_id,
        phase_key=phase,
        title=fields.pop("title", f"Item {item_id}"),
        status_key=status,
        **fields,
    )


def depend(item_id, on, kind="blocks"):
    RoadmapDependency.objects.create(item_id=item_id, depends_on_id=on, dependency_type=kind)


def many_items(count, prefix="M"):
    """``count`` completed items in phase_c, each depending on the previous one."""
    RoadmapItem.objects.bulk_create(
        RoadmapItem(
            id=f"{prefix}{i:04d}",
            phase_key="phase_c",
            title=f"Many {i}",
            status_key="completed",
            owner=f"owner-{i % 7}",
            rank=float(i),
        )
        for i in range(count)
    )
    RoadmapDependency.objects.bulk_create(
        RoadmapDependency(item_id=f"{prefix}{i:04d}", depends_on_id=f"{prefix}{i - 1:04d}")
        for i in range(1, count)
    )


def query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def viewer_group() -> Group:
    return Group.objects.get(name=policy.group_name(policy.Role.VIEWER))


# -- a roadmap as agents leave it ----------------------------------------------------------

DEMO_PHASES = ("phase_a", "phase_b", "phase_c", "phase_d", "phase_e")
_VERBS = ("Index", "Cache", "Validate", "Document", "Migrate", "Profile", "Retry", "Audit")
_THINGS = (
    "leases by resource",
    "the ready list",
    "blocker resolution",
    "handoff reasons",
    "the evidence store",
    "review decisions",
    "phase progress",
    "contract hashes",
    "heartbeat timeouts",
    "terminology lookups",
    "the MCP tool list",
    "deploy claims",
)
DEMO_EVIDENCE = {"evidence_type": "test_result", "uri": "ci://runs/1", "sha256": "0" * 64}


def demo_user(name: str, role: str, *, agent: bool = False, staff: bool = False):
    user = User.objects.create_user(name, f"{name}@example.com", "a-long-password")
    user.is_staff = staff
    user.save()
    user.groups.add(Group.objects.get(name=policy.group_name(role)))
    if agent:
        user.groups.add(Group.objects.get_or_create(name="agents")[0])
    return user


def build_demo_roadmap(per_phase: int = 30, cycles: int = 30, seed: int = 7) -> dict:
    """A roadmap as the issue's review saw it: ``per_phase`` items in each of five phases
    (a gate closing each phase, the next phase's first items waiting on it), about 1.35
    dependencies an item, five agents and a reviewer who ran ``cycles`` claim → evidence →
    complete cycles through the service layer, then left four items in progress, two
    blocked by blockers that say what they need, two in review and one review rejected.

    Returns the actors (``agents``, ``reviewer``), the ids of interest
    (``blocked_by_blocker``, ``in_review``, ``rejected``, ``in_progress``) and ``attempts``:
    for each item in progress, its agent and attempt id."""
    rnd = random.Random(seed)
    ids, phase_of = [], {}
    for p, phase in enumerate(DEMO_PHASES):
        for n in range(per_phase):
            item_id = f"RM-{p * per_phase + n + 1:03d}"
            gate = n == per_phase - 1
            title = (
                f"Gate: {phase.replace('_', ' ').title()} signed off"
                if gate
                else f"{rnd.choice(_VERBS)} {rnd.choice(_THINGS)} ({item_id.lower()})"
            )
            RoadmapItem.objects.create(
                id=item_id,
                phase_key=phase,
                title=title,
                status_key="pending",
                item_type="gate" if gate else "work",
                rank=float(n),
                owner=rnd.choice(["ann", "bob", "cy", None]),
            )
            ids.append(item_id)
            phase_of[item_id] = p
    for p in range(len(DEMO_PHASES)):
        block = ids[p * per_phase : (p + 1) * per_phase]
        gate = block[-1]
        for n, item_id in enumerate(block[:-1]):
            if n and rnd.random() < 0.85:
                for target in rnd.sample(block[:n], min(n, rnd.choice([1, 1, 2]))):
                    depend(item_id, target)
            if n < 3 and p:  # the next phase's first items wait on the previous gate
                depend(item_id, ids[p * per_phase - 1])
        for target in rnd.sample(block[:-1], 6):
            depend(gate, target)

    agents = [
        Actor.of(demo_user(name, policy.Role.AGENT, agent=True))
        for name in ("ada", "bo", "cyd", "dee", "eli")
    ]
    reviewer = Actor.of(demo_user("rita", policy.Role.REVIEWER, agent=True))

    def ready() -> list[str]:
        held = services.unheld(VReadyItems.objects.all()).exclude(services.open_blockers_exist())
        return list(held.order_by("phase_key", "rank").values_list("id", flat=True))

    def claim(agent) -> tuple[str, str]:
        work_id = ready()[0]
        return work_id, services.claim(agent, work_id)["attempt"]["id"]

    for cycle in range(cycles):
        agent = agents[cycle % len(agents)]
        _, attempt = claim(agent)
        services.record_evidence(agent, attempt, DEMO_EVIDENCE)
        services.release(agent, attempt, "completed")

    blocked = []
    for agent, needs in (
        (agents[0], "Staging credentials for the payments sandbox (ask ops)."),
        (agents[1], "A decision on the retention period from the data owner."),
    ):
        work_id, attempt = claim(agent)
        services.raise_blocker(
            agent,
            {
                "reason_code": "missing_credential" if not blocked else "missing_approval",
                "title": "Need staging credentials" if not blocked else "Retention unclear",
                "description": "The integration tests cannot reach the sandbox.",
                "needs": needs,
            },
            attempt_id=attempt,
        )
        services.release(agent, attempt, "blocked")
        blocked.append(work_id)

    in_review = []
    for agent in agents[2:4]:
        work_id = ready()[0]
        RoadmapAssignment.objects.create(
            item_id=work_id, agent_id=reviewer.identity, role="reviewer", assigned_by="user:lead"
        )
        attempt = services.claim(agent, work_id)["attempt"]["id"]
        services.record_evidence(agent, attempt, DEMO_EVIDENCE)
        services.release(agent, attempt, "completed")
        in_review.append(work_id)
    services.record_decision(
        reviewer,
        {
            "decision_type": "review_rejected",
            "decision_summary": "Missing the migration test",
            "rationale": "Add a test that migrates a file the tool made.",
        },
        work_id=in_review[1],
    )
    attempts = {}
    for agent in agents[:4]:
        work_id, attempt = claim(agent)
        attempts[work_id] = (agent, attempt)
    return {
        "agents": agents,
        "reviewer": reviewer,
        "blocked_by_blocker": blocked,
        "in_review": in_review[:1],
        "rejected": in_review[1],
        "in_progress": list(attempts),
        "attempts": attempts,
    }
