"""Filters of the kernel's list endpoints (``?work_id=…&active=true``)."""

import django_filters
from django.db.models import Q

from kernel.models import (
    Attempt,
    Blocker,
    Decision,
    Evidence,
    KernelDecision,
    KernelEvidence,
    KernelOutcome,
    Lease,
)
from roadmap.models import VReadyItems
from system.fields import utc_now


class ReadyWorkFilterSet(django_filters.FilterSet):
    phase = django_filters.CharFilter(field_name="phase_key")

    class Meta:
        model = VReadyItems
        fields = ["owner"]


class AttemptFilterSet(django_filters.FilterSet):
    work_id = django_filters.CharFilter(field_name="work_id")
    active = django_filters.BooleanFilter(field_name="ended_at", lookup_expr="isnull")

    class Meta:
        model = Attempt
        fields = ["worker_id", "worker_type", "outcome"]


class EvidenceFilterSet(django_filters.FilterSet):
    work_id = django_filters.CharFilter(field_name="work_id")
    attempt_id = django_filters.CharFilter(field_name="attempt_id")

    class Meta:
        model = Evidence
        fields = ["evidence_type", "created_by", "sha256"]


class DecisionFilterSet(django_filters.FilterSet):
    work_id = django_filters.CharFilter(field_name="work_id")
    attempt_id = django_filters.CharFilter(field_name="attempt_id")
    supersedes_decision_id = django_filters.CharFilter(field_name="supersedes_decision_id")

    class Meta:
        model = Decision
        fields = ["decision_type", "decided_by"]


class BlockerFilterSet(django_filters.FilterSet):
    work_id = django_filters.CharFilter(field_name="work_id")
    attempt_id = django_filters.CharFilter(field_name="attempt_id")
    open = django_filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull")

    class Meta:
        model = Blocker
        fields = ["reason_code", "severity", "created_by"]


class KernelDecisionFilterSet(django_filters.FilterSet):
    work_id = django_filters.CharFilter(field_name="work_id")

    class Meta:
        model = KernelDecision
        fields = ["attempt_id", "lease_id", "decision_type"]


class KernelEvidenceFilterSet(django_filters.FilterSet):
    work_id = django_filters.CharFilter(field_name="work_id")

    class Meta:
        model = KernelEvidence
        fields = ["attempt_id", "lease_id", "evidence_type"]


class KernelOutcomeFilterSet(django_filters.FilterSet):
    work_id = django_filters.CharFilter(field_name="work_id")

    class Meta:
        model = KernelOutcome
        fields = ["attempt_id", "lease_id", "outcome_type"]


def active_leases() -> Q:
    """Not released and not yet expired: expired leases stop counting with no cleanup."""
    return Q(released_at__isnull=True, expires_at__gt=utc_now())


class LeaseFilterSet(django_filters.FilterSet):
    active = django_filters.BooleanFilter(
        method="filter_active", help_text="Only active (default) or only inactive leases."
    )
    attempt_id = django_filters.CharFilter(field_name="attempt_id")

    class Meta:
        model = Lease
        fields = ["resource_type", "resource_id", "mode", "worker_id"]

    def filter_active(self, queryset, name, value):
        return queryset.filter(active_leases() if value else ~active_leases())
