"""Filters of the roadmap's list endpoints (``?status=pending&phase=phase_a&q=login``)."""

import django_filters
from django.db.models import Q

from roadmap.models import Claim, DeploymentEvent, RoadmapAssignment, RoadmapItem


class RoadmapItemFilterSet(django_filters.FilterSet):
    status = django_filters.CharFilter(field_name="status_key")
    phase = django_filters.CharFilter(field_name="phase_key")
    q = django_filters.CharFilter(method="search", help_text="Text in id, title or description.")

    class Meta:
        model = RoadmapItem
        fields = ["owner", "item_type", "feature_id", "cr_id", "external_id"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(id__icontains=value) | Q(title__icontains=value) | Q(description__icontains=value)
        )


class AssignmentFilterSet(django_filters.FilterSet):
    item_id = django_filters.CharFilter(field_name="item_id")

    class Meta:
        model = RoadmapAssignment
        fields = ["agent_id", "role", "status", "assigned_by"]


class ClaimFilterSet(django_filters.FilterSet):
    class Meta:
        model = Claim
        fields = ["page", "claim_type", "test_status"]


class DeploymentEventFilterSet(django_filters.FilterSet):
    class Meta:
        model = DeploymentEvent
        fields = ["target", "status", "triggered_by"]
