"""Routes of this app under /api/v1."""

from environments.api.views import EnvironmentViewSet, FreezeViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1 router."""
    router.register("environments", EnvironmentViewSet, basename="environment")
    router.register("freezes", FreezeViewSet, basename="freeze")
