"""`Authorization: Bearer opt_…`: API tokens for CI/CD, beside JWT (issue #10).

First among the authentication classes (settings): a Bearer value with the token prefix is ours —
valid, or refused with 401 — and any other is left to JWT (then sessions). The request's user is
the token's owner, carrying the token (`tokens.permissions.ACTOR_TOKEN`) so that its scopes limit
what the request may do.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from opsportal.clock import now_ms
from tokens.models import SECRET_PREFIX
from tokens.permissions import ACTOR_TOKEN
from tokens.selectors import api_token_by_secret
from tokens.services import api_token_touch

_REFUSALS = {
    "revoked": ("This API token was revoked.", "token_revoked"),
    "expired": ("This API token has expired.", "token_expired"),
}


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer opt_…`: the token's owner, limited by the token's scopes."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer" or not parts[1].startswith(SECRET_PREFIX.encode()):
            return None
        token = api_token_by_secret(parts[1].decode("latin-1"))
        if token is None:
            raise AuthenticationFailed("This API token is not valid.", code="token_invalid")
        now = now_ms()
        state = token.state(now)
        if state in _REFUSALS:
            raise AuthenticationFailed(*_REFUSALS[state])
        owner = token.owner
        if not owner.is_active:
            raise AuthenticationFailed("The owner of this API token is inactive.", code="token_invalid")
        api_token_touch(token=token, now=now)
        setattr(owner, ACTOR_TOKEN, token)
        return owner, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of `ApiTokenAuthentication` (drf-spectacular finds it by `target_class`)."""

    target_class = "tokens.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "opt_…",
            "description": "An API token (`opt_` + 43 URL-safe characters), created at `/api/v1/tokens`. It acts "
            "as its owner, limited by its scopes (`read`, `report_deployments`, `deploy`) and teams.",
        }
