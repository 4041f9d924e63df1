"""drf-spectacular post-processing: every operation documents the errors it can answer with.

Any request may be refused for authentication (401), role (403), rate (429) or bad input
(400: filters, page sizes, bodies); detail routes and pages beyond the last answer 404.
Operations that declare these themselves keep their own (richer) descriptions.
"""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = "Error"  # opsportal.api.schema.ErrorSerializer
STANDARD = {
    "400": "Invalid input (body, filters or query parameters); `errors` names each field.",
    "401": "Authentication credentials were missing or invalid.",
    "403": "Signed in, but the role or team needed is missing.",
    "404": "No such object, or a page beyond the last.",
    "429": "Too many requests; retry after `Retry-After` seconds.",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}},
    }


def add_standard_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    if ERROR_COMPONENT not in result.get("components", {}).get("schemas", {}):
        return result  # no view documents an error: nothing to point at
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if method not in {"get", *WRITE_METHODS}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in STANDARD.items():
                responses.setdefault(status, _error_response(description))
            if method in WRITE_METHODS:
                responses.setdefault("409", _error_response("The current state does not allow this change."))
            if method == "post":
                responses.setdefault(
                    "422", _error_response("The Idempotency-Key was already used with a different request body.")
                )
    return result
