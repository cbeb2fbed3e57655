"""Recent activity in words: each ``audit_log`` row as a sentence with links.

The audit log holds what the services, the admin and the triggers wrote: a resource type,
an id, an action and JSON old/new/context values. A person reads "agent:ann claimed RM-033
“Index leases” (attempt att-…)", not ``claim attempt att-…``. :func:`recent_activity` turns
the latest rows into :class:`Activity` objects: the actor, then the sentence as
:class:`Part` s (text, or a link). Links go to

* roadmap items: their page;
* attempts: the attempt's card on its item's page (``#attempt-<slugified id>``);
* programs, products, features, releases, change requests and bugs: their row on the
  programs page, or their admin change page for a user who may change them there;
* anything else the admin shows (blockers, evidence, decisions, leases, claims, …): its
  admin change page for a staff user who may view it; otherwise the id is shown as code.

An action this module does not know becomes a generic sentence ("recorded “add column” on
roadmap items"), never the raw verb. The ids a page of rows names (attempts, blockers,
leases, assignments, items) are looked up in one query per kind, so the number of queries
does not grow with the number of rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from django.apps import apps
from django.contrib.admin.utils import quote
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.timesince import timesince, timeuntil

from kernel.leases import WORK_LEASE_TYPE
from kernel.models import Attempt, Blocker, Lease
from programs.pages_queries import row_anchor
from roadmap.links import item_url
from roadmap.models import RoadmapAssignment, RoadmapItem
from system import policy
from system.admin_base import resource_type_of
from system.models import AuditLog
from system.terminology import display_names_by_domain

#: How many rows the overview shows.
DEFAULT_LIMIT = 20
#: Longest item or blocker title quoted in a sentence (the whole title is in the tooltip).
TITLE_LENGTH = 80
#: Most prerequisites an assignment cascade lists by name.
CASCADE_NAMES = 5

#: Resource types shown on the programs page (``audit_log.resource_type`` → model name).
PROGRAMS_PAGE_TYPES = {
    "program": "program",
    "product": "product",
    "feature": "feature",
    "release": "release",
    "change_request": "changerequest",
    "bug": "bug",
}

#: What generic admin writes did (``ContractAdmin`` and the admin actions).
GENERIC_VERBS = {
    "create": "created",
    "update": "edited",
    "delete": "deleted",
    "restore": "restored",
    "revoke": "revoked",
}

#: ``status_change`` rows say which call moved the item (``context.via``); ``release <how>``
#: reads "by releasing it as <how>".
VIA = {
    "claim": "by claiming it",
    "expire_stale": "when its attempt went stale",
    "resolve_blocker": "by resolving its last blocker",
}


def _moved_how(via: str) -> str:
    """How a ``status_change`` came about, in words ("" when the row does not say)."""
    if via.startswith("release "):
        return f"by releasing it as {via.removeprefix('release ').replace('_', ' ')}"
    return VIA.get(via) or (f"via {via.replace('_', ' ')}" if via else "")


@dataclass(frozen=True)
class Part:
    """A piece of a sentence: plain text, a link (``url``) or an id without a page (``code``)."""

    text: str
    url: str = ""
    code: bool = False
    #: Full text for a tooltip, when ``text`` is shortened.
    title: str = ""


@dataclass(frozen=True)
class Activity:
    """One audit row in words."""

    id: int
    timestamp: dt.datetime | str | None
    actor: str
    #: ``<resource_type>.<action>`` as stored (for styling and tests).
    kind: str
    parts: tuple[Part, ...]
    now: dt.datetime = field(compare=False, repr=False, default_factory=timezone.now)

    @property
    def sentence(self) -> str:
        """The sentence after the actor, as plain text."""
        return "".join(part.text for part in self.parts)

    @property
    def text(self) -> str:
        """Actor and sentence as plain text."""
        return f"{self.actor} {self.sentence}"

    @property
    def iso(self) -> str:
        """The timestamp for ``<time datetime>`` (empty when it is not a timestamp)."""
        return self.timestamp.isoformat() if isinstance(self.timestamp, dt.datetime) else ""

    @property
    def exact(self) -> str:
        """The timestamp as stored (UTC), for a tooltip."""
        if isinstance(self.timestamp, dt.datetime):
            return self.timestamp.strftime("%Y-%m-%d %H:%M:%S UTC")
        return str(self.timestamp or "")

    @property
    def ago(self) -> str:
        """ "5 minutes ago", "just now", "in 2 hours" (a clock ahead of ours)."""
        if not isinstance(self.timestamp, dt.datetime):
            return self.exact or "—"
        delta = (self.now - self.timestamp).total_seconds()
        if abs(delta) < 60:
            return "just now"
        if delta < 0:
            return f"in {timeuntil(self.timestamp, self.now, depth=1)}"
        return f"{timesince(self.timestamp, self.now, depth=1)} ago"


def recent_activity(limit: int = DEFAULT_LIMIT, *, user=None) -> list[Activity]:
    """The latest ``limit`` audit rows (newest first) in words.

    ``user``: who reads them; entities link to admin pages only for a staff user with the
    permission to view (or, for programs-page rows, change) them there. Without a user,
    links go only to the public pages.
    """
    rows = list(AuditLog.objects.order_by("-timestamp", "-id")[:limit])
    words = _Words(rows, user)
    now = timezone.now()
    return [
        Activity(
            id=row.id,
            timestamp=row.timestamp,
            actor=row.actor,
            kind=f"{row.resource_type}.{row.action}",
            parts=tuple(words.sentence(row)),
            now=now,
        )
        for row in rows
    ]


# --------------------------------------------------------------------------- lookups


def _json(text) -> dict:
    """An audit JSON column as a dict (``{}`` for NULL, junk or a non-object)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _dependency_ends(row, new: dict, old: dict) -> tuple[str, str]:
    """(item, prerequisite) of a ``roadmap_dependency`` row: from its values, else its id."""
    values = new or old
    if values.get("item_id") and values.get("depends_on_id"):
        return str(values["item_id"]), str(values["depends_on_id"])
    item_id, _, depends_on = (row.resource_id or "").partition("->")
    return item_id, depends_on


def _cascade_prerequisites(new: dict) -> list[str]:
    """The ids of an ``assignment_cascade`` row (joined by ", ")."""
    listed = new.get("unassigned_prereqs") or ""
    return [part.strip() for part in str(listed).split(",") if part.strip()]


#: Actions of the ``roadmap_assignments`` triggers, whose ``resource_id`` is the item's id.
ASSIGNMENT_TRIGGER_ACTIONS = ("assign", "cascade_detected")


def _is_assignment_id(row: AuditLog) -> bool:
    """Whether a ``roadmap_assignment`` row names the assignment (the services and the admin
    audit it by its id) rather than its item (what the triggers write)."""
    rid = row.resource_id or ""
    return row.action not in ASSIGNMENT_TRIGGER_ACTIONS and rid.isdigit()


class _Lookups:
    """The rows a page of audit rows refers to, one query per kind."""

    def __init__(self, rows: list[AuditLog], values: dict[int, tuple[dict, dict, dict]]):
        wanted: dict[str, set[str]] = {
            "attempt": set(),
            "blocker": set(),
            "lease": set(),
            "assignment": set(),
        }
        item_ids: set[str] = set()
        for row in rows:
            new, old, _ = values[row.id]
            rtype, rid = row.resource_type, row.resource_id or ""
            if rtype in ("attempt", "blocker", "lease"):
                wanted[rtype].add(rid)
            elif rtype == "roadmap_assignment":
                if _is_assignment_id(row):
                    wanted["assignment"].add(rid)
                else:
                    item_ids.add(rid)
                    item_ids.update(_cascade_prerequisites(new))
            elif rtype == "roadmap_item":
                item_ids.add(rid)
            elif rtype == "roadmap_dependency":
                item_ids.update(_dependency_ends(row, new, old))
            for values_dict in (new, old):
                for key in ("work_id", "item_id"):
                    if values_dict.get(key):
                        item_ids.add(str(values_dict[key]))
            if new.get("to_attempt"):
                wanted["attempt"].add(str(new["to_attempt"]))
        self.attempt_work = self._pairs(Attempt, wanted["attempt"], "work_id")
        self.blockers = {
            pk: (work_id, title)
            for pk, work_id, title in self._rows(
                Blocker, wanted["blocker"], ("id", "work_id", "title")
            )
        }
        self.leases = {
            pk: (rtype, rid)
            for pk, rtype, rid in self._rows(
                Lease, wanted["lease"], ("id", "resource_type", "resource_id")
            )
        }
        assignment_ids = [int(pk) for pk in wanted["assignment"]]
        self.assignments = {
            str(pk): (item_id, agent_id, role)
            for pk, item_id, agent_id, role in self._rows(
                RoadmapAssignment, assignment_ids, ("id", "item_id", "agent_id", "role")
            )
        }
        item_ids.update(self.attempt_work.values())
        item_ids.update(work_id for work_id, _ in self.blockers.values())
        item_ids.update(item_id for item_id, _, _ in self.assignments.values())
        item_ids.update(rid for rtype, rid in self.leases.values() if rtype == WORK_LEASE_TYPE)
        item_ids.discard("")
        self.item_titles = dict(self._rows(RoadmapItem, item_ids, ("id", "title")))

    @staticmethod
    def _rows(model, ids: Iterable, columns: tuple[str, ...]) -> list[tuple]:
        ids = list(ids)
        if not ids:
            return []
        return list(model.objects.filter(pk__in=ids).values_list(*columns))

    @classmethod
    def _pairs(cls, model, ids: Iterable, column: str) -> dict:
        return dict(cls._rows(model, ids, ("pk", column)))


@cache
def _models_by_resource_type() -> dict[str, type]:
    """Every model by the ``resource_type`` the admin audits it under, and by its table
    (the ``motus`` tool's migrations write table names)."""
    models: dict[str, type] = {}
    for model in apps.get_models():
        models.setdefault(model._meta.db_table, model)
        models[resource_type_of(model)] = model
    return models


# --------------------------------------------------------------------------- sentences


class _Words:
    """Sentences for a page of audit rows, with the lookups and permissions they need."""

    def __init__(self, rows: list[AuditLog], user):
        self.user = user
        self.values = {
            row.id: (_json(row.new_value), _json(row.old_value), _json(row.context)) for row in rows
        }
        self.lookups = _Lookups(rows, self.values)
        self.status_names = (
            display_names_by_domain("roadmap_status")["roadmap_status"] if rows else {}
        )

    # -- links

    def item(self, item_id: str, *, title: bool = True) -> list[Part]:
        """An item's id linked to its page, then its title in quotes."""
        if not item_id:
            return [Part("an item")]
        if item_id not in self.lookups.item_titles:
            return [Part(item_id, code=True)]
        parts = [Part(item_id, url=item_url(item_id))]
        if title:
            parts += [Part(" "), *_quoted(self.lookups.item_titles[item_id])]
        return parts

    def attempt(self, attempt_id: str) -> Part:
        """An attempt linked to its card on its item's page."""
        work_id = self.lookups.attempt_work.get(attempt_id)
        if not work_id:
            return Part(attempt_id, code=True)
        return Part(attempt_id, url=f"{item_url(work_id)}#attempt-{slugify(attempt_id)}")

    def entity(self, resource_type: str, resource_id: str) -> Part:
        """An id linked to where a reader can see the row (see the module's docstring)."""
        model_name = PROGRAMS_PAGE_TYPES.get(resource_type)
        if model_name:
            url = self._admin_url(resource_type, resource_id, "change")
            return Part(
                resource_id,
                url=url or f"{reverse('programs')}#{row_anchor(model_name, resource_id)}",
            )
        url = self._admin_url(resource_type, resource_id, "view")
        return Part(resource_id, url=url) if url else Part(resource_id, code=True)

    def _admin_url(self, resource_type: str, resource_id: str, permission: str) -> str:
        model = _models_by_resource_type().get(resource_type)
        user = self.user
        if model is None or not resource_id or user is None or not user.is_staff:
            return ""
        opts = model._meta
        allowed = policy.user_can(user, f"{opts.app_label}.change_{opts.model_name}")
        if permission == "view":
            allowed = allowed or policy.user_can(user, f"{opts.app_label}.view_{opts.model_name}")
        if not allowed:
            return ""
        try:
            return reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(resource_id)]
            )
        except NoReverseMatch:  # not in the admin
            return ""

    def status(self, key) -> str:
        """A roadmap status's display name (a key the terminology lacks, like ``review``, in
        words: "Review")."""
        return self.status_names.get(key) or str(key or "unknown").replace("_", " ").capitalize()

    # -- sentences

    def sentence(self, row: AuditLog) -> list[Part]:
        """The row in words: its resource type's sentence for the action, else the generic
        one."""
        method = self.SENTENCES.get(row.resource_type)
        parts = method(self, row, *self.values[row.id]) if method else None
        return _joined(parts if parts is not None else self._generic(row))

    def _generic(self, row: AuditLog) -> list:
        """``created bug BUG-1``; for an action nobody taught this module,
        ``recorded “add column” on roadmap items``."""
        described = self._described(row)
        verb = GENERIC_VERBS.get(row.action)
        if verb:
            return [f"{verb} ", *described]
        action = (row.action or "something").replace("_", " ")
        return [f"recorded “{action}” on ", *described]

    def _described(self, row: AuditLog) -> list:
        """What a row is about, in words: "change request CR-1", "the assignments of R1",
        "roadmap items" (a row about a whole table)."""
        resource_type, resource_id = row.resource_type, row.resource_id or ""
        if resource_type == "roadmap_item":
            return self.item(resource_id)
        if resource_type == "roadmap_assignment" and not _is_assignment_id(row):
            return ["the assignments of ", *self.item(resource_id)]
        if not resource_id:
            return [_label(resource_type, plural=True)]
        return [f"{_label(resource_type)} ", self.entity(resource_type, resource_id)]

    def _attempt(self, row, new, old, context):
        attempt = self.attempt(row.resource_id or "")
        work = self.item(self.lookups.attempt_work.get(row.resource_id) or new.get("work_id"))
        if row.action == "claim":
            return ["claimed ", *work, " (attempt ", attempt, ")"]
        if row.action == "release":
            outcome = str(new.get("outcome") or "ended").replace("_", " ")
            parts = ["released ", *work, f" as {outcome}"]
            parts += [" (attempt ", attempt, ")"]
            if new.get("item_status"):
                parts.append(f"; its status is now {self.status(new['item_status'])}")
            return parts
        if row.action == "handoff":
            successor = str(new.get("to_attempt") or "")
            parts = ["handed ", *work, f" over to {new.get('to_worker') or 'another worker'}"]
            parts += [" (attempt ", attempt]
            if successor:
                parts += [" → ", self.attempt(successor)]
            return [*parts, ")", *_reason(context)]
        if row.action == "expire_stale":
            worker = old.get("worker_id") or "its worker"
            return ["ended the stale attempt ", attempt, f" of {worker} on ", *work, " as failed"]
        return None

    def _evidence(self, row, new, old, context):
        if row.action != "create":
            return None
        kind = str(new.get("evidence_type") or "").replace("_", " ")
        return [
            f"recorded {kind} evidence " if kind else "recorded evidence ",
            self.entity("evidence", row.resource_id),
            " on ",
            *self.item(new.get("work_id")),
            *self._on_attempt(new),
        ]

    def _kernel_outcome(self, row, new, old, context):
        if row.action != "create":
            return None
        kind = str(new.get("outcome_type") or "an").replace("_", " ")
        path = f" {new['path']}" if new.get("path") else ""
        return [
            f"registered {kind} outcome",
            f"{path} (",
            self.entity("kernel_outcome", row.resource_id),
            ") on ",
            *self.item(new.get("work_id")),
            *self._on_attempt(new),
        ]

    def _decision(self, row, new, old, context):
        if row.action != "create":
            return None
        kind = str(new.get("decision_type") or "a").replace("_", " ")
        return [
            f"recorded decision “{kind}” (",
            self.entity("decision", row.resource_id),
            ") on ",
            *self.item(new.get("work_id")),
            *self._on_attempt(new),
        ]

    def _on_attempt(self, new: dict) -> list:
        return (
            [" (attempt ", self.attempt(str(new["attempt_id"])), ")"]
            if new.get("attempt_id")
            else []
        )

    def _blocker(self, row, new, old, context):
        work_id, title = self.lookups.blockers.get(row.resource_id, (None, None))
        work_id = work_id or new.get("work_id")
        title = title or new.get("title") or ""
        blocker = [self.entity("blocker", row.resource_id)]
        if title:
            blocker += [" ", *_quoted(title)]
        on = [" on ", *self.item(work_id)] if work_id else []
        if row.action == "create":
            return ["raised blocker ", *blocker, *on]
        if row.action == "resolve":
            verb = "waived" if new.get("waived") else "resolved"
            return [f"{verb} blocker ", *blocker, *on]
        return None

    def _lease(self, row, new, old, context):
        rtype, rid = self.lookups.leases.get(row.resource_id, (None, None))
        rtype, rid = rtype or new.get("resource_type"), rid or new.get("resource_id")
        lease = self.entity("lease", row.resource_id)
        if rtype == WORK_LEASE_TYPE:
            target = self.item(rid)
        elif rtype:
            target = [f"{str(rtype).replace('_', ' ')} ", Part(str(rid or ""), code=True)]
        else:
            target = ["a resource"]
        verbs = {
            "acquire": "took lease ",
            "heartbeat": "renewed lease ",
            "release": "released lease ",
            "force_release": "force-released lease ",
        }
        if row.action not in verbs:
            return None
        return [verbs[row.action], lease, " on ", *target, *_reason(context)]

    def _roadmap_item(self, row, new, old, context):
        item = self.item(row.resource_id or "")
        if row.action == "create":
            return ["created ", *item, *_reason(context)]
        if row.action == "update":
            changed = ", ".join(sorted(name.replace("_key", "") for name in new)) or "nothing"
            return ["edited ", *item, f" ({changed})"]
        if row.action == "status_override":
            status = self.status(new.get("status_key"))
            return ["set ", *item, f" to {status} by hand", *_reason(context)]
        if row.action == "status_change":
            how = _moved_how(str(context.get("via") or ""))
            return [
                "moved ",
                *item,
                f" to {self.status(new.get('status_key'))}",
                f" {how}".rstrip(),
            ]
        if row.action == "review_passed":
            return [
                "passed the review of ",
                *item,
                f"; its status is now {self.status(new.get('status_key'))}",
            ]
        if row.action == "review_rejected":
            return [
                "rejected the review of ",
                *item,
                f"; its status is back to {self.status(new.get('status_key'))}",
            ]
        if row.action in ("delete", "restore"):
            return [GENERIC_VERBS[row.action], " ", *item, *_reason(context)]
        return None

    def _roadmap_dependency(self, row, new, old, context):
        item_id, depends_on = _dependency_ends(row, new, old)
        kind = (new or old).get("type") or (new or old).get("dependency_type") or ""
        kind = f" ({kind})" if kind else ""
        if row.action == "create":
            return ["made ", *self.item(item_id), " depend on ", *self.item(depends_on), kind]
        if row.action == "delete":
            return [
                "removed the dependency of ",
                *self.item(item_id),
                " on ",
                *self.item(depends_on),
            ]
        return None

    def _roadmap_assignment(self, row, new, old, context):
        if row.action == "assign":
            role = new.get("role") or "implementer"
            agent = new.get("agent_id") or "someone"
            return ["assigned ", *self.item(row.resource_id), f" to {agent} as {role}"]
        if row.action == "cascade_detected":
            prerequisites = _cascade_prerequisites(new)
            shown = prerequisites[:CASCADE_NAMES]
            parts: list = ["assigned ", *self.item(row.resource_id, title=False)]
            parts.append(f" to {new.get('agent_id') or 'someone'}, but ")
            parts.append(
                f"{len(prerequisites)} of its prerequisites have nobody assigned: "
                if len(prerequisites) != 1
                else "1 of its prerequisites has nobody assigned: "
            )
            for index, prerequisite in enumerate(shown):
                parts += [", " if index else "", *self.item(prerequisite, title=False)]
            if len(prerequisites) > len(shown):
                parts.append(f" and {len(prerequisites) - len(shown)} more")
            return parts
        found = self.lookups.assignments.get(row.resource_id)
        if found is None:
            return None
        item_id, agent_id, role = found
        described = [f"the {role} assignment of {agent_id} on ", *self.item(item_id)]
        verbs = {
            "start": "started ",
            "complete": "completed ",
            "drop": "dropped ",
            "create": "created ",
            "update": "edited ",
            "delete": "deleted ",
        }
        return [verbs[row.action], *described] if row.action in verbs else None

    def _claim(self, row, new, old, context):
        claim = self.entity("claim", row.resource_id)
        if row.action == "create":
            page = f" on page {new['page']}" if new.get("page") else ""
            return ["added website claim ", claim, page]
        if row.action == "update" and new.get("test_status"):
            return ["marked website claim ", claim, f" as {new['test_status']}"]
        return None

    def _deployment_event(self, row, new, old, context):
        if row.action != "create":
            return None
        version = new.get("version") or "a version"
        target = new.get("target") or "a target"
        status = f" ({new['status']})" if new.get("status") else ""
        return [
            "recorded deployment ",
            self.entity("deployment_event", row.resource_id),
            f" of {version} to {target}{status}",
        ]

    def _bug(self, row, new, old, context):
        if row.action != "create":
            return None
        title = [" ", *_quoted(new["title"])] if new.get("title") else []
        return ["filed bug ", self.entity("bug", row.resource_id), *title]

    #: The sentence of each resource type's known actions (each returns None for an action
    #: it does not know, which then gets the generic sentence).
    SENTENCES = {
        "attempt": _attempt,
        "evidence": _evidence,
        "kernel_outcome": _kernel_outcome,
        "decision": _decision,
        "blocker": _blocker,
        "lease": _lease,
        "roadmap_item": _roadmap_item,
        "roadmap_dependency": _roadmap_dependency,
        "roadmap_assignment": _roadmap_assignment,
        "claim": _claim,
        "deployment_event": _deployment_event,
        "bug": _bug,
    }


def _label(resource_type: str, *, plural: bool = False) -> str:
    """A resource type in words: the model's verbose name, else the type itself."""
    model = _models_by_resource_type().get(resource_type)
    if model is not None:
        return str(model._meta.verbose_name_plural if plural else model._meta.verbose_name)
    return (resource_type or "something").replace("_", " ")


def _quoted(title: str) -> list[Part]:
    """A title in quotes, shortened to :data:`TITLE_LENGTH` (the whole one as a tooltip)."""
    title = str(title)
    if len(title) <= TITLE_LENGTH:
        return [Part(f"“{title}”")]
    return [Part(f"“{title[: TITLE_LENGTH - 1].rstrip()}…”", title=title)]


def _reason(context: dict) -> list[str]:
    return [f" (reason: {context['reason']})"] if context.get("reason") else []


def _joined(parts: list) -> list[Part]:
    """Sentence pieces as :class:`Part` s (plain strings become text parts)."""
    return [part if isinstance(part, Part) else Part(str(part)) for part in parts if part != ""]
