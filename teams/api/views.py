"""`/api/v1/teams`: thin viewset; writes go through `teams.services`."""

from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from opsportal.api.viewsets import DocumentViewSet
from teams.api.schema import MEMBERS_SCHEMA, TEAM_VIEWSET_SCHEMA
from teams.api.serializers import TeamMemberListSerializer, TeamSerializer, TeamUpdateSerializer
from teams.filtersets import TeamFilterSet
from teams.models import Team
from teams.services import SERVICES


@TEAM_VIEWSET_SCHEMA
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

    @MEMBERS_SCHEMA
    @action(detail=True, methods=["get"], url_path="members")
    def members(self, request: Request, pk: str | None = None) -> Response:
        """Every member of the team in the stored order (a team has at most 500, so the list is not paginated)."""
        team = self.get_object()
        return Response(
            TeamMemberListSerializer({"team": team.pk, "count": len(team.members), "members": team.members}).data
        )
