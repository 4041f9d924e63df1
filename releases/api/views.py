"""Release and deployment endpoints. Thin: input is validated by serializers, every change is a
call into `releases.services`, and refusals come back as the one error envelope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.serializers import Serializer
from rest_framework.viewsets import GenericViewSet

from environments.models import Environment
from opsportal.api.mixins import IdempotentPostMixin, RevisionETagMixin
from opsportal.api.schema import invalid_example
from opsportal.errors import ValidationFailed
from releases import services
from releases.api.serializers import (
    DeploymentSerializer,
    DeploymentStatusReportInputSerializer,
    ReleaseApproveInputSerializer,
    ReleaseDeployCheckSerializer,
    ReleaseDeployInputSerializer,
    ReleaseErrorSerializer,
    ReleaseHistoryEventSerializer,
    ReleaseListItemSerializer,
    ReleaseMetricsSerializer,
    ReleaseRejectInputSerializer,
    ReleaseRollbackInputSerializer,
    ReleaseSerializer,
)
from releases.choices import DeploymentStatus
from releases.examples import SAMPLE_FEATURES
from releases.filtersets import DeploymentFilterSet, ReleaseFilterSet
from releases.models import Deployment, Release
from releases.selectors import deployment_list, release_history, release_list, release_metrics

# --------------------------------------------------------------------------- examples

RELEASE_EXAMPLE = {
    "id": "665f1c2e9b1e8a3d4c5b6a01",
    "name": "Q1 2024 Major Release",
    "version": "2.0.0",
    "description": "New dashboard and SSO.",
    "status": "pending_approval",
    "team": "platform-team",
    "workflow": "standard",
    "target_date": "2024-03-31",
    "created_by": "alice",
    "created_at": "2024-01-15T09:30:00.000Z",
    "updated_at": "2024-01-20T14:02:11.512Z",
    "revision": 3,
    "features": SAMPLE_FEATURES,
    "approvals": [],
    "allowed_actions": ["update", "approve", "reject", "deploy", "rollback"],
    "progress": {"features_total": 1, "features_done": 0, "tasks_total": 2, "tasks_done": 1, "percent_complete": 50.0},
}
APPROVED_EXAMPLE = {
    **RELEASE_EXAMPLE,
    "status": "approved",
    "revision": 4,
    "approvals": [{"user": "carol", "decision": "approved", "comment": "LGTM", "at": "2024-01-21T08:00:00.000Z"}],
    "allowed_actions": ["reject", "deploy", "rollback"],
}
DEPLOYMENT_EXAMPLE = {
    "id": "665f1c2e9b1e8a3d4c5b6a55",
    "release": "665f1c2e9b1e8a3d4c5b6a01",
    "environment": "staging",
    "kind": "deploy",
    "status": "succeeded",
    "sequence": 12,
    "started_at": "2024-01-22T10:00:00.000Z",
    "finished_at": "2024-01-22T10:00:00.000Z",
    "duration_seconds": 0.0,
    "deployed_by": "carol",
    "notes": "",
    "pipeline_url": "https://ci.example.com/runs/981",
    "rolled_back_from": None,
    "revision": 1,
}
METRICS_EXAMPLE = {
    "release": "665f1c2e9b1e8a3d4c5b6a01",
    "deployments_total": 4,
    "deployments_by_status": {"in_progress": 0, "succeeded": 3, "failed": 1, "rolled_back": 0},
    "deployments_by_environment": [
        {"environment": "staging", "total": 2, "in_progress": 0, "succeeded": 1, "failed": 1, "rolled_back": 0},
    ],
    "success_rate": 0.75,
    "mean_deployment_duration_seconds": 312.5,
    "lead_time_seconds": 864000.0,
    "first_production_deployment_at": "2024-01-25T09:30:00.000Z",
    "progress": {
        "features_total": 1,
        "features_done": 0,
        "tasks_total": 2,
        "tasks_done": 1,
        "percent_complete": 50.0,
    },
}
RELEASE_LIST_EXAMPLE = {
    **{key: value for key, value in RELEASE_EXAMPLE.items() if key != "environments"},
    "deployed_to": ["development"],
}


def response_example(name: str, value: dict[str, Any], status_code: str = "200") -> OpenApiExample:
    """A response example for one status code."""
    return OpenApiExample(name, value=value, response_only=True, status_codes=[status_code])


def refusal_example(
    name: str,
    code: str,
    detail: str,
    *,
    release: dict[str, Any] | None = None,
    status_code: str = "409",
    **context: Any,
) -> OpenApiExample:
    """A refusal: the error envelope (`code`, `detail`) with its context keys; a refused `release` (an example
    release) brings its `status` and `allowed_actions`."""
    if release is not None:
        context = {"status": release["status"], "allowed_actions": release["allowed_actions"], **context}
    return response_example(name, {"code": code, "detail": detail, **context}, status_code)


ERROR_INVALID_TRANSITION = refusal_example(
    "Illegal action", "invalid_transition", "Cannot delete a release in status 'approved'.", release=APPROVED_EXAMPLE
)
ERROR_VALIDATION = invalid_example(
    "Invalid nested data",
    {"features": ["features[0].tasks[1].status: 'finished' is not one of ['todo', 'in_progress', 'done']"]},
)
ERROR_BLOCKED = refusal_example(
    "Blocked",
    "deploy_blocked",
    "Cannot deploy 2.0.0 to Production: Production is frozen until 2024-12-27T00:00:00Z: holidays",
    release=APPROVED_EXAMPLE,
    blockers=[
        {
            "code": "freeze_window",
            "message": "Production is frozen until 2024-12-27T00:00:00Z: holidays",
            "until": "2024-12-27T00:00:00Z",
            "reason": "holidays",
        }
    ],
)
ERROR_NOTHING_TO_ROLL_BACK = refusal_example(
    "Nothing to roll back to",
    "nothing_to_roll_back_to",
    "Nothing to roll back to: no other release has been deployed successfully to Production.",
    release={"status": "deployed", "allowed_actions": ["deploy", "rollback"]},
)

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='The `ETag` of your last read (e.g. `"665f1c2e9b1e8a3d4c5b6a01-3"`); if the release changed → 412.',
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Makes the request safe to retry: the same key within 24 hours returns the first response.",
)

ERRORS = {
    400: OpenApiResponse(ReleaseErrorSerializer, description="Invalid input (field → messages)."),
    404: OpenApiResponse(ReleaseErrorSerializer, description="No such release."),
    403: OpenApiResponse(ReleaseErrorSerializer, description="Not allowed for you (e.g. four eyes)."),
    409: OpenApiResponse(ReleaseErrorSerializer, description="Not allowed in the current state."),
    412: OpenApiResponse(ReleaseErrorSerializer, description="`If-Match` does not match the current `ETag`."),
}
IDEMPOTENCY_REUSED = OpenApiResponse(
    ReleaseErrorSerializer, description="The `Idempotency-Key` was already used with a different request."
)
ACTION_ERRORS = {400: ERRORS[400], 404: ERRORS[404], 409: ERRORS[409], 422: IDEMPOTENCY_REUSED}
LIST_ERRORS = {
    400: OpenApiResponse(ReleaseErrorSerializer, description="Invalid filter value."),
    404: OpenApiResponse(ReleaseErrorSerializer, description="Page past the end."),
}


def call_service(
    view: GenericViewSet,
    service: Callable[..., Any],
    input_serializer: type[Serializer] | None = None,
    *,
    target: str = "release",
) -> Any:
    """The body of a lifecycle action: validate the request body with `input_serializer` (400 with field
    messages), then call `service` on the view's object (passed as `target`) for the requesting user."""
    validated: dict[str, Any] = {}
    if input_serializer is not None:
        data = input_serializer(data=view.request.data)
        data.is_valid(raise_exception=True)
        validated = data.validated_data
    return service(**{target: view.get_object()}, actor=view.request.user, **validated)


def lifecycle_schema(
    summary: str,
    request: Any,
    response: Any,
    *,
    examples: list[OpenApiExample],
    status_code: int = 200,
    extra_errors: dict[int, OpenApiResponse] | None = None,
) -> Callable:
    """The OpenAPI of a lifecycle action: safe to retry with an `Idempotency-Key`, the action errors
    (plus `extra_errors`) and its examples."""
    return extend_schema(
        summary=summary,
        parameters=[IDEMPOTENCY_KEY],
        request=request,
        responses={status_code: response, **(extra_errors or {}), **ACTION_ERRORS},
        examples=examples,
    )


# --------------------------------------------------------------------------- releases


@extend_schema_view(
    list=extend_schema(
        summary="List releases",
        description="Filter by `status`, `team`, `workflow`, `environment` (currently deployed there); "
        "`search` in name, version and description; `ordering` by created_at, target_date, version, name.",
        examples=[OpenApiExample("Page of releases", value=RELEASE_LIST_EXAMPLE, response_only=True)],
        responses={200: ReleaseListItemSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Get a release",
        description="With its features/tasks, approvals, allowed actions, and per environment where it stands. "
        "Send the `ETag` back as `If-Match` to make a change conditional.",
        examples=[
            OpenApiExample(
                "Release",
                value={
                    **RELEASE_EXAMPLE,
                    "environments": [
                        {
                            "environment": "staging",
                            "name": "Staging",
                            "tier": "staging",
                            "health": "healthy",
                            "is_current": True,
                            "current_release": "665f1c2e9b1e8a3d4c5b6a01",
                            "deployment": {
                                "id": "665f1c2e9b1e8a3d4c5b6a55",
                                "kind": "deploy",
                                "status": "succeeded",
                                "sequence": 12,
                                "started_at": "2024-01-22T10:00:00.000Z",
                                "finished_at": "2024-01-22T10:00:00.000Z",
                            },
                        }
                    ],
                },
                response_only=True,
            )
        ],
        responses={200: ReleaseSerializer, 404: ERRORS[404]},
    ),
    create=extend_schema(
        summary="Create a release (draft)",
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "Minimal",
                value={"name": "New Release", "version": "1.0.0", "description": "Test release"},
                request_only=True,
            ),
            OpenApiExample(
                "With features",
                value={
                    "name": "Security Patch",
                    "version": "1.9.1",
                    "team": "platform-team",
                    "workflow": "standard",
                    "target_date": "2024-02-01",
                    "features": [
                        {
                            "name": "CVE-2024-0001 fix",
                            "status": "planned",
                            "tasks": [{"title": "Patch", "status": "todo"}],
                        }
                    ],
                },
                request_only=True,
            ),
            OpenApiExample("Created", value={**RELEASE_EXAMPLE, "status": "draft"}, response_only=True),
            ERROR_VALIDATION,
        ],
        responses={201: ReleaseSerializer, 400: ERRORS[400], 422: IDEMPOTENCY_REUSED},
    ),
    update=extend_schema(
        summary="Replace a release's editable fields",
        description="Only in draft, pending_approval or rejected. id, status, revision, approvals, created_by and "
        "timestamps are ignored. `If-Match: <ETag>` makes the update conditional (412 if stale).",
        parameters=[IF_MATCH],
        examples=[
            OpenApiExample("Update", value={"name": "Q1 2024 Major Release", "version": "2.0.0"}, request_only=True),
            OpenApiExample("Updated", value=RELEASE_EXAMPLE, response_only=True),
            ERROR_INVALID_TRANSITION,
        ],
        responses={200: ReleaseSerializer, 400: ERRORS[400], 404: ERRORS[404], 409: ERRORS[409], 412: ERRORS[412]},
    ),
    partial_update=extend_schema(
        summary="Change some of a release's editable fields",
        description="Only in draft, pending_approval or rejected. `If-Match: <ETag>` makes it conditional (412).",
        parameters=[IF_MATCH],
        examples=[
            OpenApiExample("Rename", value={"description": "Now with SSO."}, request_only=True),
            OpenApiExample("Updated", value=RELEASE_EXAMPLE, response_only=True),
            ERROR_VALIDATION,
        ],
        responses={200: ReleaseSerializer, 400: ERRORS[400], 404: ERRORS[404], 409: ERRORS[409], 412: ERRORS[412]},
    ),
    destroy=extend_schema(
        summary="Delete a draft or rejected release",
        parameters=[IF_MATCH],
        examples=[ERROR_INVALID_TRANSITION],
        responses={204: None, 404: ERRORS[404], 409: ERRORS[409], 412: ERRORS[412]},
    ),
)
class ReleaseViewSet(IdempotentPostMixin, RevisionETagMixin, viewsets.ModelViewSet):
    """Releases: a version with its features and tasks, moving through approval and deployments."""

    queryset = release_list()
    lookup_value_regex = "[^/]+"  # ids may contain dots; a JSON 404 beats the router's HTML one
    serializer_class = ReleaseSerializer
    filterset_class = ReleaseFilterSet
    search_fields = ["name", "version", "description"]
    ordering_fields = ["created_at", "target_date", "version", "name"]
    ordering = ["-created_at", "id"]

    def get_serializer_class(self):
        # List pages leave out the per-environment deployment summaries (the detail has them).
        return ReleaseListItemSerializer if self.action == "list" else super().get_serializer_class()

    def filter_queryset(self, queryset):
        # List filters (`?environment=` …) must not hide the object of a detail action.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_success_headers(self, data) -> dict[str, str]:
        return {"Location": reverse("release-detail", kwargs={"pk": data["id"]}, request=self.request)}

    def perform_create(self, serializer) -> None:
        serializer.instance = services.release_create(actor=self.request.user, data=serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = services.release_update(
            release=serializer.instance,
            actor=self.request.user,
            data=serializer.validated_data,
            expected_revision=self.expected_revision(serializer.instance),
        )

    def perform_destroy(self, instance: Release) -> None:
        self.expected_revision(instance)  # If-Match → 412 when stale
        services.release_delete(release=instance, actor=self.request.user)

    # ---- lifecycle actions

    def _release_response(self, release: Release) -> Response:
        return Response(ReleaseSerializer(release, context=self.get_serializer_context()).data)

    @lifecycle_schema(
        "Submit for approval",
        None,
        ReleaseSerializer,
        examples=[
            response_example("Submitted", RELEASE_EXAMPLE),
            ERROR_INVALID_TRANSITION,
        ],
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Submit a draft or rejected release for approval (→ pending_approval)."""
        return self._release_response(call_service(self, services.release_submit))

    @lifecycle_schema(
        "Approve",
        ReleaseApproveInputSerializer,
        ReleaseSerializer,
        extra_errors={403: ERRORS[403]},
        examples=[
            OpenApiExample("Approve", value={"comment": "LGTM"}, request_only=True),
            response_example("Approved", APPROVED_EXAMPLE),
            refusal_example(
                "Four eyes",
                "four_eyes",
                "You created this release; someone else must approve it (four eyes).",
                status_code="403",
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve a draft or pending release. It becomes `approved` once it has the required number of
        approvals (the largest `min_approvals` of the environments that require approval, at least 1).
        The creator cannot approve (four eyes) and nobody approves twice."""
        return self._release_response(call_service(self, services.release_approve, ReleaseApproveInputSerializer))

    @lifecycle_schema(
        "Reject",
        ReleaseRejectInputSerializer,
        ReleaseSerializer,
        examples=[
            OpenApiExample("Reject", value={"reason": "Missing rollback plan."}, request_only=True),
            response_example(
                "Rejected",
                {
                    **RELEASE_EXAMPLE,
                    "status": "rejected",
                    "allowed_actions": ["update", "delete", "submit", "rollback"],
                },
            ),
            invalid_example("No reason", {"reason": ["This field is required."]}),
        ],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Reject a draft, pending or approved release (→ rejected). A reason is required."""
        return self._release_response(call_service(self, services.release_reject, ReleaseRejectInputSerializer))

    def _deployment_created(self, request: Request, deployment: Deployment) -> Response:
        location = reverse("deployment-detail", kwargs={"pk": deployment.pk}, request=request)
        return Response(
            DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    @lifecycle_schema(
        "Deploy to an environment",
        ReleaseDeployInputSerializer,
        DeploymentSerializer,
        status_code=201,
        examples=[
            OpenApiExample(
                "Deploy",
                value={
                    "environment": "staging",
                    "notes": "Sprint 4",
                    "pipeline_url": "https://ci.example.com/runs/981",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Pipeline reports later", value={"environment": "staging", "status": "in_progress"}, request_only=True
            ),
            OpenApiExample(
                "Override a freeze",
                value={"environment": "production", "override_freeze": True, "reason": "Hotfix for incident 4711"},
                request_only=True,
            ),
            response_example("Deployed", DEPLOYMENT_EXAMPLE, "201"),
            ERROR_BLOCKED,
        ],
    )
    @action(detail=True, methods=["post"])
    def deploy(self, request: Request, pk: str | None = None) -> Response:
        """Deploy the release to an environment and record the Deployment (201, `Location` of the deployment).

        Refused (409, with `blockers`) by a freeze window, the workflow order, an approval requirement, a
        deployment still in progress there, or when the release is already current there. A successful deploy
        to a production-tier environment makes the release `deployed`."""
        deployment = call_service(self, services.release_deploy, ReleaseDeployInputSerializer)
        return self._deployment_created(request, deployment)

    @lifecycle_schema(
        "Roll back from an environment",
        ReleaseRollbackInputSerializer,
        DeploymentSerializer,
        status_code=201,
        examples=[
            OpenApiExample(
                "Roll back", value={"environment": "production", "reason": "Error rate up"}, request_only=True
            ),
            response_example(
                "Rolled back",
                {
                    **DEPLOYMENT_EXAMPLE,
                    "release": "665f1c2e9b1e8a3d4c5b6a00",
                    "environment": "production",
                    "kind": "rollback",
                    "notes": "Error rate up",
                    "rolled_back_from": "665f1c2e9b1e8a3d4c5b6a01",
                },
                "201",
            ),
            ERROR_NOTHING_TO_ROLL_BACK,
        ],
    )
    @action(detail=True, methods=["post"])
    def rollback(self, request: Request, pk: str | None = None) -> Response:
        """Take the release off an environment where it is current and put back the previous successfully
        deployed release (a `rollback` Deployment, 201). On production the release becomes `rolled_back`.
        Nothing to return to → 409 `nothing_to_roll_back_to`."""
        deployment = call_service(self, services.release_rollback, ReleaseRollbackInputSerializer)
        return self._deployment_created(request, deployment)

    # ---- reads

    @extend_schema(
        summary="Can it be deployed?",
        parameters=[OpenApiParameter("environment", str, OpenApiParameter.QUERY, required=True)],
        responses={200: ReleaseDeployCheckSerializer, 400: ERRORS[400], 404: ERRORS[404]},
        examples=[
            OpenApiExample("Allowed", value={"allowed": True, "blockers": []}, response_only=True),
            OpenApiExample(
                "Blocked",
                value={
                    "allowed": False,
                    "blockers": [
                        {
                            "code": "workflow_order",
                            "message": "Workflow 'Standard' requires a successful deployment to 'staging' "
                            "before 'production'.",
                            "workflow": "standard",
                            "required_environment": "staging",
                        }
                    ],
                },
                response_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["get"], url_path="deploy-check", filter_backends=[], pagination_class=None)
    def deploy_check(self, request: Request, pk: str | None = None) -> Response:
        """What would block a deployment of this release to `?environment=` right now (same rules as deploy)."""
        env_id = request.query_params.get("environment", "").strip()
        if not env_id:
            raise ValidationFailed({"environment": ["This query parameter is required."]})
        environment = Environment.objects.filter(pk=env_id).first()
        if environment is None:
            raise ValidationFailed({"environment": [f"Unknown environment '{env_id}'."]})
        blockers = services.release_deploy_check(release=self.get_object(), environment=environment)
        # The blockers as the service states them: exactly what a refused deploy would carry.
        return Response({"allowed": not blockers, "blockers": blockers})

    @extend_schema(
        summary="Release metrics",
        responses={200: ReleaseMetricsSerializer, 404: ERRORS[404]},
        examples=[
            OpenApiExample(
                "Metrics",
                value=METRICS_EXAMPLE,
                response_only=True,
            )
        ],
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def metrics(self, request: Request, pk: str | None = None) -> Response:
        """Deployments per environment and status, success rate, mean deployment duration, lead time
        (created → first successful production deployment) and feature/task progress."""
        return Response(ReleaseMetricsSerializer(release_metrics(release=self.get_object())).data)

    @extend_schema(
        summary="Release history",
        responses={200: ReleaseHistoryEventSerializer(many=True), 404: ERRORS[404]},
        examples=[
            OpenApiExample(
                "History",
                value={
                    "seq": 42,
                    "at": "2024-01-21T08:00:00.000Z",
                    "actor": "carol",
                    "action": "release.approved",
                    "object_type": "release",
                    "object_id": "665f1c2e9b1e8a3d4c5b6a01",
                    "changes": {"status": ["pending_approval", "approved"], "approvals": [0, 1]},
                },
                response_only=True,
            )
        ],
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """The audit events of the release and of its deployments, newest first (paginated)."""
        page = self.paginate_queryset(release_history(release=self.get_object()))
        return self.get_paginated_response(ReleaseHistoryEventSerializer(page, many=True).data)


# --------------------------------------------------------------------------- deployments

DEPLOYMENT_REPORT_SCHEMA = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": [DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED]},
        "notes": {"type": "string", "maxLength": 5000},
    },
    "required": ["status"],
}


@extend_schema_view(
    list=extend_schema(
        summary="List deployments",
        description="Filter by `release`, `environment`, `status`, `kind`; `ordering` by started_at.",
        examples=[OpenApiExample("Page of deployments", value=DEPLOYMENT_EXAMPLE, response_only=True)],
        responses={200: DeploymentSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Get a deployment",
        examples=[OpenApiExample("Deployment", value=DEPLOYMENT_EXAMPLE, response_only=True)],
        responses={200: DeploymentSerializer, 404: ERRORS[404]},
    ),
    partial_update=extend_schema(
        summary="Report a deployment's result (CI/CD)",
        description="An `in_progress` deployment reports `succeeded` or `failed`; anything else is 409.",
        # A plain JSON schema: a serializer would be documented as partial (all optional) for PATCH.
        request={"application/json": DEPLOYMENT_REPORT_SCHEMA},
        responses={200: DeploymentSerializer, 400: ERRORS[400], 404: ERRORS[404], 409: ERRORS[409]},
        examples=[
            OpenApiExample("Succeeded", value={"status": "succeeded", "notes": "Smoke tests green"}, request_only=True),
            OpenApiExample("Failed", value={"status": "failed", "notes": "Migration timed out"}, request_only=True),
            response_example("Reported", DEPLOYMENT_EXAMPLE),
            refusal_example(
                "Already finished",
                "invalid_transition",
                "Only an in-progress deployment can report its result; this one is 'succeeded'.",
                status="succeeded",
                allowed_actions=[],
            ),
        ],
    ),
)
class DeploymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Deployments and rollbacks (created by the release actions); pipelines report results with PATCH."""

    queryset = deployment_list()
    lookup_value_regex = "[^/]+"
    serializer_class = DeploymentSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = DeploymentFilterSet
    ordering_fields = ["started_at"]
    ordering = ["-started_at", "id"]
    http_method_names = ["get", "patch", "head", "options"]

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        """Report the result of an in-progress deployment: `succeeded` or `failed`."""
        deployment = call_service(
            self, services.deployment_report_status, DeploymentStatusReportInputSerializer, target="deployment"
        )
        return Response(DeploymentSerializer(deployment).data)
