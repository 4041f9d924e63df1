"""Routes of this app under /api/v1."""

from teams.api.views import TeamViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1 router."""
    router.register("teams", TeamViewSet, basename="team")
