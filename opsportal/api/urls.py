"""The `/api/v1` root: JWT token endpoints and one router on which each app registers its viewsets."""

from django.urls import path
from django.utils.module_loading import import_string

from opsportal.api.auth import TokenObtainView, TokenRefreshingView
from opsportal.api.routers import OptionalSlashRouter

# dashboard first: it owns `releases/analytics`, which must match before `releases/{id}`.
API_APPS = [
    "dashboard",
    "releases",
    "environments",
    "teams",
    "workflows",
    "audit",
    "tokens",
    "events",
    "incidents",
    "evidence",
]

router = OptionalSlashRouter()
for app in API_APPS:
    import_string(f"{app}.api.urls.register")(router)

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", TokenRefreshingView.as_view(), name="token-refresh"),
    *router.urls,
]
