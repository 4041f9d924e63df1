"""Views that are not part of `/api/v1`: health, and the error pages (JSON under /api/)."""

import sys

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from django.views.defaults import bad_request as django_bad_request
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error

from opsportal.api.exceptions import envelope, payload_too_large
from opsportal.health import RETRY_AFTER_SECONDS, health_payload, liveness_payload
from opsportal.limits import MAX_BODY_BYTES
from opsportal.unavailable import database_unavailable, log_unavailable


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database can be read and written, else 503 naming which check failed
    (`opsportal.health`); answers within 2 s."""
    payload, ok = health_payload()
    response = JsonResponse(payload, status=200 if ok else 503)
    if not ok:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@require_safe
def health_live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers; touches no database."""
    return JsonResponse(liveness_payload())


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception | None = None):
    """400 (and 413 for a body over the limit) for what Django refuses before any view runs: the API's
    JSON envelope under /api/, a plain page elsewhere."""
    if isinstance(exception, RequestDataTooBig):
        if _is_api(request):
            return JsonResponse(payload_too_large(), status=413)
        return HttpResponse(
            f"Request body larger than {MAX_BODY_BYTES:,} bytes.", status=413, content_type="text/plain; charset=utf-8"
        )
    if _is_api(request):
        return JsonResponse(envelope("bad_request", "The request could not be understood."), status=400)
    return django_bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception | None = None):
    """404 for URLs no route matches: the API's JSON envelope under /api/, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse({"code": "not_found", "detail": "No API endpoint at this URL."}, status=404)
    return page_not_found(request, exception)


def server_error(request: HttpRequest):
    """500 without details: JSON under /api/, Django's plain page elsewhere. When the error says the
    database is locked, read-only or unreachable (`opsportal.unavailable`), 503 with `Retry-After`
    instead (the admin, and what escapes the API's own error handler)."""
    error = sys.exc_info()[1]
    unavailable = database_unavailable(error)
    if unavailable is not None:
        log_unavailable(unavailable, error, request.path)
        if _is_api(request):
            response = JsonResponse(
                envelope("database_unavailable", unavailable.detail, reason=unavailable.reason), status=503
            )
        else:
            response = HttpResponse(unavailable.detail, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(unavailable.retry_after)
        return response
    if _is_api(request):
        return JsonResponse({"code": "server_error", "detail": "Internal server error."}, status=500)
    return django_server_error(request)
