"""The `/api/v1` root: one router, each app registers its viewsets on it."""

from django.utils.module_loading import import_string

from opsportal.api.routers import OptionalSlashRouter

API_APPS = ["releases", "environments", "teams", "workflows", "dashboard", "audit"]

router = OptionalSlashRouter()
for app in API_APPS:
    import_string(f"{app}.api.urls.register")(router)

urlpatterns = router.urls
