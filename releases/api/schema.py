"""OpenAPI of the release and deployment endpoints: examples, refusal examples, parameters, error
responses and the `extend_schema` / `extend_schema_view` decorators `releases.api.views` applies.

Refusal examples are built from the exceptions the services raise, so the docs say what the API says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from opsportal.api.mixins import etag_mismatch, revision_etag
from opsportal.api.schema import (
    IDEMPOTENCY_KEY,
    error_response,
    invalid_response,
    not_found_response,
)
from opsportal.errors import Conflict, Forbidden, PreconditionFailed, ValidationFailed
from opsportal.roles import RELEASE_MANAGERS, release_manager_required
from releases.api.serializers import (
    DeploymentConflictErrorSerializer,
    DeploymentSerializer,
    DeploymentStatusReportInputSerializer,
    ReleaseApproveInputSerializer,
    ReleaseConflictErrorSerializer,
    ReleaseDeployCheckSerializer,
    ReleaseDeployInputSerializer,
    ReleaseHistoryEventSerializer,
    ReleaseListItemSerializer,
    ReleaseMetricsSerializer,
    ReleaseRejectInputSerializer,
    ReleaseRollbackInputSerializer,
    ReleaseSerializer,
)
from releases.examples import SAMPLE_FEATURES
from releases.models import Deployment, Release
from releases.services import ACTIONS_BY_STATUS

# --------------------------------------------------------------------------- examples

RELEASE_ID = "665f1c2e9b1e8a3d4c5b6a01"

DEPLOYMENT_EXAMPLE = {
    "id": "665f1c2e9b1e8a3d4c5b6a55",
    "release": RELEASE_ID,
    "environment": "staging",
    "kind": "deploy",
    "status": "succeeded",
    "sequence": 12,
    "started_at": "2024-01-22T10:00:00.000Z",
    "finished_at": "2024-01-22T10:00:00.000Z",
    "scheduled_for": None,
    "blockers": [],
    "duration_seconds": 0.0,
    "deployed_by": "carol",
    "notes": "",
    "pipeline_url": "https://ci.example.com/runs/981",
    "rolled_back_from": None,
    "became_current": True,
    "previous_deployment": "665f1c2e9b1e8a3d4c5b6a54",
    "revision": 1,
}


def _deployment_conflict(description: str, name: str, status: str, what: str) -> OpenApiResponse:
    """409 of a deployment action refused in the deployment's status (`deployment_in_wrong_status`)."""
    refusal = Conflict(
        f"Only {'an' if status[0] in 'aeiou' else 'a'} {status} deployment can {what}; this one is 'succeeded'.",
        code="invalid_transition",
        status="succeeded",
        allowed_actions=[],
    )
    return error_response(description, (name, refusal), serializer=DeploymentConflictErrorSerializer)


SCHEDULED_EXAMPLE = {
    **DEPLOYMENT_EXAMPLE,
    "environment": "production",
    "status": "scheduled",
    "sequence": None,
    "started_at": "2024-01-23T05:00:00.000Z",
    "finished_at": None,
    "scheduled_for": "2024-01-23T05:00:00.000Z",
    "duration_seconds": None,
    "became_current": False,
    "previous_deployment": None,
}


def _environment_summary(environment: str, name: str, deployment: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "environment": environment,
        "name": name,
        "tier": environment,
        "health": "healthy",
        "is_current": deployment is not None,
        "current_release": RELEASE_ID if deployment is not None else "665f1c2e9b1e8a3d4c5b6a00",
        "deployment": deployment,
    }


def _release(status: str, revision: int, **fields: Any) -> dict[str, Any]:
    """A release as the detail answers it, in `status` (its allowed actions follow from the status)."""
    return {
        "id": RELEASE_ID,
        "name": "Q1 2024 Major Release",
        "version": "2.0.0",
        "description": "New dashboard and SSO.",
        "status": status,
        "team": "platform-team",
        "workflow": "standard",
        "target_date": "2024-03-31",
        "created_by": "alice",
        "created_at": "2024-01-15T09:30:00.000Z",
        "updated_at": "2024-01-20T14:02:11.512Z",
        "revision": revision,
        "features": SAMPLE_FEATURES,
        "approvals": [],
        "allowed_actions": list(ACTIONS_BY_STATUS[status]),
        "progress": {
            "features_total": 1,
            "features_done": 0,
            "tasks_total": 2,
            "tasks_done": 1,
            "percent_complete": 50.0,
        },
        "environments": [
            _environment_summary("development", "Development", None),
            _environment_summary("staging", "Staging", DEPLOYMENT_EXAMPLE),
            _environment_summary("production", "Production", None),
        ],
        "approval_status": [_approval_status(approvers=[a["user"] for a in fields.get("approvals", [])])],
        **fields,
    }


def _approval_status(approvers: list[str]) -> dict[str, Any]:
    """Production's policy (2 from Release Managers, 1 from the security team) on these approvals."""
    managers = {"rule": "Release Managers", "needed": 2, "have": len(approvers), "expired": 0, "stale": 0}
    security = {"rule": "Security", "needed": 1, "have": 0, "expired": 0, "stale": 0, "met": False, "approvers": []}
    return {
        "environment": "production",
        "name": "Production",
        "met": False,
        "rules": [{**managers, "met": len(approvers) >= 2, "approvers": approvers}, security],
        "deployer_is_only_approver": False,
    }


APPROVAL = {
    "user": "carol",
    "decision": "approved",
    "comment": "LGTM",
    "at": "2024-01-21T08:00:00.000Z",
    "digest": "sha256:5d41402abc4b2a76b9719d911017c592e3b0c44298fc1c149afbf4c8996fb924",
    "groups": ["Release Managers"],
    "teams": ["platform-team"],
}
RELEASE_EXAMPLE = _release("pending_approval", 3)
DRAFT_EXAMPLE = _release(
    "draft",
    1,
    updated_at="2024-01-15T09:30:00.000Z",
    environments=[
        _environment_summary("development", "Development", None),
        _environment_summary("staging", "Staging", None),
        _environment_summary("production", "Production", None),
    ],
)
APPROVED_EXAMPLE = _release("approved", 4, approvals=[APPROVAL])
REJECTED_EXAMPLE = _release(
    "rejected",
    4,
    approvals=[{**APPROVAL, "decision": "rejected", "comment": "Missing rollback plan."}],
)
RELEASE_LIST_EXAMPLE = {
    **{key: value for key, value in RELEASE_EXAMPLE.items() if key not in ("environments", "approval_status")},
    "deployed_to": ["staging"],
}
METRICS_EXAMPLE = {
    "release": RELEASE_ID,
    "deployments_total": 4,
    "deployments_by_status": {"in_progress": 0, "succeeded": 3, "failed": 1, "rolled_back": 0},
    "deployments_by_environment": [
        {"environment": "staging", "total": 2, "in_progress": 0, "succeeded": 1, "failed": 1, "rolled_back": 0},
    ],
    "success_rate": 0.75,
    "mean_deployment_duration_seconds": 312.5,
    "lead_time_seconds": 864000.0,
    "first_production_deployment_at": "2024-01-25T09:30:00.000Z",
    "progress": RELEASE_EXAMPLE["progress"],
}
FREEZE_BLOCKER = {
    "code": "freeze_window",
    "message": "Production is frozen until 2024-12-27T00:00:00Z: holidays",
    "until": "2024-12-27T00:00:00Z",
    "reason": "holidays",
}
INVALID_FEATURES = {
    "features": ["features[0].tasks[1].status: 'finished' is not one of ['todo', 'in_progress', 'done']"]
}
WORKFLOW_BLOCKER = {
    "code": "workflow_order",
    "message": "Workflow 'Standard' requires a successful deployment to 'staging' before 'production'.",
    "workflow": "standard",
    "required_environment": "staging",
}


def response_example(name: str, value: dict[str, Any], status_code: str = "200") -> OpenApiExample:
    """A response example for one status code."""
    return OpenApiExample(name, value=value, response_only=True, status_codes=[status_code])


def refused(message: str, code: str, status: str, **context: Any) -> Conflict:
    """A 409 on a release in `status`, as the services raise it (with the status and its allowed actions)."""
    return Conflict(message, code=code, status=status, allowed_actions=list(ACTIONS_BY_STATUS[status]), **context)


def illegal(action: str, status: str) -> Conflict:
    return refused(f"Cannot {action} a release in status '{status}'.", "invalid_transition", status)


STALE_RELEASE = Conflict(
    "The release was changed by someone else meanwhile; reload it and try again.",
    code="stale_revision",
    revision=4,
    status="pending_approval",
)
DEPLOY_BLOCKED = refused(
    "Cannot deploy 2.0.0 to Production: Production is frozen until 2024-12-27T00:00:00Z: holidays",
    "deploy_blocked",
    "approved",
    blockers=[FREEZE_BLOCKER],
)
NOT_CURRENT = refused(
    "2.0.0 is not the current release of Production; only that one can be rolled back.",
    "not_current_release",
    "deployed",
    current_release="665f1c2e9b1e8a3d4c5b6a07",
)
NOTHING_TO_ROLL_BACK_TO = refused(
    "Nothing to roll back to: no other release was current on Production before this one.",
    "nothing_to_roll_back_to",
    "deployed",
)
ALREADY_APPROVED = refused("You have already approved this release.", "already_approved", "pending_approval")
FOUR_EYES = Forbidden("You created this release; someone else must approve it (four eyes).", code="four_eyes")
TEAM_REQUIRED = Forbidden(
    "To change releases of team 'platform-team' you must be a member of that team or a Release Manager.",
    code="team_required",
    required_team="platform-team",
)

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description=f'The `ETag` of your last read (e.g. `"{RELEASE_ID}-3"`); if the release changed since → 412.',
)

NOT_FOUND = not_found_response(Release)
PRECONDITION_FAILED = error_response(
    "`If-Match` is not the release's current `ETag`; nothing was changed.",
    ("Stale If-Match", etag_mismatch("release", revision_etag(RELEASE_ID, 4))),
    ("Changed meanwhile", PreconditionFailed("The release is at revision 4, not 3.", revision=4)),
)
FORBIDDEN = error_response(
    "Signed in, but not allowed: the role or team needed is missing.", ("Not a team member", TEAM_REQUIRED)
)


def conflict(description: str, *examples: tuple[str, Conflict]) -> OpenApiResponse:
    """409 of a release: the release's status and allowed actions come with it."""
    return error_response(description, *examples, serializer=ReleaseConflictErrorSerializer)


def lifecycle_schema(
    summary: str,
    request: Any,
    response: OpenApiResponse,
    *,
    examples: list[OpenApiExample],
    refusals: dict[int, OpenApiResponse],
    status_code: int = 200,
) -> Callable:
    """The OpenAPI of a lifecycle action: safe to retry with an `Idempotency-Key`, its refusals, its examples."""
    return extend_schema(
        summary=summary,
        parameters=[IDEMPOTENCY_KEY],
        request=request,
        responses={status_code: response, 404: NOT_FOUND, **refusals},
        examples=examples,
    )


EDIT_REFUSED = conflict(
    "The release's status does not allow edits, or someone else changed it meanwhile.",
    ("Illegal action", illegal("update", "approved")),
    ("Stale revision", STALE_RELEASE),
)
RELEASE_CHANGED = OpenApiResponse(
    ReleaseSerializer, description="The release after the action; `ETag` is its new revision."
)
DEPLOYMENT_CREATED = OpenApiResponse(
    DeploymentSerializer, description="The deployment it recorded; `Location` is its URL."
)

# --------------------------------------------------------------------------- releases

RELEASE_VIEWSET_SCHEMA = extend_schema_view(
    list=extend_schema(
        summary="List releases",
        description="Filter by `status`, `team`, `workflow`, `environment` (currently deployed there); "
        "`search` in name, version, description, features and tasks; `ordering` by created_at, target_date, "
        "version, name.",
        examples=[OpenApiExample("Page of releases", value=RELEASE_LIST_EXAMPLE, response_only=True)],
        responses={
            200: OpenApiResponse(
                ReleaseListItemSerializer(many=True),
                description="A page of releases, newest first unless `ordering` says otherwise.",
            ),
        },
    ),
    retrieve=extend_schema(
        summary="Get a release",
        description="With its features/tasks, approvals, allowed actions, and per environment where it stands. "
        "Send the `ETag` back as `If-Match` to make a change conditional.",
        examples=[OpenApiExample("Release", value=RELEASE_EXAMPLE, response_only=True)],
        responses={
            200: OpenApiResponse(ReleaseSerializer, description="The release; `ETag` is its revision."),
            404: NOT_FOUND,
        },
    ),
    create=extend_schema(
        summary="Create a release (draft)",
        description="Engineers create releases of their teams (a release without a team gets the engineer's team "
        "when they belong to exactly one); Release Managers of any team.",
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
            response_example("Created", DRAFT_EXAMPLE, "201"),
        ],
        responses={
            201: OpenApiResponse(ReleaseSerializer, description="The new draft; `Location` is its URL."),
            400: error_response(
                "Invalid input: `errors` names each field (nested paths inside the messages).",
                (
                    "Duplicate version",
                    ValidationFailed({"version": ["A release with version '2.0.0' already exists."]}),
                ),
                ("Invalid nested data", ValidationFailed(INVALID_FEATURES)),
            ),
            403: FORBIDDEN,
        },
    ),
    update=extend_schema(
        summary="Replace a release's editable fields",
        description="Only in draft, pending_approval or rejected. id, status, revision, approvals, created_by and "
        "timestamps are ignored. `If-Match: <ETag>` makes the update conditional (412 if stale).",
        parameters=[IF_MATCH],
        examples=[
            OpenApiExample("Update", value={"name": "Q1 2024 Major Release", "version": "2.0.0"}, request_only=True),
            OpenApiExample("Updated", value=RELEASE_EXAMPLE, response_only=True),
        ],
        responses={
            200: RELEASE_CHANGED,
            400: invalid_response("Duplicate version", {"version": ["A release with version '1.9.1' already exists."]}),
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: EDIT_REFUSED,
            412: PRECONDITION_FAILED,
        },
    ),
    partial_update=extend_schema(
        summary="Change some of a release's editable fields",
        description="Only in draft, pending_approval or rejected. `If-Match: <ETag>` makes it conditional (412).",
        parameters=[IF_MATCH],
        examples=[
            OpenApiExample("Rename", value={"description": "Now with SSO."}, request_only=True),
            OpenApiExample("Updated", value=RELEASE_EXAMPLE, response_only=True),
        ],
        responses={
            200: RELEASE_CHANGED,
            400: invalid_response("Invalid nested data", INVALID_FEATURES),
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: EDIT_REFUSED,
            412: PRECONDITION_FAILED,
        },
    ),
    destroy=extend_schema(
        summary="Delete a draft or rejected release",
        parameters=[IF_MATCH],
        responses={
            204: OpenApiResponse(None, description="The release is deleted."),
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: conflict(
                "Only a draft or rejected release without deployments can be deleted.",
                ("Illegal action", illegal("delete", "approved")),
                (
                    "Has deployments",
                    refused("This release has deployments and cannot be deleted.", "protected", "rejected"),
                ),
            ),
            412: PRECONDITION_FAILED,
        },
    ),
)

SUBMIT_SCHEMA = lifecycle_schema(
    "Submit for approval",
    None,
    RELEASE_CHANGED,
    examples=[response_example("Submitted", RELEASE_EXAMPLE)],
    refusals={
        403: FORBIDDEN,
        409: conflict(
            "Only a draft or rejected release can be submitted.", ("Illegal action", illegal("submit", "approved"))
        ),
    },
)

APPROVE_SCHEMA = lifecycle_schema(
    "Approve",
    ReleaseApproveInputSerializer,
    RELEASE_CHANGED,
    examples=[
        OpenApiExample("Approve", value={"comment": "LGTM"}, request_only=True),
        response_example("Approved", APPROVED_EXAMPLE),
    ],
    refusals={
        403: error_response(
            "The author cannot approve their own release (four eyes); approving needs the Release Managers role.",
            ("Four eyes", FOUR_EYES),
            ("Role required", release_manager_required("approve releases")),
        ),
        409: conflict(
            "Already approved by you, or the status does not allow approval.",
            ("Already approved", ALREADY_APPROVED),
            ("Illegal action", illegal("approve", "deployed")),
        ),
    },
)

REJECT_SCHEMA = lifecycle_schema(
    "Reject",
    ReleaseRejectInputSerializer,
    RELEASE_CHANGED,
    examples=[
        OpenApiExample("Reject", value={"reason": "Missing rollback plan."}, request_only=True),
        response_example("Rejected", REJECTED_EXAMPLE),
    ],
    refusals={
        400: invalid_response("No reason", {"reason": ["This field is required."]}),
        403: error_response(
            "Rejecting needs the Release Managers role.", ("Role required", release_manager_required("reject releases"))
        ),
        409: conflict("The status does not allow a rejection.", ("Illegal action", illegal("reject", "deployed"))),
    },
)

DEPLOY_SCHEMA = lifecycle_schema(
    "Deploy to an environment",
    ReleaseDeployInputSerializer,
    DEPLOYMENT_CREATED,
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
    ],
    refusals={
        400: invalid_response("Unknown environment", {"environment": ['Invalid pk "moon" - object does not exist.']}),
        403: error_response(
            "Engineers deploy only to environments that do not require approval, and only their teams' releases.",
            (
                "Role required",
                Forbidden(
                    "Deploying to Production (it requires approval) needs the Release Managers role.",
                    code="role_required",
                    required_role=RELEASE_MANAGERS,
                ),
            ),
        ),
        409: conflict(
            "Blocked (`blockers` says by what: a freeze window, the workflow order, an approval requirement, a "
            "deployment in progress, or it is already current there), or the status does not allow deploying.",
            ("Blocked", DEPLOY_BLOCKED),
            (
                "Illegal action",
                refused(
                    "Cannot deploy 2.0.0 to Staging: A rejected release cannot be deployed; rework and resubmit it.",
                    "invalid_transition",
                    "rejected",
                    blockers=[
                        {
                            "code": "invalid_status",
                            "message": "A rejected release cannot be deployed; rework and resubmit it.",
                            "status": "rejected",
                        }
                    ],
                ),
            ),
        ),
    },
)

ROLLBACK_SCHEMA = lifecycle_schema(
    "Roll back from an environment",
    ReleaseRollbackInputSerializer,
    DEPLOYMENT_CREATED,
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
                "rolled_back_from": RELEASE_ID,
                "previous_deployment": "665f1c2e9b1e8a3d4c5b6a40",
            },
            "201",
        ),
    ],
    refusals={
        400: invalid_response("No environment", {"environment": ["This field is required."]}),
        403: error_response(
            "Rolling back needs the Release Managers role.",
            ("Role required", release_manager_required("roll back releases")),
        ),
        409: conflict(
            "The release is not the environment's current release, or nothing was current there before it.",
            ("Not current", NOT_CURRENT),
            ("Nothing to roll back to", NOTHING_TO_ROLL_BACK_TO),
        ),
    },
)

DEPLOY_CHECK_SCHEMA = extend_schema(
    summary="Can it be deployed?",
    description="The same rules as deploy, without deploying: an empty `blockers` means a deploy would be accepted.",
    parameters=[
        OpenApiParameter(
            "environment", str, OpenApiParameter.QUERY, required=True, description="Environment id.", examples=[]
        )
    ],
    responses={
        200: OpenApiResponse(ReleaseDeployCheckSerializer, description="Whether it may deploy, and what blocks it."),
        400: invalid_response("Unknown environment", {"environment": ["Unknown environment 'moon'."]}),
        404: NOT_FOUND,
    },
    examples=[
        OpenApiExample("Allowed", value={"allowed": True, "blockers": []}, response_only=True),
        OpenApiExample("Blocked", value={"allowed": False, "blockers": [WORKFLOW_BLOCKER]}, response_only=True),
    ],
)

METRICS_SCHEMA = extend_schema(
    summary="Release metrics",
    responses={
        200: OpenApiResponse(ReleaseMetricsSerializer, description="The release's deployment figures and progress."),
        404: NOT_FOUND,
    },
    examples=[OpenApiExample("Metrics", value=METRICS_EXAMPLE, response_only=True)],
)

HISTORY_SCHEMA = extend_schema(
    summary="Release history",
    responses={
        200: OpenApiResponse(
            ReleaseHistoryEventSerializer(many=True),
            description="A page of the audit events of the release and its deployments, newest first.",
        ),
        404: NOT_FOUND,
    },
    examples=[
        OpenApiExample(
            "History",
            value={
                "seq": 42,
                "at": "2024-01-21T08:00:00.000Z",
                "actor": "carol",
                "action": "release.approved",
                "object_type": "release",
                "object_id": RELEASE_ID,
                "changes": {"status": ["pending_approval", "approved"], "approvals": [0, 1]},
            },
            response_only=True,
        )
    ],
)


# --------------------------------------------------------------------------- deployments

DEPLOYMENT_NOT_FOUND = not_found_response(Deployment)

_CANCELLED = OpenApiResponse(DeploymentSerializer, description="The deployment, now `cancelled`.")
_NOT_SCHEDULED = _deployment_conflict(
    "Only a scheduled one can be cancelled.", "Already ran", "scheduled", "be cancelled"
)
CANCEL_RESPONSES = {200: _CANCELLED, 404: DEPLOYMENT_NOT_FOUND, 409: _NOT_SCHEDULED}

DEPLOYMENT_VIEWSET_SCHEMA = extend_schema_view(
    list=extend_schema(
        summary="List deployments",
        description="Filter by `release`, `environment`, `status`, `kind`; `ordering` by started_at.",
        examples=[OpenApiExample("Page of deployments", value=DEPLOYMENT_EXAMPLE, response_only=True)],
        responses={
            200: OpenApiResponse(DeploymentSerializer(many=True), description="A page of deployments, newest first."),
        },
    ),
    retrieve=extend_schema(
        summary="Get a deployment",
        examples=[OpenApiExample("Deployment", value=DEPLOYMENT_EXAMPLE, response_only=True)],
        responses={
            200: OpenApiResponse(DeploymentSerializer, description="The deployment."),
            404: DEPLOYMENT_NOT_FOUND,
        },
    ),
    partial_update=extend_schema(
        summary="Report a deployment's result (CI/CD)",
        description="An `in_progress` deployment reports `succeeded` or `failed`; anything else is 409. The "
        "release's team members, its deployer and Release Managers may report.",
        # The input serializer, not the view's: the view's would be documented as partial (all optional) for PATCH.
        request=DeploymentStatusReportInputSerializer,
        responses={
            200: OpenApiResponse(DeploymentSerializer, description="The deployment with its result."),
            404: DEPLOYMENT_NOT_FOUND,
            409: _deployment_conflict(
                "The deployment already reported its result.", "Already finished", "in-progress", "report its result"
            ),
        },
        examples=[
            OpenApiExample("Succeeded", value={"status": "succeeded", "notes": "Smoke tests green"}, request_only=True),
            OpenApiExample("Failed", value={"status": "failed", "notes": "Migration timed out"}, request_only=True),
            response_example("Reported", {**DEPLOYMENT_EXAMPLE, "revision": 2}),
        ],
    ),
    cancel=extend_schema(
        summary="Cancel a scheduled deployment",
        request=None,
        responses=CANCEL_RESPONSES,
        examples=[response_example("Cancelled", SCHEDULED_EXAMPLE | {"status": "cancelled", "revision": 2})],
    ),
)
