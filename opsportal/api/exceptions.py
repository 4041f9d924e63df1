"""One JSON error envelope for every API error.

    {"code": "invalid_transition", "detail": "human message", "errors": {field: [messages]}, ...context}

`errors` appears for validation failures (field → messages, nested paths such as
`features[1].tasks[0].status` inside the messages); services add context such as
`status` and `allowed_actions` on a 409.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from opsportal.errors import ApplicationError
from opsportal.limits import MAX_BODY_BYTES, short_message
from opsportal.unavailable import database_unavailable, log_unavailable


def _flatten(detail: Any) -> dict[str, list[str]] | list[str]:
    if isinstance(detail, dict):
        return {key: _as_messages(value) for key, value in detail.items()}
    return _as_messages(detail)


def _as_messages(value: Any) -> list[str]:
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            if isinstance(item, dict):
                for key, sub in item.items():
                    out.extend(f"{key}: {message}" for message in _as_messages(sub))
            else:
                out.extend(_as_messages(item))
        return out
    if isinstance(value, dict):
        return [f"{key}: {message}" for key, sub in value.items() for message in _as_messages(sub)]
    # Short and escaped: a message never echoes a large input back (e.g. an invalid choice).
    return [short_message(str(value))]


def envelope(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "detail": detail, **{k: v for k, v in extra.items() if v is not None}}


refusal_log = logging.getLogger("opsportal.refusals")


def _log_refusal(exc: ApplicationError, context: dict) -> None:
    request = context.get("request")
    view = context.get("view")
    refusal_log.info(
        exc.code,
        extra={
            "event": "refused",
            "code": exc.code,
            "status": exc.status_code,
            "detail": exc.message,
            "user": request.user.get_username() if request is not None and request.user.is_authenticated else None,
            "path": request.path if request is not None else None,
            "object_id": (view.kwargs or {}).get("pk") if view is not None else None,
        },
    )


def payload_too_large() -> dict[str, Any]:
    """The 413 envelope of a body over `opsportal.limits.MAX_BODY_BYTES` (also `opsportal.views.bad_request`)."""
    return envelope(
        "payload_too_large",
        f"The request body is larger than the limit of {MAX_BODY_BYTES:,} bytes.",
    )


def _forget_body(context: dict) -> None:
    # DRF read the body before its parser ran, so it did not record an empty one: do it, so that
    # rendering the error (the browsable API) does not try to read the body again.
    request = context.get("request")
    if request is not None:
        request._full_data = request._data = {}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        _forget_body(context)
        return Response(payload_too_large(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    unavailable = database_unavailable(exc)
    if unavailable is not None:
        request = context.get("request")
        log_unavailable(unavailable, exc, request.path if request is not None else "")
        return Response(
            envelope("database_unavailable", unavailable.detail, reason=unavailable.reason),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(unavailable.retry_after)},
        )
    if isinstance(exc, ApplicationError):
        _log_refusal(exc, context)
        extra = {**exc.extra, "errors": _flatten(exc.extra["errors"])} if exc.extra.get("errors") else exc.extra
        return Response(envelope(exc.code, exc.message, **extra), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        errors = _flatten(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})
        return Response(envelope("invalid", "Invalid input.", errors=errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        if isinstance(errors, list):
            errors = {"non_field_errors": errors}
        response.data = envelope("invalid", "Invalid input.", errors=errors)
    else:
        code, detail = _code_and_sentence(exc)
        response.data = envelope(code, short_message(detail))
    return response


def _code_and_sentence(exc: Exception) -> tuple[str, str]:
    """The code and the human sentence of an exception DRF answered. simplejwt's refusal of a bearer
    token carries a dict (`detail`, `messages` per token type): its words, not its repr (issue #14)."""
    if not isinstance(exc, exceptions.APIException):
        return "error", str(exc)
    detail, code = exc.detail, exc.get_codes()
    if isinstance(detail, dict) and "detail" in detail:
        reasons = [
            str(message["message"])
            for message in detail.get("messages") or []
            if isinstance(message, dict) and message.get("message")
        ]
        sentence = f"The access token is not valid: {'; '.join(dict.fromkeys(reasons))}." if reasons else None
        return str(exc.default_code), sentence or str(detail["detail"])
    if isinstance(code, (dict, list)):
        code = "error"
    return str(code), str(detail)
