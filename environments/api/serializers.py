"""Environment payloads. Embedded documents carry their JSON Schema into OpenAPI."""

from rest_framework import serializers

from environments import schemas
from environments.choices import Health
from environments.models import Environment, Freeze
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


# OpenAPI 3.0 has no `oneOf` of bare `required` lists: a rule names a group or a team (the service checks).
APPROVAL_POLICY_OPENAPI = {
    **schemas.APPROVAL_POLICY,
    "properties": {
        **schemas.APPROVAL_POLICY["properties"],
        "rules": {
            **schemas.APPROVAL_POLICY["properties"]["rules"],
            "items": {key: value for key, value in schemas.APPROVAL_RULE.items() if key != "oneOf"},
        },
    },
}


class EnvironmentSerializer(DocumentSerializer):
    """An environment. On create, `id` defaults to the slug of `name`."""

    class Meta(DocumentSerializer.Meta):
        model = Environment
        read_only_fields = [*DERIVED_FIELDS, *DocumentSerializer.Meta.read_only_fields]
        extra_kwargs = {
            "config": {"schema": CONFIG_OPENAPI},
            "approval_policy": {"schema": APPROVAL_POLICY_OPENAPI},
        }


class EnvironmentUpdateSerializer(DocumentUpdateSerializer, EnvironmentSerializer):
    """Changes to an environment; `revision` (optional) makes the write conditional on what you read."""


class EnvironmentReleaseSummarySerializer(serializers.ModelSerializer):
    """The release a deployment or environment refers to."""

    class Meta:
        model = Release
        fields = ["id", "name", "version"]
        read_only_fields = fields


# What the status page leaves out of a deployment: its environment (the page's), the write guard, the
# scheduler's slot (issue #12).
_NOT_ON_STATUS_PAGE = ("environment", "revision", "schedule_slot")


class EnvironmentDeploymentSerializer(serializers.ModelSerializer):
    """One deployment to an environment, as its status page shows it."""

    release = EnvironmentReleaseSummarySerializer(read_only=True)

    class Meta:
        model = Deployment
        # The deployment as stored, but for what the status page already says (its environment)
        # and the write guard.
        fields = [f.name for f in Deployment._meta.concrete_fields if f.name not in _NOT_ON_STATUS_PAGE]
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


class FreezeSerializer(DocumentSerializer):
    """A freeze in the calendar: one-off (`starts_at` → `ends_at`) or recurring (`rrule`, `duration_minutes`,
    `exdates`, in `timezone`); scope: `environments` and `tiers` (both empty: all), `teams` (empty: all)."""

    class Meta(DocumentSerializer.Meta):
        model = Freeze
        read_only_fields = ["created_by", *DocumentSerializer.Meta.read_only_fields]


class FreezeUpdateSerializer(DocumentUpdateSerializer, FreezeSerializer):
    """Changes to a freeze; `revision` (optional) makes the write conditional on what you read."""


class FreezeOccurrenceSerializer(serializers.Serializer):
    """One occurrence of a freeze, in UTC, with the environments it blocks."""

    freeze = serializers.CharField(help_text="The freeze's id.")
    name = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    environments = serializers.ListField(child=serializers.CharField(), help_text="Environments it blocks.")
    teams = serializers.ListField(child=serializers.CharField(), help_text="Only these teams' releases (empty: all).")


class FreezeOccurrencesQuerySerializer(serializers.Serializer):
    """`?from=&to=` (ISO 8601 with an offset; at most 400 days apart), optionally `environment`, `team`."""

    start = serializers.DateTimeField(help_text="`from`: start of the range.")
    end = serializers.DateTimeField(help_text="`to`: end of the range (exclusive).")
    environment = serializers.CharField(required=False, max_length=64)
    team = serializers.CharField(required=False, max_length=64)


def _ids(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=100, help_text=help_text
    )


class FreezeImportInputSerializer(serializers.Serializer):
    """An iCalendar file (its text) to import as freezes, with the scope and time zone they get."""

    calendar = serializers.CharField(max_length=1_000_000, trim_whitespace=False, help_text="The .ics file's text.")
    timezone = serializers.CharField(max_length=64, default="UTC", help_text="IANA zone of all-day events.")
    environments = _ids("Environments the freezes block (with `tiers` empty too: all).")
    tiers = _ids("Tiers the freezes block.")
    teams = _ids("Only these teams' releases (empty: all).")


class FreezeImportResultSerializer(serializers.Serializer):
    """The freezes an import created and updated (an event imported before, by its UID)."""

    created = serializers.ListField(child=serializers.CharField())
    updated = serializers.ListField(child=serializers.CharField())
