"""JWT authentication without repeated work (issue #18).

simplejwt reads the token's user on every request, and the roles then cost another query. Here the user,
with their roles, is kept per token in this process for at most `USER_TTL_S` seconds. A change to any
user, group or team (deactivation, a role taken away, a team's members) invalidates every worker's entries
at once: such changes are recorded in the audit trail, which bumps the collection versions `user`,
`group` and `team` inside the same unit of work (`opsportal.services.collection_changed`), and each
request compares the versions its entry was read with against the stored ones (one indexed read).
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings

from opsportal.api.conditional import request_versions
from opsportal.roles import user_roles

USER_TTL_S = 30.0
# Changes to these collections may change who a token's user is or what they may do.
AUTH_COLLECTIONS = ("user", "group", "team")
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class _Entry:
    user: Any
    stamp: tuple[int, ...]
    expires: float


def auth_stamp(request: Any) -> tuple[int, ...]:
    """The versions of what a cached user depends on (read with the request's other versions: one query)."""
    versions = request_versions(request, AUTH_COLLECTIONS)
    return tuple(versions[name][0] for name in AUTH_COLLECTIONS)


class CachedJWTAuthentication(JWTAuthentication):
    """simplejwt's `JWTAuthentication` (the token is verified on every request), the user and roles cached
    per token for at most 30 s and dropped as soon as any user, group or team changes (see the module)."""

    _entries: dict[str, _Entry] = {}
    _lock = threading.Lock()
    _request: Any = None

    def authenticate(self, request: Any) -> Any:
        self._request = request  # one authenticator per request (DRF makes them per request)
        return super().authenticate(request)

    def get_user(self, validated_token: Any) -> Any:
        key = str(validated_token.get(api_settings.JTI_CLAIM) or validated_token)
        stamp = auth_stamp(self._request)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is None or entry.stamp != stamp or entry.expires <= now:
            user = super().get_user(validated_token)
            user_roles(user)  # read now, kept with the user
            entry = _Entry(user=user, stamp=stamp, expires=now + USER_TTL_S)
            self._keep(key, entry, now)
        # A copy per request: what a request sets on its user stays in that request.
        return copy.copy(entry.user)

    @classmethod
    def _keep(cls, key: str, entry: _Entry, now: float) -> None:
        with cls._lock:
            if len(cls._entries) >= MAX_ENTRIES:
                for stale in [k for k, e in cls._entries.items() if e.expires <= now] or list(cls._entries):
                    del cls._entries[stale]
            cls._entries[key] = entry

    @classmethod
    def forget_all(cls) -> None:
        """Empty this process's cache (tests)."""
        with cls._lock:
            cls._entries.clear()


class CachedJWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of `CachedJWTAuthentication`: simplejwt's own (`jwtAuth`)."""

    target_class = "opsportal.api.authentication.CachedJWTAuthentication"
