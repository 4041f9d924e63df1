"""Incident payloads: the incident as stored, and the inputs of create, update and resolve."""

from rest_framework import serializers

from incidents.choices import IncidentStatus, Severity
from incidents.models import Incident
from opsportal.api.schema import ConflictErrorSerializer

_LINK_HELP = "Id of the deployment that caused the incident (its release is linked too)."


class IncidentSerializer(serializers.ModelSerializer):
    """An incident. `status` follows `resolved_at`; `release` is the linked deployment's release."""

    environment = serializers.CharField(source="environment_id", read_only=True)
    deployment = serializers.CharField(source="deployment_id", read_only=True, allow_null=True)
    release = serializers.CharField(source="release_id", read_only=True, allow_null=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "title",
            "description",
            "severity",
            "status",
            "environment",
            "deployment",
            "release",
            "started_at",
            "resolved_at",
            "external_id",
            "url",
            "reported_by",
            "resolved_by",
            "created_at",
            "updated_at",
            "revision",
        ]
        read_only_fields = fields


class IncidentCreateInputSerializer(serializers.Serializer):
    """Report an incident: name the environment, the deployment that caused it, or both."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, default=Severity.HIGH)
    environment = serializers.CharField(max_length=64, required=False, help_text="Environment id.")
    deployment = serializers.CharField(max_length=64, required=False, allow_null=True, help_text=_LINK_HELP)
    started_at = serializers.DateTimeField(required=False, help_text="When it started (default: now).")
    resolved_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Set only to report an incident that is already over."
    )
    external_id = serializers.CharField(
        max_length=200, required=False, allow_null=True, allow_blank=True, help_text="Its id in your incident tool."
    )
    url = serializers.URLField(max_length=500, required=False, allow_blank=True, help_text="Its page there.")


class IncidentUpdateInputSerializer(serializers.Serializer):
    """Changes to an incident (any subset). `revision` makes the write conditional on what you read."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    environment = serializers.CharField(max_length=64, required=False, help_text="Environment id.")
    deployment = serializers.CharField(max_length=64, required=False, allow_null=True, help_text=_LINK_HELP)
    started_at = serializers.DateTimeField(required=False)
    external_id = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)
    url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    revision = serializers.IntegerField(min_value=1, required=False, help_text="The revision you read.")


class IncidentResolveInputSerializer(serializers.Serializer):
    """Resolve an open incident."""

    resolved_at = serializers.DateTimeField(required=False, help_text="When it was resolved (default: now).")
    revision = serializers.IntegerField(min_value=1, required=False, help_text="The revision you read.")


class IncidentConflictErrorSerializer(ConflictErrorSerializer):
    """409 of the incident endpoints: `invalid_transition` (already resolved) or `duplicate_incident`."""

    status = serializers.ChoiceField(
        choices=IncidentStatus.choices, required=False, help_text="`invalid_transition`: the incident's status."
    )
    allowed_actions = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="`invalid_transition`: none (it is resolved)."
    )
    incident = serializers.CharField(
        required=False, help_text="`duplicate_incident`: the id of the incident already reported."
    )
