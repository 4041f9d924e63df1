"""OpenAPI of the dashboard and analytics endpoints: examples and the decorators `dashboard.api.views`
applies."""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.serializers import Serializer

from dashboard.api import serializers as s
from opsportal.api.schema import AutoSchema, invalid_response


class SingleDocumentSchema(AutoSchema):
    """`list` here answers one document (a report), not an array of objects."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


STATUS_COUNTS_EXAMPLE = {
    "draft": 2,
    "pending_approval": 1,
    "approved": 1,
    "rejected": 0,
    "deployed": 3,
    "rolled_back": 1,
}

ANALYTICS_EXAMPLE = {
    "generated_at": "2025-03-31T12:00:00Z",
    "window_days": 30,
    "window_start": "2025-03-01T12:00:00Z",
    "by_status": STATUS_COUNTS_EXAMPLE,
    "by_team": [
        {"team_id": "platform-team", "team_name": "Platform Team", "count": 5},
        {"team_id": None, "team_name": "unassigned", "count": 3},
    ],
    "created_per_month": [{"month": "2025-02", "count": 3}, {"month": "2025-03", "count": 5}],
    "dora": [
        {
            "environment_id": "production",
            "environment_name": "Production",
            "tier": "production",
            "successful_deployments": 3,
            "deployments_per_day": 0.1,
            "lead_time_median_seconds": 172800.0,
            "finished_deployments": 4,
            "failed_deployments": 1,
            "change_failure_rate_percent": 25.0,
            "restored_failures": 1,
            "mean_time_to_restore_seconds": 1800.0,
        }
    ],
}

STATS_EXAMPLE = {
    "generated_at": "2025-03-31T12:00:00Z",
    "releases": {
        "total": 8,
        "by_status": STATUS_COUNTS_EXAMPLE,
    },
    "pending_approvals": {
        "count": 1,
        "releases": [
            {"id": "release-2", "name": "Security Patch", "version": "1.9.1", "created_at": "2025-03-28T09:15:00Z"}
        ],
    },
    "deployments": {
        "today": 2,
        "last_7_days": 9,
        "last_30_days": 31,
        "succeeded_30_days": 27,
        "finished_30_days": 30,
        "success_rate_30_days_percent": 90.0,
    },
    "environments": {"healthy": 2, "degraded": 1, "unknown": 0, "total": 3},
}

METRICS_EXAMPLE = {
    "generated_at": "2025-03-31T12:00:00Z",
    "deployments_per_day": [
        {
            "date": "2025-03-30",
            "total": 3,
            "in_progress": 0,
            "succeeded": 2,
            "failed": 1,
            "rolled_back": 0,
        },
        {
            "date": "2025-03-31",
            "total": 1,
            "in_progress": 1,
            "succeeded": 0,
            "failed": 0,
            "rolled_back": 0,
        },
    ],
    "releases_per_week": [{"week_start": "2025-03-24", "count": 2}, {"week_start": "2025-03-31", "count": 0}],
    "dora": {
        "environment_tier": "production",
        "failure_source": "deployments",
        "start_date": "2025-03-02",
        "end_date": "2025-03-31",
        "metrics": [
            {"metric": "deployment_frequency", "value": 9, "unit": "count", "level": "high"},
            {"metric": "lead_time_for_changes", "value": 131400.0, "unit": "seconds", "level": "high"},
            {"metric": "time_to_restore_service", "value": 2700.0, "unit": "seconds", "level": "elite"},
            {"metric": "change_failure_rate", "value": 0.1, "unit": "ratio", "level": "high"},
            {"metric": "deployment_rework_rate", "value": 0.2, "unit": "ratio", "level": "low"},
        ],
    },
}

HEALTH_EXAMPLE = {
    "status": "ok",
    "database": {"ok": True, "backend": "sqlite", "version": "3.46.1", "round_trip_ms": 0.42, "error": None},
    "version": "1.0.0",
    "uptime_seconds": 3600.5,
    "environments": {"healthy": 2, "degraded": 1, "unknown": 0, "total": 3},
    "checked_at": "2025-03-31T12:00:00Z",
}


ANALYTICS_SCHEMA = extend_schema(
    operation_id="releases_analytics",
    summary="Release analytics and DORA figures",
    parameters=[s.AnalyticsQuerySerializer],
    responses={
        200: OpenApiResponse(
            s.AnalyticsReleaseSerializer, description="The analytics report (cached for a short while)."
        ),
        400: invalid_response("Bad window", {"days": ["Ensure this value is less than or equal to 365."]}),
    },
    examples=[OpenApiExample("Analytics", value=ANALYTICS_EXAMPLE, response_only=True, status_codes=["200"])],
)


def figures_schema(
    serializer_class: type[Serializer], summary: str, description: str, example: dict[str, Any]
) -> Callable:
    """The OpenAPI of a dashboard GET action answering the figures `serializer_class` renders."""
    return extend_schema(
        summary=summary,
        responses={200: OpenApiResponse(serializer_class, description=description)},
        examples=[OpenApiExample(summary, value=example, response_only=True)],
    )


STATS_SCHEMA = figures_schema(
    s.DashboardStatsSerializer, "Dashboard stats", "The current figures, computed on each request.", STATS_EXAMPLE
)
METRICS_SCHEMA = extend_schema(
    summary="Dashboard trends",
    parameters=[s.DashboardMetricsQuerySerializer],
    responses={
        200: OpenApiResponse(
            s.DashboardMetricsSerializer, description="Daily and weekly series, oldest first; the DORA figures."
        ),
        400: invalid_response("Unknown tier", {"environment_tier": ['"moon" is not a valid choice.']}),
    },
    examples=[OpenApiExample("Dashboard trends", value=METRICS_EXAMPLE, response_only=True)],
)
HEALTH_SCHEMA = figures_schema(
    s.DashboardHealthSerializer,
    "Dashboard health",
    "Always 200: `status` and `database.ok` say whether all is well.",
    HEALTH_EXAMPLE,
)
