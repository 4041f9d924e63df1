"""Page-number pagination: `count/next/previous/results`, `?page=&page_size=` (max 100)."""

from typing import Any

from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    # Set by the view when it knows the count already (`opsportal.api.rows`: unfiltered lists, issue #18).
    known_count: int | None = None

    def django_paginator_class(self, object_list: Any, per_page: int, **kwargs: Any) -> Paginator:
        paginator = Paginator(object_list, per_page, **kwargs)
        if self.known_count is not None:
            paginator.__dict__["count"] = self.known_count  # `count` is a cached property
        return paginator

    def get_paginated_response_schema(self, schema: Any) -> dict[str, Any]:
        """Every page sends all four keys (`next`/`previous` are null at the ends). The links' examples
        are set per list by `opsportal.api.openapi_hooks` (the list's own URL)."""
        page = super().get_paginated_response_schema(schema)
        page["required"] = ["count", "next", "previous", "results"]
        page["properties"]["count"]["example"] = 41
        links = {"next": ("?page=3", "last"), "previous": ("", "first")}
        for key, (query, end) in links.items():
            page["properties"][key]["example"] = f"http://127.0.0.1:8080/api/v1/releases{query}"
            page["properties"][key]["description"] = f"The URL of the {key} page; null on the {end} page."
        return page
