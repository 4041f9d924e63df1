"""Filter backends shared by every list endpoint."""

from __future__ import annotations

from typing import Any

from rest_framework.filters import OrderingFilter


class TotalOrderingFilter(OrderingFilter):
    """`?ordering=` with the primary key appended as the last sort key, so rows with equal values
    (two releases without a target date, audit events of one moment) always come in one order.

    Without it neither database defines the order of ties — SQLite returns them by rowid, MongoDB by
    index or natural order — so the same page could differ between them, and between two requests
    a row could appear on two pages or on none (issue #17, found by the MongoDB execute mode).
    """

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> list[str] | None:
        ordering = super().get_ordering(request, queryset, view)
        if not ordering:
            return ordering
        pk = queryset.model._meta.pk.name
        if any(str(key).lstrip("-") in (pk, "pk") for key in ordering):
            return ordering
        return [*ordering, pk]
