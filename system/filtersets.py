"""Filters of the system app's list endpoints."""

import django_filters

from system.models import AuditLog


class AuditLogFilterSet(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")

    class Meta:
        model = AuditLog
        fields = ["actor", "resource_type", "resource_id", "action", "event_type"]
