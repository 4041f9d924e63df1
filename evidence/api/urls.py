"""Routes of this app under /api/v1."""

from evidence.api.views import EvidencePublicKeyViewSet, ReleaseEvidenceViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1 router."""
    router.register(r"releases/(?P<release_pk>[^/.]+)/evidence", ReleaseEvidenceViewSet, basename="release-evidence")
    router.register("evidence/public-key", EvidencePublicKeyViewSet, basename="evidence-public-key")
