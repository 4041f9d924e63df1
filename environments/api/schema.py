"""OpenAPI of the environment endpoints: examples and the decorators `environments.api.views` applies."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema

from environments.api.serializers import EnvironmentStatusSerializer
from environments.models import Environment
from environments.services import ENVIRONMENTS
from opsportal.api.schema import document_schema_view, not_found_response

ENVIRONMENT_EXAMPLE = {
    "id": "production",
    "name": "Production",
    "tier": "production",
    "order": 3,
    "url": "https://opsportal.example.com",
    "description": "Customer-facing production cluster.",
    "config": {"replicas": 6, "region": "eu-west-1", "debug": False},
    "approval_policy": {
        "rules": [
            {"name": "Release Managers", "approvals": 2, "group": "Release Managers"},
            {"name": "Security", "approvals": 1, "team": "security-team"},
        ],
        "expires_after": 259200,
        "warn_before": 86400,
        "creator_can_approve": False,
        "deployer_four_eyes": True,
    },
    "requires_approval": True,
    "freeze_windows": [
        {"starts_at": "2026-12-21T00:00:00Z", "ends_at": "2027-01-04T00:00:00Z", "reason": "Holiday change freeze"}
    ],
    "health": "healthy",
    "current_release": "release-2",
    "current_deployment": "deployment-3",
    "deployment_seq": 2,
    "reference_seq": 5,
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
    "became_current": False,
    "previous_deployment": None,
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

ENVIRONMENT_VIEWSET_SCHEMA = document_schema_view(
    list_description="Environments in promotion order (`order`), filterable by tier, health and approval need.",
    example=ENVIRONMENT_EXAMPLE,
    create=CREATE_EXAMPLE,
    change=("Mark degraded, add a freeze", UPDATE_EXAMPLE),
    invalid=(
        "Freeze window ends before it starts",
        {"freeze_windows": ["freeze_windows[0].ends_at: must be after starts_at (2026-12-21T00:00:00Z)."]},
    ),
    protected=ENVIRONMENTS.refusal("production", {"deployments": 2}),
)

STATUS_SCHEMA = extend_schema(
    summary="Environment status",
    responses={
        200: OpenApiResponse(
            EnvironmentStatusSerializer,
            description="The environment, the release running there, its latest deployments, health and freeze.",
        ),
        404: not_found_response(Environment),
    },
    examples=[OpenApiExample("Production status", value=STATUS_EXAMPLE, response_only=True)],
)
