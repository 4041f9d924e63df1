"""The `/api/v1` root: one router, each app registers its viewsets on it."""

from django.utils.module_loading import import_string

from opsportal.api.routers import OptionalSlashRouter

# dashboard first: it owns `releases/analytics`, which must match before `releases/{id}`.
API_APPS = ["dashboard", "releases", "environments", "teams", "workflows", "audit"]

router = OptionalSlashRouter()
for app in API_APPS:
    import_string(f"{app}.api.urls.register")(router)

urlpatterns = router.urls
