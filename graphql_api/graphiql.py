"""Who may open GraphiQL, and its one large script, `graphiql.min.js`, served from a gzip copy.

The published `graphiql.min.js` (3.5 MB) is over the repository's 2 MiB limit for a tracked file, so the portal
keeps it as `vendor/graphiql.min.js.gz` (`gzip -n -9`, 0.7 MB; README in `static/graphql_api/graphiql`) and
sends those bytes as they are, with `Content-Encoding: gzip`: the browser decodes them, and checks the
page's `integrity` hash against the decoded script, the published file's. A client that does not accept
gzip gets the decoded script. Like the page, it is for everyone in DEBUG, otherwise for signed-in staff.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_safe

GRAPHIQL_JS_GZ = Path(__file__).resolve().parent / "vendor" / "graphiql.min.js.gz"


def graphiql_allowed(request: HttpRequest) -> bool:
    """GraphiQL (the page and its script): everyone in DEBUG, otherwise signed-in staff."""
    return settings.DEBUG or (request.user.is_authenticated and request.user.is_staff)


@cache
def graphiql_js_gz() -> bytes:
    return GRAPHIQL_JS_GZ.read_bytes()


@cache
def graphiql_js_version() -> str:
    """A short hash of the file: in the script's URL (`?v=`), so a new copy is a new URL for every cache."""
    return hashlib.sha256(graphiql_js_gz()).hexdigest()[:16]


def accepts_gzip(request: HttpRequest) -> bool:
    """Whether `Accept-Encoding` allows gzip (`gzip`, `x-gzip` or `*`, with a weight above 0; a named one
    wins over `*`)."""
    weights: dict[str, float] = {}
    for part in request.headers.get("Accept-Encoding", "").split(","):
        coding, *params = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if coding:
            weights[coding.lower()] = weight
    for coding in ("gzip", "x-gzip", "*"):
        if coding in weights:
            return weights[coding] > 0
    return False


@require_safe
def graphiql_js(request: HttpRequest) -> HttpResponseBase:
    if not graphiql_allowed(request):
        raise Http404("GraphiQL is for signed-in staff.")
    if accepts_gzip(request):
        response = HttpResponse(graphiql_js_gz(), content_type="text/javascript; charset=utf-8")
        response["Content-Encoding"] = "gzip"
        etag = f'"{graphiql_js_version()}-gzip"'  # one ETag per representation: their bytes differ
    else:
        response = HttpResponse(gzip.decompress(graphiql_js_gz()), content_type="text/javascript; charset=utf-8")
        etag = f'"{graphiql_js_version()}"'
    response["ETag"] = etag
    patch_vary_headers(response, ["Accept-Encoding"])
    # private: who may fetch it depends on who signed in (staff only without DEBUG); immutable: `?v=` changes.
    patch_cache_control(response, private=True, max_age=365 * 24 * 3600, immutable=True)
    return get_conditional_response(request, etag=etag, response=response)  # 304 for a matching If-None-Match
