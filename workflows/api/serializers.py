"""Workflow payloads. Embedded stages and triggers carry their JSON Schema into OpenAPI."""

from opsportal.api.serializers import DocumentSerializer, DocumentUpdateSerializer
from workflows.models import Workflow


class WorkflowSerializer(DocumentSerializer):
    """A promotion path. On create, `id` defaults to the slug of `name`."""

    class Meta(DocumentSerializer.Meta):
        model = Workflow
        extra_kwargs = {"stages": {"help_text": "In promotion order; each environment must exist and appear once."}}


class WorkflowUpdateSerializer(DocumentUpdateSerializer, WorkflowSerializer):
    """Changes to a workflow; `stages`/`triggers` replace the lists whole; `revision` (optional) guards the write."""
