"""Who is asking, and may they: the REST API's authentication and permission rules, reused.

Queries and mutations authenticate with the REST API's own authentication classes, in the same order
(`REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]`: API tokens, JWT, the admin's session with its CSRF
check), from the HTTP request; subscriptions from the `connection_init` payload of the WebSocket
(`{"Authorization": "Bearer …"}`). Reads follow `OPSPORTAL_ANONYMOUS_READ`; writes need a user; a request
made with an API token is limited by the token's scopes exactly as `tokens.permissions.ApiTokenScopes`
limits REST (reads need `read`, only `deployRelease` and `reportDeploymentStatus` may write).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, QueryDict
from django.http.request import RawPostDataException
from django.utils.datastructures import MultiValueDict
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from rest_framework import exceptions as drf_exceptions
from rest_framework.request import Request
from rest_framework.settings import api_settings

from graphql_api.errors import Unauthenticated
from graphql_api.limits import MAX_TOKENS
from opsportal.errors import Forbidden
from tokens.permissions import ApiTokenScopes

NOT_AUTHENTICATED = "Authentication credentials were not provided."


@dataclass
class Viewer:
    """The requesting user and the credential they used (an `ApiToken`, a JWT, or None)."""

    user: Any = field(default_factory=AnonymousUser)
    auth: Any = None
    refusal: Exception | None = None  # a credential that was sent and refused (401), raised on first use
    request: Any = field(default=None, repr=False)  # the DRF request it was authenticated as (for throttling)

    @property
    def actor(self) -> Any:
        return self.user if self.user.is_authenticated else None


def authenticate(request: HttpRequest) -> Viewer:
    """The viewer of `request`, by the REST API's authentication classes (a refused credential is kept
    in `refusal`, so that the error comes back as a GraphQL error, not a crash of the transport)."""
    drf_request = Request(request, authenticators=[cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES])
    # The body is GraphQL's (strawberry reads it): the session's CSRF check must not parse it as a form.
    drf_request._data = drf_request._full_data = QueryDict()
    drf_request._files = MultiValueDict()
    try:
        return Viewer(user=drf_request.user, auth=drf_request.auth, request=drf_request)
    except drf_exceptions.AuthenticationFailed as exc:
        return Viewer(refusal=exc, request=drf_request)
    except drf_exceptions.PermissionDenied as exc:  # the session's CSRF check
        return Viewer(refusal=Forbidden(str(exc.detail), code="permission_denied"), request=drf_request)


def only_queries(request: Request) -> bool:
    """Whether the GraphQL document of this POST holds queries only: it then counts against the read budget,
    as REST's GETs do (reads never write a counter to the database). Anything unreadable counts as a write."""
    try:
        body = json.loads(request._request.body)
        document = parse(body["query"], max_tokens=MAX_TOKENS)
    except (ValueError, TypeError, KeyError, GraphQLError, RawPostDataException):
        return False
    return all(
        definition.operation == OperationType.QUERY
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    )


def throttle_wait(viewer: Viewer) -> float | None:
    """Seconds to wait when the REST API's throttles refuse this viewer now (the same counters: one budget
    for both APIs), else None."""
    request = viewer.request
    request.counts_as_read = only_queries(request)
    if viewer.refusal is not None:  # unknown user: counted by address, as an anonymous REST request
        request._user, request._auth = AnonymousUser(), None
    waits = [
        throttle.wait() or 1.0
        for throttle in (cls() for cls in api_settings.DEFAULT_THROTTLE_CLASSES)
        if not throttle.allow_request(request, None)
    ]
    return max(waits) if waits else None


def authenticate_connection(payload: dict[str, Any] | None) -> Viewer:
    """The viewer of a WebSocket, from its `connection_init` payload: `Authorization` (or `authorization`)
    as in an HTTP header. No credential is an anonymous viewer."""
    payload = payload if isinstance(payload, dict) else {}
    header = payload.get("Authorization", payload.get("authorization", ""))
    request = HttpRequest()
    request.method = "GET"
    request.path = "/graphql"
    if isinstance(header, str) and header:
        request.META["HTTP_AUTHORIZATION"] = header
    # No session on a WebSocket here: an anonymous session stands in for SessionAuthentication.
    request.session = {}
    request._dont_enforce_csrf_checks = True
    request.user = AnonymousUser()
    return authenticate(request)


def _token_check(viewer: Viewer, *, method: str, basename: str = "", action: str = "") -> None:
    request = SimpleNamespace(auth=viewer.auth, method=method, path="/graphql")
    ApiTokenScopes().has_permission(request, SimpleNamespace(basename=basename, action=action))


def require_read(viewer: Viewer) -> None:
    """Reads: a signed-in user (within a token's `read` scope), or anyone when anonymous reads are on."""
    if viewer.refusal is not None:
        raise _refused(viewer.refusal)
    if not viewer.user.is_authenticated:
        if settings.ANONYMOUS_READ:
            return
        raise Unauthenticated(NOT_AUTHENTICATED)
    _token_check(viewer, method="GET")


def require_write(viewer: Viewer, *, basename: str, action: str) -> Any:
    """Writes: a signed-in user; with a token, only the writes REST lets that token make. The actor."""
    if viewer.refusal is not None:
        raise _refused(viewer.refusal)
    if not viewer.user.is_authenticated:
        raise Unauthenticated(NOT_AUTHENTICATED)
    _token_check(viewer, method="POST", basename=basename, action=action)
    return viewer.user


def _refused(exc: Exception) -> Exception:
    if isinstance(exc, drf_exceptions.AuthenticationFailed):
        from opsportal.api.exceptions import _code_and_sentence

        code, sentence = _code_and_sentence(exc)
        return Unauthenticated(sentence, code=code)
    return exc
