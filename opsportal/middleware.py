"""Request context: a request id (taken from `X-Request-ID` or generated) and the client
IP, kept in context variables so services can stamp audit events without a request."""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from opsportal import proxies
from opsportal.uow import write_request_turn

access_log = logging.getLogger("opsportal.access")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    client_ip: str = ""
    # The request itself, so that code without it (auth signals → the audit trail) can name who acts.
    request: HttpRequest | None = field(default=None, compare=False, repr=False)

    @property
    def username(self) -> str:
        """Who is signed in: the admin's session user, or the API's (DRF sets it once it authenticates); else ""."""
        user = getattr(self.request, "user", None)
        return user.get_username() if user is not None and user.is_authenticated else ""


_EMPTY = RequestContext()
_context: contextvars.ContextVar[RequestContext] = contextvars.ContextVar("opsportal_request", default=_EMPTY)


def current_request_context() -> RequestContext:
    return _context.get()


def client_ip(request: HttpRequest) -> str:
    """The client's address: the peer, or what trusted proxies say (`opsportal.proxies`, TRUSTED_PROXIES)."""
    return proxies.client_ip(request)


class RequestIdMiddleware:
    """Sets the request context, echoes `X-Request-ID` on every response, and writes one
    access-log line per request (request id, user, method, path, status, duration)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _context.set(RequestContext(request_id=request_id, client_ip=client_ip(request), request=request))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            _context.reset(token)
        response["X-Request-ID"] = request_id
        user = getattr(request, "user", None)
        access_log.info(
            "request",
            extra={
                "request_id": request_id,
                "user": user.get_username() if user is not None and user.is_authenticated else None,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "client_ip": client_ip(request),
            },
        )
        return response


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class WriteQueueMiddleware:
    """API write requests take their worker's write turn (`opsportal.uow.write_request_turn`: on SQLite,
    one at a time per process) once their body has arrived, so a client that sends its body slowly holds
    up nobody. Views that write nothing worth queueing for (sign-in: a slow password hash) say
    `queue_writes = False`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._queued(request):
            return self.get_response(request)
        with write_request_turn():
            return self.get_response(request)

    @staticmethod
    def _queued(request: HttpRequest) -> bool:
        if request.method in _SAFE_METHODS or not request.path_info.startswith("/api/"):
            return False
        try:
            view = resolve(request.path_info).func
        except Resolver404:
            return False
        view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
        if not getattr(view_class, "queue_writes", True):
            return False
        try:
            request.body  # noqa: B018 - the whole body arrives before the request queues
        except RequestDataTooBig:
            return False  # answered 413 by the view, as before
        return True
