"""OpenAPI of the environment endpoints: examples and the decorators `environments.api.views` applies."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema

from environments.api.serializers import (
    EnvironmentStatusSerializer,
    FreezeImportInputSerializer,
    FreezeImportResultSerializer,
    FreezeOccurrenceSerializer,
)
from environments.models import Environment
from environments.services import ENVIRONMENTS, FREEZES
from opsportal.api.schema import document_schema_view, invalid_response, not_found_response, role_required_response

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
}
UPDATE_EXAMPLE = {
    "revision": 4,
    "health": "degraded",
}
DEPLOYMENT_EXAMPLE = {
    "id": "deployment-12",
    "release": {"id": "release-1", "name": "Q1 2024 Major Release", "version": "2.0.0"},
    "kind": "deploy",
    "status": "failed",
    "sequence": 2,
    "started_at": "2026-11-25T15:00:00Z",
    "finished_at": "2026-11-25T15:12:00Z",
    "scheduled_for": None,
    "blockers": [],
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
    change=("Mark degraded", UPDATE_EXAMPLE),
    invalid=(
        "An approval rule naming no team",
        {"approval_policy": ["rules[0].team: no team 'security'."]},
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

FREEZE_EXAMPLE = {
    "id": "weekend-freeze",
    "name": "Weekend freeze",
    "description": "",
    "reason": "No production changes at weekends.",
    "created_by": "carol",
    "timezone": "Europe/Berlin",
    "starts_at": "2026-01-02T23:00:00Z",
    "ends_at": None,
    "rrule": "FREQ=WEEKLY;BYDAY=SA",
    "duration_minutes": 2880,
    "exdates": ["2026-12-26"],
    "environments": ["production"],
    "tiers": [],
    "teams": [],
    "source": "",
    "announced_until": "2026-11-30T09:00:00Z",
    "reference_seq": 0,
    "revision": 1,
    "created_at": "2026-01-01T09:00:00Z",
    "updated_at": "2026-01-01T09:00:00Z",
}
FREEZE_CREATE_EXAMPLE = {
    "name": "Weekend freeze",
    "reason": "No production changes at weekends.",
    "timezone": "Europe/Berlin",
    "starts_at": "2026-01-03T00:00:00+01:00",
    "rrule": "FREQ=WEEKLY;BYDAY=SA",
    "duration_minutes": 2880,
    "environments": ["production"],
}
OCCURRENCE_EXAMPLE = {
    "freeze": "weekend-freeze",
    "name": "Weekend freeze",
    "reason": "No production changes at weekends.",
    "starts_at": "2026-03-27T23:00:00Z",
    "ends_at": "2026-03-29T22:00:00Z",
    "environments": ["production"],
    "teams": [],
}

FREEZE_VIEWSET_SCHEMA = document_schema_view(
    list_description="The freeze calendar, earliest first.",
    example=FREEZE_EXAMPLE,
    create=FREEZE_CREATE_EXAMPLE,
    change=("Skip Boxing Day", {"revision": 1, "exdates": ["2026-12-26"]}),
    invalid=("Not a time zone", {"timezone": ["'Mars/Olympus' is not an IANA time zone (e.g. Europe/Berlin)."]}),
    protected=FREEZES.refusal("weekend-freeze", {}),
)

OCCURRENCES_SCHEMA = extend_schema(
    summary="Freeze occurrences",
    parameters=[
        OpenApiParameter("from", OpenApiTypes.DATETIME, required=True, description="Start of the range (with offset)."),
        OpenApiParameter("to", OpenApiTypes.DATETIME, required=True, description="End (exclusive; ≤ 400 days later)."),
        OpenApiParameter("environment", str, description="Only occurrences that block this environment."),
        OpenApiParameter("team", str, description="Only occurrences that block this team's releases."),
    ],
    responses={
        200: OpenApiResponse(FreezeOccurrenceSerializer(many=True), description="The occurrences, by start."),
        400: invalid_response("Bad range", {"to": ["must be after from."]}),
    },
    examples=[OpenApiExample("Weekend freeze over DST", value=OCCURRENCE_EXAMPLE, response_only=True)],
)

IMPORT_SCHEMA = extend_schema(
    summary="Import an iCalendar file as freezes",
    request=FreezeImportInputSerializer,
    responses={
        200: OpenApiResponse(FreezeImportResultSerializer, description="The freezes created and updated."),
        400: invalid_response("Not a calendar", {"file": ["Not an iCalendar file: Content line could not be parsed"]}),
        403: role_required_response(FREEZES.manage),
    },
    examples=[
        OpenApiExample(
            "German public holidays",
            value={
                "calendar": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\n"
                "UID:2026-12-25-de@example\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20261225\r\n"
                "DTEND;VALUE=DATE:20261226\r\nSUMMARY:1. Weihnachtstag\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                "timezone": "Europe/Berlin",
                "environments": ["production"],
            },
            request_only=True,
        ),
        OpenApiExample(
            "Imported", value={"created": ["1-weihnachtstag-2026-12-25"], "updated": []}, response_only=True
        ),
    ],
)
