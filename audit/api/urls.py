"""Routes of this app under /api/v1."""

from audit.api.views import AuditEventViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1 router."""
    router.register("audit-events", AuditEventViewSet, basename="audit-event")
