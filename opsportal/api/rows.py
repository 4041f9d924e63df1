"""Reads at the speed of the data (issue #18): list and detail responses built from `.values()` rows by
one plain function per shape, instead of a DRF serializer per object.

The serializers stay what they are for: they validate writes and they generate the OpenAPI schema.
Each viewset that reads rows names the stored fields it needs (`row_fields`, attribute names such as
`team_id`) and shapes a page of rows (`rows_data`); tests assert that for the same objects both paths
render byte for byte the same JSON (`opsportal.testing.rows.assert_same_json`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from rest_framework.filters import OrderingFilter
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from opsportal.api.conditional import cacheable, if_none_match, list_etag, not_modified, request_versions
from opsportal.api.mixins import RevisionETagMixin, revision_etag

# Query parameters that choose a page or a representation, not rows.
NOT_FILTERS = frozenset({"page", "page_size", "format"})
# Per process: (model, collection version) → how many rows the unfiltered list has. A collection's
# version moves with every committed change to it, so an entry is never stale; only its newest is kept.
_COUNTS: dict[str, tuple[int, int]] = {}


# Other per-process caches keyed by collection versions register how to empty themselves here.
_FORGET: list[Any] = [_COUNTS.clear]


def on_forget(clear: Any) -> Any:
    """Register `clear` to be called by `forget_process_caches`."""
    _FORGET.append(clear)
    return clear


def forget_process_caches() -> None:
    """Empty this process's caches keyed by collection versions (tests, whose rollbacks take versions back)."""
    for clear in _FORGET:
        clear()


def model_row(instance: models.Model, fields: Sequence[str]) -> dict[str, Any]:
    """An instance as `.values(*fields)` would have returned it (for objects already in memory)."""
    return {name: getattr(instance, name) for name in fields}


class RowReadMixin:
    """`list` and `retrieve` from `.values(*row_fields)` rows, shaped by `rows_data` (a whole page at once,
    so that what items share is read once). Filters, ordering and pagination work as before.

    Conditional GET (`opsportal.api.conditional`): a list answers 304 to `If-None-Match` with its weak ETag
    while `list_collections` did not change; a detail of a view with revisions (`RevisionETagMixin`) answers
    304 to its current ETag (its revision, and the versions of its `etag_collections`)."""

    row_fields: Sequence[str] = ()
    detail_row_fields: Sequence[str] | None = None  # when the detail needs more than a list item
    list_collections: Sequence[str] = ()

    def rows_data(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def row_detail_data(self, row: dict[str, Any]) -> dict[str, Any]:
        return self.rows_data([row])[0]

    def filtered(self) -> bool:
        """Whether the query string asks for filters, a search or an ordering (else none of that runs)."""
        return bool(set(self.request.query_params) - NOT_FILTERS)

    def filter_queryset(self, queryset: Any) -> Any:
        if self.filtered():
            return super().filter_queryset(queryset)
        # Nothing asked: no filter set, no search; only the default ordering (issue #18).
        for backend in self.filter_backends:
            if issubclass(backend, OrderingFilter):
                ordering = backend().get_ordering(self.request, queryset, self)
                if ordering:
                    queryset = queryset.order_by(*ordering)
        return queryset

    def _known_count(self, queryset: Any, versions: dict[str, tuple[int, Any]]) -> int | None:
        """The unfiltered list's count, counted once per version of its own collection (the first of
        `list_collections`) in this process."""
        if self.filtered() or not self.list_collections:
            return None
        own = self.list_collections[0]
        version = versions[own][0]
        known = _COUNTS.get(own)
        if known is None or known[0] != version:
            known = (version, queryset.count())
            _COUNTS[own] = known
        return known[1]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        etag = None
        if self.list_collections:
            versions = request_versions(request, self.list_collections)  # for the ETag and the count
            etag = list_etag(request, self.list_collections, versions)
            if if_none_match(request, etag):
                return not_modified(etag)
        rows = self.filter_queryset(self.get_queryset()).values(*self.row_fields)
        if self.paginator is not None and self.list_collections:
            self.paginator.known_count = self._known_count(rows, versions)
        page = self.paginate_queryset(rows)
        if page is None:
            return cacheable(Response(self.rows_data(list(rows))), etag)
        return cacheable(self.get_paginated_response(self.rows_data(list(page))), etag)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        lookup = {self.lookup_field: self.kwargs[self.lookup_url_kwarg or self.lookup_field]}
        queryset = self.filter_queryset(self.get_queryset())
        if isinstance(self, RevisionETagMixin) and request.headers.get("If-None-Match"):
            # A poll: read only what decides the 304 (not the embedded documents).
            current = get_object_or_404(queryset.values("id", "revision"), **lookup)
            self.check_object_permissions(request, current)
            etag = revision_etag(current["id"], current["revision"], self.etag_stamp())
            if if_none_match(request, etag):
                return not_modified(etag)
        row = get_object_or_404(queryset.values(*(self.detail_row_fields or self.row_fields)), **lookup)
        self.check_object_permissions(request, row)
        return cacheable(Response(self.row_detail_data(row)))
