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
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from opsportal.errors import ApplicationError


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
    return [str(value)]


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


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApplicationError):
        _log_refusal(exc, context)
        return Response(envelope(exc.code, exc.message, **exc.extra), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
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
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        if isinstance(code, (dict, list)):
            code = "error"
        response.data = envelope(str(code), str(detail))
    return response
