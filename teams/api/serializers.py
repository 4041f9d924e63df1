"""Team payloads. Embedded members and projects carry their JSON Schema into OpenAPI."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from teams import schemas
from teams.models import Team


@extend_schema_field(schemas.MEMBERS)
class TeamMembersField(serializers.JSONField):
    """`members`: list of {name, email, role, username}."""


@extend_schema_field(schemas.PROJECTS)
class TeamProjectsField(serializers.JSONField):
    """`projects`: list of project names."""


def _model_validators(field: str) -> list:
    return list(Team._meta.get_field(field).validators)


class TeamSerializer(serializers.ModelSerializer):
    """A team with its members. On create, `id` defaults to the slug of `name`."""

    id = serializers.SlugField(
        max_length=64, required=False, help_text="Slug; defaults to the slug of the name. Cannot change later."
    )
    members = TeamMembersField(
        required=False,
        validators=_model_validators("members"),
        help_text='Emails and usernames are unique within the team; `role` and `username` default to "".',
    )
    projects = TeamProjectsField(required=False, validators=_model_validators("projects"))

    class Meta:
        model = Team
        fields = ["id", "name", "description", "members", "projects", "revision", "created_at", "updated_at"]
        read_only_fields = ["revision", "created_at", "updated_at"]


class TeamUpdateSerializer(TeamSerializer):
    """Changes to a team; `members`/`projects` replace the lists whole; `revision` (optional) guards the write."""

    id = serializers.SlugField(read_only=True)
    revision = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The revision you last read; if the team changed since, the update is refused (409).",
    )

    class Meta(TeamSerializer.Meta):
        read_only_fields = ["created_at", "updated_at"]


class TeamMemberListSerializer(serializers.Serializer):
    """All members of one team (embedded, at most 500: not paginated)."""

    team = serializers.CharField(read_only=True, help_text="The team's id.")
    count = serializers.IntegerField(read_only=True)
    members = TeamMembersField(read_only=True)
