"""Promotion paths releases follow."""

from django.db import models

from opsportal.document_models import NamedDocument
from opsportal.schemas import JSONSchemaValidator


class Workflow(NamedDocument):
    """Ordered stages (environment, requires_approval) and triggers (event, action, params).

    A release following a workflow may enter stage N only after succeeding in stage N-1.
    """

    active = models.BooleanField(default=True)
    stages = models.JSONField(
        default=list, blank=True, validators=[JSONSchemaValidator("workflows.schemas.STAGES", "stages")]
    )
    triggers = models.JSONField(
        default=list, blank=True, validators=[JSONSchemaValidator("workflows.schemas.TRIGGERS", "triggers")]
    )

    class Meta(NamedDocument.Meta):
        indexes = [*NamedDocument.Meta.indexes, models.Index(fields=["active"], name="workflow_active_idx")]
