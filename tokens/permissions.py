"""What a request made with an API token may do (issue #10): the token's scopes, in two places.

- `ApiTokenScopes`, a default DRF permission (settings): a token reads with `read`, and writes only
  through the endpoints in `TOKEN_WRITES`, each with its scope. Everything else (creating releases,
  managing environments, creating more tokens…) is refused, whatever the owner may do.
- `require_token_scope`, called by the services of those endpoints (`releases.services.permissions`):
  the release must belong to one of the token's teams.

Both refuse with 403 `token_scope` in the error envelope. The owner's own rights still apply on top:
a token never lets its owner do more than they could with their password.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from opsportal.errors import Forbidden
from tokens.choices import TokenScope
from tokens.models import ApiToken

# The attribute of the request's user that carries the token it authenticated with
# (`tokens.authentication`), so that services, which get the user as `actor`, see the token's limits.
ACTOR_TOKEN = "api_token"  # noqa: S105 - an attribute name

# The writes a token may make: (viewset basename, action) → the scope each needs.
TOKEN_WRITES: dict[tuple[str, str], TokenScope] = {
    ("deployment", "partial_update"): TokenScope.REPORT_DEPLOYMENTS,
    ("release", "deploy"): TokenScope.DEPLOY,
    ("incident", "create"): TokenScope.REPORT_INCIDENTS,
    ("incident", "partial_update"): TokenScope.REPORT_INCIDENTS,
    ("incident", "resolve"): TokenScope.REPORT_INCIDENTS,
}
_WHAT = {
    TokenScope.READ: "read",
    TokenScope.REPORT_DEPLOYMENTS: "report deployment status",
    TokenScope.DEPLOY: "deploy releases",
    TokenScope.REPORT_INCIDENTS: "report incidents",
}


def actor_token(actor: Any) -> ApiToken | None:
    """The API token `actor` (a request's user) authenticated with, if any."""
    token = getattr(actor, ACTOR_TOKEN, None)
    return token if isinstance(token, ApiToken) else None


def token_scope_refused(message: str) -> Forbidden:
    return Forbidden(message, code="token_scope")


def _missing_scope(token: ApiToken, scope: TokenScope) -> Forbidden:
    has = ", ".join(token.scopes) or "none"
    return token_scope_refused(f"This API token may not {_WHAT[scope]}: it needs the '{scope}' scope (it has {has}).")


def require_token_scope(actor: Any, scope: TokenScope | None, *, team_id: str | None, what: str) -> None:
    """Refuse `what` (403 `token_scope`) unless `actor` acts without a token, or its token has `scope` and,
    for a scope that acts on releases, names `team_id` among its teams. `scope` None: no token may."""
    token = actor_token(actor)
    if token is None or (scope is not None and token.permits(scope, team_id)):
        return
    if scope is None:
        raise token_scope_refused(f"API tokens cannot {what}.")
    if scope not in token.scopes:
        raise _missing_scope(token, scope)
    team = f"team '{team_id}'" if team_id else "no team"
    raise token_scope_refused(
        f"This API token may {_WHAT[scope]} only for teams {', '.join(token.teams) or '(none)'}; "
        f"this release has {team}."
    )


class ApiTokenScopes(BasePermission):
    """Requests with an API token: reads need `read`; writes only through `TOKEN_WRITES`, with their scope."""

    def has_permission(self, request, view) -> bool:
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if token is None:
            return True
        if request.method in SAFE_METHODS:
            needed = TokenScope.READ
        else:
            needed = TOKEN_WRITES.get((getattr(view, "basename", ""), getattr(view, "action", "")))
        if needed is None:
            allowed = "; ".join(f"{_WHAT[scope]} ('{scope}')" for scope in TokenScope)
            raise token_scope_refused(
                f"API tokens cannot make this request ({request.method} {request.path}). They may: {allowed}."
            )
        if needed not in token.scopes:
            raise _missing_scope(token, needed)
        return True
