"""`/graphql` over HTTP (queries and mutations; GraphiQL for people) and over WebSocket (subscriptions).

GraphiQL is served from this portal's static files (vendored from npm, pinned: `static/graphql_api/graphiql`,
checked against the integrity hashes strawberry publishes), never from a CDN: to everyone when DEBUG is on,
otherwise to signed-in staff only (others get a 404 page, as for any unknown page).
"""

from __future__ import annotations

import math
from typing import Any

from channels.db import database_sync_to_async
from cross_web import HTTPException
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.channels import GraphQLWSConsumer
from strawberry.django.views import GraphQLView

from graphql_api.auth import authenticate, authenticate_connection, throttle_wait
from graphql_api.graphiql import graphiql_allowed, graphiql_js_version
from opsportal.api.exceptions import payload_too_large
from opsportal.limits import document_problems


def subscription_url(request: HttpRequest) -> str:
    """Where GraphiQL opens its WebSocket: `GRAPHQL_WS_URL`, or this host on `GRAPHQL_WS_PORT` (the ASGI
    server beside the REST one; README "GraphQL")."""
    if settings.GRAPHQL_WS_URL:
        return settings.GRAPHQL_WS_URL
    scheme = "wss" if request.is_secure() else "ws"
    host = request.get_host().rsplit(":", 1)[0] if not request.get_host().endswith("]") else request.get_host()
    return f"{scheme}://{host}:{settings.GRAPHQL_WS_PORT}/graphql"


def _errors(message: str, code: str, status: int) -> JsonResponse:
    """A request answered before GraphQL runs, as a GraphQL error with the REST envelope's code."""
    return JsonResponse(
        {"errors": [{"message": message, "extensions": {"code": code, "status": status}}]}, status=status
    )


# The session check of CSRF happens in authentication (as in REST); JWT and API tokens need none.
@method_decorator(csrf_exempt, name="dispatch")
class PortalGraphQLView(GraphQLView):
    allow_queries_via_get = False  # a GET never changes anything, and a query in a URL ends up in logs

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Throttled as REST is (429, `Retry-After`); a request GraphQL cannot even read (bad JSON, bad text,
        too large) is answered as a GraphQL error with the REST envelope's code, not as text."""
        viewer = request.graphql_viewer = authenticate(request)
        wait = throttle_wait(viewer)
        if wait is not None:
            response = _errors("Request was throttled.", "throttled", 429)
            response["Retry-After"] = str(math.ceil(wait))
            return response
        try:
            return self.run(request=request)
        except HTTPException as exc:
            code = {405: "method_not_allowed", 413: "payload_too_large"}.get(exc.status_code, "invalid")
            return _errors(exc.reason, code, exc.status_code)
        except RequestDataTooBig:
            body = payload_too_large()
            return _errors(body["detail"], body["code"], 413)

    def parse_json(self, data: str | bytes) -> Any:
        """The body, refused (400) when a string holds a lone surrogate or a NUL, or it nests too deep: the
        input limits of every other way in (`opsportal.limits`)."""
        parsed = super().parse_json(data)
        problems = document_problems(parsed)
        if problems:
            raise HTTPException(400, "Invalid input: " + "; ".join(f"{path} {message}" for path, message in problems))
        return parsed

    def get_context(self, request: HttpRequest, response: HttpResponse) -> dict[str, Any]:
        return {"request": request, "response": response, "viewer": request.graphql_viewer}

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        if not graphiql_allowed(request):
            raise Http404("GraphiQL is for signed-in staff.")
        context = {"subscription_url": subscription_url(request), "graphiql_js_version": graphiql_js_version()}
        html = render_to_string("graphql_api/graphiql.html", context, request=request)
        return HttpResponse(html)


class PortalGraphQLWSConsumer(GraphQLWSConsumer):
    """`graphql-transport-ws` (and the legacy `graphql-ws`) on `/graphql`: the viewer comes from the
    `connection_init` payload (`{"Authorization": "Bearer …"}`)."""

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"request": request, "ws": request, "viewer": authenticate_connection(None)}

    async def on_ws_connect(self, context: dict[str, Any]) -> None:
        context["viewer"] = await database_sync_to_async(authenticate_connection)(context.get("connection_params"))
