"""OpenAPI of the team endpoints: examples and the decorators `teams.api.views` applies."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema

from opsportal.api.schema import document_schema_view, not_found_response
from teams.api.serializers import TeamMemberListSerializer
from teams.models import Team
from teams.services import TEAMS

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
    "reference_seq": 2,
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

TEAM_VIEWSET_SCHEMA = document_schema_view(
    example=TEAM_EXAMPLE,
    create=CREATE_EXAMPLE,
    change=("Replace the members", {"members": MEMBERS_EXAMPLE, "revision": 3}),
    invalid=(
        "Duplicate email",
        {"members": ["members[1].email: 'alice@example.com' is already used by members[0]."]},
    ),
    protected=TEAMS.refusal("platform-team", {"releases": 2}),
)

MEMBERS_SCHEMA = extend_schema(
    summary="Team members",
    responses={
        200: OpenApiResponse(TeamMemberListSerializer, description="Every member of the team, in the stored order."),
        404: not_found_response(Team),
    },
    examples=[
        OpenApiExample(
            "Members",
            value={"team": "platform-team", "count": len(MEMBERS_EXAMPLE), "members": MEMBERS_EXAMPLE},
            response_only=True,
        )
    ],
)
