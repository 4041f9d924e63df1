"""Environment payloads. Embedded documents carry their JSON Schema into OpenAPI."""

from rest_framework import serializers

from environments import schemas
from environments.choices import Health
from environments.models import Environment
from environments.services import DERIVED_FIELDS
from opsportal.api.serializers import DocumentSerializer, DocumentUpdateSerializer
from releases.models import Deployment, Release

# OpenAPI 3.0 has no type lists: the config's scalar values become a nullable oneOf.
CONFIG_OPENAPI = {
    **schemas.CONFIG,
    "title": "Environment config",  # the component's name
    "additionalProperties": {
        "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
        "nullable": True,
    },
    "example": {"replicas": 3, "region": "eu-west-1", "debug": False},
}


class EnvironmentSerializer(DocumentSerializer):
    """An environment. On create, `id` defaults to the slug of `name`."""

    class Meta(DocumentSerializer.Meta):
        model = Environment
        read_only_fields = [*DERIVED_FIELDS, *DocumentSerializer.Meta.read_only_fields]
        extra_kwargs = {
            "config": {"schema": CONFIG_OPENAPI},
            "freeze_windows": {
                "help_text": "Half-open windows [starts_at, ends_at) in which deploys are refused; stored in UTC."
            },
        }


class EnvironmentUpdateSerializer(DocumentUpdateSerializer, EnvironmentSerializer):
    """Changes to an environment; `revision` (optional) makes the write conditional on what you read."""


class EnvironmentReleaseSummarySerializer(serializers.ModelSerializer):
    """The release a deployment or environment refers to."""

    class Meta:
        model = Release
        fields = ["id", "name", "version"]
        read_only_fields = fields


class EnvironmentDeploymentSerializer(serializers.ModelSerializer):
    """One deployment to an environment, as its status page shows it."""

    release = EnvironmentReleaseSummarySerializer(read_only=True)

    class Meta:
        model = Deployment
        # The deployment as stored, but for what the status page already says (its environment)
        # and the write guard.
        fields = [f.name for f in Deployment._meta.concrete_fields if f.name not in ("environment", "revision")]
        read_only_fields = fields


class EnvironmentStatusSerializer(serializers.Serializer):
    """What runs in an environment, whether it is frozen, and its latest deployments."""

    environment = EnvironmentSerializer(read_only=True)
    current_release = EnvironmentReleaseSummarySerializer(read_only=True, allow_null=True)
    last_deployment = EnvironmentDeploymentSerializer(read_only=True, allow_null=True)
    health = serializers.ChoiceField(choices=Health.choices, read_only=True)
    frozen = serializers.BooleanField(read_only=True)
    frozen_until = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="End of the current freeze (null when not frozen)."
    )
    recent_deployments = EnvironmentDeploymentSerializer(
        many=True, read_only=True, help_text="The 5 most recent deployments, newest first."
    )
