"""Request validation (enums and shapes are checked before the database) and the documented
response shapes of the kernel API."""

from __future__ import annotations

import hashlib
import json
import re

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kernel import leases, services
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
from roadmap.api.serializers import ActiveAttemptSummarySerializer
from roadmap.models import VReadyItems
from system.api.rendering import next_action
from system.api.serializers import (
    Int64Field,
    JSONText,
    LeanSerializer,
    NextActionSerializer,
    RowSerializer,
    Timestamp,
    model_choices,
    value_of,
)
from system.fields import format_timestamp

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _as_text(value):
    """JSON given for a TEXT column is stored as compact JSON text; text stays text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class TtlSerializer(LeanSerializer):
    ttl_seconds = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=settings.MOTUS_MAX_LEASE_TTL_SECONDS,
        help_text="Lease length in seconds (default: the lease's current TTL, 900 for a claim).",
    )


class ClaimRequestSerializer(TtlSerializer):
    """Lease TTL of the claim; heartbeat the attempt before it runs out."""


class OutcomeRequestSerializer(LeanSerializer):
    outcome_type = serializers.CharField(max_length=100, help_text="e.g. file, pr, release")
    path = serializers.CharField(required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    metadata = serializers.JSONField(required=False, allow_null=True)

    def validate(self, attrs):
        if "metadata" in attrs:
            attrs["metadata"] = _as_text(attrs["metadata"])
        return attrs


class EvidenceRequestSerializer(LeanSerializer):
    evidence_type = serializers.ChoiceField(choices=model_choices(Evidence, "evidence_type"))
    uri = serializers.CharField(help_text="Where the artifact lives (required).")
    sha256 = serializers.RegexField(
        r"^[0-9a-fA-F]{64}$",
        required=False,
        help_text="64 hex digits; computed from `content` when omitted.",
    )
    content = serializers.CharField(
        required=False,
        write_only=True,
        trim_whitespace=False,
        help_text="Inline artifact text; hashed (and sized) when `sha256` is not given.",
    )
    title = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    size_bytes = Int64Field(required=False, allow_null=True, min_value=0)
    artifacts = serializers.JSONField(required=False, allow_null=True)
    test_results = serializers.JSONField(required=False, allow_null=True)
    diff_summary = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    log_excerpt = serializers.CharField(required=False, allow_null=True, allow_blank=True)

    def validate_sha256(self, value):
        value = value.strip().lower()
        if not _SHA256.match(value):
            raise serializers.ValidationError("Must be 64 hexadecimal characters.")
        return value

    def validate(self, attrs):
        content = attrs.pop("content", None)
        if "sha256" not in attrs:
            if content is None:
                raise serializers.ValidationError(
                    {"sha256": ["Give sha256, or the inline content to hash."]}
                )
            data = content.encode()
            attrs["sha256"] = hashlib.sha256(data).hexdigest()
            attrs.setdefault("size_bytes", len(data))
        for name in ("artifacts", "test_results"):
            if name in attrs:
                attrs[name] = _as_text(attrs[name])
        return attrs


class DecisionRequestSerializer(LeanSerializer):
    decision_type = serializers.ChoiceField(choices=model_choices(Decision, "decision_type"))
    decision_summary = serializers.CharField(required=False, allow_null=True)
    rationale = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    alternatives_considered = serializers.CharField(
        required=False, allow_null=True, allow_blank=True
    )
    constraints = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    subject_hash = serializers.CharField(required=False, allow_null=True)
    authority = serializers.CharField(required=False)
    outcome = serializers.CharField(required=False)
    reason = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    conditions = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    supersedes_decision_id = serializers.CharField(
        required=False, allow_null=True, help_text="The decision this one corrects."
    )
    related_decision_id = serializers.CharField(required=False, allow_null=True)


class WorkDecisionRequestSerializer(DecisionRequestSerializer):
    work_id = serializers.CharField(
        required=False, allow_null=True, help_text="The work item decided on (e.g. a waiver)."
    )


class ReleaseRequestSerializer(LeanSerializer):
    disposition = serializers.ChoiceField(choices=[*services.RELEASE_EFFECTS])
    notes = serializers.CharField(required=False, allow_null=True, allow_blank=True)


class BlockerRequestSerializer(LeanSerializer):
    reason_code = serializers.ChoiceField(choices=model_choices(Blocker, "reason_code"))
    title = serializers.CharField()
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    needs = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    severity = serializers.ChoiceField(choices=model_choices(Blocker, "severity"), required=False)
    related_planning_item_id = serializers.CharField(required=False, allow_null=True)


class WorkBlockerRequestSerializer(BlockerRequestSerializer):
    work_id = serializers.CharField()


class ResolveBlockerRequestSerializer(LeanSerializer):
    resolution = serializers.CharField(
        allow_blank=True,
        help_text="Required by the database, as is evidence or a waiver decision on the item "
        "newer than the blocker.",
    )
    waive = serializers.BooleanField(
        default=False,
        help_text="Record a waiver decision (the resolution as its rationale) first, in the same "
        "transaction: needs the reviewer role.",
    )


class HandoffRequestSerializer(TtlSerializer):
    to_worker = serializers.CharField(help_text="agent:NAME or user:NAME of an existing user.")
    reason = serializers.CharField(
        allow_blank=True, help_text="Why; the database refuses a handoff without one."
    )


class LeaseRequestSerializer(LeanSerializer):
    resource_type = serializers.CharField(max_length=200)
    resource_id = serializers.CharField(max_length=500)
    mode = serializers.ChoiceField(choices=model_choices(Lease, "mode"))
    ttl_seconds = serializers.IntegerField(
        min_value=1, max_value=settings.MOTUS_MAX_LEASE_TTL_SECONDS
    )


class LeaseReleaseRequestSerializer(LeanSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ForceReleaseRequestSerializer(LeanSerializer):
    reason = serializers.CharField(help_text="Why staff takes the lease away (audited).")


# Rows: the governance reads list them, and the loop's responses carry them. Each works on
# a model instance and on the services' row dicts alike.


class AttemptSerializer(RowSerializer):
    work_id = serializers.CharField(read_only=True)
    contract_hash = serializers.SerializerMethodField(
        help_text="The frozen contract of the claim (GET /api/v1/contracts/{hash}/)."
    )
    handoff_from_attempt_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Attempt
        fields = [
            "id",
            "work_id",
            "worker_id",
            "worker_type",
            "contract_hash",
            "context_hash",
            "strategy_id",
            "role",
            "handoff_from_attempt_id",
            "handoff_reason",
            "started_at",
            "ended_at",
            "outcome",
            "notes",
        ]

    def get_contract_hash(self, attempt) -> str | None:
        if isinstance(attempt, dict):
            return attempt["contract_hash"]
        return attempt.contract_id


class EvidenceSerializer(RowSerializer):
    work_id = serializers.CharField(read_only=True)
    attempt_id = serializers.CharField(read_only=True, allow_null=True)
    artifacts = JSONText()
    test_results = JSONText()

    class Meta:
        model = Evidence
        exclude = ["work", "attempt"]


class DecisionSerializer(RowSerializer):
    work_id = serializers.CharField(read_only=True, allow_null=True)
    attempt_id = serializers.CharField(read_only=True, allow_null=True)
    supersedes_decision_id = serializers.CharField(read_only=True, allow_null=True)
    related_decision_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Decision
        exclude = ["work", "attempt", "supersedes_decision", "related_decision"]


class BlockerSerializer(RowSerializer):
    work_id = serializers.CharField(read_only=True)
    attempt_id = serializers.CharField(read_only=True, allow_null=True)
    related_planning_item_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Blocker
        exclude = ["work", "attempt", "related_planning_item"]


class KernelDecisionSerializer(RowSerializer):
    work_id = serializers.CharField(read_only=True, allow_null=True)
    supersedes_decision_id = serializers.CharField(read_only=True, allow_null=True)
    related_decision_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = KernelDecision
        exclude = ["work", "supersedes_decision", "related_decision"]


class KernelEvidenceSerializer(RowSerializer):
    work_id = serializers.CharField(read_only=True, allow_null=True)
    artifacts = JSONText()
    test_results = JSONText()

    class Meta:
        model = KernelEvidence
        exclude = ["work"]


class KernelOutcomeSerializer(RowSerializer):
    work_id = serializers.CharField(read_only=True, allow_null=True)
    metadata = JSONText()

    class Meta:
        model = KernelOutcome
        exclude = ["work"]


class LeaseSerializer(RowSerializer):
    attempt_id = serializers.CharField(read_only=True, allow_null=True)
    is_active = serializers.SerializerMethodField(
        help_text="Not released and not expired (expired leases stop counting unreleased)."
    )

    class Meta:
        model = Lease
        exclude = ["attempt"]

    def get_is_active(self, lease) -> bool:
        expires_at = value_of(lease, "expires_at")
        if not isinstance(expires_at, str):
            expires_at = format_timestamp(expires_at)
        return leases.lease_is_active(value_of(lease, "released_at"), expires_at)


class CompiledContractSerializer(RowSerializer):
    compiled = JSONText(
        source="compiled_json",
        help_text="Canonical JSON: item, dependencies, required_capabilities, standards.",
    )
    source_refs_json = JSONText()

    class Meta:
        model = CompiledContract
        fields = ["contract_hash", "compiled", "source_refs_json", "created_at"]


# The loop's responses, built from the services' dicts.


class EventSerializer(LeanSerializer):
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    payload = serializers.JSONField(help_text="The event's JSON payload.")
    created_at = Timestamp()


class LeaseDetailSerializer(LeaseSerializer):
    events = EventSerializer(many=True, read_only=True)

    class Meta(LeaseSerializer.Meta):
        pass


class PrerequisiteSerializer(LeanSerializer):
    id = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    item_type = serializers.CharField()
    depth = serializers.IntegerField(help_text="1 = direct prerequisite (shallowest level).")


class ContractSerializer(LeanSerializer):
    hash = serializers.CharField(allow_null=True)
    compiled = serializers.DictField(
        allow_null=True,
        help_text="Canonical JSON: item, dependencies, required_capabilities, standards.",
    )


class ActiveAttemptSerializer(AttemptSerializer):
    lease_id = serializers.CharField(
        read_only=True, allow_null=True, help_text="The attempt's unreleased lease."
    )

    class Meta(AttemptSerializer.Meta):
        fields = [*AttemptSerializer.Meta.fields, "lease_id"]


class ClaimedItemSerializer(LeanSerializer):
    """The claimed item as its contract froze it, and its status now."""

    id = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    phase_key = serializers.CharField()
    item_type = serializers.CharField()
    owner = serializers.CharField(allow_null=True)
    target_date = serializers.CharField(allow_null=True)
    feature_id = serializers.CharField(allow_null=True)
    cr_id = serializers.CharField(allow_null=True)
    status = serializers.CharField()


class ClaimResponseSerializer(LeanSerializer):
    attempt = ActiveAttemptSerializer()
    lease = LeaseSerializer()
    item = ClaimedItemSerializer()
    contract = ContractSerializer()
    missing_prereqs = PrerequisiteSerializer(many=True)
    next_actions = NextActionSerializer(many=True)


class ContextItemSerializer(LeanSerializer):
    id = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    phase_key = serializers.CharField()
    status = serializers.CharField()
    item_type = serializers.CharField()
    owner = serializers.CharField(allow_null=True)


class ContextDependencySerializer(LeanSerializer):
    id = serializers.CharField()
    type = serializers.CharField(help_text="blocks, soft, …")
    title = serializers.CharField()
    status = serializers.CharField()


class ContextEvidenceSerializer(LeanSerializer):
    id = serializers.CharField()
    evidence_type = serializers.CharField()
    uri = serializers.CharField()
    sha256 = serializers.CharField()
    title = serializers.CharField(allow_null=True)
    created_by = serializers.CharField()
    created_at = Timestamp()


class ContextOutcomeSerializer(LeanSerializer):
    id = serializers.CharField()
    outcome_type = serializers.CharField()
    path = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    created_at = Timestamp()


class ContextDecisionSerializer(LeanSerializer):
    id = serializers.CharField()
    decision_type = serializers.CharField()
    decision_summary = serializers.CharField(allow_null=True)
    supersedes_decision_id = serializers.CharField(allow_null=True)
    decided_by = serializers.CharField()
    decided_at = Timestamp()


class ReviewFeedbackSerializer(LeanSerializer):
    id = serializers.CharField()
    decision_type = serializers.CharField()
    decision_summary = serializers.CharField(allow_null=True)
    rationale = serializers.CharField(allow_null=True)
    decided_by = serializers.CharField()
    decided_at = Timestamp()


class ContextResponseSerializer(LeanSerializer):
    attempt = ActiveAttemptSerializer()
    item = ContextItemSerializer()
    contract = ContractSerializer()
    dependencies = ContextDependencySerializer(many=True)
    open_blockers = BlockerSerializer(many=True)
    evidence = ContextEvidenceSerializer(many=True)
    outcomes = ContextOutcomeSerializer(many=True)
    decisions = ContextDecisionSerializer(many=True)
    lease = LeaseSerializer(allow_null=True)
    missing_prereqs = PrerequisiteSerializer(many=True)
    review_feedback = ReviewFeedbackSerializer(
        many=True,
        help_text="Review decisions on the item, newest first: why earlier work was rejected.",
    )
    next_actions = NextActionSerializer(many=True)


class OutcomeRecordedSerializer(LeanSerializer):
    """The stored outcome and what to do next."""

    record = KernelOutcomeSerializer()
    next_actions = NextActionSerializer(many=True)


class EvidenceRecordedSerializer(LeanSerializer):
    """The stored evidence and what to do next."""

    record = EvidenceSerializer()
    next_actions = NextActionSerializer(many=True)


class DecisionRecordedSerializer(LeanSerializer):
    """The stored decision and what to do next."""

    record = DecisionSerializer()
    next_actions = NextActionSerializer(many=True)


class BlockerRecordedSerializer(LeanSerializer):
    """The stored blocker and what to do next."""

    record = BlockerSerializer()
    next_actions = NextActionSerializer(many=True)


class ReleasedItemSerializer(LeanSerializer):
    id = serializers.CharField()
    status = serializers.CharField(help_text="completed, review, blocked or pending.")


class ReleaseResponseSerializer(LeanSerializer):
    attempt = ActiveAttemptSerializer()
    item = ReleasedItemSerializer()
    next_actions = NextActionSerializer(many=True)


class HandoffResponseSerializer(LeanSerializer):
    attempt = ActiveAttemptSerializer()
    lease = LeaseSerializer()
    previous_attempt_id = serializers.CharField()
    next_actions = NextActionSerializer(many=True)


class LeaseResponseSerializer(LeanSerializer):
    lease = LeaseSerializer()
    next_actions = NextActionSerializer(many=True)


class ExpiredAttemptSerializer(ActiveAttemptSerializer):
    """The attempt, ended as failed, and what to do next."""

    next_actions = NextActionSerializer(many=True, read_only=True)

    class Meta(ActiveAttemptSerializer.Meta):
        fields = [*ActiveAttemptSerializer.Meta.fields, "next_actions"]


class ResolvedBlockerSerializer(BlockerSerializer):
    """The resolved blocker, and what to do next."""

    next_actions = NextActionSerializer(many=True, read_only=True)

    class Meta(BlockerSerializer.Meta):
        pass


class MyAttemptSerializer(ActiveAttemptSerializer):
    work_title = serializers.CharField(read_only=True)
    lease_expires_at = Timestamp(read_only=True, allow_null=True)

    class Meta(ActiveAttemptSerializer.Meta):
        fields = [*ActiveAttemptSerializer.Meta.fields, "work_title", "lease_expires_at"]


class MyAssignmentSerializer(LeanSerializer):
    id = serializers.IntegerField()
    item_id = serializers.CharField()
    item_title = serializers.CharField()
    role = serializers.CharField()
    status = serializers.CharField()
    assigned_at = Timestamp()
    assigned_by = serializers.CharField(allow_null=True)


class MyWorkResponseSerializer(LeanSerializer):
    attempts = MyAttemptSerializer(many=True)
    assignments = MyAssignmentSerializer(many=True)
    leases = LeaseSerializer(many=True)
    next_actions = NextActionSerializer(many=True)


class WorkObstaclesSerializer(LeanSerializer):
    """Why a claim was refused (the ``details`` of its 409)."""

    missing_prereqs = PrerequisiteSerializer(many=True)
    open_blockers = serializers.ListField(child=serializers.CharField())
    active_attempt = ActiveAttemptSummarySerializer(allow_null=True)
    next_actions = NextActionSerializer(many=True)


class ReadyItemSerializer(RowSerializer):
    claim = serializers.SerializerMethodField(
        help_text="The claim call, or null when a claim would be refused now (an open "
        "blocker on the item, or a role that may not claim)."
    )

    class Meta:
        model = VReadyItems
        fields = ["id", "title", "phase_key", "owner", "rank", "claim"]

    @extend_schema_field(NextActionSerializer(allow_null=True))
    def get_claim(self, row) -> dict | None:
        if not self.context.get("may_claim") or getattr(row, "has_open_blockers", False):
            return None
        return next_action("claim", "POST", "work-claim", row.id)
