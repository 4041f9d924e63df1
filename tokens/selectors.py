"""Reads of API tokens: the token of a secret, and the tokens a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from opsportal import roles
from tokens.models import ApiToken
from tokens.services import secret_hash


def api_token_by_secret(secret: str) -> ApiToken | None:
    """The token whose secret this is (looked up by its sha256, `apitoken_secret_hash_idx`), in any state."""
    return ApiToken.objects.filter(secret_hash=secret_hash(secret)).first()


def api_token_list(*, actor: Any) -> QuerySet[ApiToken]:
    """A user's own tokens; every token for Release Managers (and superusers). Newest first."""
    tokens = ApiToken.objects.select_related("owner")
    if roles.is_release_manager(actor):
        return tokens
    return tokens.filter(owner=actor) if getattr(actor, "is_authenticated", False) else tokens.none()
