"""``demo_roadmap [--items 150] [--agents 5] [--cycles 30] [--seed 7]``: a roadmap with work
in flight, to try the pages and the admin (and to take the README's screenshots).

Everything goes through the service layer, as the admin and the API would write it, so the
triggers, the audit log and the pages see ordinary rows:

- a lead (``demo-lead``, staff, role lead, no password: set one with ``changepassword``)
  creates ``--items`` items over phases A to E, each phase ending in a *gate* that waits on
  a third of its phase, the next phase's first items waiting on that gate (cross-phase
  prerequisites), about 1.2 dependencies an item;
- ``--agents`` agents (``demo-agent-1`` …, role agent, no token) run ``--cycles`` work cycles
  (claim, evidence, release as completed); then, of the items still ready (first phase
  first), two stay claimed (in progress), two are blocked by an open blocker saying what it
  needs, and one is done and waits for its reviewer (``demo-reviewer``).

Refuses to run on a roadmap that already has live items.
"""

from __future__ import annotations

import hashlib
import random

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db.models import F

from kernel import services
from roadmap import services as roadmap_services
from roadmap.models import RoadmapItem, VReadyItems
from system import policy
from system.identity import AGENT_GROUP, Actor
from system.sql import bytewise

PHASES = ["phase_a", "phase_b", "phase_c", "phase_d", "phase_e"]
VERBS = [
    "Index",
    "Validate",
    "Cache",
    "Document",
    "Migrate",
    "Harden",
    "Profile",
    "Expose",
    "Audit",
    "Retry",
    "Stream",
    "Batch",
]
NOUNS = [
    "lease expiry",
    "claim contracts",
    "evidence uploads",
    "blocker escalation",
    "handoff notes",
    "review queue",
    "phase limits",
    "deploy gate",
    "audit export",
    "token rotation",
    "roadmap graph",
    "release checklist",
    "agent heartbeats",
    "decision log",
]
BLOCKERS = [
    ("Need staging credentials", "Staging database password from ops", "missing_credential"),
    ("Waiting for the schema review", "A lead's sign-off on the new columns", "missing_approval"),
]


def _user(name: str, role: str, *, staff: bool = False, agent: bool = False) -> User:
    user, created = User.objects.get_or_create(username=name, defaults={"is_staff": staff})
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get(name=policy.group_name(role)))
    if agent:
        user.groups.add(Group.objects.get_or_create(name=AGENT_GROUP)[0])
    return user


def _evidence(work_id: str) -> dict:
    report = f"<testsuite name='{work_id}' tests='12' failures='0'/>"
    return {
        "evidence_type": "test_result",
        "uri": f"ci://demo/{work_id}/report.xml",
        "sha256": hashlib.sha256(report.encode()).hexdigest(),
    }


class Command(BaseCommand):
    help = "Create a demo roadmap with work in flight (for trying the pages and the admin)."

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, default=150)
        parser.add_argument("--agents", type=int, default=5)
        parser.add_argument("--cycles", type=int, default=30)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, items, agents, cycles, seed, **options):
        if items < 2 * len(PHASES) or agents < 1:
            raise CommandError(f"--items must be at least {2 * len(PHASES)}, --agents at least 1.")
        if RoadmapItem.objects.filter(deleted_at__isnull=True).exists():
            raise CommandError("The roadmap already has items: run this on an empty database.")
        rnd = random.Random(seed)
        lead = Actor.of(_user("demo-lead", policy.Role.LEAD, staff=True))
        workers = [
            Actor.of(_user(f"demo-agent-{n}", policy.Role.AGENT, agent=True))
            for n in range(1, agents + 1)
        ]
        reviewer = _user("demo-reviewer", policy.Role.REVIEWER, agent=True)
        edges = self._build(lead, items, rnd)
        done = self._work(workers, cycles, rnd)
        self._in_flight(lead, workers, reviewer, rnd)
        self.stdout.write(
            f"{items} items, {edges} dependencies, {len(workers)} agents, {done} completed."
        )

    def _build(self, lead: Actor, items: int, rnd: random.Random) -> int:
        per_phase = [items // len(PHASES) + (i < items % len(PHASES)) for i in range(len(PHASES))]
        edges = 0
        number = 0
        previous_gate = None
        for phase, count in zip(PHASES, per_phase, strict=True):
            ids = []
            for k in range(count):
                number += 1
                item_id = f"RM-{number:03d}"
                gate = k == count - 1
                title = (
                    f"{phase[-1].upper()} gate: verify the phase"
                    if gate
                    else f"{rnd.choice(VERBS)} {rnd.choice(NOUNS)}"
                )
                roadmap_services.create_item(
                    lead,
                    id=item_id,
                    title=title,
                    phase_key=phase,
                    item_type="gate" if gate else "work",
                    owner=f"team-{rnd.randint(1, 3)}",
                    description=f"Demo item {item_id}.",
                )
                if gate:
                    prerequisites = rnd.sample(ids, k=max(1, int(len(ids) * 0.3)))
                elif k < 3 and previous_gate:
                    prerequisites = [previous_gate]
                elif ids:
                    window = ids[-6:]
                    prerequisites = rnd.sample(window, k=min(len(window), rnd.choice([0, 1, 1, 2])))
                else:
                    prerequisites = []
                for prerequisite in prerequisites:
                    roadmap_services.add_dependency(lead, item_id, prerequisite, "blocks", None)
                    edges += 1
                ids.append(item_id)
            previous_gate = ids[-1]
        return edges

    def _ready(self) -> list[str]:
        ready = services.unheld(
            VReadyItems.objects.order_by(
                bytewise("phase_key"), F("rank").asc(nulls_first=True), bytewise("id")
            )
        )
        return list(ready.values_list("id", flat=True))

    def _work(self, workers: list[Actor], cycles: int, rnd: random.Random) -> int:
        done = 0
        for cycle in range(cycles):
            ready = self._ready()
            if not ready:
                break
            worker = workers[cycle % len(workers)]
            work_id = ready[0] if rnd.random() < 0.7 else rnd.choice(ready[:5])
            attempt = services.claim(worker, work_id)["attempt"]["id"]
            services.record_evidence(worker, attempt, _evidence(work_id))
            services.release(worker, attempt, "completed")
            done += 1
        return done

    def _in_flight(self, lead: Actor, workers, reviewer: User, rnd: random.Random) -> None:
        ready = self._ready()
        for n, work_id in enumerate(ready[:2]):  # two claims in progress
            services.claim(workers[(n + 2) % len(workers)], work_id)
        for n, work_id in enumerate(ready[2:4]):  # two blocked by a blocker
            worker = workers[n % len(workers)]
            attempt = services.claim(worker, work_id)["attempt"]["id"]
            title, needs, kind = BLOCKERS[n % len(BLOCKERS)]
            services.raise_blocker(
                worker,
                {"title": title, "description": f"{title}.", "needs": needs, "reason_code": kind},
                attempt_id=attempt,
            )
            services.release(worker, attempt, "blocked")
        if len(ready) > 4:  # one waiting for its reviewer
            work_id = ready[4]
            roadmap_services.create_assignment(
                lead, work_id, agent_id=f"agent:{reviewer.username}", role="reviewer", notes=None
            )
            worker = workers[-1]
            attempt = services.claim(worker, work_id)["attempt"]["id"]
            services.record_evidence(worker, attempt, _evidence(work_id))
            services.release(worker, attempt, "completed")
