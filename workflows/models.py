"""Promotion paths releases follow."""

from django.db import models

from opsportal.schemas import JSONSchemaValidator


class Workflow(models.Model):
    """Ordered stages (environment, requires_approval) and triggers (event, action, params).

    A release following a workflow may enter stage N only after succeeding in stage N-1.
    """

    id = models.SlugField(primary_key=True, max_length=64)
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, default="")
    active = models.BooleanField(default=True)
    stages = models.JSONField(
        default=list, blank=True, validators=[JSONSchemaValidator("workflows.schemas.STAGES", "stages")]
    )
    triggers = models.JSONField(
        default=list, blank=True, validators=[JSONSchemaValidator("workflows.schemas.TRIGGERS", "triggers")]
    )
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["active"], name="workflow_active_idx")]

    def __str__(self) -> str:
        return self.name
