"""Severity and status of incidents (issue #13)."""

from django.db import models


class Severity(models.TextChoices):
    """GitLab's incident severities, most severe first."""

    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class IncidentStatus(models.TextChoices):
    """`open` until `resolved_at` is set (by `incident_resolve`, or on create for a past incident)."""

    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
