"""The one exception hierarchy of Ops Portal. Services raise these; the API handler
(`opsportal.api.exceptions`) and the admin turn them into responses and messages."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A refused operation: `status_code`, a stable `code`, a human `message`, optional context."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra


class ValidationFailed(ApplicationError):
    """Bad input; `errors` maps field names to lists of messages."""

    status_code = 400
    code = "invalid"

    def __init__(self, errors: dict[str, list[str]], message: str = "Invalid input.") -> None:
        super().__init__(message, errors=errors)


class Forbidden(ApplicationError):
    status_code = 403
    code = "permission_denied"


class NotFound(ApplicationError):
    status_code = 404
    code = "not_found"


class Conflict(ApplicationError):
    """The request is valid but the current state does not allow it (DESIGN §6: 409)."""

    status_code = 409
    code = "conflict"


class PreconditionFailed(ApplicationError):
    status_code = 412
    code = "precondition_failed"
