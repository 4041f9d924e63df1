"""Routes of this app under /api/v1."""

from workflows.api.views import WorkflowViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1 router."""
    router.register("workflows", WorkflowViewSet, basename="workflow")
