"""Lists for GraphQL with the REST API's own filters, search and ordering (each list reuses its viewset's
`filterset_class`, `search_fields`, `ordering_fields` and default `ordering`), in offset pages capped like
REST's `?page_size=`."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any

import strawberry
from django.db.models import QuerySet
from django.http import QueryDict
from rest_framework.filters import SearchFilter

from graphql_api.limits import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from opsportal.api.filters import TotalOrderingFilter
from opsportal.errors import NotFound, ValidationFailed


def plain(value: Any) -> Any:
    """A strawberry input as plain data (enum members as their values, UNSET left out)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items() if item is not strawberry.UNSET}
    if hasattr(value, "__strawberry_definition__"):
        return {
            f.python_name: plain(getattr(value, f.python_name))
            for f in value.__strawberry_definition__.fields
            if getattr(value, f.python_name) is not strawberry.UNSET
        }
    return value


def _query_string(filters: Any) -> QueryDict:
    params = QueryDict(mutable=True)
    for key, value in (plain(filters) or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, date):
            value = value.isoformat()
        params[key] = str(value)
    return params


@dataclass
class PageOf:
    count: int
    page: int
    page_size: int
    has_next: bool
    results: list[Any]


def page_of(
    viewset: type,
    queryset: QuerySet,
    *,
    filters: Any = None,
    search: str | None = None,
    ordering: str | None = None,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> PageOf:
    """One page of `queryset`, filtered, searched and ordered as `viewset`'s REST list is."""
    if page < 1:
        raise ValidationFailed({"page": ["Pages start at 1."]})
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed({"page_size": [f"Ensure this value is between 1 and {MAX_PAGE_SIZE}."]})
    view = viewset()
    params = _query_string(filters)
    filterset_class = getattr(view, "filterset_class", None)
    if filterset_class is not None:
        filterset = filterset_class(data=params, queryset=queryset)
        if not filterset.is_valid():
            raise ValidationFailed({key: list(value) for key, value in filterset.errors.items()})
        queryset = filterset.qs
    if search:
        params["search"] = search
    if ordering:
        params["ordering"] = ordering
    request = SimpleNamespace(query_params=params)
    if getattr(view, "search_fields", None):
        queryset = SearchFilter().filter_queryset(request, queryset, view)
    queryset = TotalOrderingFilter().filter_queryset(request, queryset, view)
    count = queryset.count()
    start = (page - 1) * page_size
    results = list(queryset[start : start + page_size])
    return PageOf(count=count, page=page, page_size=page_size, has_next=start + len(results) < count, results=results)


def get_or_404(queryset: QuerySet, pk: Any) -> Any:
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No {queryset.model._meta.verbose_name} with id '{pk}'.")
    return found
