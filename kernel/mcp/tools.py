"""The MCP tools: the agent's loop over the same service layer as the REST API.

Each tool does what its REST endpoint does (``kernel/api/views.py``,
``roadmap/api/views.py``), in the same order and with the same pieces:

- the arguments are validated by the endpoint's request serializer (same rules, same
  messages); an id the REST path carries is an argument here (``work_id``,
  ``attempt_id``, …);
- the service function is called with the caller's :class:`~system.identity.Actor`, so
  authority (``system.policy``), the database's triggers and the audit rows are the
  services' own;
- the result is rendered by the endpoint's response serializer (same JSON as the REST
  body), with ``next_actions`` as tool calls (:mod:`kernel.mcp.actions`).

A refusal (``ServiceError``, a trigger's ``IntegrityError``, invalid input) propagates to
:mod:`kernel.mcp.server`, which answers it as a tool error carrying the REST API's error
(``409 kernel_rule: KERNEL: …``). Every tool first needs the read permission, like every
REST call (``system.api.permissions.CanRead``).

Tool functions are synchronous (the ORM and SQLite transactions); the server runs them
through ``asgiref.sync_to_async(thread_sensitive=True)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError
from django.db.models import F
from rest_framework import serializers

from kernel import filtersets, leases, services
from kernel.api import serializers as ks
from kernel.api.views import (
    attempt_actions,
    claim_actions,
    lease_actions,
    ready_actions,
    resolve_actions,
    standing_actions,
    work_obstacles,
)
from kernel.mcp.actions import as_tool_calls
from kernel.mcp.schemas import serializer_schema
from roadmap.api import serializers as rs
from roadmap.api import views as roadmap_views
from roadmap.models import VReadyItems, VRoadmapProgress
from system import policy
from system.api.errors import refusal
from system.api.filters import MAX_LIMIT
from system.api.permissions import CanRead
from system.api.rendering import next_action
from system.errors import Forbidden, Invalid
from system.identity import Actor

# Inputs and outputs that have no REST serializer of their own (the REST API has query
# parameters and list responses there; a tool takes and returns one JSON object).


class ReadyWorkRequestSerializer(serializers.Serializer):
    phase = serializers.CharField(required=False, help_text="Only items of this phase (key).")
    owner = serializers.CharField(required=False, help_text="Only items with this owner.")
    limit = serializers.IntegerField(
        required=False, default=50, min_value=1, max_value=MAX_LIMIT, help_text="Page size."
    )
    offset = serializers.IntegerField(required=False, default=0, min_value=0)


class ReadyWorkSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Ready items in all (all pages).")
    items = ks.ReadyItemSerializer(many=True)


class RoadmapProgressListSerializer(serializers.Serializer):
    phases = rs.RoadmapProgressSerializer(many=True)


class EmptySerializer(serializers.Serializer):
    pass


# The arguments.


@dataclass(frozen=True)
class Id:
    """An id that the REST API takes from the path."""

    name: str
    description: str
    required: bool = True


def _id_value(arguments: dict, ident: Id) -> str | None:
    value = arguments.get(ident.name)
    if value is None:
        if ident.required:
            raise serializers.ValidationError({ident.name: ["This field is required."]})
        return None
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise serializers.ValidationError({ident.name: ["Must be a non-empty string."]})
    return str(value)


def _one_of(arguments: dict, *idents: Id) -> tuple[str, str]:
    """(name, value) of the one id given among ``idents``."""
    given = [(i.name, _id_value(arguments, i)) for i in idents]
    given = [(name, value) for name, value in given if value is not None]
    if len(given) != 1:
        names = " or ".join(i.name for i in idents)
        raise Invalid(
            f"Give exactly one of {names}.",
            details={"fields": {i.name: [f"Give exactly one of {names}."] for i in idents}},
        )
    return given[0]


@dataclass(frozen=True)
class KernelTool:
    """One tool: its description, its arguments (``ids`` plus the fields of ``request``),
    the serializer that renders its result, and the function that does the work."""

    name: str
    title: str
    description: str
    run: Callable[[Actor, dict], dict]
    output: type[serializers.Serializer]
    request: type[serializers.Serializer] | None = None
    ids: tuple[Id, ...] = ()
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False
    #: Fields of ``request`` that are required only without one of the ``ids``.
    optional: tuple[str, ...] = ()
    #: (field, description) for fields of ``request`` that have no help text.
    described: tuple[tuple[str, str], ...] = ()

    def input_schema(self) -> dict:
        schema = serializer_schema(self.request or EmptySerializer, output=False)
        required = [i.name for i in self.ids if i.required]
        schema["properties"] = {
            **{
                i.name: {"type": "string", "description": i.description, "minLength": 1}
                for i in self.ids
            },
            **schema["properties"],
        }
        for name, description in self.described:
            schema["properties"][name].setdefault("description", description)
        schema["required"] = [
            *required,
            *(name for name in schema.get("required", []) if name not in self.optional),
        ]
        if not schema["required"]:
            del schema["required"]
        return schema

    def output_schema(self) -> dict:
        return serializer_schema(self.output, output=True)

    def call(self, actor: Actor, arguments: dict, before_write=None) -> dict:
        """Run the tool for ``actor``: the rendered result, or a refusal raised. As for a
        REST call: the read permission first, then (tools that write) ``before_write``,
        the throttle, then the work."""
        if not policy.can(actor, policy.READ):
            raise Forbidden(CanRead.message)
        if before_write is not None and not self.read_only:
            before_write()
        return as_tool_calls(self.run(actor, arguments))


def validated(serializer_class, arguments: dict, ids=()) -> dict:
    """The arguments (less the ids) validated by the REST endpoint's request serializer
    (``system.api.views.validated``: a DRF ``ValidationError`` with the field errors)."""
    names = {i.name for i in ids}
    data = {key: value for key, value in arguments.items() if key not in names}
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _with_lease_state(attempt: dict, lease: dict | None) -> dict:
    active = lease is not None and leases.lease_is_active(lease["released_at"], lease["expires_at"])
    return {**attempt, "lease_active": active}


def _recorded(serializer_class, actor: Actor, record: dict, attempt_id: str) -> dict:
    return serializer_class(
        {"record": record, "next_actions": standing_actions(actor, attempt_id)}
    ).data


# The loop.

WORK_ID = Id("work_id", "The roadmap item's id (from ready_work).")
ATTEMPT_ID = Id("attempt_id", "Your attempt's id (attempt.id from claim_work).")
OPTIONAL_ATTEMPT_ID = Id(
    "attempt_id", "Your attempt's id (attempt.id from claim_work).", required=False
)


def ready_work(actor: Actor, arguments: dict) -> dict:
    params = validated(ReadyWorkRequestSerializer, arguments)
    items = (
        services.unheld(VReadyItems.objects.all())
        .annotate(has_open_blockers=services.open_blockers_exist())
        .order_by("phase_key", F("rank").asc(nulls_first=True), "id")
    )
    filters = {k: params[k] for k in ("phase", "owner") if k in params}
    items = filtersets.ReadyWorkFilterSet(filters, queryset=items).qs
    page = items[params["offset"] : params["offset"] + params["limit"]]
    return ReadyWorkSerializer(
        {"count": items.count(), "items": page},
        context={"may_claim": policy.can(actor, policy.CLAIM_WORK)},
    ).data


def claim_work(actor: Actor, arguments: dict) -> dict:
    work_id = _id_value(arguments, WORK_ID)
    params = validated(ks.ClaimRequestSerializer, arguments, (WORK_ID,))
    try:
        result = services.claim(actor, work_id, **params)
    except IntegrityError as exc:
        raise refusal(exc, **work_obstacles(actor, work_id)) from exc
    attempt = {**result["attempt"], "lease_id": result["lease"]["id"]}
    result["attempt"] = attempt
    result["next_actions"] = attempt_actions(actor, _with_lease_state(attempt, result["lease"]))
    return ks.ClaimResponseSerializer(result).data


def work_context(actor: Actor, arguments: dict) -> dict:
    attempt_id = _id_value(arguments, ATTEMPT_ID)
    context = services.attempt_context(attempt_id)
    context["next_actions"] = attempt_actions(
        actor, _with_lease_state(context["attempt"], context["lease"])
    )
    return ks.ContextResponseSerializer(context).data


def record_evidence(actor: Actor, arguments: dict) -> dict:
    attempt_id = _id_value(arguments, ATTEMPT_ID)
    fields = validated(ks.EvidenceRequestSerializer, arguments, (ATTEMPT_ID,))
    evidence = services.record_evidence(actor, attempt_id, fields)
    return _recorded(ks.EvidenceRecordedSerializer, actor, evidence, attempt_id)


def record_outcome(actor: Actor, arguments: dict) -> dict:
    attempt_id = _id_value(arguments, ATTEMPT_ID)
    fields = validated(ks.OutcomeRequestSerializer, arguments, (ATTEMPT_ID,))
    outcome = services.register_outcome(actor, attempt_id, fields)
    return _recorded(ks.OutcomeRecordedSerializer, actor, outcome, attempt_id)


def _not_both(arguments: dict) -> None:
    """A call on an attempt names its item through the attempt, not also by ``work_id``."""
    if arguments.get("work_id") is not None:
        raise Invalid(
            "Give attempt_id or work_id, not both.",
            details={"fields": {"work_id": ["Not with attempt_id: the attempt's item."]}},
        )


def record_decision(actor: Actor, arguments: dict) -> dict:
    attempt_id = _id_value(arguments, OPTIONAL_ATTEMPT_ID)
    if attempt_id is not None:
        _not_both(arguments)
        fields = dict(validated(ks.DecisionRequestSerializer, arguments, (ATTEMPT_ID,)))
        decision = services.record_decision(actor, fields, attempt_id=attempt_id)
        return _recorded(ks.DecisionRecordedSerializer, actor, decision, attempt_id)
    fields = dict(validated(ks.WorkDecisionRequestSerializer, arguments))
    work_id = fields.pop("work_id", None)
    decision = services.record_decision(actor, fields, work_id=work_id)
    actions = resolve_actions(actor, work_id) if work_id else []
    return ks.DecisionRecordedSerializer({"record": decision, "next_actions": actions}).data


def raise_blocker(actor: Actor, arguments: dict) -> dict:
    attempt_id = _id_value(arguments, OPTIONAL_ATTEMPT_ID)
    if attempt_id is not None:
        _not_both(arguments)
        fields = dict(validated(ks.BlockerRequestSerializer, arguments, (ATTEMPT_ID,)))
        blocker = services.raise_blocker(actor, fields, attempt_id=attempt_id)
        return _recorded(ks.BlockerRecordedSerializer, actor, blocker, attempt_id)
    fields = dict(validated(ks.WorkBlockerRequestSerializer, arguments))
    work_id = fields.pop("work_id")
    blocker = services.raise_blocker(actor, fields, work_id=work_id)
    return ks.BlockerRecordedSerializer(
        {"record": blocker, "next_actions": resolve_actions(actor, work_id)}
    ).data


BLOCKER_ID = Id("blocker_id", "The blocker's id (record.id from raise_blocker).")


def resolve_blocker(actor: Actor, arguments: dict) -> dict:
    blocker_id = _id_value(arguments, BLOCKER_ID)
    params = validated(ks.ResolveBlockerRequestSerializer, arguments, (BLOCKER_ID,))
    blocker = services.resolve_blocker(
        actor, blocker_id, params["resolution"], waive=params["waive"]
    )
    actions = claim_actions(actor, blocker["work_id"])
    return ks.ResolvedBlockerSerializer({**blocker, "next_actions": actions}).data


LEASE_ID = Id("lease_id", "The lease's id (lease.id from acquire_lease).")
HEARTBEAT_IDS = (
    Id("attempt_id", "Your attempt: extends the lease of your claim.", required=False),
    Id("lease_id", "A bare lease of yours (from acquire_lease).", required=False),
)


def heartbeat(actor: Actor, arguments: dict) -> dict:
    kind, pk = _one_of(arguments, *HEARTBEAT_IDS)
    ttl = validated(ks.TtlSerializer, arguments, HEARTBEAT_IDS).get("ttl_seconds")
    if kind == "attempt_id":
        lease = services.heartbeat_attempt(actor, pk, ttl)
    else:
        lease = leases.heartbeat_lease(actor, pk, ttl)
    return ks.LeaseResponseSerializer(
        {"lease": lease, "next_actions": lease_actions(actor, lease)}
    ).data


def release_work(actor: Actor, arguments: dict) -> dict:
    attempt_id = _id_value(arguments, ATTEMPT_ID)
    params = validated(ks.ReleaseRequestSerializer, arguments, (ATTEMPT_ID,))
    result = services.release(actor, attempt_id, params["disposition"], params.get("notes"))
    result["next_actions"] = ready_actions()
    return ks.ReleaseResponseSerializer(result).data


def handoff_work(actor: Actor, arguments: dict) -> dict:
    attempt_id = _id_value(arguments, ATTEMPT_ID)
    params = validated(ks.HandoffRequestSerializer, arguments, (ATTEMPT_ID,))
    result = services.handoff(
        actor, attempt_id, params["to_worker"], params["reason"], params.get("ttl_seconds")
    )
    result["next_actions"] = [
        next_action("context", "GET", "attempt-context", result["attempt"]["id"])
    ]
    return ks.HandoffResponseSerializer(result).data


def my_work(actor: Actor, arguments: dict) -> dict:
    work = services.my_work(actor)
    actions = [
        next_action("context", "GET", "attempt-context", attempt["id"])
        for attempt in work["attempts"]
    ]
    work["next_actions"] = actions or ready_actions()
    return ks.MyWorkResponseSerializer(work).data


def acquire_lease(actor: Actor, arguments: dict) -> dict:
    lease = leases.acquire_lease(actor, **validated(ks.LeaseRequestSerializer, arguments))
    return ks.LeaseResponseSerializer(
        {"lease": lease, "next_actions": lease_actions(actor, lease)}
    ).data


def release_lease(actor: Actor, arguments: dict) -> dict:
    lease_id = _id_value(arguments, LEASE_ID)
    reason = validated(ks.LeaseReleaseRequestSerializer, arguments, (LEASE_ID,))["reason"]
    lease = leases.release_lease(actor, lease_id, reason=reason)
    return ks.LeaseResponseSerializer({"lease": lease, "next_actions": []}).data


# The roadmap (read-only).

ITEM_ID = Id("item_id", "The roadmap item's id.")


def item_detail(actor: Actor, item_id: str) -> dict:
    """``GET /api/v1/items/{id}/``: the same function builds both answers."""
    return roadmap_views.item_detail(item_id, actor)


def roadmap_item(actor: Actor, arguments: dict) -> dict:
    return item_detail(actor, _id_value(arguments, ITEM_ID))


def roadmap_progress(actor: Actor, arguments: dict) -> dict:
    return RoadmapProgressListSerializer({"phases": VRoadmapProgress.objects.all()}).data


# What the agent reads: the loop in every description (what to call next, and what a
# refusal means).

_REFUSALS = (
    " A refusal is a tool error whose first line is the REST API's status, code and message "
    "(e.g. '409 kernel_rule: KERNEL: …', the database's own words); a second block holds the "
    "error as JSON with its fields or details. Nothing was written then."
)

TOOLS: tuple[KernelTool, ...] = (
    KernelTool(
        name="ready_work",
        title="1. Find ready work",
        description=(
            "Start here. Lists roadmap items that can start now: pending, every blocking "
            "prerequisite completed, nobody holding them (no active attempt, no exclusive "
            "lease), ordered by phase then rank. Each item carries its `claim` call (null "
            "when a claim would be refused now: an open blocker, or a role that may not "
            "claim). Next: claim_work with the item's id."
        ),
        run=ready_work,
        output=ReadyWorkSerializer,
        request=ReadyWorkRequestSerializer,
        read_only=True,
        idempotent=True,
    ),
    KernelTool(
        name="claim_work",
        title="2. Claim a work item",
        description=(
            "Opens your attempt on the item: a frozen contract (what the work is), the item "
            "in progress, you its active implementer, and an exclusive lease on it "
            "(`ttl_seconds`, default 900) that you keep alive with heartbeat. Keep "
            "`attempt.id`: every later call takes it. Next: work_context. Refused when "
            "someone else holds the item ('KERNEL: Work already has active attempt…': pick "
            "another item), when prerequisites are unfinished or a blocker is open (the "
            "error's details list them)." + _REFUSALS
        ),
        run=claim_work,
        output=ks.ClaimResponseSerializer,
        request=ks.ClaimRequestSerializer,
        ids=(WORK_ID,),
    ),
    KernelTool(
        name="work_context",
        title="3. Read the attempt's context",
        description=(
            "Everything about your attempt now: the item, its frozen contract (dependencies, "
            "required capabilities, standards), dependency states, open blockers, the "
            "evidence, outcomes and decisions recorded so far, the lease, unmet "
            "prerequisites, and review_feedback (why earlier work was rejected: read it "
            "first). Next: do the work, then record_decision / record_evidence / "
            "record_outcome, and release_work." + _REFUSALS
        ),
        run=work_context,
        output=ks.ContextResponseSerializer,
        ids=(ATTEMPT_ID,),
        read_only=True,
        idempotent=True,
    ),
    KernelTool(
        name="record_evidence",
        title="4. Record evidence",
        description=(
            "Attach typed evidence to your attempt (a test report, a diff, a log) by `uri`, "
            "with its `sha256`, or give the inline `content` and it is hashed for you. A "
            "completion needs at least one piece, and resolving your own blocker needs "
            "evidence newer than it. Next: more evidence, record_outcome, or release_work "
            "with disposition completed." + _REFUSALS
        ),
        run=record_evidence,
        output=ks.EvidenceRecordedSerializer,
        request=ks.EvidenceRequestSerializer,
        ids=(ATTEMPT_ID,),
    ),
    KernelTool(
        name="record_decision",
        title="Record a decision",
        description=(
            "With `attempt_id`: a decision in your own work (e.g. plan_committed with its "
            "rationale); a correction names the decision it supersedes. Without it, a "
            "decision on `work_id`: a waiver that lets a blocker be resolved, or a review "
            "(review_passed completes an item in review, review_rejected sends it back with "
            "your rationale); these need the reviewer role and are never about your own "
            "work." + _REFUSALS
        ),
        run=record_decision,
        output=ks.DecisionRecordedSerializer,
        request=ks.WorkDecisionRequestSerializer,
        ids=(OPTIONAL_ATTEMPT_ID,),
        described=(("work_id", "Without attempt_id: the item decided on (e.g. a waiver)."),),
    ),
    KernelTool(
        name="record_outcome",
        title="Register an outcome (a deliverable)",
        description=(
            "Register a deliverable of your attempt: a file, a pull request, a release "
            "(`outcome_type`, `path`, `description`, `metadata`). Next: record_evidence or "
            "release_work." + _REFUSALS
        ),
        run=record_outcome,
        output=ks.OutcomeRecordedSerializer,
        request=ks.OutcomeRequestSerializer,
        ids=(ATTEMPT_ID,),
    ),
    KernelTool(
        name="raise_blocker",
        title="Raise a blocker",
        description=(
            "You cannot go on: say why (`reason_code`, `title`, what it `needs`). With "
            "`attempt_id` the blocker is on your attempt's item; then call release_work with "
            "disposition blocked. Without it, on `work_id`. Nobody can claim the item until "
            "the blocker is resolved (resolve_blocker)." + _REFUSALS
        ),
        run=raise_blocker,
        output=ks.BlockerRecordedSerializer,
        request=ks.WorkBlockerRequestSerializer,
        ids=(OPTIONAL_ATTEMPT_ID,),
        optional=("work_id",),
        described=(("work_id", "Without attempt_id: the item the blocker is on."),),
    ),
    KernelTool(
        name="resolve_blocker",
        title="Resolve a blocker",
        description=(
            "Close a blocker with a `resolution`. Your own blocker needs evidence on the "
            "item newer than the blocker (record_evidence first); a reviewer may resolve "
            "anybody's with `waive: true`, which records the waiver decision in the same "
            "step. Next: claim_work on the item, if offered." + _REFUSALS
        ),
        run=resolve_blocker,
        output=ks.ResolvedBlockerSerializer,
        request=ks.ResolveBlockerRequestSerializer,
        ids=(BLOCKER_ID,),
    ),
    KernelTool(
        name="heartbeat",
        title="Heartbeat: keep a lease",
        description=(
            "Still working: extend your claim's lease (`attempt_id`) or a bare lease "
            "(`lease_id`) to now + `ttl_seconds` (default: its current TTL). Call it before "
            "the lease expires: an attempt whose lease ran out is ended as failed by the "
            "server's maintenance and the item goes back to the ready list." + _REFUSALS
        ),
        run=heartbeat,
        output=ks.LeaseResponseSerializer,
        request=ks.TtlSerializer,
        ids=HEARTBEAT_IDS,
        idempotent=True,
    ),
    KernelTool(
        name="release_work",
        title="5. Release the attempt",
        description=(
            "End your attempt. disposition completed (needs evidence; the item becomes "
            "completed, or review when a review is required), blocked (needs an open "
            "blocker: raise_blocker first), failed (give up; the item is ready again) or "
            "handed_off. The lease is released with it. Next: ready_work." + _REFUSALS
        ),
        run=release_work,
        output=ks.ReleaseResponseSerializer,
        request=ks.ReleaseRequestSerializer,
        ids=(ATTEMPT_ID,),
        destructive=True,
    ),
    KernelTool(
        name="handoff_work",
        title="Hand the attempt over",
        description=(
            "End your attempt as handed_off and open one for `to_worker` (agent:NAME or "
            "user:NAME of an account that may claim work), with a `reason`. The new "
            "attempt is theirs: they continue with work_context." + _REFUSALS
        ),
        run=handoff_work,
        output=ks.HandoffResponseSerializer,
        request=ks.HandoffRequestSerializer,
        ids=(ATTEMPT_ID,),
        destructive=True,
    ),
    KernelTool(
        name="my_work",
        title="What I hold",
        description=(
            "Your open attempts (with their leases' expiry), open assignments and active "
            "leases: where to pick up after a restart. Next: work_context on an attempt, or "
            "ready_work when you hold nothing."
        ),
        run=my_work,
        output=ks.MyWorkResponseSerializer,
        read_only=True,
        idempotent=True,
    ),
    KernelTool(
        name="acquire_lease",
        title="Acquire a lease",
        description=(
            "Lock a resource that is not a work item (a file, a database, a service) for "
            "`ttl_seconds`: mode exclusive, write or read. Refused ('KERNEL: Cannot acquire "
            "… lease - resource has active leases') while a conflicting lease is active: "
            "wait or work elsewhere. Work items are leased by claiming them. Keep it with "
            "heartbeat (`lease_id`), end it with release_lease." + _REFUSALS
        ),
        run=acquire_lease,
        output=ks.LeaseResponseSerializer,
        request=ks.LeaseRequestSerializer,
    ),
    KernelTool(
        name="release_lease",
        title="Release a lease",
        description=(
            "Release a bare lease you hold (from acquire_lease). A claim's lease is released "
            "with its attempt (release_work)." + _REFUSALS
        ),
        run=release_lease,
        output=ks.LeaseResponseSerializer,
        request=ks.LeaseReleaseRequestSerializer,
        ids=(LEASE_ID,),
        idempotent=True,
    ),
    KernelTool(
        name="roadmap_item",
        title="A roadmap item",
        description=(
            "One item with its dependencies and dependents, its unfinished prerequisites "
            "(transitive, with depth), its active attempt and counts of evidence, decisions "
            "and blockers, and what you may do about it now (next_actions: claim_work, "
            "resolve_blocker, or the attempt's calls)." + _REFUSALS
        ),
        run=roadmap_item,
        output=rs.ItemDetailSerializer,
        ids=(ITEM_ID,),
        read_only=True,
        idempotent=True,
    ),
    KernelTool(
        name="roadmap_progress",
        title="Roadmap progress",
        description=(
            "Progress per phase, in phase order: total items, completed, in progress, "
            "blocked, percent complete. The whole roadmap as a document is the resource "
            "motus://roadmap."
        ),
        run=roadmap_progress,
        output=RoadmapProgressListSerializer,
        read_only=True,
        idempotent=True,
    ),
)

TOOLS_BY_NAME = {tool.name: tool for tool in TOOLS}
