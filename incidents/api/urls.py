"""Routes of this app under /api/v1."""

from incidents.api.views import IncidentViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1 router."""
    router.register("incidents", IncidentViewSet, basename="incident")
