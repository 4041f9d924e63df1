"""The ReDoc bundle, served by the portal without its one reference to the outside (issue #14).

drf-spectacular-sidecar's `redoc.standalone.js` draws a "powered by" link whose logo image comes from
`cdn.redoc.ly`: the docs must load nothing from outside the portal (DESIGN §2: air-gapped), so the
ReDoc page (`templates/drf_spectacular/redoc.html`) loads this copy, in which that image is an empty
inline SVG. `tests/test_api_docs.py` fails if a new sidecar release loads something else from outside.
"""

from __future__ import annotations

from functools import cache

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

SIDECAR_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
OUTSIDE_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
NO_LOGO = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"


@cache
def redoc_bundle_source() -> bytes:
    path = finders.find(SIDECAR_BUNDLE)
    if path is None:  # pragma: no cover - drf-spectacular-sidecar is a requirement
        raise FileNotFoundError(SIDECAR_BUNDLE)
    with open(path, encoding="utf-8") as bundle:
        return bundle.read().replace(OUTSIDE_LOGO, NO_LOGO).encode()


@require_safe
@cache_control(public=True, max_age=24 * 3600)
def redoc_bundle(request: HttpRequest) -> HttpResponse:
    return HttpResponse(redoc_bundle_source(), content_type="text/javascript; charset=utf-8")
