"""Top-level URLs: `/api/v1`, API docs, admin, health."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from opsportal.views import health

urlpatterns = [
    path("health", health, name="health"),
    path("health/", health),
    path("api/v1/", include("opsportal.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema")),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema")),
    path("admin/", admin.site.urls),
]

handler404 = "opsportal.views.not_found"
handler500 = "opsportal.views.server_error"
