"""Incidents: failures in an environment, linked to the deployment (and so the release) that caused them."""

from django.db import models

from incidents.choices import IncidentStatus, Severity
from opsportal.clock import now_ms
from opsportal.ids import new_id
from opsportal.limits import DESCRIPTION_MAX_LENGTH


class Incident(models.Model):
    """A failure seen in an environment (own collection: unbounded, DESIGN §3).

    `deployment` names the deployment that caused it (optional: it may be linked after triage);
    `release` is that deployment's release, kept by the services so that filters and the evidence of a
    release read one collection. `status` follows `resolved_at`. `external_id` (the id in PagerDuty,
    Opsgenie, Jira…) is unique when set: reporting the same external incident twice is refused.
    The DORA metrics count deployments linked to incidents as failures when
    `OPSPORTAL_DORA_FAILURE_SOURCE` is `incidents` (`releases.dora`).
    """

    # Stored as `_id` on MongoDB, so lookups by id use the built-in `_id` index (DESIGN §3).
    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False, db_column="_id")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH)
    severity = models.CharField(max_length=20, choices=Severity.choices, default=Severity.HIGH)
    status = models.CharField(max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    environment = models.ForeignKey("environments.Environment", on_delete=models.PROTECT, related_name="incidents")
    deployment = models.ForeignKey(
        "releases.Deployment", null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    release = models.ForeignKey(
        "releases.Release", null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    started_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    # NULL when not set: a unique index ignores NULLs on SQLite and is partial on MongoDB (DESIGN §3).
    external_id = models.CharField(max_length=200, null=True, blank=True, unique=True)
    url = models.URLField(blank=True, default="", max_length=500)
    reported_by = models.CharField(max_length=150, blank=True, default="")
    resolved_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(default=now_ms, editable=False)
    updated_at = models.DateTimeField(default=now_ms, editable=False)
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-started_at", "id"]
        indexes = [
            models.Index(fields=["-started_at", "id"], name="incident_started_idx"),
            models.Index(fields=["environment", "-started_at"], name="incident_env_started_idx"),
            models.Index(fields=["status", "-started_at"], name="incident_status_idx"),
            models.Index(fields=["severity", "-started_at"], name="incident_severity_idx"),
            models.Index(fields=["deployment"], name="incident_deployment_idx"),
            models.Index(fields=["release", "-started_at"], name="incident_release_idx"),
            # `external_id` is unique (a partial index on MongoDB, unused for equality lookups).
            models.Index(fields=["external_id"], name="incident_external_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.severity}, {self.status})"
