"""Tables of the `roadmap` app: items, dependencies, assignments, claims and deploys.

Mirrors ``schema.json``; triggers and views live in ``migrations/sql/<vendor>/``.
"""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual

from programs.models import ChangeRequest, Feature
from system.fields import (
    DbNow,
    ShortTextField,
    TerminologyKeyField,
    TimestampField,
    utc_now,
)
from system.models import LIVE, ContractModel


class RoadmapItem(ContractModel):
    """A planning item: the "work" that attempts, evidence and blockers refer to."""

    touches_updated_at = True

    id = ShortTextField(primary_key=True)
    phase_key = TerminologyKeyField(domain="roadmap_phase")
    title = ShortTextField()
    description = models.TextField(null=True, blank=True)
    status_key = TerminologyKeyField(
        domain="roadmap_status", default="pending", db_default="pending"
    )
    owner = ShortTextField(null=True, blank=True)
    scope = ShortTextField(default="user", db_default="user")
    feature = models.ForeignKey(
        Feature,
        on_delete=models.DO_NOTHING,
        db_column="feature_id",
        db_index=False,
        related_name="roadmap_items",
        null=True,
        blank=True,
    )
    cr = models.ForeignKey(
        ChangeRequest,
        on_delete=models.DO_NOTHING,
        db_column="cr_id",
        db_index=False,
        related_name="roadmap_items",
        null=True,
        blank=True,
    )
    target_date = ShortTextField(null=True, blank=True)
    completed_at = TimestampField(null=True, blank=True)
    sort_order = models.IntegerField(default=0, db_default=0)
    created_by = ShortTextField(null=True, blank=True)
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    updated_at = TimestampField(default=utc_now, db_default=DbNow())
    deleted_at = TimestampField(null=True, blank=True)
    rank = models.FloatField(null=True, blank=True)
    item_type = ShortTextField(
        choices=[
            ("work", "Work"),
            ("gate", "Gate"),
            ("holding", "Holding"),
            ("integration", "Integration"),
        ],
        default="work",
        db_default="work",
    )
    external_id = ShortTextField(null=True, blank=True)
    external_url = ShortTextField(null=True, blank=True)
    raw_status = ShortTextField(null=True, blank=True)
    raw_type = ShortTextField(null=True, blank=True)

    class Meta:
        db_table = "roadmap_items"
        permissions = [
            ("add_adhoc_item", "Can create ad-hoc items and change own ones"),
            ("override_status", "Can set an item's status directly"),
        ]
        indexes = [
            models.Index(fields=["phase_key"], name="idx_roadmap_phase", condition=LIVE),
            models.Index(fields=["status_key"], name="idx_roadmap_status", condition=LIVE),
            models.Index(
                fields=["phase_key", "sort_order"], name="idx_roadmap_sort", condition=LIVE
            ),
            models.Index(fields=["phase_key", "rank"], name="idx_roadmap_rank", condition=LIVE),
            models.Index(fields=["external_id"], name="idx_roadmap_external_id", condition=LIVE),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(item_type__in=["work", "gate", "holding", "integration"]),
                name="roadmap_items_item_type_check",
            ),
        ]


class RoadmapDependency(ContractModel):
    """Edge "item depends on depends_on" (blocks, soft or related)."""

    pk = models.CompositePrimaryKey("item_id", "depends_on_id")
    item = models.ForeignKey(
        RoadmapItem,
        on_delete=models.DO_NOTHING,
        db_column="item_id",
        db_index=False,
        related_name="dependencies",
    )
    depends_on = models.ForeignKey(
        RoadmapItem,
        on_delete=models.DO_NOTHING,
        db_column="depends_on_id",
        db_index=False,
        related_name="dependents",
    )
    dependency_type = ShortTextField(
        choices=[("blocks", "Blocks"), ("soft", "Soft"), ("related", "Related")],
        default="blocks",
        db_default="blocks",
    )
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    created_by = ShortTextField(null=True, blank=True)
    notes = models.TextField(null=True, blank=True)

    class Meta:
        db_table = "roadmap_dependencies"
        indexes = [
            models.Index(fields=["item"], name="idx_roadmap_dep_item"),
            models.Index(fields=["depends_on"], name="idx_roadmap_dep_depends"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(dependency_type__in=["blocks", "soft", "related"]),
                name="roadmap_dependencies_dependency_type_check",
            ),
            models.CheckConstraint(
                condition=~Q(item_id=F("depends_on_id")),
                name="roadmap_dependencies_item_id_depends_on_id_check",
            ),
        ]


class RoadmapAssignment(ContractModel):
    """Who works on an item in which role."""

    id = models.AutoField(primary_key=True)
    item = models.ForeignKey(
        RoadmapItem,
        on_delete=models.DO_NOTHING,
        db_column="item_id",
        db_index=False,
        related_name="roadmap_assignments",
    )
    agent_id = ShortTextField()
    role = ShortTextField(
        choices=[
            ("implementer", "Implementer"),
            ("reviewer", "Reviewer"),
            ("owner", "Owner"),
            ("observer", "Observer"),
        ],
        default="implementer",
        db_default="implementer",
    )
    assigned_at = TimestampField(default=utc_now, db_default=DbNow())
    assigned_by = ShortTextField(null=True, blank=True)
    started_at = TimestampField(null=True, blank=True)
    completed_at = TimestampField(null=True, blank=True)
    status = ShortTextField(
        choices=[
            ("assigned", "Assigned"),
            ("active", "Active"),
            ("completed", "Completed"),
            ("dropped", "Dropped"),
        ],
        default="assigned",
        db_default="assigned",
    )
    notes = models.TextField(null=True, blank=True)

    class Meta:
        db_table = "roadmap_assignments"
        indexes = [
            models.Index(fields=["item"], name="idx_assignment_item"),
            models.Index(fields=["agent_id"], name="idx_assignment_agent"),
            models.Index(
                fields=["status"], name="idx_assignment_status", condition=Q(status="active")
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["item_id", "agent_id", "role"],
                name="roadmap_assignments_item_id_agent_id_role_uniq",
            ),
            models.CheckConstraint(
                condition=Q(role__in=["implementer", "reviewer", "owner", "observer"]),
                name="roadmap_assignments_role_check",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["assigned", "active", "completed", "dropped"]),
                name="roadmap_assignments_status_check",
            ),
        ]


class AssignmentPrerequisite(ContractModel):
    """An open prerequisite surfaced when an item was assigned (by trigger)."""

    id = models.AutoField(primary_key=True)
    source_assignment = models.ForeignKey(
        RoadmapAssignment,
        on_delete=models.DO_NOTHING,
        db_column="source_assignment_id",
        db_index=False,
        related_name="assignment_prerequisites",
    )
    prerequisite_item = models.ForeignKey(
        RoadmapItem,
        on_delete=models.DO_NOTHING,
        db_column="prerequisite_item_id",
        db_index=False,
        related_name="assignment_prerequisites",
    )
    depth = models.IntegerField()
    surfaced_at = TimestampField(default=utc_now, db_default=DbNow())
    resolved_at = TimestampField(null=True, blank=True)

    class Meta:
        db_table = "assignment_prerequisites"
        indexes = [
            models.Index(fields=["source_assignment"], name="idx_prereq_source"),
            models.Index(
                fields=["prerequisite_item"],
                name="idx_prereq_unresolved",
                condition=Q(resolved_at__isnull=True),
            ),
        ]


class PlanEvent(ContractModel):
    """Inbound planning event, deduplicated by idempotency key."""

    event_id = ShortTextField(primary_key=True)
    idempotency_key = ShortTextField()
    ts = ShortTextField()
    actor = ShortTextField()
    actor_type = ShortTextField(
        choices=[("user", "User"), ("service", "Service"), ("agent", "Agent"), ("system", "System")]
    )
    source = ShortTextField()
    event_type = ShortTextField()
    item_id = ShortTextField(null=True, blank=True)
    external_id = ShortTextField(null=True, blank=True)
    payload = models.TextField()
    expected_version = ShortTextField(null=True, blank=True)
    conflict_policy = ShortTextField(null=True, blank=True)
    received_at = TimestampField(default=utc_now, db_default=DbNow())
    processed_at = TimestampField(null=True, blank=True)
    process_result = ShortTextField(
        choices=[("applied", "Applied"), ("rejected", "Rejected"), ("conflict", "Conflict")],
        null=True,
        blank=True,
    )

    class Meta:
        db_table = "plan_events"
        indexes = [
            models.Index(fields=["item_id"], name="idx_plan_events_item"),
            models.Index(fields=["ts"], name="idx_plan_events_ts"),
            models.Index(fields=["source"], name="idx_plan_events_source"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], name="plan_events_idempotency_key_uniq"
            ),
            models.CheckConstraint(
                condition=Q(actor_type__in=["user", "service", "agent", "system"]),
                name="plan_events_actor_type_check",
            ),
            models.CheckConstraint(
                condition=Q(process_result__in=["applied", "rejected", "conflict"]),
                name="plan_events_process_result_check",
            ),
        ]


class Claim(ContractModel):
    """A statement on the website that must be verified before a deploy."""

    touches_updated_at = True

    id = ShortTextField(primary_key=True)
    claim_text = models.TextField()
    page = ShortTextField()
    claim_type = ShortTextField(
        choices=[("quantitative", "Quantitative"), ("qualitative", "Qualitative")]
    )
    test_file = ShortTextField(null=True, blank=True)
    test_function = ShortTextField(null=True, blank=True)
    test_status = ShortTextField(
        choices=[("pending", "Pending"), ("pass", "Pass"), ("fail", "Fail"), ("stale", "Stale")],
        null=True,
        blank=True,
        default="pending",
        db_default="pending",
    )
    last_verified_at = TimestampField(null=True, blank=True)
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    updated_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "claims"
        permissions = [
            ("record_test_result", "Can record claim test results and deployments"),
        ]
        indexes = [
            models.Index(fields=["test_status"], name="idx_claims_status"),
            models.Index(fields=["page"], name="idx_claims_page"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=GreaterThanOrEqual(Length("claim_text"), 5),
                name="claims_claim_text_check",
            ),
            models.CheckConstraint(
                condition=Q(claim_type__in=["quantitative", "qualitative"]),
                name="claims_claim_type_check",
            ),
            models.CheckConstraint(
                condition=Q(test_status__in=["pending", "pass", "fail", "stale"]),
                name="claims_test_status_check",
            ),
            models.CheckConstraint(
                condition=~Q(claim_type="quantitative") | Q(test_function__isnull=False),
                name="claims_claim_type_test_function_check",
            ),
        ]


class DeploymentEvent(ContractModel):
    """A deployment; website deploys are gated by the claims."""

    id = models.AutoField(primary_key=True)
    target = ShortTextField(choices=[("website", "Website"), ("pypi", "Pypi"), ("docs", "Docs")])
    version = ShortTextField()
    status = ShortTextField(
        choices=[
            ("pending", "Pending"),
            ("in_progress", "In progress"),
            ("success", "Success"),
            ("failed", "Failed"),
            ("blocked", "Blocked"),
        ],
        default="pending",
        db_default="pending",
    )
    triggered_by = ShortTextField(null=True, blank=True)
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    completed_at = TimestampField(null=True, blank=True)

    class Meta:
        db_table = "deployment_events"
        constraints = [
            models.CheckConstraint(
                condition=Q(target__in=["website", "pypi", "docs"]),
                name="deployment_events_target_check",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "in_progress", "success", "failed", "blocked"]),
                name="deployment_events_status_check",
            ),
        ]


# Views (read-only; created by migrations/sql/<vendor>/0003_views.sql).


class VReadyItems(models.Model):
    """Live pending items with no unmet blocking dependency, by phase and rank."""

    id = ShortTextField(primary_key=True)
    title = ShortTextField(null=True)
    phase_key = ShortTextField(null=True)
    owner = ShortTextField(null=True)
    rank = models.FloatField(null=True)

    class Meta:
        managed = False
        db_table = "v_ready_items"


class VBlockedItems(models.Model):
    """Live unfinished items held up by unfinished blocking dependencies."""

    id = ShortTextField(primary_key=True)
    title = ShortTextField(null=True)
    phase_key = ShortTextField(null=True)
    status_key = ShortTextField(null=True)
    blocking_count = models.IntegerField(null=True)
    blocking_items = ShortTextField(null=True)

    class Meta:
        managed = False
        db_table = "v_blocked_items"


class VDependencyGraph(models.Model):
    """Edge list between live items, for drawing the graph."""

    pk = models.CompositePrimaryKey("from_id", "to_id")
    from_id = ShortTextField()
    from_title = ShortTextField(null=True)
    from_status = ShortTextField(null=True)
    to_id = ShortTextField()
    to_title = ShortTextField(null=True)
    to_status = ShortTextField(null=True)
    dependency_type = ShortTextField(null=True)

    class Meta:
        managed = False
        db_table = "v_dependency_graph"


class VPrerequisiteChain(models.Model):
    """Transitive blocking prerequisites, one row per path (never read on a hot path)."""

    pk = models.CompositePrimaryKey("root_item_id", "path")
    root_item_id = ShortTextField()
    prereq_id = ShortTextField(null=True)
    prereq_title = ShortTextField(null=True)
    prereq_status = ShortTextField(null=True)
    depth = models.IntegerField(null=True)
    path = ShortTextField()
    is_complete = models.IntegerField(null=True)

    class Meta:
        managed = False
        db_table = "v_prerequisite_chain"


class VAssignmentWithPrerequisites(models.Model):
    """Each assignment with its item's readiness and unmet prerequisites."""

    assignment_id = models.IntegerField(primary_key=True)
    item_id = ShortTextField(null=True)
    item_title = ShortTextField(null=True)
    agent_id = ShortTextField(null=True)
    role = ShortTextField(null=True)
    assignment_status = ShortTextField(null=True)
    item_status = ShortTextField(null=True)
    readiness = ShortTextField(null=True)
    unmet_prereq_count = models.IntegerField(null=True)
    immediate_blockers = ShortTextField(null=True)
    blocker_assignees = ShortTextField(null=True)

    class Meta:
        managed = False
        db_table = "v_assignment_with_prerequisites"


class VUnassignedPrerequisites(models.Model):
    """Open prerequisites still without an owner."""

    prerequisite_item_id = ShortTextField(primary_key=True)
    prereq_title = ShortTextField(null=True)
    phase_key = ShortTextField(null=True)
    status_key = ShortTextField(null=True)
    blocking_count = models.IntegerField(null=True)
    blocks_items = ShortTextField(null=True)
    min_depth = models.IntegerField(null=True)

    class Meta:
        managed = False
        db_table = "v_unassigned_prerequisites"


class VNextRank(models.Model):
    """Next free rank per phase."""

    phase_key = ShortTextField(primary_key=True)
    next_rank = models.FloatField(null=True)

    class Meta:
        managed = False
        db_table = "v_next_rank"


class VRoadmapWithDeps(models.Model):
    """Live items with dependency counts and active agents."""

    id = ShortTextField(primary_key=True)
    phase_key = ShortTextField(null=True)
    title = ShortTextField(null=True)
    status_key = ShortTextField(null=True)
    owner = ShortTextField(null=True)
    rank = models.FloatField(null=True)
    target_date = ShortTextField(null=True)
    blocking_dep_count = models.IntegerField(null=True)
    unmet_dep_count = models.IntegerField(null=True)
    active_agents = ShortTextField(null=True)

    class Meta:
        managed = False
        db_table = "v_roadmap_with_deps"


class VRoadmapProgress(models.Model):
    """Progress per phase."""

    phase_key = ShortTextField(primary_key=True)
    phase = ShortTextField(null=True)
    total_items = models.IntegerField(null=True)
    completed = models.IntegerField(null=True)
    in_progress = models.IntegerField(null=True)
    blocked = models.IntegerField(null=True)
    pct_complete = models.FloatField(null=True)

    class Meta:
        managed = False
        db_table = "v_roadmap_progress"


class VMissingPrereqs(models.Model):
    """Why an item cannot proceed: gates, blockers, soft dependencies."""

    pk = models.CompositePrimaryKey("item_id", "prereq_type", "prereq_id")
    item_id = ShortTextField()
    prereq_type = ShortTextField()
    prereq_id = ShortTextField()
    prereq_status = ShortTextField(null=True)
    prereq_title = ShortTextField(null=True)
    prereq_item_type = ShortTextField(null=True)

    class Meta:
        managed = False
        db_table = "v_missing_prereqs"


class VCanDeploy(models.Model):
    """Website deploy readiness (exactly one row)."""

    target = ShortTextField(primary_key=True)
    status = ShortTextField(null=True)
    failed_count = models.IntegerField(null=True)
    failed_claims = ShortTextField(null=True)

    class Meta:
        managed = False
        db_table = "v_can_deploy"


class VClaimsNeedingTests(models.Model):
    """Quantitative claims still pending a test."""

    id = ShortTextField(primary_key=True)
    claim_text = ShortTextField(null=True)
    page = ShortTextField(null=True)

    class Meta:
        managed = False
        db_table = "v_claims_needing_tests"


class VDeployBlockers(models.Model):
    """Failed or stale claims."""

    id = ShortTextField(primary_key=True)
    claim_text = ShortTextField(null=True)
    page = ShortTextField(null=True)
    test_function = ShortTextField(null=True)
    test_status = ShortTextField(null=True)
    last_verified_at = TimestampField(null=True)

    class Meta:
        managed = False
        db_table = "v_deploy_blockers"
