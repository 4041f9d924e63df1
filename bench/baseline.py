"""The bare baseline: the same release reads as the API, as plain Django views.

`.values()` + `JsonResponse`: no DRF (no serializers, authentication, throttling,
filter backends or content negotiation), the same ordering, page envelope and model
columns. The ratio API/baseline in BENCHMARKS.md is what the framework layers cost.
Mounted only by `bench.settings`.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from releases.api.serializers import RELEASE_DOCUMENT_FIELDS
from releases.models import Release

FIELDS = RELEASE_DOCUMENT_FIELDS
MAX_PAGE_SIZE = 100


def _positive_int(value: str | None, default: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return number if number > 0 else default


@require_safe
def release_list(request: HttpRequest) -> JsonResponse:
    """A page of releases, newest first, with the API's `count/next/previous/results` envelope."""
    page_size = min(_positive_int(request.GET.get("page_size"), 20), MAX_PAGE_SIZE)
    page = _positive_int(request.GET.get("page"), 1)
    releases = Release.objects.order_by("-created_at", "id")
    count = releases.count()
    start = (page - 1) * page_size
    results = list(releases.values(*FIELDS)[start : start + page_size])
    base = request.build_absolute_uri(request.path)
    return JsonResponse(
        {
            "count": count,
            "next": f"{base}?page={page + 1}&page_size={page_size}" if start + page_size < count else None,
            "previous": f"{base}?page={page - 1}&page_size={page_size}" if page > 1 else None,
            "results": results,
        }
    )


@require_safe
def release_detail(request: HttpRequest, pk: str) -> JsonResponse:
    """One release by id."""
    release = Release.objects.filter(pk=pk).values(*FIELDS).first()
    if release is None:
        raise Http404("No such release.")
    return JsonResponse(release)
