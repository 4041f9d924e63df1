"""OpenAPI of the release and deployment endpoints: examples, refusal examples, parameters, error
responses and the `extend_schema` / `extend_schema_view` decorators `releases.api.views` applies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from opsportal.api.schema import IDEMPOTENCY_KEY, invalid_example
from releases.api.serializers import (
    DeploymentSerializer,
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
    "became_current": True,
    "previous_deployment": "665f1c2e9b1e8a3d4c5b6a54",
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

RELEASE_VIEWSET_SCHEMA = extend_schema_view(
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

SUBMIT_SCHEMA = lifecycle_schema(
    "Submit for approval",
    None,
    ReleaseSerializer,
    examples=[
        response_example("Submitted", RELEASE_EXAMPLE),
        ERROR_INVALID_TRANSITION,
    ],
)

APPROVE_SCHEMA = lifecycle_schema(
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

REJECT_SCHEMA = lifecycle_schema(
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

DEPLOY_SCHEMA = lifecycle_schema(
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

ROLLBACK_SCHEMA = lifecycle_schema(
    "Roll back from an environment",
    ReleaseRollbackInputSerializer,
    DeploymentSerializer,
    status_code=201,
    examples=[
        OpenApiExample("Roll back", value={"environment": "production", "reason": "Error rate up"}, request_only=True),
        response_example(
            "Rolled back",
            {
                **DEPLOYMENT_EXAMPLE,
                "release": "665f1c2e9b1e8a3d4c5b6a00",
                "environment": "production",
                "kind": "rollback",
                "notes": "Error rate up",
                "rolled_back_from": "665f1c2e9b1e8a3d4c5b6a01",
                "previous_deployment": "665f1c2e9b1e8a3d4c5b6a40",
            },
            "201",
        ),
        ERROR_NOTHING_TO_ROLL_BACK,
    ],
)

DEPLOY_CHECK_SCHEMA = extend_schema(
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

METRICS_SCHEMA = extend_schema(
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

HISTORY_SCHEMA = extend_schema(
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


# --------------------------------------------------------------------------- deployments

DEPLOYMENT_REPORT_SCHEMA = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": [DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED]},
        "notes": {"type": "string", "maxLength": 5000},
    },
    "required": ["status"],
}

DEPLOYMENT_VIEWSET_SCHEMA = extend_schema_view(
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
