"""Viewset mixins for safe retries and concurrent edits (ETag/If-Match, Idempotency-Key)."""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.request import Request
from rest_framework.response import Response

from opsportal.api.conditional import request_versions
from opsportal.api.renderers import dumps
from opsportal.errors import Conflict, PreconditionFailed, ValidationFailed
from opsportal.models import IdempotencyRecord
from opsportal.services import (
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
    request_fingerprint,
)
from opsportal.uow import run_in_unit

IDEMPOTENCY_HEADER = "Idempotency-Key"


def revision_etag(obj_id: str, revision: int, stamp: str = "") -> str:
    """`"<id>-<revision>"`, or `"<id>-<revision>~<stamp>"` when the representation also shows other
    collections (`stamp`: their versions, see `RevisionETagMixin.etag_collections`)."""
    return f'"{obj_id}-{revision}~{stamp}"' if stamp else f'"{obj_id}-{revision}"'


def _revision_part(tag: str) -> str:
    """The `"<id>-<revision>"` of an ETag, whatever stamp it carries (what `If-Match` compares)."""
    tag = tag.strip().removeprefix("W/")
    return tag.split("~", 1)[0] + '"' if "~" in tag else tag


def etag_mismatch(verbose_name: str, etag: str) -> PreconditionFailed:
    """The 412 of a write whose `If-Match` is not the object's current `ETag`."""
    return PreconditionFailed(
        f"The {verbose_name} changed since you read it (If-Match does not match the current ETag).", etag=etag
    )


class RevisionETagMixin:
    """Detail responses carry `ETag` from the object's `revision`; a write with a stale
    `If-Match` answers 412 and changes nothing. Views pass `self.expected_revision()` to the
    service, which makes the check part of its conditional update.

    A view whose objects also show other collections (a release shows its environments) names them in
    `etag_collections`: its ETag then ends in `~<their versions>`, so that it changes whenever what the
    response shows changes (conditional GET, issue #18). `If-Match` compares the revision part only: a
    write is conditional on the object itself."""

    etag_collections: tuple[str, ...] = ()

    def etag_stamp(self) -> str:
        """The versions of `etag_collections` (one query), as the ETag's suffix; "" without any."""
        if not self.etag_collections:
            return ""
        versions = request_versions(self.request, self.etag_collections)
        return ".".join(str(versions[name][0]) for name in self.etag_collections)

    def expected_revision(self, obj: Any) -> int | None:
        header = self.request.headers.get("If-Match")
        if not header or header.strip() == "*":
            return None
        current = revision_etag(obj.pk, obj.revision)
        candidates = [_revision_part(tag) for tag in header.split(",")]
        if current not in candidates:
            raise etag_mismatch(obj._meta.verbose_name, current)
        return obj.revision

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if isinstance(data, dict) and "revision" in data and "id" in data and response.status_code < 300:
            response["ETag"] = revision_etag(data["id"], data["revision"], self.etag_stamp())
        return response


class _Replay(Exception):
    """Carries a stored response out of `initial()` (control flow, not an error)."""

    def __init__(self, response: Response) -> None:
        self.response = response


class IdempotentPostMixin:
    """`POST` (create and actions) with an `Idempotency-Key`: the same key from the same user
    within 24 hours returns the first response without a second effect; the same key with a
    different body answers 422.

    The key is claimed under a lease (`opsportal.services.idempotency_claim`); the action then
    runs as one unit of work that also stores its response, so the change and the stored
    response commit together. A refusal (4xx) changes nothing and is stored on its own; a
    server error releases the claim so that a retry runs again.
    """

    _idempotency: IdempotencyRecord | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self._idempotency = None
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if request.method != "POST" or not key or not request.user.is_authenticated:
            return
        if len(key) > 255:
            raise ValidationFailed({IDEMPOTENCY_HEADER: ["At most 255 characters."]})
        user = request.user.get_username()
        fingerprint = request_fingerprint(method=request.method, path=request.path, body=request.data)
        record = idempotency_claim(user=user, key=key, fingerprint=fingerprint)
        if record.completed:
            replay = Response(record.body, status=record.status_code)
            if record.location:
                replay["Location"] = record.location
            replay["Idempotent-Replayed"] = "true"
            raise _Replay(replay)
        self._idempotency = record
        # DRF looks the handler up after `initial()`: run it as one unit with its stored response.
        handler = getattr(self, "post")  # noqa: B009 - the bound handler DRF is about to call
        self.post = self._with_stored_response(handler, record)

    def _with_stored_response(self, handler: Any, record: IdempotencyRecord) -> Any:
        def run(request: Request, *args: Any, **kwargs: Any) -> Response:
            def unit() -> Response:
                response = handler(request, *args, **kwargs)
                if response.status_code < 400:
                    data = getattr(response, "data", None)
                    idempotency_complete(
                        record=record,
                        status_code=response.status_code,
                        # As the client gets it: rows carry datetimes, which only the renderer writes as text.
                        body=orjson.loads(dumps(data)) if data is not None else None,
                        location=response.get("Location", ""),
                    )
                    self._idempotency = None
                return response

            return run_in_unit(unit)

        return run

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            return exc.response
        try:
            return super().handle_exception(exc)
        except Exception:
            # A server error (its unit rolled back): free the key at once, so a retry runs again.
            record, self._idempotency = self._idempotency, None
            if record is not None:
                idempotency_release(record=record)
            raise

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self._idempotency = self._idempotency, None
        if record is not None:
            # The action was refused (its unit rolled back) or failed: store the refusal, or let a retry run.
            try:
                if response.status_code >= 500:
                    idempotency_release(record=record)
                else:
                    data = getattr(response, "data", None)
                    idempotency_complete(
                        record=record,
                        status_code=response.status_code,
                        # As the client gets it: rows carry datetimes, which only the renderer writes as text.
                        body=orjson.loads(dumps(data)) if data is not None else None,
                        location=response.get("Location", ""),
                    )
            except Conflict:
                pass  # another request took the key over after our lease ran out: its answer stands
        return response
