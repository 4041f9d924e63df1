"""Routes of this app under /api/v1."""

from tokens.api.views import ApiTokenViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1 router."""
    router.register("tokens", ApiTokenViewSet, basename="api-token")
