"""Throttles keyed on the one client address rule (`opsportal.proxies`), and sign-in throttling (issue #10).

DRF's own throttles take the client from `X-Forwarded-For` whoever sends it, so any made-up header
value got a fresh budget; ours use `client_ip`, which believes that header only from
`TRUSTED_PROXIES`.

Sign-in (`POST /api/v1/auth/token/`) is throttled on failures, per client address
(`login_ip`: credential stuffing from one place) and per username (`login_username`: guessing one
account's password from many places). Once either budget is spent, every attempt — the right
password included — answers 429 with `Retry-After` until the oldest failure leaves the window.

Reads do no writes (issue #18): the `anon`/`user` budgets of reads (GET, HEAD, OPTIONS) count in the
`throttle` cache — per process by default (so the effective read limit is the rate times the number of
workers), Redis when `REDIS_URL` is set — never in the database. Writes and sign-ins count in the
`default` cache, shared by every worker (files beside the SQLite database, or Redis): they are rare and must hold.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import caches
from rest_framework import exceptions, throttling
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from opsportal.proxies import client_ip


class ClientAddressMixin:
    def get_ident(self, request: Request) -> str:
        return client_ip(request)


READ_CACHE = "throttle"  # settings.CACHES: per process (LocMemCache), or Redis with REDIS_URL
SHARED_CACHE = "default"


class ReadWriteCacheMixin:
    """Reads count in the `throttle` cache (no database write per read), writes in the shared one. A read is
    a safe method, or a request marked `counts_as_read` (a GraphQL query, which arrives as a POST)."""

    def allow_request(self, request: Request, view: Any) -> bool:
        reading = getattr(request, "counts_as_read", None) or request.method in SAFE_METHODS
        self.cache = caches[READ_CACHE if reading else SHARED_CACHE]
        return super().allow_request(request, view)


class AnonRateThrottle(ReadWriteCacheMixin, ClientAddressMixin, throttling.AnonRateThrottle):
    """Requests per anonymous client address (`anon`)."""


class UserRateThrottle(ReadWriteCacheMixin, ClientAddressMixin, throttling.UserRateThrottle):
    """Requests per signed-in user (`user`); per client address for anonymous requests."""


class FailureThrottle(throttling.SimpleRateThrottle):
    """Counts failures only (`record_failure`), and refuses every request once they reach the rate."""

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        self.history = [moment for moment in self.cache.get(self.key, []) if moment > self.now - self.duration]
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return True

    def record_failure(self, request: Request, view: Any) -> None:
        key = self.get_cache_key(request, view)
        if self.rate is None or key is None:
            return
        now = self.timer()
        history = [moment for moment in self.cache.get(key, []) if moment > now - self.duration]
        self.cache.set(key, [now, *history], self.duration)


class LoginAddressThrottle(ClientAddressMixin, FailureThrottle):
    """Failed sign-ins per client address."""

    scope = "login_ip"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUsernameThrottle(FailureThrottle):
    """Failed sign-ins per username (case-insensitive), whoever tries it."""

    scope = "login_username"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        data = request.data
        username = data.get("username") if isinstance(data, dict) else None
        if not isinstance(username, str) or not username.strip():
            return None
        ident = hashlib.sha256(username.strip().casefold().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginThrottleMixin:
    """For the sign-in view: the default throttles plus the failure throttles, fed by failed sign-ins."""

    def get_throttles(self) -> list[throttling.BaseThrottle]:
        return [*super().get_throttles(), LoginAddressThrottle(), LoginUsernameThrottle()]

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, exceptions.AuthenticationFailed):
            for throttle in self.get_throttles():
                if isinstance(throttle, FailureThrottle):
                    throttle.record_failure(self.request, self)
        return super().handle_exception(exc)

    def throttled(self, request: Request, wait: float | None) -> None:
        raise exceptions.Throttled(wait, detail="Too many sign-in attempts for this account or from this address.")
