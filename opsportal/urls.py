"""Top-level URLs: `/api/v1`, API docs, admin, health."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from graphql_api.endpoint import graphql_endpoint
from graphql_api.graphiql import graphiql_js
from opsportal.api_docs import redoc_bundle
from opsportal.views import health, health_live

urlpatterns = [
    path("health", health, name="health"),
    path("health/", health),
    path("health/live", health_live, name="health-live"),
    path("health/live/", health_live),
    path("api/v1/", include("opsportal.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema")),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema")),
    path("redoc/redoc.standalone.js", redoc_bundle, name="redoc-bundle"),
    path("admin/", admin.site.urls),
    path("graphql", graphql_endpoint, name="graphql"),
    path("graphql/graphiql.min.js", graphiql_js, name="graphiql-js"),
]

handler400 = "opsportal.views.bad_request"
handler404 = "opsportal.views.not_found"
handler500 = "opsportal.views.server_error"
