"""Filters of the audit-events list."""

import django_filters

from audit.models import AuditEvent


class AuditEventFilterSet(django_filters.FilterSet):
    at_after = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte", label="At or after (ISO 8601)")
    at_before = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt", label="Before (ISO 8601)")

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "object_type", "object_id"]
