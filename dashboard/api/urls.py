"""Routes of this app under /api/v1."""

from dashboard.api.dora import DoraMetricsViewSet
from dashboard.api.views import DashboardViewSet, ReleaseAnalyticsViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1 router.

    `releases/analytics` is registered here, before the releases app's routes, so that it
    matches before `releases/{id}`.
    """
    router.register("releases/analytics", ReleaseAnalyticsViewSet, basename="release-analytics")
    router.register("dashboard", DashboardViewSet, basename="dashboard")
    router.register("dora/metrics", DoraMetricsViewSet, basename="dora-metrics")
