"""The agent's loop over HTTP: ready work, claim, context, outcomes, evidence, decisions,
blockers, release, handoff, heartbeats and leases; plus the kernel's governance reads.

Views only validate input, call ``kernel.services`` and say what may come next
(``next_actions``); the services and the database's triggers decide the rest.
"""

from __future__ import annotations

from django.db import IntegrityError
from django.db.models import F
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
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
from system.api.errors import refusal
from system.api.rendering import next_action, present
from system.api.views import MotusAPIView, MotusViewMixin, MotusViewSet, validated
from system.identity import Actor

# What an agent may do next.


def ready_actions() -> list[dict]:
    return [next_action("find_ready_work", "GET", "work-ready")]


def claim_action(work_id: str) -> dict:
    return next_action("claim", "POST", "work-claim", work_id)


def attempt_actions(attempt: dict) -> list[dict]:
    """Calls open to the holder of an active attempt; once it ended, back to ready work."""
    if attempt["ended_at"] is not None:
        return ready_actions()
    pk = attempt["id"]
    return [
        next_action("context", "GET", "attempt-context", pk),
        next_action("register_outcome", "POST", "attempt-outcomes", pk),
        next_action("record_evidence", "POST", "attempt-evidence", pk),
        next_action("record_decision", "POST", "attempt-decisions", pk),
        next_action("raise_blocker", "POST", "attempt-blockers", pk),
        next_action("heartbeat", "POST", "attempt-heartbeat", pk, "Before the lease expires."),
        next_action(
            "release",
            "POST",
            "attempt-release",
            pk,
            "disposition completed needs evidence; blocked needs an open blocker.",
        ),
        next_action("handoff", "POST", "attempt-handoff", pk, "Needs to_worker and a reason."),
    ]


def lease_actions(lease: dict) -> list[dict]:
    if not leases.lease_is_active(lease["released_at"], lease["expires_at"]):
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


def resolve_actions(blocker_ids: list[str]) -> list[dict]:
    return [next_action("resolve_blocker", "POST", "blocker-resolve", pk) for pk in blocker_ids]


def work_obstacles(work_id: str) -> dict:
    """Why a claim on the item was refused, as data: unmet prerequisites, open blockers and
    the active attempt."""
    state = services.work_state(work_id)
    return {
        "missing_prereqs": unmet_prerequisites(work_id),
        "open_blockers": state["open_blocker_ids"],
        "active_attempt": present(state["active_attempt"]),
        "next_actions": resolve_actions(state["open_blocker_ids"]) + ready_actions(),
    }


# The loop.


@extend_schema_view(get=extend_schema(tags=["work"]))
class ReadyWorkView(MotusViewMixin, generics.ListAPIView):
    """Items that can start now (``v_ready_items``) and that nobody holds (no active attempt,
    no active exclusive lease, e.g. a `motus` tool claim), ordered by phase then rank (NULL
    ranks first): the first call an agent makes. Each row carries its claim call."""

    serializer_class = s.ReadyItemSerializer
    filterset_class = filtersets.ReadyWorkFilterSet

    def get_queryset(self):
        return services.unheld(VReadyItems.objects.all()).order_by(
            "phase_key", F("rank").asc(nulls_first=True), "id"
        )


class ClaimView(MotusAPIView):
    """Claim a work item: opens the caller's attempt with a frozen contract, an active
    implementer assignment, the item in progress and an exclusive lease tied to the attempt.
    409 carries the database's message plus the obstacles (unmet prerequisites, open
    blockers, the active attempt)."""

    @extend_schema(
        tags=["work"],
        request=s.ClaimRequestSerializer,
        responses={201: s.ClaimResponseSerializer},
    )
    def post(self, request, pk):
        params = validated(s.ClaimRequestSerializer, request)
        try:
            result = services.claim(self.actor, pk, **params)
        except IntegrityError as exc:
            raise refusal(exc, **work_obstacles(pk)) from exc
        result["attempt"]["lease_id"] = result["lease"]["id"]
        result["next_actions"] = attempt_actions(result["attempt"])
        return Response(present(result), status=status.HTTP_201_CREATED)


class MyWorkView(MotusAPIView):
    """The caller's open attempts, open assignments and active leases."""

    @extend_schema(tags=["work"], responses=s.MyWorkResponseSerializer)
    def get(self, request):
        work = services.my_work(self.actor)
        actions = [a for attempt in work["attempts"] for a in attempt_actions(attempt)[:1]]
        work["next_actions"] = actions or ready_actions()
        return Response(present(work))


def _row_response(row: dict, actions: list[dict], code=status.HTTP_201_CREATED) -> Response:
    return Response(present({**row, "next_actions": actions}), status=code)


@extend_schema_view(
    list=extend_schema(tags=["attempts"]), retrieve=extend_schema(tags=["attempts"])
)
class AttemptViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    """Attempts (read), and the calls of the attempt's holder."""

    queryset = Attempt.objects.order_by("-started_at", "id")
    serializer_class = s.AttemptSerializer
    filterset_class = filtersets.AttemptFilterSet
    lookup_value_regex = "[^/]+"

    @extend_schema(tags=["attempts"], responses=s.ContextResponseSerializer)
    @action(detail=True, methods=["get"])
    def context(self, request, pk):
        """The current lens on the attempt: item, contract, dependency state, open blockers,
        evidence/outcomes/decisions so far, missing prerequisites."""
        context = services.attempt_context(pk)
        mine = context["attempt"]["worker_id"] == self.actor.identity
        context["next_actions"] = attempt_actions(context["attempt"]) if mine else []
        return Response(present(context))

    @extend_schema(
        tags=["attempts"],
        request=s.OutcomeRequestSerializer,
        responses={201: s.RecordedResponseSerializer},
    )
    @action(detail=True, methods=["post"])
    def outcomes(self, request, pk):
        """Register a deliverable of the attempt (``kernel_outcomes``)."""
        outcome = services.register_outcome(
            self.actor, pk, validated(s.OutcomeRequestSerializer, request)
        )
        return _row_response({"record": outcome}, attempt_actions({"id": pk, "ended_at": None}))

    @extend_schema(
        tags=["attempts"],
        request=s.EvidenceRequestSerializer,
        responses={201: s.RecordedResponseSerializer},
    )
    @action(detail=True, methods=["post"])
    def evidence(self, request, pk):
        """Record typed evidence; ``sha256`` is computed from inline ``content`` if absent."""
        evidence = services.record_evidence(
            self.actor, pk, validated(s.EvidenceRequestSerializer, request)
        )
        return _row_response({"record": evidence}, attempt_actions({"id": pk, "ended_at": None}))

    @extend_schema(
        tags=["attempts"],
        request=s.DecisionRequestSerializer,
        responses={201: s.RecordedResponseSerializer},
    )
    @action(detail=True, methods=["post"])
    def decisions(self, request, pk):
        """Append a decision; a correction names the one it supersedes."""
        decision = services.record_decision(
            self.actor, dict(validated(s.DecisionRequestSerializer, request)), attempt_id=pk
        )
        return _row_response({"record": decision}, attempt_actions({"id": pk, "ended_at": None}))

    @extend_schema(
        tags=["attempts"],
        request=s.BlockerRequestSerializer,
        responses={201: s.RecordedResponseSerializer},
    )
    @action(detail=True, methods=["post"])
    def blockers(self, request, pk):
        """Raise a blocker on the attempt's item; then release the attempt as ``blocked``."""
        blocker = services.raise_blocker(
            self.actor, dict(validated(s.BlockerRequestSerializer, request)), attempt_id=pk
        )
        return _row_response({"record": blocker}, attempt_actions({"id": pk, "ended_at": None}))

    @extend_schema(
        tags=["attempts"],
        request=s.ReleaseRequestSerializer,
        responses={200: s.ReleaseResponseSerializer},
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk):
        """End the attempt (completed | blocked | failed | handed_off) and move the item,
        the implementer assignment and the lease with it."""
        params = validated(s.ReleaseRequestSerializer, request)
        result = services.release(self.actor, pk, params["disposition"], params.get("notes"))
        return _row_response(result, ready_actions(), status.HTTP_200_OK)

    @extend_schema(
        tags=["attempts"],
        request=s.TtlSerializer,
        responses={200: s.LeaseResponseSerializer},
    )
    @action(detail=True, methods=["post"])
    def heartbeat(self, request, pk):
        """Still working: extend the attempt's lease (optionally with a new TTL)."""
        params = validated(s.TtlSerializer, request)
        lease = services.heartbeat_attempt(self.actor, pk, params.get("ttl_seconds"))
        return _row_response({"lease": lease}, lease_actions(lease), status.HTTP_200_OK)

    @extend_schema(
        tags=["attempts"],
        request=s.HandoffRequestSerializer,
        responses={201: s.HandoffResponseSerializer},
    )
    @action(detail=True, methods=["post"])
    def handoff(self, request, pk):
        """End the attempt as ``handed_off`` and open one for ``to_worker``."""
        params = validated(s.HandoffRequestSerializer, request)
        result = services.handoff(
            self.actor, pk, params["to_worker"], params["reason"], params.get("ttl_seconds")
        )
        successor_actions = [
            next_action("context", "GET", "attempt-context", result["attempt"]["id"])
        ]
        return _row_response(result, successor_actions)

    @extend_schema(tags=["attempts"], request=None, responses={200: s.AttemptSerializer})
    @action(detail=True, methods=["post"])
    def expire(self, request, pk):
        """Leads: end a stale attempt (its lease expired) as ``failed``, freeing the item."""
        attempt = services.end_stale_attempt(self.actor, pk)
        return _row_response(attempt, ready_actions(), status.HTTP_200_OK)


@extend_schema_view(
    list=extend_schema(tags=["governance"]), retrieve=extend_schema(tags=["governance"])
)
class EvidenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    queryset = Evidence.objects.order_by("-created_at", "id")
    serializer_class = s.EvidenceSerializer
    filterset_class = filtersets.EvidenceFilterSet
    search_fields = ["title", "description", "uri"]


@extend_schema_view(
    list=extend_schema(tags=["governance"]), retrieve=extend_schema(tags=["governance"])
)
class DecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    queryset = Decision.objects.order_by("-decided_at", "id")
    serializer_class = s.DecisionSerializer
    filterset_class = filtersets.DecisionFilterSet
    search_fields = ["decision_summary", "rationale"]

    @extend_schema(
        tags=["governance"],
        request=s.WorkDecisionRequestSerializer,
        responses={201: s.RecordedResponseSerializer},
    )
    def create(self, request):
        """A decision outside an attempt: a ``waiver`` that justifies resolving a blocker on
        ``work_id``, or a review of an item in ``review`` (``review_passed`` completes it,
        ``review_rejected`` sends it back to ``pending``). Governance decisions need the
        reviewer role and are never about your own work."""
        fields = dict(validated(s.WorkDecisionRequestSerializer, request))
        work_id = fields.pop("work_id", None)
        decision = services.record_decision(self.actor, fields, work_id=work_id)
        return _row_response({"record": decision}, [])


@extend_schema_view(
    list=extend_schema(tags=["blockers"]), retrieve=extend_schema(tags=["blockers"])
)
class BlockerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet):
    queryset = Blocker.objects.order_by("-created_at", "id")
    serializer_class = s.BlockerSerializer
    filterset_class = filtersets.BlockerFilterSet
    search_fields = ["title", "description"]

    @extend_schema(
        tags=["blockers"],
        request=s.WorkBlockerRequestSerializer,
        responses={201: s.RecordedResponseSerializer},
    )
    def create(self, request):
        """Open a blocker on a work item (no claim on it is possible until it is resolved)."""
        fields = dict(validated(s.WorkBlockerRequestSerializer, request))
        work_id = fields.pop("work_id")
        blocker = services.raise_blocker(self.actor, fields, work_id=work_id)
        return _row_response({"record": blocker}, resolve_actions([blocker["id"]]))

    @extend_schema(
        tags=["blockers"],
        request=s.ResolveBlockerRequestSerializer,
        responses={200: s.BlockerSerializer},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk):
        """Resolve with a resolution text; needs evidence or a waiver decision on the item
        newer than the blocker (the database checks)."""
        params = validated(s.ResolveBlockerRequestSerializer, request)
        blocker = services.resolve_blocker(
            self.actor, pk, params["resolution"], waive=params["waive"]
        )
        return _row_response(blocker, [claim_action(blocker["work_id"])], status.HTTP_200_OK)


def _read_only(model, serializer, filterset, ordering, tag):
    """A list/retrieve endpoint over an append-only log."""
    viewset = type(
        f"{model.__name__}ViewSet",
        (mixins.ListModelMixin, mixins.RetrieveModelMixin, MotusViewSet),
        {
            "queryset": model.objects.order_by(*ordering),
            "serializer_class": serializer,
            "filterset_class": filterset,
            "__doc__": f"{model._meta.db_table} (read-only).",
        },
    )
    return extend_schema_view(list=extend_schema(tags=[tag]), retrieve=extend_schema(tags=[tag]))(
        viewset
    )


KernelDecisionViewSet = _read_only(
    KernelDecision,
    s.KernelDecisionSerializer,
    filtersets.KernelDecisionFilterSet,
    ("-decided_at", "id"),
    "governance",
)
KernelEvidenceViewSet = _read_only(
    KernelEvidence,
    s.KernelEvidenceSerializer,
    filtersets.KernelEvidenceFilterSet,
    ("-created_at", "id"),
    "governance",
)
KernelOutcomeViewSet = _read_only(
    KernelOutcome,
    s.KernelOutcomeSerializer,
    filtersets.KernelOutcomeFilterSet,
    ("-created_at", "id"),
    "governance",
)


@extend_schema_view(retrieve=extend_schema(tags=["governance"]))
class CompiledContractViewSet(mixins.RetrieveModelMixin, MotusViewSet):
    """A frozen contract by hash."""

    queryset = CompiledContract.objects.all()
    serializer_class = s.CompiledContractSerializer


@extend_schema_view(
    list=extend_schema(
        tags=["leases"],
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

    @extend_schema(tags=["leases"], responses=s.LeaseDetailSerializer)
    def retrieve(self, request, pk):
        """The lease with its lifecycle events."""
        lease = leases.get_lease(pk)
        lease["is_active"] = leases.lease_is_active(lease["released_at"], lease["expires_at"])
        lease["events"] = leases.lease_events(pk)
        return Response(present(lease))

    @extend_schema(
        tags=["leases"],
        request=s.LeaseRequestSerializer,
        responses={201: s.LeaseResponseSerializer},
    )
    def create(self, request):
        """Acquire; 409 with the database's message when a conflicting lease is active."""
        lease = leases.acquire_lease(self.actor, **validated(s.LeaseRequestSerializer, request))
        return _row_response({"lease": lease}, lease_actions(lease))

    @extend_schema(
        tags=["leases"], request=s.TtlSerializer, responses={200: s.LeaseResponseSerializer}
    )
    @action(detail=True, methods=["post"])
    def heartbeat(self, request, pk):
        """The holder extends its active lease to now + TTL."""
        params = validated(s.TtlSerializer, request)
        lease = leases.heartbeat_lease(self.actor, pk, params.get("ttl_seconds"))
        return _row_response({"lease": lease}, lease_actions(lease), status.HTTP_200_OK)

    @extend_schema(
        tags=["leases"],
        request=s.LeaseReleaseRequestSerializer,
        responses={200: s.LeaseResponseSerializer},
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk):
        """The holder releases its lease."""
        reason = validated(s.LeaseReleaseRequestSerializer, request)["reason"]
        lease = leases.release_lease(self.actor, pk, reason=reason)
        return _row_response({"lease": lease}, [], status.HTTP_200_OK)

    @extend_schema(
        tags=["leases"],
        request=s.ForceReleaseRequestSerializer,
        responses={200: s.LeaseResponseSerializer},
    )
    @action(detail=True, methods=["post"], url_path="force-release")
    def force_release(self, request, pk):
        """A lead releases anyone's lease, with a reason (audited)."""
        reason = validated(s.ForceReleaseRequestSerializer, request)["reason"]
        lease = leases.release_lease(self.actor, pk, reason=reason, force=True)
        return _row_response({"lease": lease}, [], status.HTTP_200_OK)


def work_item_section(item_id: str, actor: Actor) -> dict:
    """The kernel's part of a roadmap item's detail: active attempt, counts, next actions."""
    state = services.work_state(item_id)
    attempt = state["active_attempt"]
    if attempt:
        actions = attempt_actions({"id": attempt["id"], "ended_at": None})
        actions = actions if attempt["worker_id"] == actor.identity else actions[:1]
    elif state["open_blocker_ids"]:
        actions = resolve_actions(state["open_blocker_ids"])
    else:
        actions = [claim_action(item_id)]
    return {
        "active_attempt": present(attempt),
        "counts": state["counts"],
        "next_actions": actions,
    }
