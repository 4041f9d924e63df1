"""Routes of this app under /api/v1."""


def register(router) -> None:
    """Register this app's viewsets on the /api/v1 router."""
