"""The agent's loop over HTTP: ready work, claim, context, outcomes, evidence, decisions,
blockers, release, handoff, heartbeats and leases; plus the kernel's governance reads.

Views only validate input, call ``kernel.services`` and say what may come next
(``next_actions``: only calls that would be accepted now); the services and the database's
triggers decide the rest. Every body is a serializer's rendering (``kernel.api.serializers``)
of the services' rows, so the OpenAPI document describes exactly what is sent.
"""

from __future__ import annotations

from django.db import IntegrityError
from django.db.models import F
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from kernel import filtersets, leases, services
from kernel.api import serializers as s
from kernel.models import (
    Attempt,
    Blocker,
    CompiledContract,
    Decision,
    Evidence,
    KernelDecision,
    KernelEvidence,
    KernelOutcome,
    Lease,
)
from roadmap.models import VReadyItems
from roadmap.queries import unmet_prerequisites
from system import policy
from system.api.errors import refusal
from system.api.idempotency import idempotent
from system.api.rendering import next_action, next_actions_on
from system.api.views import MotusAPIView, MotusViewMixin, MotusViewSet, validated
from system.identity import Actor

# What the caller may do next: only calls that would be accepted as things stand.


def ready_actions() -> list[dict]:
    return [next_action("find_ready_work", "GET", "work-ready")]


def claim_action(work_id: str) -> dict:
    return next_action("claim", "POST", "work-claim", work_id)


def claim_actions(actor: Actor, work_id: str) -> list[dict]:
    """The claim call, if a claim by the caller would be accepted now."""
    return [claim_action(work_id)] if services.claimable(actor, work_id) else []


def attempt_actions(actor: Actor, attempt: dict) -> list[dict]:
    """The calls open to the holder of an active attempt (``attempt``: its ``id``,
    ``worker_id``, ``ended_at`` and ``lease_active``); reading its context to anybody else;
    once it ended, back to ready work."""
    pk = attempt["id"]
    if attempt["ended_at"] is not None:
        return ready_actions()
    context = ("context", "GET", "attempt-context", None)
    if attempt["worker_id"] != actor.identity or not policy.can(actor, policy.CLAIM_WORK):
        return next_actions_on(pk, [context])
    calls = [
        context,
        ("register_outcome", "POST", "attempt-outcomes", None),
        ("record_evidence", "POST", "attempt-evidence", None),
        ("record_decision", "POST", "attempt-decisions", None),
        ("raise_blocker", "POST", "attempt-blockers", None),
    ]
    if attempt["lease_active"]:
        calls.append(("heartbeat", "POST", "attempt-heartbeat", "Before the lease expires."))
    calls += [
        (
            "release",
            "POST",
            "attempt-release",
            "disposition completed needs evidence; blocked needs an open blocker.",
        ),
        ("handoff", "POST", "attempt-handoff", "Needs to_worker and a reason."),
    ]
    return next_actions_on(pk, calls)


def standing_actions(actor: Actor, attempt_id: str) -> list[dict]:
    """:func:`attempt_actions` of the attempt as it stands now."""
    standing = services.attempt_standing(attempt_id)
    return attempt_actions(actor, standing) if standing else ready_actions()


def lease_actions(actor: Actor, lease: dict) -> list[dict]:
    """Heartbeat and release for the holder of an active lease (a claim's lease through its
    attempt)."""
    if lease["worker_id"] != actor.identity or not leases.lease_is_active(
        lease["released_at"], lease["expires_at"]
    ):
        return []
    if lease["attempt_id"]:
        return [
            next_action("heartbeat", "POST", "attempt-heartbeat", lease["attempt_id"]),
            next_action("release", "POST", "attempt-release", lease["attempt_id"]),
        ]
    return [
        next_action("heartbeat", "POST", "lease-heartbeat", lease["id"]),
        next_action("release", "POST", "lease-release", lease["id"]),
    ]


def resolve_actions(actor: Actor, work_id: str) -> list[dict]:
    """Resolving the item's blockers that the caller could resolve now."""
    return [
        next_action(
            "resolve_blocker",
            "POST",
            "blocker-resolve",
            blocker["id"],
            'Send {"waive": true}: you record the waiver.' if blocker["waive"] else None,
        )
        for blocker in services.resolvable_blockers(actor, work_id)
    ]


def work_obstacles(actor: Actor, work_id: str) -> dict:
    """Why a claim on the item was refused, as data: unmet prerequisites, open blockers and
    the active attempt."""
    state = services.work_state(work_id)
    return s.WorkObstaclesSerializer(
        {
            "missing_prereqs": unmet_prerequisites(work_id),
            "open_blockers": state["open_blocker_ids"],
            "active_attempt": state["active_attempt"],
            "next_actions": resolve_actions(actor, work_id) + ready_actions(),
        }
    ).data


def _respond(serializer_class, data, code=status.HTTP_200_OK) -> Response:
    """The response body is the serializer's rendering of ``data``: what the OpenAPI
    document says is what is sent."""
    return Response(serializer_class(data).data, status=code)


def _with_lease_state(attempt: dict, lease: dict | None) -> dict:
    active = lease is not None and leases.lease_is_active(lease["released_at"], lease["expires_at"])
    return {**attempt, "lease_active": active}


# The loop.

_CLAIM_EXAMPLE = OpenApiExample("Claim for 15 minutes", value={"ttl_seconds": 900})
_EVIDENCE_EXAMPLES = [
    OpenApiExample(
        "Test report, hashed from its content",
        value={
            "evidence_type": "test_result",
            "uri": "ci://runs/1842/report.xml",
            "content": "<testsuite tests='42' failures='0'/>",
            "test_results": {"passed": 42, "failed": 0},
        },
    ),
    OpenApiExample(
        "A diff, with its hash",
        value={
            "evidence_type": "diff",
            "uri": "git://motus/commit/9f2c1e7",
            "sha256": "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
            "diff_summary": "kernel/services.py: +12 -3",
        },
    ),
]
_RELEASE_EXAMPLES = [
    OpenApiExample("Done (needs evidence)", value={"disposition": "completed"}),
    OpenApiExample(
        "Give up", value={"disposition": "failed", "notes": "The fixture data is missing."}
    ),
]


@extend_schema_view(
    get=extend_schema(
        tags=["work"],
        summary="1. List ready work",
        responses={200: s.ReadyItemSerializer(many=True)},
    )
)
class ReadyWorkView(MotusViewMixin, generics.ListAPIView):
    """Items that can start now (``v_ready_items``) and that nobody holds (no active attempt,
    no active exclusive lease, e.g. a `motus` tool claim), ordered by phase then rank (NULL
    ranks first): the first call an agent makes. Each row carries its claim call (null when
    a claim would be refused now: an open blocker on the item, or a role that may not
    claim)."""

    serializer_class = s.ReadyItemSerializer
    filterset_class = filtersets.ReadyWorkFilterSet

    def get_queryset(self):
        return (
            services.unheld(VReadyItems.objects.all())
            .annotate(has_open_blockers=services.open_blockers_exist())
            .order_by("phase_key", F("rank").asc(nulls_first=True), "id")
        )

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "may_claim": policy.can(self.actor, policy.CLAIM_WORK),
        }


class ClaimView(MotusAPIView):
    """Claim a work item: opens the caller's attempt with a frozen contract, an active
    implementer assignment, the item in progress and an exclusive lease tied to the attempt.
    409 carries the database's message plus the obstacles (unmet prerequisites, open
    blockers, the active attempt)."""

    @extend_schema(
        tags=["work"],
        summary="2. Claim a work item",
        request=s.ClaimRequestSerializer,
        responses={201: s.ClaimResponseSerializer},
        examples=[_CLAIM_EXAMPLE],
    )
    @idempotent
    def post(self, request, pk):
        params = validated(s.ClaimRequestSerializer, request)
        try:
            result = services.claim(self.actor, pk, **params)
        except IntegrityError as exc:
            raise refusal(exc, **work_obstacles(self.actor, pk)) from exc
        attempt = {**result["attempt"], "lease_id": result["lease"]["id"]}
        result["attempt"] = attempt
        result["next_actions"] = attempt_actions(
            self.actor, _with_lease_state(attempt, result["lease"])
        )
        return _respond(s.ClaimResponseSerializer, result, status.HTTP_201_CREATED)


class MyWorkView(MotusAPIView):
    """The caller's open attempts, open assignments and active leases."""

    @extend_schema(
        tags=["work"],
        summary="What I hold: attempts, assignments, leases",
        responses=s.MyWorkResponseSerializer,
    )
    def get(self, request):
        work = services.my_work(self.actor)
        actions = [
            next_action("context", "GET", "attempt-context", attempt["id"])
            for attempt in work["attempts"]
        ]
        work["next_actions"] = actions or ready_actions()
        return _respond(s.MyWorkResponseSerializer, work)


@extend_schema_view(
    list=extend_schema(tags=["attempts"], summary="List attempts"),
    retrieve=extend_schema(tags=["attempts"], summary="Get an attempt"),
)
class AttemptViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    """Attempts (read), and the calls of the attempt's holder."""

    queryset = Attempt.objects.order_by("-started_at", "id")
    serializer_class = s.AttemptSerializer
    filterset_class = filtersets.AttemptFilterSet
    lookup_value_regex = "[^/]+"

    @extend_schema(
        tags=["work"],
        summary="3. Read the attempt's context",
        responses=s.ContextResponseSerializer,
    )
    @action(detail=True, methods=["get"])
    def context(self, request, pk):
        """The current lens on the attempt: item, contract, dependency state, open blockers,
        evidence/outcomes/decisions so far, missing prerequisites."""
        context = services.attempt_context(pk)
        context["next_actions"] = attempt_actions(
            self.actor, _with_lease_state(context["attempt"], context["lease"])
        )
        return _respond(s.ContextResponseSerializer, context)

    @extend_schema(
        tags=["attempts"],
        summary="Register an outcome (a deliverable)",
        request=s.OutcomeRequestSerializer,
        responses={201: s.OutcomeRecordedSerializer},
        examples=[
            OpenApiExample(
                "A file",
                value={
                    "outcome_type": "file",
                    "path": "kernel/services.py",
                    "metadata": {"lines_changed": 15},
                },
            )
        ],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def outcomes(self, request, pk):
        """Register a deliverable of the attempt (``kernel_outcomes``)."""
        outcome = services.register_outcome(
            self.actor, pk, validated(s.OutcomeRequestSerializer, request)
        )
        return self._recorded(s.OutcomeRecordedSerializer, outcome, pk)

    @extend_schema(
        tags=["work"],
        summary="4. Record evidence",
        request=s.EvidenceRequestSerializer,
        responses={201: s.EvidenceRecordedSerializer},
        examples=_EVIDENCE_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def evidence(self, request, pk):
        """Record typed evidence; ``sha256`` is computed from inline ``content`` if absent.
        A completion needs at least one piece."""
        evidence = services.record_evidence(
            self.actor, pk, validated(s.EvidenceRequestSerializer, request)
        )
        return self._recorded(s.EvidenceRecordedSerializer, evidence, pk)

    @extend_schema(
        tags=["attempts"],
        summary="Record a decision",
        request=s.DecisionRequestSerializer,
        responses={201: s.DecisionRecordedSerializer},
        examples=[
            OpenApiExample(
                "Commit to a plan",
                value={
                    "decision_type": "plan_committed",
                    "decision_summary": "Index leases by resource before changing the query",
                    "rationale": "The ready list scans leases once per item.",
                },
            )
        ],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def decisions(self, request, pk):
        """Append a decision; a correction names the one it supersedes."""
        decision = services.record_decision(
            self.actor, dict(validated(s.DecisionRequestSerializer, request)), attempt_id=pk
        )
        return self._recorded(s.DecisionRecordedSerializer, decision, pk)

    @extend_schema(
        tags=["attempts"],
        summary="Raise a blocker on the attempt's item",
        request=s.BlockerRequestSerializer,
        responses={201: s.BlockerRecordedSerializer},
        examples=[
            OpenApiExample(
                "Missing credential",
                value={
                    "reason_code": "missing_credential",
                    "title": "Need the staging database password",
                    "needs": "A lead to add it to the vault",
                },
            )
        ],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def blockers(self, request, pk):
        """Raise a blocker on the attempt's item; then release the attempt as ``blocked``."""
        blocker = services.raise_blocker(
            self.actor, dict(validated(s.BlockerRequestSerializer, request)), attempt_id=pk
        )
        return self._recorded(s.BlockerRecordedSerializer, blocker, pk)

    def _recorded(self, serializer_class, record: dict, attempt_id: str) -> Response:
        return _respond(
            serializer_class,
            {"record": record, "next_actions": standing_actions(self.actor, attempt_id)},
            status.HTTP_201_CREATED,
        )

    @extend_schema(
        tags=["work"],
        summary="5. Release the attempt",
        request=s.ReleaseRequestSerializer,
        responses={200: s.ReleaseResponseSerializer},
        examples=_RELEASE_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def release(self, request, pk):
        """End the attempt (completed | blocked | failed | handed_off) and move the item,
        the implementer assignment and the lease with it."""
        params = validated(s.ReleaseRequestSerializer, request)
        result = services.release(self.actor, pk, params["disposition"], params.get("notes"))
        result["next_actions"] = ready_actions()
        return _respond(s.ReleaseResponseSerializer, result)

    @extend_schema(
        tags=["attempts"],
        summary="Heartbeat: extend the attempt's lease",
        request=s.TtlSerializer,
        responses={200: s.LeaseResponseSerializer},
        examples=[OpenApiExample("Another 15 minutes", value={"ttl_seconds": 900})],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def heartbeat(self, request, pk):
        """Still working: extend the attempt's lease (optionally with a new TTL)."""
        params = validated(s.TtlSerializer, request)
        lease = services.heartbeat_attempt(self.actor, pk, params.get("ttl_seconds"))
        return _respond(
            s.LeaseResponseSerializer,
            {"lease": lease, "next_actions": lease_actions(self.actor, lease)},
        )

    @extend_schema(
        tags=["attempts"],
        summary="Hand the attempt over to another worker",
        request=s.HandoffRequestSerializer,
        responses={201: s.HandoffResponseSerializer},
        examples=[
            OpenApiExample(
                "To another agent",
                value={"to_worker": "agent:reviewer-2", "reason": "Needs parser knowledge"},
            )
        ],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def handoff(self, request, pk):
        """End the attempt as ``handed_off`` and open one for ``to_worker``."""
        params = validated(s.HandoffRequestSerializer, request)
        result = services.handoff(
            self.actor, pk, params["to_worker"], params["reason"], params.get("ttl_seconds")
        )
        result["next_actions"] = [
            next_action("context", "GET", "attempt-context", result["attempt"]["id"])
        ]
        return _respond(s.HandoffResponseSerializer, result, status.HTTP_201_CREATED)

    @extend_schema(
        tags=["attempts"],
        summary="Leads: end a stale attempt",
        request=None,
        responses={200: s.ExpiredAttemptSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def expire(self, request, pk):
        """Leads: end a stale attempt (its lease expired) as ``failed``, freeing the item."""
        attempt = services.end_stale_attempt(self.actor, pk)
        return _respond(s.ExpiredAttemptSerializer, {**attempt, "next_actions": ready_actions()})


@extend_schema_view(
    list=extend_schema(tags=["governance"], summary="List evidence"),
    retrieve=extend_schema(tags=["governance"], summary="Get a piece of evidence"),
)
class EvidenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    queryset = Evidence.objects.order_by("-created_at", "id")
    serializer_class = s.EvidenceSerializer
    filterset_class = filtersets.EvidenceFilterSet
    search_fields = ["title", "description", "uri"]
    lookup_value_regex = "[^/]+"


@extend_schema_view(
    list=extend_schema(tags=["governance"], summary="List decisions"),
    retrieve=extend_schema(tags=["governance"], summary="Get a decision"),
)
class DecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    queryset = Decision.objects.order_by("-decided_at", "id")
    serializer_class = s.DecisionSerializer
    filterset_class = filtersets.DecisionFilterSet
    search_fields = ["decision_summary", "rationale"]
    lookup_value_regex = "[^/]+"

    @extend_schema(
        tags=["governance"],
        summary="Record a decision on a work item (waiver, review)",
        request=s.WorkDecisionRequestSerializer,
        responses={201: s.DecisionRecordedSerializer},
        examples=[
            OpenApiExample(
                "Pass a review",
                value={
                    "work_id": "RM-42",
                    "decision_type": "review_passed",
                    "decision_summary": "Tests cover the new lease index",
                },
            )
        ],
    )
    @idempotent
    def create(self, request):
        """A decision outside an attempt: a ``waiver`` that justifies resolving a blocker on
        ``work_id``, or a review of an item in ``review`` (``review_passed`` completes it,
        ``review_rejected`` sends it back to ``pending``). Governance decisions need the
        reviewer role and are never about your own work."""
        fields = dict(validated(s.WorkDecisionRequestSerializer, request))
        work_id = fields.pop("work_id", None)
        decision = services.record_decision(self.actor, fields, work_id=work_id)
        actions = resolve_actions(self.actor, work_id) if work_id else []
        return _respond(
            s.DecisionRecordedSerializer,
            {"record": decision, "next_actions": actions},
            status.HTTP_201_CREATED,
        )


@extend_schema_view(
    list=extend_schema(tags=["blockers"], summary="List blockers"),
    retrieve=extend_schema(tags=["blockers"], summary="Get a blocker"),
)
class BlockerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    queryset = Blocker.objects.order_by("-created_at", "id")
    serializer_class = s.BlockerSerializer
    filterset_class = filtersets.BlockerFilterSet
    search_fields = ["title", "description"]
    lookup_value_regex = "[^/]+"

    @extend_schema(
        tags=["blockers"],
        summary="Raise a blocker on a work item",
        request=s.WorkBlockerRequestSerializer,
        responses={201: s.BlockerRecordedSerializer},
        examples=[
            OpenApiExample(
                "Waiting for a decision",
                value={
                    "work_id": "RM-42",
                    "reason_code": "missing_approval",
                    "title": "Which database engine for production?",
                },
            )
        ],
    )
    @idempotent
    def create(self, request):
        """Open a blocker on a work item (no claim on it is possible until it is resolved)."""
        fields = dict(validated(s.WorkBlockerRequestSerializer, request))
        work_id = fields.pop("work_id")
        blocker = services.raise_blocker(self.actor, fields, work_id=work_id)
        return _respond(
            s.BlockerRecordedSerializer,
            {"record": blocker, "next_actions": resolve_actions(self.actor, work_id)},
            status.HTTP_201_CREATED,
        )

    @extend_schema(
        tags=["blockers"],
        summary="Resolve a blocker",
        request=s.ResolveBlockerRequestSerializer,
        responses={200: s.ResolvedBlockerSerializer},
        examples=[
            OpenApiExample("With newer evidence", value={"resolution": "Key added to the vault"}),
            OpenApiExample(
                "A reviewer waives it", value={"resolution": "Not needed for 1.0", "waive": True}
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def resolve(self, request, pk):
        """Resolve with a resolution text; needs evidence or a waiver decision on the item
        newer than the blocker (the database checks)."""
        params = validated(s.ResolveBlockerRequestSerializer, request)
        blocker = services.resolve_blocker(
            self.actor, pk, params["resolution"], waive=params["waive"]
        )
        actions = claim_actions(self.actor, blocker["work_id"])
        return _respond(s.ResolvedBlockerSerializer, {**blocker, "next_actions": actions})


def _read_only(model, serializer, filterset, ordering, tag, what):
    """A list/retrieve endpoint over an append-only log."""
    viewset = type(
        f"{model.__name__}ViewSet",
        (mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet),
        {
            "queryset": model.objects.order_by(*ordering),
            "serializer_class": serializer,
            "filterset_class": filterset,
            "lookup_value_regex": "[^/]+",
            "__doc__": f"{model._meta.db_table} (read-only).",
        },
    )
    return extend_schema_view(
        list=extend_schema(tags=[tag], summary=f"List {what}"),
        retrieve=extend_schema(tags=[tag], summary=f"Get one of the {what}"),
    )(viewset)


KernelDecisionViewSet = _read_only(
    KernelDecision,
    s.KernelDecisionSerializer,
    filtersets.KernelDecisionFilterSet,
    ("-decided_at", "id"),
    "governance",
    "kernel decisions (legacy log)",
)
KernelEvidenceViewSet = _read_only(
    KernelEvidence,
    s.KernelEvidenceSerializer,
    filtersets.KernelEvidenceFilterSet,
    ("-created_at", "id"),
    "governance",
    "kernel evidence (legacy log)",
)
KernelOutcomeViewSet = _read_only(
    KernelOutcome,
    s.KernelOutcomeSerializer,
    filtersets.KernelOutcomeFilterSet,
    ("-created_at", "id"),
    "governance",
    "kernel outcomes (deliverables)",
)


@extend_schema_view(retrieve=extend_schema(tags=["governance"], summary="Get a frozen contract"))
class CompiledContractViewSet(mixins.RetrieveModelMixin, MotusViewSet):
    """A frozen contract by hash."""

    queryset = CompiledContract.objects.all()
    serializer_class = s.CompiledContractSerializer
    lookup_value_regex = "[^/]+"


@extend_schema_view(
    list=extend_schema(
        tags=["leases"],
        summary="List leases (active ones by default)",
        parameters=[OpenApiParameter("active", bool, description="Default true.")],
    )
)
class LeaseViewSet(mixins.ListModelMixin, MotusViewSet):
    """Resource locks: acquire, heartbeat, release; active ones listed by default."""

    queryset = Lease.objects.order_by("-acquired_at", "id")
    serializer_class = s.LeaseSerializer
    filterset_class = filtersets.LeaseFilterSet
    lookup_value_regex = "[^/]+"

    def filter_queryset(self, queryset):
        if "active" not in self.request.query_params:
            queryset = queryset.filter(filtersets.active_leases())
        return super().filter_queryset(queryset)

    @extend_schema(
        tags=["leases"], summary="Get a lease with its events", responses=s.LeaseDetailSerializer
    )
    def retrieve(self, request, pk):
        """The lease with its lifecycle events."""
        lease = leases.get_lease(pk)
        lease["events"] = leases.lease_events(pk)
        return _respond(s.LeaseDetailSerializer, lease)

    @extend_schema(
        tags=["leases"],
        summary="Acquire a lease",
        request=s.LeaseRequestSerializer,
        responses={201: s.LeaseResponseSerializer},
        examples=[
            OpenApiExample(
                "Write lock on a file",
                value={
                    "resource_type": "file",
                    "resource_id": "kernel/services.py",
                    "mode": "write",
                    "ttl_seconds": 600,
                },
            )
        ],
    )
    @idempotent
    def create(self, request):
        """Acquire; 409 with the database's message when a conflicting lease is active."""
        lease = leases.acquire_lease(self.actor, **validated(s.LeaseRequestSerializer, request))
        return _respond(
            s.LeaseResponseSerializer,
            {"lease": lease, "next_actions": lease_actions(self.actor, lease)},
            status.HTTP_201_CREATED,
        )

    @extend_schema(
        tags=["leases"],
        summary="Heartbeat a lease",
        request=s.TtlSerializer,
        responses={200: s.LeaseResponseSerializer},
        examples=[OpenApiExample("Another 10 minutes", value={"ttl_seconds": 600})],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def heartbeat(self, request, pk):
        """The holder extends its active lease to now + TTL."""
        params = validated(s.TtlSerializer, request)
        lease = leases.heartbeat_lease(self.actor, pk, params.get("ttl_seconds"))
        return _respond(
            s.LeaseResponseSerializer,
            {"lease": lease, "next_actions": lease_actions(self.actor, lease)},
        )

    @extend_schema(
        tags=["leases"],
        summary="Release a lease",
        request=s.LeaseReleaseRequestSerializer,
        responses={200: s.LeaseResponseSerializer},
        examples=[OpenApiExample("Done with it", value={"reason": "Edit merged"})],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def release(self, request, pk):
        """The holder releases its lease."""
        reason = validated(s.LeaseReleaseRequestSerializer, request)["reason"]
        lease = leases.release_lease(self.actor, pk, reason=reason)
        return _respond(s.LeaseResponseSerializer, {"lease": lease, "next_actions": []})

    @extend_schema(
        tags=["leases"],
        summary="Leads: force-release anyone's lease",
        request=s.ForceReleaseRequestSerializer,
        responses={200: s.LeaseResponseSerializer},
        examples=[OpenApiExample("Crashed agent", value={"reason": "agent:ada crashed"})],
    )
    @action(detail=True, methods=["post"], url_path="force-release")
    @idempotent
    def force_release(self, request, pk):
        """A lead releases anyone's lease, with a reason (audited)."""
        reason = validated(s.ForceReleaseRequestSerializer, request)["reason"]
        lease = leases.release_lease(self.actor, pk, reason=reason, force=True)
        return _respond(s.LeaseResponseSerializer, {"lease": lease, "next_actions": []})


def work_item_section(item_id: str, actor: Actor) -> dict:
    """The kernel's part of a roadmap item's detail: active attempt, counts, and what the
    caller may do about the item now."""
    state = services.work_state(item_id)
    attempt = state["active_attempt"]
    if attempt:
        actions = standing_actions(actor, attempt["id"])
    else:
        actions = resolve_actions(actor, item_id) + claim_actions(actor, item_id)
    return {
        "active_attempt": attempt,
        "counts": state["counts"],
        "next_actions": actions,
    }
