"""OpenAPI of the incident endpoints: examples and the decorators `incidents.api.views` applies."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from incidents.api.serializers import (
    IncidentConflictErrorSerializer,
    IncidentCreateInputSerializer,
    IncidentResolveInputSerializer,
    IncidentSerializer,
    IncidentUpdateInputSerializer,
)
from incidents.models import Incident
from opsportal.api.schema import (
    error_response,
    if_match_parameter,
    invalid_response,
    not_found_response,
    precondition_failed_response,
)
from opsportal.errors import Conflict, Forbidden

INCIDENT_EXAMPLE = {
    "id": "6761b2c09b1e8a3d4c5b6a80",
    "title": "Checkout returns 502 for 8% of requests",
    "description": "Error rate alarm on the payments API after the 2.4.0 rollout.",
    "severity": "critical",
    "status": "open",
    "environment": "production",
    "deployment": "665f1c2e9b1e8a3d4c5b6a55",
    "release": "665f1c2e9b1e8a3d4c5b6a01",
    "started_at": "2026-11-20T10:40:00.000Z",
    "resolved_at": None,
    "external_id": "PD-48213",
    "url": "https://acme.pagerduty.com/incidents/PD-48213",
    "reported_by": "ci-payments",
    "resolved_by": "",
    "created_at": "2026-11-20T10:41:12.345Z",
    "updated_at": "2026-11-20T10:41:12.345Z",
    "revision": 1,
}
RESOLVED_EXAMPLE = {
    **INCIDENT_EXAMPLE,
    "status": "resolved",
    "resolved_at": "2026-11-20T11:25:00.000Z",
    "resolved_by": "carol",
    "updated_at": "2026-11-20T11:25:03.210Z",
    "revision": 2,
}
CREATE_EXAMPLE = {
    "title": "Checkout returns 502 for 8% of requests",
    "severity": "critical",
    "deployment": "665f1c2e9b1e8a3d4c5b6a55",
    "started_at": "2026-11-20T10:40:00Z",
    "external_id": "PD-48213",
    "url": "https://acme.pagerduty.com/incidents/PD-48213",
}
NOT_YOURS = error_response(
    "Not a Release Manager nor an Engineer of a team that deploys to the environment; or an API token "
    "without the `report_incidents` scope or the team.",
    (
        "Not your environment",
        Forbidden(
            "To report incidents in Production you must be a member of a team that deploys there "
            "(or a Release Manager).",
            code="team_required",
        ),
    ),
)
ALREADY_RESOLVED = Conflict(
    "Incident 6761b2c09b1e8a3d4c5b6a80 was already resolved at 2026-11-20T11:25:00Z by carol.",
    code="invalid_transition",
    status="resolved",
    allowed_actions=[],
)
DUPLICATE = Conflict(
    "An incident with the external id 'PD-48213' was already reported (6761b2c09b1e8a3d4c5b6a80).",
    code="duplicate_incident",
    incident="6761b2c09b1e8a3d4c5b6a80",
)
_IF_MATCH = if_match_parameter(Incident, INCIDENT_EXAMPLE["id"], 1)
_STALE = precondition_failed_response(Incident, INCIDENT_EXAMPLE["id"], 2)

INCIDENT_VIEWSET_SCHEMA = extend_schema_view(
    list=extend_schema(
        summary="List incidents",
        description="Newest first; filter by status, severity, environment, deployment, release, team, external id "
        "and start time.",
        examples=[OpenApiExample("Incidents", value=INCIDENT_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="Get an incident",
        responses={200: IncidentSerializer, 404: not_found_response(Incident)},
        examples=[OpenApiExample("Incident", value=INCIDENT_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Report an incident",
        request=IncidentCreateInputSerializer,
        responses={
            201: IncidentSerializer,
            400: invalid_response(
                "Deployment elsewhere", {"deployment": ["Deployment 665f1c2e went to 'staging', not 'production'."]}
            ),
            403: NOT_YOURS,
            409: error_response(
                "Already reported (same `external_id`).",
                ("Duplicate", DUPLICATE),
                serializer=IncidentConflictErrorSerializer,
            ),
        },
        examples=[
            OpenApiExample("Caused by a deployment", value=CREATE_EXAMPLE, request_only=True),
            OpenApiExample("Reported", value=INCIDENT_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    ),
    partial_update=extend_schema(
        summary="Change an incident",
        request=IncidentUpdateInputSerializer,
        parameters=[_IF_MATCH],
        responses={
            200: IncidentSerializer,
            400: invalid_response("Bad start", {"started_at": ["An incident cannot start in the future."]}),
            403: NOT_YOURS,
            404: not_found_response(Incident),
            409: error_response(
                "Already reported (same `external_id`).",
                ("Duplicate", DUPLICATE),
                serializer=IncidentConflictErrorSerializer,
            ),
            412: _STALE,
        },
        examples=[
            OpenApiExample("Raise the severity", value={"severity": "critical", "revision": 1}, request_only=True),
            OpenApiExample("Changed", value={**INCIDENT_EXAMPLE, "revision": 2}, response_only=True),
        ],
    ),
)

RESOLVE_SCHEMA = extend_schema(
    summary="Resolve an incident",
    request=IncidentResolveInputSerializer,
    parameters=[_IF_MATCH],
    responses={
        200: IncidentSerializer,
        400: invalid_response("Before it started", {"resolved_at": ["An incident is resolved after it started."]}),
        403: NOT_YOURS,
        404: not_found_response(Incident),
        409: error_response(
            "The incident is already resolved.",
            ("Already resolved", ALREADY_RESOLVED),
            serializer=IncidentConflictErrorSerializer,
        ),
        412: _STALE,
    },
    examples=[
        OpenApiExample("Resolved now", value={}, request_only=True),
        OpenApiExample("Resolved", value=RESOLVED_EXAMPLE, response_only=True),
    ],
)
