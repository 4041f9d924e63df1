"""`/api/v1/teams`: thin viewset; writes go through `teams.services`."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from opsportal.api.mixins import IdempotentPostMixin, RevisionETagMixin
from teams.api.serializers import TeamMemberListSerializer, TeamSerializer, TeamUpdateSerializer
from teams.filtersets import TeamFilterSet
from teams.models import Team
from teams.services import team_create, team_delete, team_update

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
ERROR_400 = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Invalid input: the error envelope with `errors` (field → messages naming the nested path).",
    examples=[
        OpenApiExample(
            "Duplicate email",
            value={
                "code": "invalid",
                "detail": "Invalid input.",
                "errors": {"members": ["members[1].email: 'alice@example.com' is already used by members[0]."]},
            },
        )
    ],
)
ERROR_404 = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="No such team.",
    examples=[OpenApiExample("Not found", value={"code": "not_found", "detail": "No Team matches the given query."})],
)
ERROR_409_STALE = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="The team changed since `revision` was read.",
    examples=[
        OpenApiExample(
            "Stale revision",
            value={
                "code": "stale_revision",
                "detail": "Team 'platform-team' has changed (revision 4); reload and retry.",
                "revision": 4,
            },
        )
    ],
)
ERROR_409_PROTECTED = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Releases still belong to the team.",
    examples=[
        OpenApiExample(
            "Protected",
            value={
                "code": "protected",
                "detail": "Team 'platform-team' cannot be deleted: 2 release(s) belong to it.",
                "references": {"releases": 2},
            },
        )
    ],
)


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The `ETag` of your last read (e.g. `"platform-team-3"`); if the team changed since → 412.',
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Makes the create safe to retry: the same key within 24 hours returns the first response.",
)
ERROR_412 = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="`If-Match` does not match the current `ETag`.",
    examples=[
        OpenApiExample(
            "Precondition failed",
            value={
                "code": "precondition_failed",
                "detail": "If-Match does not match the current ETag.",
                "etag": '"platform-team-4"',
            },
        )
    ],
)


@extend_schema_view(
    list=extend_schema(
        summary="List teams",
        examples=[OpenApiExample("Teams", value=[TEAM_EXAMPLE], response_only=True)],
    ),
    retrieve=extend_schema(
        summary="Get a team",
        responses={200: TeamSerializer, 404: ERROR_404},
        examples=[OpenApiExample("Platform team", value=TEAM_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        summary="Create a team",
        responses={201: TeamSerializer, 400: ERROR_400},
        examples=[
            OpenApiExample("New team", value=CREATE_EXAMPLE, request_only=True),
            OpenApiExample(
                "Created",
                value={**TEAM_EXAMPLE, **CREATE_EXAMPLE, "id": "mobile-team", "revision": 1},
                response_only=True,
            ),
        ],
    ),
    update=extend_schema(
        parameters=[IF_MATCH],
        summary="Replace a team",
        request=TeamUpdateSerializer,
        responses={200: TeamSerializer, 400: ERROR_400, 404: ERROR_404, 409: ERROR_409_STALE, 412: ERROR_412},
        examples=[
            OpenApiExample(
                "Replace",
                value={
                    "name": "Platform Team",
                    "description": "Core platform.",
                    "members": MEMBERS_EXAMPLE,
                    "projects": ["opsportal"],
                    "revision": 3,
                },
                request_only=True,
            ),
            OpenApiExample("Updated", value={**TEAM_EXAMPLE, "revision": 4}, response_only=True),
        ],
    ),
    partial_update=extend_schema(
        parameters=[IF_MATCH],
        summary="Change some of a team's fields",
        request=TeamUpdateSerializer,
        responses={200: TeamSerializer, 400: ERROR_400, 404: ERROR_404, 409: ERROR_409_STALE, 412: ERROR_412},
        examples=[
            OpenApiExample("Replace the members", value={"members": MEMBERS_EXAMPLE, "revision": 3}, request_only=True),
            OpenApiExample("Updated", value={**TEAM_EXAMPLE, "revision": 4}, response_only=True),
        ],
    ),
    destroy=extend_schema(
        parameters=[IF_MATCH],
        summary="Delete a team",
        description="Refused (409) while releases belong to the team.",
        responses={204: None, 404: ERROR_404, 409: ERROR_409_PROTECTED, 412: ERROR_412},
        examples=[
            OpenApiExample(
                "Protected", value=ERROR_409_PROTECTED.examples[0].value, response_only=True, status_codes=["409"]
            )
        ],
    ),
)
class TeamViewSet(IdempotentPostMixin, RevisionETagMixin, viewsets.ModelViewSet):
    """Teams own releases; members link to Django users by username."""

    queryset = Team.objects.all()
    serializer_class = TeamSerializer
    filterset_class = TeamFilterSet
    search_fields = ["id", "name", "description"]
    ordering_fields = ["name", "id", "created_at", "updated_at"]
    ordering = ["name"]

    def filter_queryset(self, queryset):
        # List filters (`?search=` …) must not hide the object of a detail request.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return TeamUpdateSerializer
        return super().get_serializer_class()

    def get_success_headers(self, data) -> dict[str, str]:
        return {"Location": self.reverse_action("detail", args=[data["id"]])}

    def perform_create(self, serializer) -> None:
        serializer.instance = team_create(actor=self.request.user, data=serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = team_update(
            team=serializer.instance,
            actor=self.request.user,
            data=serializer.validated_data,
            expected_revision=self.expected_revision(serializer.instance),
        )

    def perform_destroy(self, instance: Team) -> None:
        self.expected_revision(instance)  # If-Match → 412 when stale
        team_delete(team=instance, actor=self.request.user)

    @extend_schema(
        summary="Team members",
        responses={200: TeamMemberListSerializer, 404: ERROR_404},
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
