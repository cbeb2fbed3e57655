"""Response shapes of the programs API and the one request it takes: filing a bug.

Links to other rows are given as ``*_id`` (the row's key). Terminology keys and links of a
new bug are checked here, before the database sees them, so bad input is a 400 with field
errors.
"""

from __future__ import annotations

from rest_framework import serializers

from programs import services
from programs.models import (
    Bug,
    ChangeRequest,
    CharterDoc,
    Feature,
    Product,
    Program,
    Release,
    Standard,
)
from system.api.serializers import LeanSerializer, RowSerializer, TerminologyKey, Timestamp

# Reading.


class ProgramSerializer(RowSerializer):
    class Meta:
        model = Program
        fields = "__all__"


class ProductSerializer(RowSerializer):
    program_id = serializers.CharField(read_only=True)

    class Meta:
        model = Product
        exclude = ["program"]


class FeatureSerializer(RowSerializer):
    product_id = serializers.CharField(read_only=True)

    class Meta:
        model = Feature
        exclude = ["product"]


class ReleaseSerializer(RowSerializer):
    product_id = serializers.CharField(read_only=True)

    class Meta:
        model = Release
        exclude = ["product"]


class ChangeRequestSerializer(RowSerializer):
    product_id = serializers.CharField(read_only=True, allow_null=True)
    feature_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = ChangeRequest
        exclude = ["product", "feature"]


class LinkedChangeRequestSerializer(LeanSerializer):
    """One end of a ``cr_dependencies`` edge, with what the caller needs to judge it."""

    id = serializers.CharField()
    title = serializers.CharField()
    status_key = serializers.CharField()
    # Plain text, not an enum: the roadmap's dependency types are another set of values.
    dependency_type = serializers.CharField(help_text="blocks, related or supersedes.")
    created_at = Timestamp()


class ChangeRequestDetailSerializer(ChangeRequestSerializer):
    """The change request, the live CRs it depends on, and the live CRs depending on it."""

    dependencies = LinkedChangeRequestSerializer(many=True, read_only=True)
    dependents = LinkedChangeRequestSerializer(many=True, read_only=True)

    class Meta(ChangeRequestSerializer.Meta):
        pass


class BugSerializer(RowSerializer):
    feature_id = serializers.CharField(read_only=True)
    fix_cr_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Bug
        exclude = ["feature", "fix_cr"]


class StandardSerializer(RowSerializer):
    class Meta:
        model = Standard
        fields = "__all__"


class StandardAssignmentSerializer(LeanSerializer):
    entity_type = serializers.CharField()
    entity_id = serializers.CharField()
    is_inherited = serializers.BooleanField()


class StandardDetailSerializer(StandardSerializer):
    """The standard and the entities it is assigned to."""

    assignments = StandardAssignmentSerializer(many=True, read_only=True)

    class Meta(StandardSerializer.Meta):
        pass


class CharterSerializer(RowSerializer):
    class Meta:
        model = CharterDoc
        fields = "__all__"


# Filing a bug.

#: Set by a lead (in the admin), never by whoever files the bug.
LEAD_OWNED_BUG_FIELDS = ("assigned_to", "fix_cr_id", "fixed_in_version", "resolved_at")
DEFAULT_BUG_STATUS = services.DEFAULT_BUG_STATUS


class BugCreateSerializer(LeanSerializer):
    """What a reporter says about a bug. The reporter is the caller; the id is generated;
    status, assignee, fixing CR and fixed version are a lead's to set."""

    title = serializers.CharField(max_length=500)
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    feature_id = serializers.CharField(help_text="The live feature the bug is in.")
    feature_version = serializers.CharField(
        required=False,
        max_length=200,
        help_text="The version of the feature it was seen in (default: the feature's current "
        "version).",
    )
    severity_key = TerminologyKey("bug_severity", required=False)
    status_key = serializers.CharField(
        required=False,
        help_text=f"Only {DEFAULT_BUG_STATUS!r} (the default): a lead moves it on from there.",
    )

    def validate_feature_id(self, value):
        if not Feature.objects.live().filter(pk=value).exists():
            raise serializers.ValidationError(f"No feature {value!r}.")
        return value

    def validate_status_key(self, value):
        if value != DEFAULT_BUG_STATUS:
            raise serializers.ValidationError(
                f"A new bug is {DEFAULT_BUG_STATUS!r}; only a lead changes its status."
            )
        return value

    def validate(self, attrs):
        lead_owned = [name for name in LEAD_OWNED_BUG_FIELDS if name in self.initial_data]
        if lead_owned:
            raise serializers.ValidationError(
                {name: ["Set by a lead, not when filing a bug."] for name in lead_owned}
            )
        if "feature_version" not in attrs:
            version = (
                Feature.objects.filter(pk=attrs["feature_id"])
                .values_list("version", flat=True)
                .first()
            )
            if not version:
                raise serializers.ValidationError(
                    {"feature_version": ["Required: the feature has no current version."]}
                )
            attrs["feature_version"] = version
        return attrs
