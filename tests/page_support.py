"""Helpers shared by the page tests: element text by id, rows, items, query counts."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kernel.models import Attempt
from roadmap.models import RoadmapDependency, RoadmapItem
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
    """``manage.py demo_roadmap`` with ``per_phase`` items in each of its five phases and
    ``cycles`` work cycles of its five agents. Returns the agents as actors (``agents``) and,
    for each item left in progress, its holder and attempt id (``attempts``)."""
    call_command("demo_roadmap", items=5 * per_phase, agents=5, cycles=cycles, seed=seed)
    agents = [Actor.of(User.objects.get(username=f"demo-agent-{n}")) for n in range(1, 6)]
    by_identity = {agent.identity: agent for agent in agents}
    attempts = {
        work_id: (by_identity[worker_id], attempt_id)
        for attempt_id, work_id, worker_id in Attempt.objects.filter(
            ended_at__isnull=True
        ).values_list("id", "work_id", "worker_id")
    }
    return {"agents": agents, "attempts": attempts}
