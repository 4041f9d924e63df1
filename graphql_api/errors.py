"""Refusals as typed GraphQL errors: the REST error envelope, in `extensions`.

    {"message": "…", "path": ["approveRelease"], "extensions": {"code": "invalid_transition", "status": 409,
     "allowed_actions": ["deploy", "reject"], "blockers": [...], "errors": {field: [messages]}}}

A service's `ApplicationError` keeps its code, HTTP status and context (`status` of the release is
renamed `release_status`, since `status` is the HTTP status here); DRF validation errors become
`invalid` with field messages; database trouble becomes `database_unavailable` (503, `retry_after`).
Anything else is masked (`internal_error`): a client never sees a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from graphql import GraphQLError
from rest_framework import exceptions as drf_exceptions
from strawberry.extensions import SchemaExtension

from opsportal.api.exceptions import _code_and_sentence, _flatten, refusal_log
from opsportal.errors import ApplicationError
from opsportal.limits import short_message
from opsportal.unavailable import database_unavailable, log_unavailable

log = logging.getLogger("opsportal.graphql")


class Unauthenticated(ApplicationError):
    status_code = 401
    code = "not_authenticated"


def error_extensions(exc: BaseException) -> dict[str, Any] | None:
    """The envelope of `exc` (code, status and context), or None for an unexpected error."""
    if isinstance(exc, ApplicationError):
        extra = dict(exc.extra)
        if extra.get("errors"):
            extra["errors"] = _flatten(extra["errors"])
        if "status" in extra:
            extra["release_status"] = extra.pop("status")
        return {"code": exc.code, "status": exc.status_code, **{k: v for k, v in extra.items() if v is not None}}
    if isinstance(exc, drf_exceptions.ValidationError):
        errors = _flatten(exc.detail)
        return {"code": "invalid", "status": 400, "errors": errors if isinstance(errors, dict) else {"input": errors}}
    if isinstance(exc, DjangoValidationError):
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"input": exc.messages}
        return {"code": "invalid", "status": 400, "errors": _flatten(messages)}
    if isinstance(exc, drf_exceptions.APIException):
        code, _ = _code_and_sentence(exc)
        return {"code": code, "status": exc.status_code}
    unavailable = database_unavailable(exc) if isinstance(exc, Exception) else None
    if unavailable is not None:
        log_unavailable(unavailable, exc, "/graphql")
        return {
            "code": "database_unavailable",
            "status": 503,
            "reason": unavailable.reason,
            "retry_after": unavailable.retry_after,
        }
    return None


def error_message(exc: BaseException) -> str:
    if isinstance(exc, ApplicationError):
        return exc.message
    if isinstance(exc, (drf_exceptions.ValidationError, DjangoValidationError)):
        return "Invalid input."
    if isinstance(exc, drf_exceptions.APIException):
        return short_message(_code_and_sentence(exc)[1])
    unavailable = database_unavailable(exc) if isinstance(exc, Exception) else None
    return unavailable.detail if unavailable is not None else "Internal error."


def typed_error(error: GraphQLError) -> GraphQLError:
    """`error` with the envelope of its original exception in `extensions` (unexpected ones masked)."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return error
    extensions = error_extensions(original)
    if extensions is None:
        log.error("GraphQL resolver failed", exc_info=original)
        extensions = {"code": "internal_error", "status": 500}
    elif isinstance(original, ApplicationError):
        refusal_log.info(
            original.code,
            extra={
                "event": "refused",
                "code": original.code,
                "status": original.status_code,
                "detail": original.message,
                "path": "/graphql",
                "field": ".".join(str(part) for part in error.path or ()),
            },
        )
    return GraphQLError(
        error_message(original), nodes=error.nodes, path=error.path, original_error=None, extensions=extensions
    )


class TypedErrors(SchemaExtension):
    """Rewrites the execution result's errors with `typed_error` (queries, mutations and subscriptions)."""

    def on_execute(self):
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [typed_error(error) for error in result.errors]
