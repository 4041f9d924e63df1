"""Audit events as the API shows them, from `.values()` rows (issue #18, see `opsportal.api.rows`):
exactly what `AuditEventSerializer` returns for the same event."""

from __future__ import annotations

from typing import Any

from audit.api.serializers import AuditEventSerializer

# The serializer's fields, all stored ones: the row is the event as stored.
AUDIT_EVENT_ROW = tuple(AuditEventSerializer.Meta.fields)


def audit_event_data(row: dict[str, Any]) -> dict[str, Any]:
    """`AuditEventSerializer`'s shape (`changes` keyed by strings, as its DictField makes them)."""
    return {
        **row,
        "changes": {str(key): value for key, value in row["changes"].items()},
    }
