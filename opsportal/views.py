"""Views that are not part of `/api/v1`."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error

from opsportal.health import health_payload


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """Liveness check that also pings the database: 200 when reachable, 503 otherwise."""
    payload, ok = health_payload()
    return JsonResponse(payload, status=200 if ok else 503)


def not_found(request: HttpRequest, exception: Exception | None = None):
    """404 for URLs no route matches: the API's JSON envelope under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "detail": "No API endpoint at this URL."}, status=404)
    return page_not_found(request, exception)


def server_error(request: HttpRequest):
    """500 without details: JSON under /api/, Django's plain page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "server_error", "detail": "Internal server error."}, status=500)
    return django_server_error(request)
