"""Environment payloads. Embedded documents carry their JSON Schema into OpenAPI."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from environments import schemas
from environments.choices import Health
from environments.models import Environment
from releases.models import Deployment, Release

# OpenAPI 3.0 has no type lists: the config's scalar values become a nullable oneOf.
CONFIG_OPENAPI = {
    **schemas.CONFIG,
    "additionalProperties": {
        "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
        "nullable": True,
    },
    "example": {"replicas": 3, "region": "eu-west-1", "debug": False},
}


@extend_schema_field(CONFIG_OPENAPI)
class EnvironmentConfigField(serializers.JSONField):
    """`config`: string keys, scalar values."""


@extend_schema_field(schemas.FREEZE_WINDOWS)
class FreezeWindowsField(serializers.JSONField):
    """`freeze_windows`: list of {starts_at, ends_at, reason}."""


def _model_validators(field: str) -> list:
    return list(Environment._meta.get_field(field).validators)


class EnvironmentSerializer(serializers.ModelSerializer):
    """An environment. On create, `id` defaults to the slug of `name`."""

    id = serializers.SlugField(
        max_length=64, required=False, help_text="Slug; defaults to the slug of the name. Cannot change later."
    )
    config = EnvironmentConfigField(required=False, validators=_model_validators("config"))
    freeze_windows = FreezeWindowsField(
        required=False,
        validators=_model_validators("freeze_windows"),
        help_text="Half-open windows [starts_at, ends_at) in which deploys are refused; stored in UTC.",
    )

    class Meta:
        model = Environment
        fields = [
            "id",
            "name",
            "tier",
            "order",
            "url",
            "description",
            "config",
            "requires_approval",
            "min_approvals",
            "freeze_windows",
            "health",
            "current_release",
            "current_deployment",
            "deployment_seq",
            "revision",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "current_release",
            "current_deployment",
            "deployment_seq",
            "revision",
            "created_at",
            "updated_at",
        ]


class EnvironmentUpdateSerializer(EnvironmentSerializer):
    """Changes to an environment; `revision` (optional) makes the write conditional on what you read."""

    id = serializers.SlugField(read_only=True)
    revision = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The revision you last read; if the environment changed since, the update is refused (409).",
    )

    class Meta(EnvironmentSerializer.Meta):
        read_only_fields = [f for f in EnvironmentSerializer.Meta.read_only_fields if f != "revision"]


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
        fields = [
            "id",
            "release",
            "kind",
            "status",
            "sequence",
            "started_at",
            "finished_at",
            "deployed_by",
            "notes",
            "pipeline_url",
            "rolled_back_from",
        ]
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
