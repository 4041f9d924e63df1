"""OpenAPI pieces every endpoint shares (DESIGN §7, issue #14).

- `AutoSchema` (the project's `DEFAULT_SCHEMA_CLASS`): tags by resource, operation ids that read well
  in a generated client (`releases_deploy`, `environments_status`), response fields the serializer
  always sends are `required`, and on every operation the errors it can answer with, the
  response headers it sets (`ETag`, `Location`, `Idempotent-Replayed`, `Retry-After`, `X-Request-ID`,
  `WWW-Authenticate`) and a description for each path parameter.
- The error envelopes, one component per kind of refusal (`Error`, `ValidationError`,
  `ForbiddenError`, `ConflictError`, `PreconditionFailedError`); an app's own envelope (a
  release's `status`, `allowed_actions`, `blockers`) subclasses `ErrorSerializer`.
- Embedded documents (`EmbeddedDocumentField`) become named components built from their JSON
  Schema: each titled object (`Feature`, `Task`, `Member`, `Stage`, …) is one component, shared by
  requests and responses where the shape is the same (`FeatureRequest` where defaults make fields
  optional on input).
- Builders for an operation's errors (`error_response`, `invalid_response`, `not_found_response`, …)
  and `document_schema_view`, which documents the CRUD operations of a `DocumentViewSet`:

    @document_schema_view(example=TEAM_EXAMPLE, create=..., change=..., invalid=..., protected=...)
    class TeamViewSet(DocumentViewSet): ...

Global touches (nullable references, tags, security schemes, pagination examples) are in
`opsportal.api.openapi_hooks`.
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models
from django.utils.text import capfirst, slugify
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent, build_basic_type, force_instance
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.permissions import AllowAny

from opsportal.api.mixins import (
    IDEMPOTENCY_HEADER,
    IdempotentPostMixin,
    RevisionETagMixin,
    etag_mismatch,
    revision_etag,
)
from opsportal.api.rows import RowReadMixin
from opsportal.api.serializers import EmbeddedDocumentField
from opsportal.documents import stale_revision
from opsportal.errors import ApplicationError, NotFound, ValidationFailed
from opsportal.roles import ROLE_NAMES, release_manager_required

ViewSetT = TypeVar("ViewSetT")

# The path segment under /api/v1 → the tag (section of the docs, module of a generated client).
TAG_OF_SEGMENT = {"audit-events": "audit"}
CRUD_ACTIONS = ("list", "create", "retrieve", "update", "partial_update", "destroy")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# --------------------------------------------------------------------------- error envelopes


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "example": {"version": ["A release with version '2.0.0' already exists."]},
    }
)
class FieldErrorsField(serializers.DictField):
    """Field → messages (documented with a real example rather than `additionalProp1`)."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {},
        "example": {"deployments": 2, "current_release": "release-2", "workflows": ["standard"]},
    }
)
class ReferencesField(serializers.DictField):
    """What refers to a document, by kind (counts or ids)."""


class ErrorSerializer(serializers.Serializer):
    """The error envelope of a refused request (rendered by `opsportal.api.exceptions`): a stable
    `code` and a sentence for people. Refusals with context use an envelope that adds its keys
    (`ValidationError`, `ForbiddenError`, `ConflictError`, `PreconditionFailedError`, …)."""

    code = serializers.CharField(
        help_text="Stable machine code, e.g. `not_authenticated`, `token_not_valid`, `not_found`, `throttled`, "
        "`unsupported_media_type`, `idempotency_key_reused`."
    )
    detail = serializers.CharField(help_text="What was refused and why, as a sentence for people.")


class ValidationErrorSerializer(ErrorSerializer):
    """400: `invalid` (the body, a filter or a query parameter is invalid; `errors` names each field)
    or `parse_error` (the body is not JSON; no `errors`)."""

    errors = FieldErrorsField(
        required=False,
        help_text="`invalid`: field → messages; a message inside an embedded document names its path, "
        "e.g. `features[1].tasks[0].status: …` or `members[1].email: …`.",
    )


class ForbiddenErrorSerializer(ErrorSerializer):
    """403: signed in, but the role or team needed is missing (`role_required`, `team_required`,
    `four_eyes`, `permission_denied`)."""

    required_role = serializers.ChoiceField(
        choices=ROLE_NAMES, required=False, help_text="`role_required`: the role that would allow it."
    )
    required_team = serializers.CharField(
        required=False, help_text="`team_required`: the team (id) whose members may do it."
    )


class ConflictErrorSerializer(ErrorSerializer):
    """409: the current state does not allow the change (`stale_revision`, `protected`,
    `idempotency_in_progress`)."""

    revision = serializers.IntegerField(required=False, help_text="`stale_revision`: the current revision.")
    references = ReferencesField(required=False, help_text="`protected`: what still refers to the document.")
    retry_after = serializers.IntegerField(
        required=False, help_text="`idempotency_in_progress`: seconds until the key's lease runs out."
    )


class PreconditionFailedErrorSerializer(ErrorSerializer):
    """412 `precondition_failed`: `If-Match` is not the current `ETag`; nothing was changed."""

    etag = serializers.CharField(required=False, help_text="The current `ETag`.")
    revision = serializers.IntegerField(required=False, help_text="The current revision.")


UNAVAILABLE_REASONS = ["locked", "read_only", "unreachable"]  # `opsportal.unavailable`


class ServiceUnavailableErrorSerializer(ErrorSerializer):
    """503 `database_unavailable`: the database is busy, read-only or unreachable; retry after
    `Retry-After` seconds (see `opsportal.unavailable`)."""

    reason = serializers.ChoiceField(choices=UNAVAILABLE_REASONS, help_text="What is wrong.")


ERROR_SERIALIZERS: dict[int, type[ErrorSerializer]] = {
    400: ValidationErrorSerializer,
    403: ForbiddenErrorSerializer,
    409: ConflictErrorSerializer,
    412: PreconditionFailedErrorSerializer,
}


def error_example(
    name: str, error: ApplicationError | dict[str, Any], status_code: int | None = None
) -> OpenApiExample:
    """A response example of the error envelope: from the exception a service raises, or a body."""
    if isinstance(error, ApplicationError):
        value = {"code": error.code, "detail": error.message, **error.extra}
        status_code = status_code or error.status_code
    else:
        value = error
    return OpenApiExample(
        name, value=value, response_only=True, status_codes=[str(status_code)] if status_code else None
    )


def error_response(
    description: str,
    *examples: tuple[str, ApplicationError],
    serializer: type[serializers.Serializer] | None = None,
) -> OpenApiResponse:
    """A response with the error envelope of its status; each example is (name, the exception a service raises)."""
    status_code = examples[0][1].status_code if examples else None
    return OpenApiResponse(
        serializer or ERROR_SERIALIZERS.get(status_code, ErrorSerializer),
        description=description,
        examples=[error_example(name, error) for name, error in examples],
    )


def invalid_response(example: str, errors: dict[str, list[str]]) -> OpenApiResponse:
    """400: `errors` maps each field to its messages."""
    return error_response(
        "Invalid input: the envelope's `errors` names each field (nested paths inside the messages).",
        (example, ValidationFailed(errors)),
    )


def invalid_example(name: str, errors: dict[str, list[str]]) -> OpenApiExample:
    """A 400 response example: the error envelope with `errors` (field → messages)."""
    return error_example(name, ValidationFailed(errors))


def _verbose_name(model: type[models.Model]) -> str:
    return str(model._meta.verbose_name)


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


NOT_FOUND = NotFound("Not found.")  # what DRF answers for an unknown id


def not_found_response(model: type[models.Model]) -> OpenApiResponse:
    """404 of a detail route."""
    return error_response(f"No {_verbose_name(model)} has this id.", ("Not found", NOT_FOUND))


def role_required_response(what: str) -> OpenApiResponse:
    """403 of a write only Release Managers (and superusers) may make; `what` as for `require_release_manager`."""
    return error_response(
        "Signed in, but without the Release Managers role.", ("Role required", release_manager_required(what))
    )


def precondition_failed_response(model: type[models.Model], pk: str, revision: int) -> OpenApiResponse:
    """412: the `If-Match` header is not the current `ETag` (the example's object is at `revision`)."""
    return error_response(
        f"`If-Match` is not the {_verbose_name(model)}'s current `ETag`; nothing was changed.",
        ("Precondition failed", etag_mismatch(_verbose_name(model), revision_etag(pk, revision))),
    )


def if_match_parameter(model: type[models.Model], pk: str, revision: int) -> OpenApiParameter:
    return OpenApiParameter(
        "If-Match",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description=f"The `ETag` of your last read (e.g. `{revision_etag(pk, revision)}`); "
        f"if the {_verbose_name(model)} changed since → 412.",
    )


IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Makes the request safe to retry: the same key from the same user within 24 hours returns the "
    "first response again (with `Idempotent-Replayed: true`) without a second effect; the same key with "
    "another body → 422. At most 255 characters, e.g. a UUID.",
)

# --------------------------------------------------------------------------- standard errors and headers

_UNAUTHENTICATED = {"code": "not_authenticated", "detail": "Authentication credentials were not provided."}
_TOKEN_NOT_VALID = {
    "code": "token_not_valid",
    "detail": "The access token is not valid: Token is expired.",
}
_BAD_CREDENTIALS = {"code": "no_active_account", "detail": "No active account found with the given credentials"}
_THROTTLED = {"code": "throttled", "detail": "Request was throttled. Expected available in 42 seconds."}
_UNSUPPORTED = {"code": "unsupported_media_type", "detail": 'Unsupported media type "text/plain" in request.'}
_KEY_REUSED = {
    "code": "idempotency_key_reused",
    "detail": "This Idempotency-Key was already used with a different request body.",
}
_IN_PROGRESS = {
    "code": "idempotency_in_progress",
    "detail": "A request with this Idempotency-Key is still being processed; retry shortly.",
    "retry_after": 12,
}
_TOO_LARGE = {"code": "payload_too_large", "detail": "The request body is larger than the limit of 2,097,152 bytes."}
_UNAVAILABLE = {
    "code": "database_unavailable",
    "detail": "The database is busy: another change holds its write lock. Retry in a few seconds.",
    "reason": "locked",
}
_SERVER_ERROR = {"code": "server_error", "detail": "Internal server error."}
_PERMISSION_DENIED = {"code": "permission_denied", "detail": "You do not have permission to perform this action."}

HEADER_SCHEMAS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "schema": {"type": "string"},
        "description": "The request's id: the `X-Request-ID` you sent, or a generated one. Logs and audit events "
        "carry it.",
        "required": True,
    },
    "ETag": {
        "schema": {"type": "string", "example": '"release-1-4"'},
        "description": "The object's current revision (`\"<id>-<revision>\"`; a release's ends in `~<versions>` of "
        "the deployments and environments it shows); send it back in `If-Match` to make a change conditional (the "
        "revision part is compared), or in `If-None-Match` to get 304 while it is current.",
        "required": True,
    },
    "CollectionETag": {
        "schema": {"type": "string", "example": 'W/"3f9a0c1d2e4b5a6978c0d1e2"'},
        "description": "A weak validator of this list (its page and filters, and the versions of what it shows); "
        "send it back in `If-None-Match` and, while nothing in the list changed, the answer is 304 without a body.",
        "required": True,
    },
    "Cache-Control": {
        "schema": {"type": "string", "enum": ["private, no-cache"]},
        "description": "Keep the response, and revalidate it (`If-None-Match`) before each use.",
        "required": True,
    },
    "Location": {
        "schema": {"type": "string", "format": "uri"},
        "description": "The URL of what was created.",
        "required": True,
    },
    "Idempotent-Replayed": {
        "schema": {"type": "string", "enum": ["true"]},
        "description": "`true` when this is the stored response of an earlier request with the same "
        "`Idempotency-Key` (nothing was done again).",
    },
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before retrying.",
    },
    "WWW-Authenticate": {
        "schema": {"type": "string", "example": 'Bearer realm="api"'},
        "description": "How to authenticate: a bearer token.",
    },
}


def _header(name: str, *, required: bool | None = None) -> dict[str, Any]:
    """A reference to the header's component (`openapi_hooks` adds `components.headers`), or the header
    itself where it is `required` unlike its component."""
    header = copy.deepcopy(HEADER_SCHEMAS[name])
    if required is None or required == header.get("required", False):
        return {"$ref": f"#/components/headers/{name}"}
    header["required"] = required
    return header


def _refusal(
    description: str, *examples: tuple[str, dict[str, Any]], serializer: type[ErrorSerializer] = ErrorSerializer
) -> OpenApiResponse:
    """A standard refusal: its envelope, what it means, and examples of its body."""
    return OpenApiResponse(
        serializer, description=description, examples=[error_example(name, body) for name, body in examples]
    )


def _is_public(view: Any) -> bool:
    """Views anyone may call (the token endpoints): no role check, so no 403."""
    permissions = getattr(view, "permission_classes", None) or []
    return not permissions or all(permission is AllowAny for permission in permissions)


# Query parameters of every list: a bad value answers 400 too (e.g. a NUL character in `search`), but the
# example of a list's 400 shows one of its own filters where it has one.
LIST_QUERY = {"page", "page_size", "search", "ordering"}


def _filter_example(parameters: list[dict[str, Any]]) -> dict[str, list[str]]:
    """A realistic 400 of a list: a bad value for one of its filters."""
    filters = [parameter for parameter in parameters if parameter["name"] not in LIST_QUERY]
    for parameter in filters:
        schema = parameter.get("schema", {})
        if "enum" in schema or "$ref" in schema:
            return {parameter["name"]: ["Select a valid choice. shipped is not one of the available choices."]}
        if schema.get("format") == "date-time":
            return {parameter["name"]: ["Enter a valid date/time."]}
        if schema.get("type") == "boolean":
            return {parameter["name"]: ["Select a valid choice. maybe is not one of the available choices."]}
    if filters:
        return {filters[0]["name"]: ["Enter a valid value."]}
    return {"non_field_errors": ["Null characters are not allowed."]}


class AutoSchema(openapi.AutoSchema):
    """The project's schema class (`REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]`); see the module docstring."""

    # ---- names

    def _resource_tokens(self) -> list[str]:
        path = re.sub(r"^/api/v\d+/", "", self.path)
        return [token for token in path.strip("/").split("/") if token and not token.startswith("{")]

    def get_tags(self) -> list[str]:
        tokens = self._resource_tokens()
        if not tokens:
            return super().get_tags()
        return [TAG_OF_SEGMENT.get(tokens[0], tokens[0])]

    def get_operation_id(self) -> str:
        """`<path words>` (a custom action's url_path is one of them) + the CRUD action if it is one:
        `releases_list`, `releases_partial_update`, `releases_deploy_check`, `environments_status`, `auth_token`."""
        tokens = [token.replace("-", "_") for token in self._resource_tokens()]
        action = getattr(self.view, "action", None)
        if action in CRUD_ACTIONS:
            tokens.append(action)
        return "_".join(tokens) or super().get_operation_id()

    # ---- required response fields

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction != "response":
            return schema
        serializer = force_instance(serializer)
        properties = schema.get("properties", {})
        sent = [
            name for name, field in serializer.fields.items() if name in properties and always_sent(serializer, field)
        ]
        required = set(schema.get("required", [])) | set(sent)
        if required:
            schema["required"] = [name for name in properties if name in required]
        return schema

    # ---- pagination of a detail route's list (e.g. a release's history)

    def _get_pagination_parameters(self):
        parameters = super()._get_pagination_parameters()
        if parameters or self.method != "GET":
            return parameters
        responses = self.get_response_serializers()
        ok = responses.get(200, responses.get("200")) if isinstance(responses, dict) else responses
        if isinstance(ok, OpenApiResponse):
            ok = ok.response
        paginator = self._get_paginator()
        if paginator is None or not isinstance(ok, serializers.ListSerializer):
            return parameters
        return paginator.get_schema_operation_parameters(self.view)

    # ---- errors, headers, parameters of every operation

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None or not re.match(r"^/api/v\d+/", path):
            return operation
        self._add_standard_errors(operation)
        self._add_conditional_get(operation)
        self._describe_responses(operation)
        self._add_response_headers(operation)
        self._describe_path_parameters(operation)
        return operation

    def _standard_errors(self, operation: dict[str, Any]) -> dict[str, OpenApiResponse]:
        """The refusals any request of this operation can meet, each with a real example."""
        parameters = operation.get("parameters", [])
        header_names = {p["name"] for p in parameters if p["in"] == "header"}
        query = [p for p in parameters if p["in"] == "query"]
        has_body, public, detail = "requestBody" in operation, _is_public(self.view), "{" in self.path
        idempotent = self.method == "POST" and IDEMPOTENCY_HEADER in header_names
        errors: dict[str, OpenApiResponse] = {}
        if has_body or query:
            example = _filter_example(query) if query and not has_body else self._body_error_example()
            errors["400"] = invalid_response("Invalid input", example)
        if public:
            errors["401"] = _refusal("Wrong username or password.", ("Bad credentials", _BAD_CREDENTIALS))
        else:
            errors["401"] = _refusal(
                "No credentials, or a bearer token that is invalid or expired.",
                ("No credentials", _UNAUTHENTICATED),
                ("Token expired", _TOKEN_NOT_VALID),
            )
            errors["403"] = _refusal(
                "Signed in, but the role, team or token scope needed is missing.",
                ("Permission denied", _PERMISSION_DENIED),
                serializer=ForbiddenErrorSerializer,
            )
        if detail:
            errors["404"] = _refusal(
                "No object has this id.", ("Not found", {"code": "not_found", "detail": "Not found."})
            )
        elif self.method == "GET" and self._is_list_view() and self._get_paginator():
            errors["404"] = _refusal(
                "A page beyond the last.", ("Invalid page", {"code": "not_found", "detail": "Invalid page."})
            )
        elif any(p["name"] == "format" for p in query):
            errors["404"] = _refusal(  # DRF's answer to a `format` none of the renderers has
                "No such `format`.", ("Unknown format", {"code": "not_found", "detail": "Not found."})
            )
        if self.method in WRITE_METHODS and not public:
            errors["409"] = _refusal(
                "The current state does not allow this change.",
                *([("Key in use", _IN_PROGRESS)] if idempotent else []),
                serializer=ConflictErrorSerializer,
            )
        if "If-Match" in header_names:
            stale = etag_mismatch("release", '"release-1-5"')
            errors["412"] = _refusal(
                "`If-Match` is not the current `ETag`; nothing was changed.",
                ("Precondition failed", {"code": stale.code, "detail": stale.message, **stale.extra}),
                serializer=PreconditionFailedErrorSerializer,
            )
        if has_body:
            errors["413"] = _refusal("The body is larger than the limit (2 MiB).", ("Too large", _TOO_LARGE))
            errors["415"] = _refusal(
                "The body is not JSON (`Content-Type: application/json`).", ("Not JSON", _UNSUPPORTED)
            )
        if idempotent:
            errors["422"] = _refusal(
                "The `Idempotency-Key` was already used with a different request body.", ("Key reused", _KEY_REUSED)
            )
        errors["429"] = _refusal("Too many requests; retry after `Retry-After` seconds.", ("Throttled", _THROTTLED))
        errors["500"] = _refusal(
            "Something went wrong on the server; nothing is said about what.", ("Server error", _SERVER_ERROR)
        )
        errors["503"] = _refusal(
            "The database is busy, read-only or unreachable; retry after `Retry-After` seconds.",
            ("Database busy", _UNAVAILABLE),
            serializer=ServiceUnavailableErrorSerializer,
        )
        return errors

    def _get_request_for_media_type(self, serializer, direction="request"):
        """A PATCH whose body an input serializer validates whole (not the view's own serializer, which
        DRF makes partial) documents that serializer as it is, required fields and all."""
        if self.method != "PATCH" or not self._validated_whole(serializer):
            return super()._get_request_for_media_type(serializer, direction)
        self.method = "PUT"  # drf-spectacular marks every PATCH body partial; this one is not
        try:
            return super()._get_request_for_media_type(serializer, direction)
        finally:
            self.method = "PATCH"

    def _validated_whole(self, serializer) -> bool:
        try:
            view_serializer = self.view.get_serializer_class()
        except (AssertionError, AttributeError):
            return False
        return type(force_instance(serializer)) is not view_serializer

    def _body_error_example(self) -> dict[str, list[str]]:
        serializer = self.get_request_serializer()
        if isinstance(serializer, dict) or serializer is None or not hasattr(force_instance(serializer), "fields"):
            return {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
        fields = force_instance(serializer).fields
        for name, field in fields.items():
            if field.required and not field.read_only:
                return {name: ["This field is required."]}
        return {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}

    def _conditional_get(self) -> str | None:
        """`list` or `detail` when this GET answers `If-None-Match` with 304 (`opsportal.api.conditional`)."""
        view = self.view
        if self.method != "GET" or not isinstance(view, RowReadMixin):
            return None
        action = getattr(view, "action", None)
        if action == "list" and view.list_collections:
            return "list"
        if action == "retrieve" and isinstance(view, RevisionETagMixin):
            return "detail"
        return None

    def _add_conditional_get(self, operation: dict[str, Any]) -> None:
        kind = self._conditional_get()
        if kind is None:
            return
        etag = _header("CollectionETag" if kind == "list" else "ETag")
        operation.setdefault("parameters", []).append(
            {
                "in": "header",
                "name": "If-None-Match",
                "schema": {"type": "string"},
                "description": "The `ETag` of your last read of this "
                + ("list (same URL)" if kind == "list" else "object")
                + ": while it is still current, the answer is 304 without a body.",
            }
        )
        responses = operation["responses"]
        responses["304"] = {
            "description": "Not modified: what you have is current (no body).",
            "headers": {"ETag": etag, "Cache-Control": _header("Cache-Control")},
        }
        responses["200"].setdefault("headers", {}).update({"ETag": etag, "Cache-Control": _header("Cache-Control")})
        operation["responses"] = dict(sorted(responses.items()))

    def _describe_responses(self, operation: dict[str, Any]) -> None:
        """A response nobody described says what the operation returns (its summary), never nothing."""
        about = (operation.get("summary") or operation["operationId"].replace("_", " ")).rstrip(".")
        for code, response in operation["responses"].items():
            if not response.get("description"):
                response["description"] = f"{about}: done." if code == "204" else f"{about}: the result."

    def _add_standard_errors(self, operation: dict[str, Any]) -> None:
        responses = operation["responses"]
        for code, response in self._standard_errors(operation).items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code)
        operation["responses"] = dict(sorted(responses.items()))

    def _component_properties(self, response: dict[str, Any]) -> dict[str, Any]:
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        ref = schema.get("$ref", "")
        if not ref.startswith("#/components/schemas/"):
            return schema.get("properties", {})
        key = (ref.rsplit("/", 1)[-1], ResolvedComponent.SCHEMA)
        component = self.registry._components.get(key)
        return (component.schema or {}).get("properties", {}) if component is not None else {}

    def _add_response_headers(self, operation: dict[str, Any]) -> None:
        view_class = type(self.view)
        idempotent = self.method == "POST" and issubclass(view_class, IdempotentPostMixin)
        for code, response in operation["responses"].items():
            headers = response.setdefault("headers", {})
            headers.setdefault("X-Request-ID", _header("X-Request-ID"))
            if code.startswith("2") and issubclass(view_class, RevisionETagMixin):
                properties = self._component_properties(response)
                if "id" in properties and "revision" in properties:
                    headers.setdefault("ETag", _header("ETag"))
            if code == "201":
                headers.setdefault("Location", _header("Location"))
            if idempotent and code not in ("401", "429", "503"):
                headers.setdefault("Idempotent-Replayed", _header("Idempotent-Replayed"))
            if code in ("429", "503"):
                headers.setdefault("Retry-After", _header("Retry-After", required=code == "503"))
            if code == "401":
                headers.setdefault("WWW-Authenticate", _header("WWW-Authenticate"))

    def _describe_path_parameters(self, operation: dict[str, Any]) -> None:
        queryset = getattr(self.view, "queryset", None)
        model = getattr(queryset, "model", None)
        noun = _verbose_name(model) if model is not None else "object"
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and not parameter.get("description"):
                parameter["description"] = f"The {noun}'s id (its `id` field)."


def always_sent(serializer: serializers.BaseSerializer, field: serializers.Field) -> bool:
    """Does `serializer` always send `field` in a response? DRF leaves a field out only when its source
    has no such attribute or key and the field is optional without a default and not nullable: a model
    instance has every attribute, and a declared default or `allow_null` fills the gap."""
    if field.write_only:
        return False
    if isinstance(serializer, ErrorSerializer):
        return field.required  # an envelope the error handler builds, key by key: only what it always sets
    if isinstance(serializer, serializers.ModelSerializer):
        return True
    return bool(field.required or field.read_only or field.default is not empty or field.allow_null)


# --------------------------------------------------------------------------- embedded documents

SCHEMA_ONLY_KEYWORDS = ("title", "$schema", "$id")


def _component_name(title: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[\s_-]+", title) if word)


class EmbeddedDocuments:
    """Turns the JSON Schema of an embedded document into OpenAPI 3.0 with named components.

    Every object with a `title` and `properties` (or typed `additionalProperties`) becomes the
    component of that name: on input, its
    `required` fields are required; in a response every field that is required or has a default is
    (the services store the defaults). Where both are the same, one component serves both
    directions; otherwise the input one is `<Name>Request`."""

    def __init__(self, auto_schema: openapi.AutoSchema) -> None:
        self.registry = auto_schema.registry

    def convert(self, schema: Any, direction: str) -> Any:
        if isinstance(schema, list):
            return [self.convert(item, direction) for item in schema]
        if not isinstance(schema, dict):
            return schema
        shaped = schema.get("properties") or isinstance(schema.get("additionalProperties"), dict)
        if schema.get("type") == "object" and shaped and schema.get("title"):
            return self._component(schema, direction)
        out = {}
        for key, value in schema.items():
            if key in SCHEMA_ONLY_KEYWORDS:
                continue
            if key == "properties":
                out[key] = {name: self.convert(prop, direction) for name, prop in value.items()}
            elif key in ("items", "additionalProperties", "allOf", "anyOf", "oneOf", "not"):
                out[key] = self.convert(value, direction)
            else:
                out[key] = copy.deepcopy(value)
        return out

    def _shape(self, schema: dict[str, Any], direction: str) -> dict[str, Any]:
        shape = self.convert({k: v for k, v in schema.items() if k != "title"}, direction)
        if direction == "response" and "properties" in schema:
            required = set(schema.get("required", []))
            shape["required"] = [
                name for name, prop in schema["properties"].items() if name in required or "default" in prop
            ]
        return shape

    def _component(self, schema: dict[str, Any], direction: str) -> dict[str, str]:
        name = _component_name(schema["title"])
        response, request = self._shape(schema, "response"), self._shape(schema, "request")
        shape = response if direction == "response" else request
        if direction == "request" and request != response:
            name += "Request"
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=shape, object=name)
        if component.key in self.registry._components:
            registered = self.registry[component.key].schema
            if registered != shape:
                raise ValueError(f"Two embedded documents are both called {name!r} but differ: rename one.")
        else:
            self.registry.register(component)
        return component.ref


class EmbeddedDocumentFieldExtension(OpenApiSerializerFieldExtension):
    """An `EmbeddedDocumentField`: its JSON Schema, with named components for the objects in it."""

    target_class = EmbeddedDocumentField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = self.target.openapi_schema()
        if schema is None:
            return build_basic_type(OpenApiTypes.ANY)
        if self.target.read_only:
            direction = "response"  # never in a request body: no `<Name>Request` component for it
        return EmbeddedDocuments(auto_schema).convert(schema, direction)


# --------------------------------------------------------------------------- documents (CRUD)


def document_schema_view(
    *,
    example: dict[str, Any],
    create: dict[str, Any],
    change: tuple[str, dict[str, Any]],
    invalid: tuple[str, dict[str, list[str]]],
    protected: ApplicationError,
    forbidden: OpenApiResponse | None = None,
    list_description: str = "",
) -> Callable[[type[ViewSetT]], type[ViewSetT]]:
    """Document the CRUD operations of a `DocumentViewSet` (its `queryset` model, `serializer_class`
    and `update_serializer_class`): ids, revisions, `ETag`/`If-Match`, `Idempotency-Key`, errors.

    - `example`: a document as the API returns it (with `id` and `revision`);
    - `create`: a create request; `change`: (name, a PATCH request);
    - `invalid`: (name, `errors`) of a 400; `protected`: the 409 of a refused delete;
    - `forbidden`: the 403 of a write by someone without the role; by default the one of
      `services.manage` (see `role_required_response`).
    """
    pk, revision = example["id"], example["revision"]
    updated = {**example, "revision": revision + 1}
    change_name, change_request = change

    def decorate(viewset: type[ViewSetT]) -> type[ViewSetT]:
        manage = viewset.services.manage
        if forbidden is None and not manage:
            raise TypeError(f"{viewset.__name__}: say who may write (`services.manage` or `forbidden`).")
        refused = forbidden or role_required_response(manage)
        model, serializer = viewset.queryset.model, viewset.serializer_class
        update_serializer = viewset.update_serializer_class or serializer
        name, plural = _verbose_name(model), str(model._meta.verbose_name_plural)
        about = inspect.getdoc(viewset) or ""
        not_found = not_found_response(model)
        if_match = if_match_parameter(model, pk, revision)
        precondition_failed = precondition_failed_response(model, pk, revision + 1)
        stale = error_response(
            f"The {name} changed since `revision` was read; nothing was changed.",
            ("Stale revision", stale_revision(model, pk, revision + 1)),
        )
        write_errors = {
            400: invalid_response(*invalid),
            403: refused,
            404: not_found,
            409: stale,
            412: precondition_failed,
        }

        def write(summary: str, request: OpenApiExample, response: dict[str, Any]):
            return extend_schema(
                summary=summary,
                description=f"{about}\n\n`revision` or `If-Match` makes the write conditional. {refused.description}",
                parameters=[if_match],
                request=update_serializer,
                responses={
                    200: OpenApiResponse(serializer, description=f"The {name} as changed; `ETag` is its new revision."),
                    **write_errors,
                },
                examples=[request, OpenApiExample("Updated", value=response, response_only=True)],
            )

        writable = [field for field, spec in update_serializer().fields.items() if not spec.read_only]
        replace = {key: example[key] for key in writable if key in example}
        return extend_schema_view(
            list=extend_schema(
                summary=f"List {plural}",
                description=list_description or about,
                responses={200: OpenApiResponse(serializer(many=True), description=f"A page of {plural}.")},
                examples=[OpenApiExample(capfirst(plural), value=example, response_only=True)],
            ),
            retrieve=extend_schema(
                summary=f"Get {_a(name)}",
                responses={
                    200: OpenApiResponse(serializer, description=f"The {name}; `ETag` is its revision."),
                    404: not_found,
                },
                examples=[OpenApiExample(str(example.get("name", pk)), value=example, response_only=True)],
            ),
            create=extend_schema(
                summary=f"Create {_a(name)}",
                description=f"{about}\n\n`id` defaults to the slug of `name`. {refused.description}",
                parameters=[IDEMPOTENCY_KEY],
                responses={
                    201: OpenApiResponse(serializer, description=f"The new {name}; `Location` is its URL."),
                    400: write_errors[400],
                    403: refused,
                },
                examples=[
                    OpenApiExample(f"New {create['name']}", value=create, request_only=True),
                    OpenApiExample(
                        "Created",
                        value={**example, "description": "", **create, "id": slugify(create["name"]), "revision": 1},
                        response_only=True,
                        status_codes=["201"],
                    ),
                ],
            ),
            update=write(
                f"Replace {_a(name)}'s editable fields",
                OpenApiExample("Replace", value=replace, request_only=True),
                updated,
            ),
            partial_update=write(
                f"Change some of {_a(name)}'s fields",
                OpenApiExample(change_name, value=change_request, request_only=True),
                {**updated, **change_request, "revision": updated["revision"]},
            ),
            destroy=extend_schema(
                summary=f"Delete {_a(name)}",
                description=f"{about}\n\nRefused (409 `protected`) while something refers to the {name}. "
                f"{refused.description}",
                parameters=[if_match],
                responses={
                    204: OpenApiResponse(None, description=f"The {name} is deleted."),
                    403: refused,
                    404: not_found,
                    409: error_response(
                        f"Something still refers to the {name}, or it changed meanwhile.",
                        ("Protected", protected),
                        ("Stale revision", stale_revision(model, pk, revision + 1)),
                    ),
                    412: precondition_failed,
                },
            ),
        )(viewset)

    return decorate
