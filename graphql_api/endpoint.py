"""The `/graphql` view for the URL configuration, built on first use: importing strawberry and building the
schema takes a noticeable part of a second, which management commands and the worker (whose system checks
import the URL configuration) should not pay."""

from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt


@functools.cache
def _view() -> Any:
    from graphql_api.schema import schema
    from graphql_api.views import PortalGraphQLView

    return PortalGraphQLView.as_view(schema=schema)


@csrf_exempt  # the session's CSRF check happens in authentication, as in REST (`graphql_api.auth`)
def graphql_endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return _view()(request, *args, **kwargs)
