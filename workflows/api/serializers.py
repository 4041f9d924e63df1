"""Workflow payloads. Embedded stages and triggers carry their JSON Schema into OpenAPI."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from workflows import schemas
from workflows.models import Workflow


@extend_schema_field(schemas.STAGES)
class WorkflowStagesField(serializers.JSONField):
    """`stages`: ordered list of {environment, requires_approval}."""


@extend_schema_field(schemas.TRIGGERS)
class WorkflowTriggersField(serializers.JSONField):
    """`triggers`: list of {event, action, params}."""


def _model_validators(field: str) -> list:
    return list(Workflow._meta.get_field(field).validators)


class WorkflowSerializer(serializers.ModelSerializer):
    """A promotion path. On create, `id` defaults to the slug of `name`."""

    id = serializers.SlugField(
        max_length=64, required=False, help_text="Slug; defaults to the slug of the name. Cannot change later."
    )
    stages = WorkflowStagesField(
        required=False,
        validators=_model_validators("stages"),
        help_text="In promotion order; each environment must exist and appear once.",
    )
    triggers = WorkflowTriggersField(required=False, validators=_model_validators("triggers"))

    class Meta:
        model = Workflow
        fields = ["id", "name", "description", "active", "stages", "triggers", "revision", "created_at", "updated_at"]
        read_only_fields = ["revision", "created_at", "updated_at"]


class WorkflowUpdateSerializer(WorkflowSerializer):
    """Changes to a workflow; `stages`/`triggers` replace the lists whole; `revision` (optional) guards the write."""

    id = serializers.SlugField(read_only=True)
    revision = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The revision you last read; if the workflow changed since, the update is refused (409).",
    )

    class Meta(WorkflowSerializer.Meta):
        read_only_fields = ["created_at", "updated_at"]
