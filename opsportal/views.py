"""Views that are not part of `/api/v1`."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from opsportal.health import health_payload


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """Liveness check that also pings the database: 200 when reachable, 503 otherwise."""
    payload, ok = health_payload()
    return JsonResponse(payload, status=200 if ok else 503)
