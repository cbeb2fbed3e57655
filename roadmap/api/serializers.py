"""Request validation and response shapes of the roadmap API. Terminology keys and enum
values are checked here, before the database sees them."""

from __future__ import annotations

from rest_framework import serializers

from programs.models import ChangeRequest, Feature
from roadmap.models import (
    Claim,
    DeploymentEvent,
    RoadmapAssignment,
    RoadmapDependency,
    RoadmapItem,
    VBlockedItems,
    VCanDeploy,
    VDeployBlockers,
    VRoadmapProgress,
)
from system.api.serializers import (
    Int64Field,
    LeanSerializer,
    NextActionSerializer,
    RowSerializer,
    TerminologyKey,
    Timestamp,
    model_choices,
)


def _existing(model, pk):
    """A link to another row must point at one (checked before the foreign key is)."""
    if pk is not None and not model.objects.filter(pk=pk).exists():
        raise serializers.ValidationError(f"No {model._meta.verbose_name} {pk!r}.")
    return pk


class RoadmapItemSerializer(RowSerializer):
    feature_id = serializers.CharField(read_only=True, allow_null=True)
    cr_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = RoadmapItem
        exclude = ["feature", "cr"]


class ItemWriteSerializer(LeanSerializer):
    """Fields a caller may set; ``status_key`` changes meet the status triggers."""

    title = serializers.CharField(max_length=500)
    phase_key = TerminologyKey("roadmap_phase")
    status_key = TerminologyKey("roadmap_status", required=False)
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    owner = serializers.CharField(required=False, allow_null=True)
    item_type = serializers.ChoiceField(
        choices=model_choices(RoadmapItem, "item_type"), required=False
    )
    rank = serializers.FloatField(required=False, allow_null=True)
    sort_order = Int64Field(required=False)
    target_date = serializers.CharField(required=False, allow_null=True)
    scope = serializers.CharField(required=False)
    feature_id = serializers.CharField(required=False, allow_null=True)
    cr_id = serializers.CharField(required=False, allow_null=True)
    external_id = serializers.CharField(required=False, allow_null=True)
    external_url = serializers.CharField(required=False, allow_null=True)
    reason = serializers.CharField(
        required=False,
        write_only=True,
        help_text="Why: required when status_key is set directly (a lead's override).",
    )

    def validate_feature_id(self, value):
        return _existing(Feature, value)

    def validate_cr_id(self, value):
        return _existing(ChangeRequest, value)


class ItemCreateSerializer(ItemWriteSerializer):
    id = serializers.RegexField(
        r"^[^/\s]+$",
        required=False,
        max_length=200,
        help_text="Optional; agents may only use ids starting with ADHOC- (generated if omitted).",
    )


class ItemDeleteSerializer(LeanSerializer):
    detach_dependents = serializers.BooleanField(
        default=False,
        help_text="Also remove the blocks-dependencies of unfinished items on this one "
        "(otherwise such an item cannot be deleted).",
    )
    reason = serializers.CharField(required=False, help_text="Recorded in the audit trail.")


class DependencySerializer(RowSerializer):
    item_id = serializers.CharField(read_only=True)
    depends_on_id = serializers.CharField()

    class Meta:
        model = RoadmapDependency
        fields = [
            "item_id",
            "depends_on_id",
            "dependency_type",
            "created_at",
            "created_by",
            "notes",
        ]
        read_only_fields = ["created_at", "created_by"]


class LinkedItemSerializer(LeanSerializer):
    id = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    dependency_type = serializers.CharField()


class UnmetPrerequisiteSerializer(LeanSerializer):
    id = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    item_type = serializers.CharField()
    depth = serializers.IntegerField(help_text="Shallowest level at which it is reached.")


class ActiveAttemptSummarySerializer(LeanSerializer):
    """The item's active attempt (the kernel's, RULES.md 3.2)."""

    id = serializers.CharField()
    worker_id = serializers.CharField()
    started_at = Timestamp()
    contract_hash = serializers.CharField(allow_null=True)


class WorkCountsSerializer(LeanSerializer):
    evidence = serializers.IntegerField()
    decisions = serializers.IntegerField()
    open_blockers = serializers.IntegerField()
    blockers = serializers.IntegerField()


class ItemDetailSerializer(RoadmapItemSerializer):
    """The item, its direct dependencies and dependents, its distinct unmet prerequisites
    (transitive, with depth) and the kernel's view of it: the active attempt, counts, and
    what the caller may do about the item now."""

    dependencies = LinkedItemSerializer(many=True, read_only=True)
    dependents = LinkedItemSerializer(many=True, read_only=True)
    unmet_prerequisites = UnmetPrerequisiteSerializer(many=True, read_only=True)
    active_attempt = ActiveAttemptSummarySerializer(read_only=True, allow_null=True)
    counts = WorkCountsSerializer(read_only=True)
    next_actions = NextActionSerializer(many=True, read_only=True)


class AssignmentSerializer(RowSerializer):
    item_id = serializers.CharField()
    agent_id = serializers.CharField(
        required=False, help_text="The assignee; defaults to the caller's identity."
    )

    class Meta:
        model = RoadmapAssignment
        exclude = ["item"]
        read_only_fields = ["assigned_at", "assigned_by", "started_at", "completed_at", "status"]
        # The UNIQUE (item, agent, role) constraint answers a duplicate (409), so agent_id
        # can default to the caller instead of being required by a serializer validator.
        validators = []


class ClaimSerializer(RowSerializer):
    claim_text = serializers.CharField(min_length=5)

    class Meta:
        model = Claim
        fields = "__all__"
        read_only_fields = ["last_verified_at", "created_at", "updated_at"]

    def validate(self, attrs):
        claim_type = attrs.get("claim_type", getattr(self.instance, "claim_type", None))
        test_function = attrs.get("test_function", getattr(self.instance, "test_function", None))
        if claim_type == "quantitative" and not test_function:
            raise serializers.ValidationError(
                {"test_function": ["A quantitative claim needs its test function."]}
            )
        return attrs


class DeploymentEventSerializer(RowSerializer):
    class Meta:
        model = DeploymentEvent
        fields = "__all__"
        read_only_fields = ["triggered_by", "created_at", "completed_at"]


class BlockedItemSerializer(RowSerializer):
    class Meta:
        model = VBlockedItems
        fields = "__all__"


class RoadmapProgressSerializer(RowSerializer):
    class Meta:
        model = VRoadmapProgress
        fields = "__all__"


class CanDeploySerializer(RowSerializer):
    class Meta:
        model = VCanDeploy
        fields = "__all__"


class DeployBlockerSerializer(RowSerializer):
    class Meta:
        model = VDeployBlockers
        fields = "__all__"
