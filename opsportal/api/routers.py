"""The `/api/v1` router: every route answers with and without a trailing slash, because
the predecessor's clients call `POST /api/v1/releases` while DRF defaults to `/releases/`."""

from rest_framework.routers import DefaultRouter


class OptionalSlashRouter(DefaultRouter):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.trailing_slash = "/?"
