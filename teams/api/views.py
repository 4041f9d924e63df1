"""`/api/v1/teams`: thin viewset; writes go through `teams.services`."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from opsportal.api.schema import document_schema_view, not_found_response
from opsportal.api.viewsets import DocumentViewSet
from teams.api.serializers import TeamMemberListSerializer, TeamSerializer, TeamUpdateSerializer
from teams.filtersets import TeamFilterSet
from teams.models import Team
from teams.services import SERVICES, TEAMS

MEMBERS_EXAMPLE = [
    {"name": "Alice Martin", "email": "alice@example.com", "role": "Tech lead", "username": "alice"},
    {"name": "Carol Singh", "email": "carol@example.com", "role": "Engineer", "username": "carol"},
]
TEAM_EXAMPLE = {
    "id": "platform-team",
    "name": "Platform Team",
    "description": "Core platform and deployment tooling.",
    "members": MEMBERS_EXAMPLE,
    "projects": ["opsportal", "deploy-pipeline"],
    "revision": 3,
    "created_at": "2026-10-01T09:00:00Z",
    "updated_at": "2026-11-12T10:30:00Z",
}
CREATE_EXAMPLE = {
    "name": "Mobile Team",
    "description": "iOS and Android apps.",
    "members": [{"name": "Dan Okafor", "email": "dan@example.com", "role": "Engineer", "username": "dan"}],
    "projects": ["mobile-app"],
}


@document_schema_view(
    example=TEAM_EXAMPLE,
    create=CREATE_EXAMPLE,
    change=("Replace the members", {"members": MEMBERS_EXAMPLE, "revision": 3}),
    invalid=(
        "Duplicate email",
        {"members": ["members[1].email: 'alice@example.com' is already used by members[0]."]},
    ),
    protected=TEAMS.refusal("platform-team", {"releases": 2}),
)
class TeamViewSet(DocumentViewSet):
    """Teams own releases; members link to Django users by username.

    Engineers may change the releases of the teams that list their username; `GET …/members`
    lists a team's members.
    """

    queryset = Team.objects.all()
    serializer_class = TeamSerializer
    update_serializer_class = TeamUpdateSerializer
    services = SERVICES
    filterset_class = TeamFilterSet

    @extend_schema(
        summary="Team members",
        responses={200: TeamMemberListSerializer, 404: not_found_response(Team)},
        examples=[
            OpenApiExample(
                "Members",
                value={"team": "platform-team", "count": len(MEMBERS_EXAMPLE), "members": MEMBERS_EXAMPLE},
                response_only=True,
            )
        ],
    )
    @action(detail=True, methods=["get"], url_path="members")
    def members(self, request: Request, pk: str | None = None) -> Response:
        """Every member of the team in the stored order (a team has at most 500, so the list is not paginated)."""
        team = self.get_object()
        return Response(
            TeamMemberListSerializer({"team": team.pk, "count": len(team.members), "members": team.members}).data
        )
