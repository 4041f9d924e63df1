"""`/api/v1/workflows`: thin viewset; writes go through `workflows.services`."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets

from opsportal.api.mixins import IdempotentPostMixin, RevisionETagMixin
from workflows.api.serializers import WorkflowSerializer, WorkflowUpdateSerializer
from workflows.filtersets import WorkflowFilterSet
from workflows.models import Workflow
from workflows.services import workflow_create, workflow_delete, workflow_update

STAGES_EXAMPLE = [
    {"environment": "development", "requires_approval": False},
    {"environment": "staging", "requires_approval": False},
    {"environment": "production", "requires_approval": True},
]
TRIGGERS_EXAMPLE = [{"event": "release.approved", "action": "notify", "params": {"channel": "#releases"}}]
WORKFLOW_EXAMPLE = {
    "id": "standard",
    "name": "Standard",
    "description": "Development → staging → production; production needs an approval.",
    "active": True,
    "stages": STAGES_EXAMPLE,
    "triggers": TRIGGERS_EXAMPLE,
    "revision": 2,
    "created_at": "2026-10-01T09:00:00Z",
    "updated_at": "2026-10-15T08:00:00Z",
}
CREATE_EXAMPLE = {
    "name": "Hotfix",
    "description": "Straight to staging, then production.",
    "stages": STAGES_EXAMPLE[1:],
    "triggers": [],
}
ERROR_400 = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Invalid input: the error envelope with `errors` (field → messages naming the nested path).",
    examples=[
        OpenApiExample(
            "Unknown environment",
            value={
                "code": "invalid",
                "detail": "Invalid input.",
                "errors": {"stages": ["stages[2].environment: environment 'prod' does not exist."]},
            },
        )
    ],
)
ERROR_404 = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="No such workflow.",
    examples=[
        OpenApiExample("Not found", value={"code": "not_found", "detail": "No Workflow matches the given query."})
    ],
)
ERROR_409_STALE = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="The workflow changed since `revision` was read.",
    examples=[
        OpenApiExample(
            "Stale revision",
            value={
                "code": "stale_revision",
                "detail": "Workflow 'standard' has changed (revision 3); reload and retry.",
                "revision": 3,
            },
        )
    ],
)
ERROR_409_PROTECTED = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Releases still follow the workflow (deactivate it instead).",
    examples=[
        OpenApiExample(
            "Protected",
            value={
                "code": "protected",
                "detail": "Workflow 'standard' cannot be deleted: 3 release(s) follow it; set active=false instead.",
                "references": {"releases": 3},
            },
        )
    ],
)


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The `ETag` of your last read (e.g. `"standard-2"`); if the workflow changed since → 412.',
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
                "etag": '"standard-3"',
            },
        )
    ],
)


@extend_schema_view(
    list=extend_schema(
        summary="List workflows",
        examples=[OpenApiExample("Workflows", value=[WORKFLOW_EXAMPLE], response_only=True)],
    ),
    retrieve=extend_schema(
        summary="Get a workflow",
        responses={200: WorkflowSerializer, 404: ERROR_404},
        examples=[OpenApiExample("Standard", value=WORKFLOW_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        summary="Create a workflow",
        responses={201: WorkflowSerializer, 400: ERROR_400},
        examples=[
            OpenApiExample("New hotfix workflow", value=CREATE_EXAMPLE, request_only=True),
            OpenApiExample(
                "Created",
                value={**WORKFLOW_EXAMPLE, **CREATE_EXAMPLE, "id": "hotfix", "revision": 1},
                response_only=True,
            ),
        ],
    ),
    update=extend_schema(
        parameters=[IF_MATCH],
        summary="Replace a workflow",
        request=WorkflowUpdateSerializer,
        responses={200: WorkflowSerializer, 400: ERROR_400, 404: ERROR_404, 409: ERROR_409_STALE, 412: ERROR_412},
        examples=[
            OpenApiExample(
                "Replace",
                value={
                    "name": "Standard",
                    "description": "Development → staging → production.",
                    "active": True,
                    "stages": STAGES_EXAMPLE,
                    "triggers": TRIGGERS_EXAMPLE,
                    "revision": 2,
                },
                request_only=True,
            ),
            OpenApiExample("Updated", value={**WORKFLOW_EXAMPLE, "revision": 3}, response_only=True),
        ],
    ),
    partial_update=extend_schema(
        parameters=[IF_MATCH],
        summary="Change some of a workflow's fields",
        request=WorkflowUpdateSerializer,
        responses={200: WorkflowSerializer, 400: ERROR_400, 404: ERROR_404, 409: ERROR_409_STALE, 412: ERROR_412},
        examples=[
            OpenApiExample("Deactivate", value={"active": False, "revision": 2}, request_only=True),
            OpenApiExample("Updated", value={**WORKFLOW_EXAMPLE, "active": False, "revision": 3}, response_only=True),
        ],
    ),
    destroy=extend_schema(
        parameters=[IF_MATCH],
        summary="Delete a workflow",
        description="Refused (409) while releases follow the workflow; deactivate it instead.",
        responses={204: None, 404: ERROR_404, 409: ERROR_409_PROTECTED, 412: ERROR_412},
        examples=[
            OpenApiExample(
                "Protected", value=ERROR_409_PROTECTED.examples[0].value, response_only=True, status_codes=["409"]
            )
        ],
    ),
)
class WorkflowViewSet(IdempotentPostMixin, RevisionETagMixin, viewsets.ModelViewSet):
    """Promotion paths: ordered stages (environments) a release goes through, and triggers."""

    queryset = Workflow.objects.all()
    serializer_class = WorkflowSerializer
    filterset_class = WorkflowFilterSet
    search_fields = ["id", "name", "description"]
    ordering_fields = ["name", "id", "created_at", "updated_at"]
    ordering = ["name"]

    def filter_queryset(self, queryset):
        # List filters (`?search=` …) must not hide the object of a detail request.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return WorkflowUpdateSerializer
        return super().get_serializer_class()

    def get_success_headers(self, data) -> dict[str, str]:
        return {"Location": self.reverse_action("detail", args=[data["id"]])}

    def perform_create(self, serializer) -> None:
        serializer.instance = workflow_create(actor=self.request.user, data=serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = workflow_update(
            workflow=serializer.instance,
            actor=self.request.user,
            data=serializer.validated_data,
            expected_revision=self.expected_revision(serializer.instance),
        )

    def perform_destroy(self, instance: Workflow) -> None:
        self.expected_revision(instance)  # If-Match → 412 when stale
        workflow_delete(workflow=instance, actor=self.request.user)
