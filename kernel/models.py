"""Tables of the `kernel` app: attempts, evidence, decisions, blockers, leases, events.

Mirrors ``schema.json``; triggers live in ``migrations/sql/<vendor>/``.
"""

from django.db import models
from django.db.models import Q

from roadmap.models import RoadmapItem
from system.fields import DbNow, ShortTextField, TimestampField, utc_now
from system.models import ContractModel


class CompiledContract(ContractModel):
    """A frozen work contract, stored once per hash; never updated or deleted."""

    contract_hash = ShortTextField(primary_key=True)
    compiled_json = models.TextField()
    source_refs_json = models.TextField(null=True, blank=True)
    created_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "compiled_contracts"


class Attempt(ContractModel):
    """One execution try of a work item; active while ``ended_at`` is NULL (one per item)."""

    id = ShortTextField(primary_key=True)
    work = models.ForeignKey(
        RoadmapItem,
        on_delete=models.DO_NOTHING,
        db_column="work_id",
        db_index=False,
        related_name="attempts",
    )
    worker_id = ShortTextField()
    worker_type = ShortTextField(
        choices=[("agent", "Agent"), ("human", "Human"), ("system", "System")]
    )
    contract = models.ForeignKey(
        CompiledContract,
        on_delete=models.DO_NOTHING,
        db_column="contract_hash",
        db_index=False,
        related_name="attempts",
        null=True,
        blank=True,
    )
    context_hash = models.TextField(null=True, blank=True)
    strategy_id = ShortTextField(null=True, blank=True)
    role = ShortTextField(null=True, blank=True)
    handoff_from_attempt = models.ForeignKey(
        "self",
        on_delete=models.DO_NOTHING,
        db_column="handoff_from_attempt_id",
        db_index=False,
        related_name="handoffs",
        null=True,
        blank=True,
    )
    handoff_reason = models.TextField(null=True, blank=True)
    started_at = TimestampField(default=utc_now, db_default=DbNow())
    ended_at = TimestampField(null=True, blank=True)
    outcome = ShortTextField(
        choices=[
            ("completed", "Completed"),
            ("blocked", "Blocked"),
            ("failed", "Failed"),
            ("handed_off", "Handed off"),
        ],
        null=True,
        blank=True,
    )
    notes = models.TextField(null=True, blank=True)

    class Meta:
        db_table = "attempts"
        permissions = [
            ("claim_work", "Can claim ready work and act on own attempts"),
            ("expire_attempt", "Can end anyone's stale attempt"),
        ]
        indexes = [
            models.Index(fields=["work"], name="idx_attempts_work"),
            models.Index(fields=["worker_id"], name="idx_attempts_worker"),
            models.Index(
                fields=["work"], name="idx_attempts_active", condition=Q(ended_at__isnull=True)
            ),
            models.Index(fields=["contract"], name="idx_attempts_contract"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(worker_type__in=["agent", "human", "system"]),
                name="attempts_worker_type_check",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["completed", "blocked", "failed", "handed_off"]),
                name="attempts_outcome_check",
            ),
        ]


class Decision(ContractModel):
    """Append-only governance decision; a correction supersedes, never edits."""

    id = ShortTextField(primary_key=True)
    work = models.ForeignKey(
        RoadmapItem,
        on_delete=models.DO_NOTHING,
        db_column="work_id",
        db_index=False,
        related_name="decisions",
        null=True,
        blank=True,
    )
    attempt = models.ForeignKey(
        Attempt,
        on_delete=models.DO_NOTHING,
        db_column="attempt_id",
        db_index=False,
        related_name="decisions",
        null=True,
        blank=True,
    )
    lease_id = ShortTextField(null=True, blank=True)
    decision_type = ShortTextField(
        choices=[
            ("approval", "Approval"),
            ("waiver", "Waiver"),
            ("review_passed", "Review passed"),
            ("review_rejected", "Review rejected"),
            ("plan_committed", "Plan committed"),
            ("completion_accepted", "Completion accepted"),
            ("escalation", "Escalation"),
            ("revocation", "Revocation"),
            ("draft_emitted", "Draft emitted"),
            ("draft_approved", "Draft approved"),
            ("draft_rejected", "Draft rejected"),
        ]
    )
    decision_summary = models.TextField(null=True, blank=True)
    rationale = models.TextField(null=True, blank=True)
    alternatives_considered = models.TextField(null=True, blank=True)
    constraints = models.TextField(null=True, blank=True)
    subject_hash = ShortTextField(null=True, blank=True)
    authority = ShortTextField(default="system", db_default="system")
    outcome = ShortTextField(default="recorded", db_default="recorded")
    reason = models.TextField(null=True, blank=True)
    conditions = models.TextField(null=True, blank=True)
    supersedes_decision = models.ForeignKey(
        "self",
        on_delete=models.DO_NOTHING,
        db_column="supersedes_decision_id",
        db_index=False,
        related_name="superseded_by",
        null=True,
        blank=True,
    )
    related_decision = models.ForeignKey(
        "self",
        on_delete=models.DO_NOTHING,
        db_column="related_decision_id",
        db_index=False,
        related_name="related_from",
        null=True,
        blank=True,
    )
    decided_by = ShortTextField(default="system", db_default="system")
    decided_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "decisions"
        permissions = [
            ("review_work", "Can record governance decisions and resolve others' blockers"),
        ]
        indexes = [
            models.Index(fields=["work"], name="idx_decisions_work"),
            models.Index(fields=["decision_type"], name="idx_decisions_type"),
            models.Index(fields=["attempt"], name="idx_decisions_attempt"),
            models.Index(fields=["supersedes_decision"], name="idx_decisions_supersedes"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    decision_type__in=[
                        "approval",
                        "waiver",
                        "review_passed",
                        "review_rejected",
                        "plan_committed",
                        "completion_accepted",
                        "escalation",
                        "revocation",
                        "draft_emitted",
                        "draft_approved",
                        "draft_rejected",
                    ]
                ),
                name="decisions_decision_type_check",
            ),
        ]


class Evidence(ContractModel):
    """Typed, hashed artifact backing an attempt; append-only."""

    id = ShortTextField(primary_key=True)
    work = models.ForeignKey(
        RoadmapItem,
        on_delete=models.DO_NOTHING,
        db_column="work_id",
        db_index=False,
        related_name="evidence",
    )
    attempt = models.ForeignKey(
        Attempt,
        on_delete=models.DO_NOTHING,
        db_column="attempt_id",
        db_index=False,
        related_name="evidence",
        null=True,
        blank=True,
    )
    lease_id = ShortTextField(null=True, blank=True)
    evidence_type = ShortTextField(
        choices=[
            ("test_result", "Test result"),
            ("build_artifact", "Build artifact"),
            ("diff", "Diff"),
            ("log", "Log"),
            ("attestation", "Attestation"),
            ("screenshot", "Screenshot"),
            ("reference", "Reference"),
            ("document", "Document"),
            ("policy_bundle", "Policy bundle"),
            ("other", "Other"),
        ]
    )
    uri = ShortTextField()
    sha256 = ShortTextField()
    title = ShortTextField(null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    size_bytes = models.IntegerField(null=True, blank=True)
    artifacts = models.TextField(null=True, blank=True)
    test_results = models.TextField(null=True, blank=True)
    diff_summary = models.TextField(null=True, blank=True)
    log_excerpt = models.TextField(null=True, blank=True)
    created_by = ShortTextField()
    created_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        verbose_name_plural = "evidence"
        db_table = "evidence"
        indexes = [
            models.Index(fields=["work"], name="idx_evidence_work"),
            models.Index(fields=["attempt"], name="idx_evidence_attempt"),
            models.Index(fields=["evidence_type"], name="idx_evidence_type"),
            models.Index(fields=["sha256"], name="idx_evidence_hash"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    evidence_type__in=[
                        "test_result",
                        "build_artifact",
                        "diff",
                        "log",
                        "attestation",
                        "screenshot",
                        "reference",
                        "document",
                        "policy_bundle",
                        "other",
                    ]
                ),
                name="evidence_evidence_type_check",
            ),
        ]


class Blocker(ContractModel):
    """Runtime blocker on a work item; its resolution is written once."""

    id = ShortTextField(primary_key=True)
    work = models.ForeignKey(
        RoadmapItem,
        on_delete=models.DO_NOTHING,
        db_column="work_id",
        db_index=False,
        related_name="blockers",
    )
    attempt = models.ForeignKey(
        Attempt,
        on_delete=models.DO_NOTHING,
        db_column="attempt_id",
        db_index=False,
        related_name="blockers",
        null=True,
        blank=True,
    )
    reason_code = models.TextField(
        choices=[
            ("missing_approval", "Missing approval"),
            ("missing_info", "Missing info"),
            ("missing_dependency", "Missing dependency"),
            ("missing_resource", "Missing resource"),
            ("missing_credential", "Missing credential"),
            ("technical_failure", "Technical failure"),
            ("external_wait", "External wait"),
            ("other", "Other"),
        ]
    )
    title = ShortTextField()
    description = models.TextField(null=True, blank=True)
    needs = models.TextField(null=True, blank=True)
    severity = ShortTextField(
        choices=[("blocking", "Blocking"), ("warning", "Warning")],
        null=True,
        blank=True,
        default="blocking",
        db_default="blocking",
    )
    related_planning_item = models.ForeignKey(
        RoadmapItem,
        on_delete=models.DO_NOTHING,
        db_column="related_planning_item_id",
        db_index=False,
        related_name="related_blockers",
        null=True,
        blank=True,
    )
    created_by = ShortTextField()
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    resolved_at = TimestampField(null=True, blank=True)
    resolved_by = ShortTextField(null=True, blank=True)
    resolution = models.TextField(null=True, blank=True)

    class Meta:
        db_table = "blockers"
        indexes = [
            models.Index(fields=["work"], name="idx_blockers_work"),
            models.Index(fields=["attempt"], name="idx_blockers_attempt"),
            models.Index(
                fields=["work"], name="idx_blockers_open", condition=Q(resolved_at__isnull=True)
            ),
            models.Index(fields=["reason_code"], name="idx_blockers_reason"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    reason_code__in=[
                        "missing_approval",
                        "missing_info",
                        "missing_dependency",
                        "missing_resource",
                        "missing_credential",
                        "technical_failure",
                        "external_wait",
                        "other",
                    ]
                ),
                name="blockers_reason_code_check",
            ),
            models.CheckConstraint(
                condition=Q(severity__in=["blocking", "warning"]), name="blockers_severity_check"
            ),
        ]


class WorkRequiredCapability(ContractModel):
    """A capability a work item needs (composite key: work, capability)."""

    pk = models.CompositePrimaryKey("work_id", "capability_id")
    work = models.ForeignKey(
        RoadmapItem,
        on_delete=models.DO_NOTHING,
        db_column="work_id",
        db_index=False,
        related_name="work_required_capabilities",
    )
    capability_id = ShortTextField()
    required_at = TimestampField(default=utc_now, db_default=DbNow())
    required_by = ShortTextField(null=True, blank=True)

    class Meta:
        db_table = "work_required_capabilities"
        indexes = [
            models.Index(fields=["capability_id"], name="idx_work_caps_capability"),
        ]


class KernelDecision(ContractModel):
    """Legacy append-only decision log kept for the `motus` tool."""

    id = ShortTextField(primary_key=True)
    work = models.ForeignKey(
        RoadmapItem,
        on_delete=models.DO_NOTHING,
        db_column="work_id",
        db_index=False,
        related_name="kernel_decisions",
        null=True,
        blank=True,
    )
    attempt_id = ShortTextField(null=True, blank=True)
    lease_id = ShortTextField(null=True, blank=True)
    decision_type = ShortTextField(
        choices=[
            ("approval", "Approval"),
            ("waiver", "Waiver"),
            ("review_passed", "Review passed"),
            ("review_rejected", "Review rejected"),
            ("plan_committed", "Plan committed"),
            ("completion_accepted", "Completion accepted"),
            ("escalation", "Escalation"),
            ("revocation", "Revocation"),
            ("draft_emitted", "Draft emitted"),
            ("draft_approved", "Draft approved"),
            ("draft_rejected", "Draft rejected"),
        ]
    )
    decision_summary = models.TextField()
    rationale = models.TextField(null=True, blank=True)
    alternatives_considered = models.TextField(null=True, blank=True)
    constraints = models.TextField(null=True, blank=True)
    outcome = ShortTextField(default="recorded", db_default="recorded")
    conditions = models.TextField(null=True, blank=True)
    supersedes_decision = models.ForeignKey(
        "self",
        on_delete=models.DO_NOTHING,
        db_column="supersedes_decision_id",
        db_index=False,
        related_name="superseded_by",
        null=True,
        blank=True,
    )
    related_decision = models.ForeignKey(
        "self",
        on_delete=models.DO_NOTHING,
        db_column="related_decision_id",
        db_index=False,
        related_name="related_from",
        null=True,
        blank=True,
    )
    decided_by = ShortTextField()
    decided_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "kernel_decisions"
        indexes = [
            models.Index(fields=["work"], name="idx_kernel_decisions_work"),
            models.Index(fields=["lease_id"], name="idx_kernel_decisions_lease"),
            models.Index(fields=["decision_type"], name="idx_kernel_decisions_type"),
            models.Index(fields=["supersedes_decision"], name="idx_kernel_decisions_supersedes"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    decision_type__in=[
                        "approval",
                        "waiver",
                        "review_passed",
                        "review_rejected",
                        "plan_committed",
                        "completion_accepted",
                        "escalation",
                        "revocation",
                        "draft_emitted",
                        "draft_approved",
                        "draft_rejected",
                    ]
                ),
                name="kernel_decisions_decision_type_check",
            ),
        ]


class KernelEvidence(ContractModel):
    """Legacy append-only evidence log kept for the `motus` tool."""

    id = ShortTextField(primary_key=True)
    work = models.ForeignKey(
        RoadmapItem,
        on_delete=models.DO_NOTHING,
        db_column="work_id",
        db_index=False,
        related_name="kernel_evidence",
        null=True,
        blank=True,
    )
    attempt_id = ShortTextField(null=True, blank=True)
    lease_id = ShortTextField(null=True, blank=True)
    evidence_type = ShortTextField(
        choices=[
            ("test_result", "Test result"),
            ("build_artifact", "Build artifact"),
            ("diff", "Diff"),
            ("log", "Log"),
            ("attestation", "Attestation"),
            ("screenshot", "Screenshot"),
            ("reference", "Reference"),
            ("document", "Document"),
            ("policy_bundle", "Policy bundle"),
            ("other", "Other"),
        ]
    )
    uri = ShortTextField(null=True, blank=True)
    sha256 = ShortTextField(null=True, blank=True)
    title = ShortTextField(null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    artifacts = models.TextField(null=True, blank=True)
    test_results = models.TextField(null=True, blank=True)
    diff_summary = models.TextField(null=True, blank=True)
    log_excerpt = models.TextField(null=True, blank=True)
    created_by = ShortTextField()
    created_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        verbose_name_plural = "kernel evidence"
        db_table = "kernel_evidence"
        indexes = [
            models.Index(fields=["work"], name="idx_kernel_evidence_work"),
            models.Index(fields=["lease_id"], name="idx_kernel_evidence_lease"),
            models.Index(fields=["evidence_type"], name="idx_kernel_evidence_type"),
            models.Index(fields=["sha256"], name="idx_kernel_evidence_hash"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    evidence_type__in=[
                        "test_result",
                        "build_artifact",
                        "diff",
                        "log",
                        "attestation",
                        "screenshot",
                        "reference",
                        "document",
                        "policy_bundle",
                        "other",
                    ]
                ),
                name="kernel_evidence_evidence_type_check",
            ),
        ]


class KernelOutcome(ContractModel):
    """Legacy append-only outcome (deliverable) log."""

    id = ShortTextField(primary_key=True)
    work = models.ForeignKey(
        RoadmapItem,
        on_delete=models.DO_NOTHING,
        db_column="work_id",
        db_index=False,
        related_name="kernel_outcomes",
        null=True,
        blank=True,
    )
    attempt_id = ShortTextField(null=True, blank=True)
    lease_id = ShortTextField(null=True, blank=True)
    outcome_type = ShortTextField()
    path = ShortTextField(null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    metadata = models.TextField(null=True, blank=True)
    created_by = ShortTextField()
    created_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "kernel_outcomes"
        indexes = [
            models.Index(fields=["work"], name="idx_kernel_outcomes_work"),
            models.Index(fields=["lease_id"], name="idx_kernel_outcomes_lease"),
            models.Index(fields=["outcome_type"], name="idx_kernel_outcomes_type"),
        ]


class Lease(ContractModel):
    """A lock on a resource; active while not released and not expired."""

    id = ShortTextField(primary_key=True)
    resource_type = ShortTextField()
    resource_id = ShortTextField()
    mode = ShortTextField(
        choices=[("read", "Read"), ("write", "Write"), ("exclusive", "Exclusive")]
    )
    worker_id = ShortTextField()
    attempt = models.ForeignKey(
        Attempt,
        on_delete=models.DO_NOTHING,
        db_column="attempt_id",
        db_index=False,
        related_name="leases",
        null=True,
        blank=True,
    )
    acquired_at = TimestampField(default=utc_now, db_default=DbNow())
    ttl_seconds = models.IntegerField()
    expires_at = TimestampField()
    last_heartbeat = TimestampField(null=True, blank=True)
    released_at = TimestampField(null=True, blank=True)

    class Meta:
        db_table = "leases"
        permissions = [
            ("hold_lease", "Can hold bare leases"),
            ("force_release_lease", "Can force-release anyone's lease"),
        ]
        indexes = [
            models.Index(fields=["resource_type", "resource_id"], name="idx_leases_resource"),
            models.Index(fields=["worker_id"], name="idx_leases_worker"),
            models.Index(
                fields=["resource_type", "resource_id"],
                name="idx_leases_active",
                condition=Q(released_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(mode__in=["read", "write", "exclusive"]), name="leases_mode_check"
            ),
        ]


class Event(ContractModel):
    """Lease lifecycle log shared with the `motus` lease store (no FK by design)."""

    event_id = ShortTextField(primary_key=True)
    lease_id = ShortTextField()
    event_type = ShortTextField()
    payload = models.TextField()
    created_at = ShortTextField()

    class Meta:
        db_table = "events"
        indexes = [
            models.Index(fields=["lease_id"], name="idx_events_lease"),
        ]
