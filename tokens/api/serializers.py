"""Serializers of API tokens: what a token looks like (never its secret or hash), what creating one
takes, and the one answer that carries the secret."""

from __future__ import annotations

from rest_framework import serializers

from opsportal.clock import now_ms
from tokens.choices import TokenScope
from tokens.models import SHOWN_FIELDS, ApiToken


class ApiTokenSerializer(serializers.ModelSerializer):
    """An API token as listed: its name, owner, scopes, teams, times and state; not its secret."""

    owner = serializers.CharField(source="owner.username", read_only=True, help_text="The user the token acts as.")
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=TokenScope.choices), read_only=True)
    teams = serializers.ListField(child=serializers.CharField(), read_only=True)
    state = serializers.SerializerMethodField(help_text="`active`, `expired` or `revoked`.")

    class Meta:
        model = ApiToken
        fields = ["id", *SHOWN_FIELDS]
        read_only_fields = fields

    def get_state(self, token: ApiToken) -> str:
        return token.state(now_ms())


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    """The answer to a create: the token and, this once, its secret."""

    token = serializers.CharField(
        read_only=True, help_text="The secret, `opt_…`: shown only now; send it as `Authorization: Bearer <token>`."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ApiTokenCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="What the token is for, e.g. `payments deploy pipeline`.")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=TokenScope.choices),
        min_length=1,
        max_length=len(TokenScope.choices),
        help_text="`read` (every GET), `report_deployments` (PATCH /deployments/{id} of its teams' releases), "
        "`deploy` (POST /releases/{id}/deploy of its teams' releases), `report_incidents` (POST/PATCH /incidents "
        "and POST /incidents/{id}/resolve in the environments its teams deploy to).",
    )
    teams = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        default=list,
        max_length=50,
        help_text="Team ids whose releases the `report_deployments` and `deploy` scopes act on "
        "(`report_incidents`: the environments those teams deploy to).",
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="Optional expiry.")
    owner = serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        default="",
        help_text="Username the token acts as; another user than you needs the Release Managers role.",
    )
