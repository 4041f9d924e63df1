"""`/api/v1/environments`: thin viewset; writes go through `environments.services`."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from environments.api.serializers import (
    EnvironmentSerializer,
    EnvironmentStatusSerializer,
    EnvironmentUpdateSerializer,
)
from environments.filtersets import EnvironmentFilterSet
from environments.models import Environment
from environments.selectors import environment_status
from environments.services import environment_create, environment_delete, environment_update
from opsportal.api.mixins import IdempotentPostMixin, RevisionETagMixin

ENVIRONMENT_EXAMPLE = {
    "id": "production",
    "name": "Production",
    "tier": "production",
    "order": 3,
    "url": "https://opsportal.example.com",
    "description": "Customer-facing production cluster.",
    "config": {"replicas": 6, "region": "eu-west-1", "debug": False},
    "requires_approval": True,
    "min_approvals": 1,
    "freeze_windows": [
        {"starts_at": "2026-12-21T00:00:00Z", "ends_at": "2027-01-04T00:00:00Z", "reason": "Holiday change freeze"}
    ],
    "health": "healthy",
    "current_release": "release-2",
    "current_deployment": "deployment-3",
    "deployment_seq": 2,
    "revision": 4,
    "created_at": "2026-10-01T09:00:00Z",
    "updated_at": "2026-11-25T15:20:00Z",
}
CREATE_EXAMPLE = {
    "name": "QA",
    "tier": "staging",
    "order": 2,
    "url": "https://qa.opsportal.example.com",
    "config": {"replicas": 2},
    "freeze_windows": [],
}
UPDATE_EXAMPLE = {
    "revision": 4,
    "health": "degraded",
    "freeze_windows": [
        {"starts_at": "2026-12-21T00:00:00Z", "ends_at": "2027-01-04T00:00:00Z", "reason": "Holiday change freeze"}
    ],
}
DEPLOYMENT_EXAMPLE = {
    "id": "deployment-12",
    "release": {"id": "release-1", "name": "Q1 2024 Major Release", "version": "2.0.0"},
    "kind": "deploy",
    "status": "failed",
    "sequence": 2,
    "started_at": "2026-11-25T15:00:00Z",
    "finished_at": "2026-11-25T15:12:00Z",
    "deployed_by": "alice",
    "notes": "Smoke tests failed; production unchanged.",
    "pipeline_url": "https://ci.example.com/opsportal/pipelines/1212",
    "rolled_back_from": None,
}
STATUS_EXAMPLE = {
    "environment": ENVIRONMENT_EXAMPLE,
    "current_release": {"id": "release-2", "name": "Security Patch", "version": "1.9.1"},
    "last_deployment": DEPLOYMENT_EXAMPLE,
    "health": "healthy",
    "frozen": False,
    "frozen_until": None,
    "recent_deployments": [DEPLOYMENT_EXAMPLE],
}
ERROR_400 = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Invalid input: the error envelope with `errors` (field → messages naming the nested path).",
    examples=[
        OpenApiExample(
            "Freeze window ends before it starts",
            value={
                "code": "invalid",
                "detail": "Invalid input.",
                "errors": {
                    "freeze_windows": ["freeze_windows[0].ends_at: must be after starts_at (2026-12-21T00:00:00Z)."]
                },
            },
        )
    ],
)
ERROR_404 = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="No such environment.",
    examples=[
        OpenApiExample("Not found", value={"code": "not_found", "detail": "No Environment matches the given query."})
    ],
)
ERROR_409_STALE = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="The environment changed since `revision` was read.",
    examples=[
        OpenApiExample(
            "Stale revision",
            value={
                "code": "stale_revision",
                "detail": "Environment 'production' has changed (revision 5); reload and retry.",
                "revision": 5,
            },
        )
    ],
)
ERROR_409_PROTECTED = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Something still refers to the environment.",
    examples=[
        OpenApiExample(
            "Protected",
            value={
                "code": "protected",
                "detail": "Environment 'production' cannot be deleted: 2 deployment(s) refer to it.",
                "references": {"deployments": 2},
            },
        )
    ],
)


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The `ETag` of your last read (e.g. `"production-4"`); if the environment changed since → 412.',
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
                "etag": '"production-5"',
            },
        )
    ],
)


@extend_schema_view(
    list=extend_schema(
        summary="List environments",
        description="Environments in promotion order (`order`), filterable by tier, health and approval need.",
        examples=[OpenApiExample("Environments", value=[ENVIRONMENT_EXAMPLE], response_only=True)],
    ),
    retrieve=extend_schema(
        summary="Get an environment",
        responses={200: EnvironmentSerializer, 404: ERROR_404},
        examples=[OpenApiExample("Production", value=ENVIRONMENT_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        summary="Create an environment",
        responses={201: EnvironmentSerializer, 400: ERROR_400},
        examples=[
            OpenApiExample("New QA environment", value=CREATE_EXAMPLE, request_only=True),
            OpenApiExample(
                "Created",
                value={**ENVIRONMENT_EXAMPLE, **CREATE_EXAMPLE, "id": "qa", "description": "", "revision": 1},
                response_only=True,
            ),
        ],
    ),
    update=extend_schema(
        parameters=[IF_MATCH],
        summary="Replace an environment's editable fields",
        request=EnvironmentUpdateSerializer,
        responses={200: EnvironmentSerializer, 400: ERROR_400, 404: ERROR_404, 409: ERROR_409_STALE, 412: ERROR_412},
        examples=[
            OpenApiExample(
                "Replace",
                value={
                    k: v for k, v in ENVIRONMENT_EXAMPLE.items() if k not in EnvironmentSerializer.Meta.read_only_fields
                }
                | {"revision": 4},
                request_only=True,
            ),
            OpenApiExample("Updated", value={**ENVIRONMENT_EXAMPLE, "revision": 5}, response_only=True),
        ],
    ),
    partial_update=extend_schema(
        parameters=[IF_MATCH],
        summary="Change some of an environment's fields",
        request=EnvironmentUpdateSerializer,
        responses={200: EnvironmentSerializer, 400: ERROR_400, 404: ERROR_404, 409: ERROR_409_STALE, 412: ERROR_412},
        examples=[
            OpenApiExample("Mark degraded, add a freeze", value=UPDATE_EXAMPLE, request_only=True),
            OpenApiExample(
                "Updated", value={**ENVIRONMENT_EXAMPLE, **UPDATE_EXAMPLE, "revision": 5}, response_only=True
            ),
        ],
    ),
    destroy=extend_schema(
        parameters=[IF_MATCH],
        summary="Delete an environment",
        description="Refused (409) while deployments, a current release or a workflow stage refer to it.",
        responses={204: None, 404: ERROR_404, 409: ERROR_409_PROTECTED, 412: ERROR_412},
        examples=[
            OpenApiExample(
                "Protected", value=ERROR_409_PROTECTED.examples[0].value, response_only=True, status_codes=["409"]
            )
        ],
    ),
)
class EnvironmentViewSet(IdempotentPostMixin, RevisionETagMixin, viewsets.ModelViewSet):
    """Deployment targets (development → staging → production)."""

    queryset = Environment.objects.all()
    serializer_class = EnvironmentSerializer
    filterset_class = EnvironmentFilterSet
    search_fields = ["id", "name", "description"]
    ordering_fields = ["order", "name", "tier", "id", "updated_at"]
    ordering = ["order", "id"]

    def filter_queryset(self, queryset):
        # List filters (`?search=` …) must not hide the object of a detail request.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return EnvironmentUpdateSerializer
        return super().get_serializer_class()

    def get_success_headers(self, data) -> dict[str, str]:
        return {"Location": self.reverse_action("detail", args=[data["id"]])}

    def perform_create(self, serializer) -> None:
        serializer.instance = environment_create(actor=self.request.user, data=serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = environment_update(
            environment=serializer.instance,
            actor=self.request.user,
            data=serializer.validated_data,
            expected_revision=self.expected_revision(serializer.instance),
        )

    def perform_destroy(self, instance: Environment) -> None:
        self.expected_revision(instance)  # If-Match → 412 when stale
        environment_delete(environment=instance, actor=self.request.user)

    @extend_schema(
        summary="Environment status",
        responses={200: EnvironmentStatusSerializer, 404: ERROR_404},
        examples=[OpenApiExample("Production status", value=STATUS_EXAMPLE, response_only=True)],
    )
    @action(detail=True, methods=["get"], url_path="status")
    def status(self, request: Request, pk: str | None = None) -> Response:
        """The release running in the environment, its last and 5 most recent deployments, health and freeze state."""
        return Response(EnvironmentStatusSerializer(environment_status(self.get_object())).data)
