"""Team payloads. Embedded members and projects carry their JSON Schema into OpenAPI."""

from rest_framework import serializers

from opsportal.api.serializers import DocumentSerializer, DocumentUpdateSerializer, EmbeddedDocumentField
from teams import schemas
from teams.models import Team


class TeamSerializer(DocumentSerializer):
    """A team with its members. On create, `id` defaults to the slug of `name`."""

    class Meta(DocumentSerializer.Meta):
        model = Team
        extra_kwargs = {
            "members": {
                "help_text": 'Emails and usernames are unique within the team; `role` and `username` default to "".'
            }
        }


class TeamUpdateSerializer(DocumentUpdateSerializer, TeamSerializer):
    """Changes to a team; `members`/`projects` replace the lists whole; `revision` (optional) guards the write."""


class TeamMemberListSerializer(serializers.Serializer):
    """All members of one team (embedded, at most 500: not paginated)."""

    team = serializers.CharField(read_only=True, help_text="The team's id.")
    count = serializers.IntegerField(read_only=True)
    members = EmbeddedDocumentField(schema=schemas.MEMBERS, read_only=True)
