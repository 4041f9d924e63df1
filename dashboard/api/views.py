"""Read-only dashboard and analytics endpoints; the numbers come from the selectors."""

import functools
from collections.abc import Callable
from typing import Any

from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from dashboard import selectors
from dashboard.api import serializers as s
from dashboard.api.schema import ANALYTICS_SCHEMA, HEALTH_SCHEMA, METRICS_SCHEMA, STATS_SCHEMA, SingleDocumentSchema
from releases.analytics import release_analytics_cached


class ReleaseAnalyticsViewSet(viewsets.ViewSet):
    """Release analytics and the DORA figures (`/api/v1/releases/analytics`)."""

    schema = SingleDocumentSchema()

    @ANALYTICS_SCHEMA
    def list(self, request: Request) -> Response:
        """Releases by status, by team and per month (last 12, zero-filled), and per environment
        the four DORA figures over the last `days` days (default 30): deployment frequency,
        median lead time for changes, change failure rate and mean time to restore."""
        query = s.AnalyticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        report = release_analytics_cached(days=query.validated_data["days"])
        return Response(s.AnalyticsReleaseSerializer(report).data)


def _figures(serializer_class: type[Serializer]) -> Callable:
    """A GET action of the dashboard whose method returns the figures `serializer_class` renders."""

    def decorate(method: Callable[..., dict[str, Any]]) -> Callable[..., Response]:
        @action(detail=False, methods=["get"])
        @functools.wraps(method)
        def view(self: viewsets.ViewSet, request: Request) -> Response:
            return Response(serializer_class(method(self, request)).data)

        return view

    return decorate


class DashboardViewSet(viewsets.ViewSet):
    """Figures for the dashboard of the web frontend (`/api/v1/dashboard/...`)."""

    @STATS_SCHEMA
    @_figures(s.DashboardStatsSerializer)
    def stats(self, request: Request) -> dict[str, Any]:
        """Releases by status, pending approvals (count and the oldest five), deployments started
        today / in 7 and 30 days with the 30-day success rate, and environments by health."""
        return selectors.dashboard_stats()

    @METRICS_SCHEMA
    @_figures(s.DashboardMetricsSerializer)
    def metrics(self, request: Request) -> dict[str, Any]:
        """Deployments per UTC day for the last 30 days by status, and releases created per ISO
        week for the last 12 weeks; both zero-filled, oldest first. `dora`: the four DORA keys and
        the deployment rework rate of the last 30 days for `environment_tier` (default production),
        with their performance levels."""
        query = s.DashboardMetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.dashboard_metrics(**query.validated_data)

    @HEALTH_SCHEMA
    @_figures(s.DashboardHealthSerializer)
    def health(self, request: Request) -> dict[str, Any]:
        """Whether the database answers and how fast, the app version and uptime, and the
        environments by health. Always 200: `status` and `database.ok` say whether all is well
        (the liveness probe with a 503 is `GET /health`)."""
        return selectors.dashboard_health()
