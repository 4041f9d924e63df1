"""Routes of this app under /api/v1."""

from releases.api.views import DeploymentViewSet, ReleaseViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1 router."""
    router.register("releases", ReleaseViewSet, basename="release")
    router.register("deployments", DeploymentViewSet, basename="deployment")
