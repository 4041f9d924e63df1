"""OpenAPI pieces every endpoint shares: ONE error envelope component (`Error`), the standard
error responses, the `If-Match` / `Idempotency-Key` headers, and `document_schema_view` which
documents the CRUD operations of a `DocumentViewSet` from a few examples.

    @document_schema_view(example=TEAM_EXAMPLE, create=..., change=..., invalid=..., protected=...)
    class TeamViewSet(DocumentViewSet): ...

A custom action declares its errors with the same builders:

    @extend_schema(responses={200: StatusSerializer, 404: not_found_response(Environment)})

An app's own envelope (e.g. a release's `status`, `allowed_actions`) subclasses `ErrorSerializer`,
adding those keys; it stays open to other context keys.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models
from django.utils.text import capfirst, slugify
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers

from opsportal.api.mixins import IDEMPOTENCY_HEADER, etag_mismatch, revision_etag
from opsportal.documents import stale_revision
from opsportal.errors import ApplicationError, NotFound, ValidationFailed
from opsportal.roles import release_manager_required

ViewSetT = TypeVar("ViewSetT")


class ErrorSerializer(serializers.Serializer):
    """The error envelope of every refused request (rendered by `opsportal.api.exceptions`).

    Besides `code`, `detail` and `errors`, a refusal may carry context keys, e.g. `revision`
    (409 `stale_revision`, 412), `etag` (412), `references` (409 `protected`), `required_role`
    (403 `role_required`), `status` and `allowed_actions` (409 on a release).
    """

    code = serializers.CharField(
        help_text="Stable machine code, e.g. `invalid`, `not_found`, `role_required`, `stale_revision`, `protected`."
    )
    detail = serializers.CharField(help_text="What was refused and why, for people.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="400 only: field → messages; a message names the nested path, e.g. `members[1].email: …`.",
    )


class ErrorSerializerExtension(OpenApiSerializerExtension):
    """The envelope is open: context keys (see `ErrorSerializer`) come on top of the declared ones.
    Subclasses (an app's envelope declaring its own context keys) stay open too."""

    target_class = ErrorSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": True}


def _verbose_name(model: type[models.Model]) -> str:
    return str(model._meta.verbose_name)


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def error_response(description: str, *examples: tuple[str, ApplicationError]) -> OpenApiResponse:
    """A response with the error envelope; each example is (name, the exception a service raises)."""
    return OpenApiResponse(
        ErrorSerializer,
        description=description,
        examples=[
            OpenApiExample(name, value={"code": error.code, "detail": error.message, **error.extra})
            for name, error in examples
        ],
    )


def invalid_response(example: str, errors: dict[str, list[str]]) -> OpenApiResponse:
    """400: `errors` maps each field to its messages."""
    return error_response(
        "Invalid input: the error envelope with `errors` (field → messages naming the nested path).",
        (example, ValidationFailed(errors)),
    )


def invalid_example(name: str, errors: dict[str, list[str]]) -> OpenApiExample:
    """A 400 response example: the error envelope with `errors` (field → messages)."""
    return OpenApiExample(
        name,
        value={"code": "invalid", "detail": "Invalid input.", "errors": errors},
        response_only=True,
        status_codes=["400"],
    )


def not_found_response(model: type[models.Model]) -> OpenApiResponse:
    """404 of a detail route."""
    return error_response(
        f"No such {_verbose_name(model)}.",
        ("Not found", NotFound(f"No {model.__name__} matches the given query.")),
    )


def role_required_response(what: str) -> OpenApiResponse:
    """403 of a write only Release Managers (and superusers) may make; `what` as for `require_release_manager`."""
    return error_response("Needs the Release Managers role.", ("Role required", release_manager_required(what)))


def precondition_failed_response(model: type[models.Model], pk: str, revision: int) -> OpenApiResponse:
    """412: the `If-Match` header is not the current `ETag` (the example's object is at `revision`)."""
    return error_response(
        "`If-Match` does not match the current `ETag`.",
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
    description="Makes the request safe to retry: the same key within 24 hours returns the first response.",
)


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
        write_errors = {
            400: invalid_response(*invalid),
            403: refused,
            404: not_found,
            409: error_response(
                f"The {name} changed since `revision` was read.",
                ("Stale revision", stale_revision(model, pk, revision + 1)),
            ),
            412: precondition_failed,
        }

        def write(summary: str, request: OpenApiExample, response: dict[str, Any]):
            return extend_schema(
                summary=summary,
                description=f"{about}\n\n`revision` or `If-Match` makes the write conditional. {refused.description}",
                parameters=[if_match],
                request=update_serializer,
                responses={200: serializer, **write_errors},
                examples=[request, OpenApiExample("Updated", value=response, response_only=True)],
            )

        writable = [field for field, spec in update_serializer().fields.items() if not spec.read_only]
        replace = {key: example[key] for key in writable if key in example}
        return extend_schema_view(
            list=extend_schema(
                summary=f"List {plural}",
                description=list_description or about,
                examples=[OpenApiExample(capfirst(plural), value=[example], response_only=True)],
            ),
            retrieve=extend_schema(
                summary=f"Get {_a(name)}",
                responses={200: serializer, 404: not_found},
                examples=[OpenApiExample(str(example.get("name", pk)), value=example, response_only=True)],
            ),
            create=extend_schema(
                summary=f"Create {_a(name)}",
                description=f"{about}\n\n`id` defaults to the slug of `name`. {refused.description}",
                parameters=[IDEMPOTENCY_KEY],
                responses={201: serializer, 400: write_errors[400], 403: refused},
                examples=[
                    OpenApiExample(f"New {create['name']}", value=create, request_only=True),
                    OpenApiExample(
                        "Created",
                        value={**example, "description": "", **create, "id": slugify(create["name"]), "revision": 1},
                        response_only=True,
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
                    204: None,
                    403: refused,
                    404: not_found,
                    409: error_response(f"Something still refers to the {name}.", ("Protected", protected)),
                    412: precondition_failed,
                },
            ),
        )(viewset)

    return decorate
