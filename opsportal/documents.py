"""Writes on revisioned documents (environments, teams, workflows): create, conditional update,
delete — each one write plus one audit event (DESIGN §3, STYLE "Where logic lives").

An app's services keep their names, signatures, permission checks and rules; what is the same
for every document lives here. A `DocumentKind` names the model, the fields a client may set
and how a candidate is validated; then

- `document_create` inserts (the id defaults to the slug of the name) and audits `<type>.created`;
- `document_update` applies `data` to a copy, validates it, writes only what changed in one update
  conditional on the revision, and audits `<type>.updated` with field → [old, new];
- `document_delete` refuses (409 `protected`) while something refers to the document, deletes
  conditionally on the revision, and audits `<type>.deleted`;
- `refused_write` says why a conditional write matched nothing (404, 412 or 409 `stale_revision`),
  for services that write with extra conditions of their own (e.g. a status).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError
from django.utils.text import capfirst, slugify

from audit.services import audit_record, field_changes, jsonable, now_ms
from opsportal.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed

DocumentT = TypeVar("DocumentT", bound=models.Model)


def editable_fields(model: type[models.Model], *, exclude: Iterable[str] = ()) -> tuple[str, ...]:
    """What a client may set, in the model's order: every editable stored field but the id,
    `revision` and `exclude` (fields other services maintain)."""
    skip = {"revision", *exclude}
    return tuple(
        field.name
        for field in model._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in skip
    )


def model_errors(
    candidate: models.Model, errors: dict[str, list[str]] | None = None, *, exclude: Iterable[str] = ()
) -> dict[str, list[str]]:
    """`errors` followed by the model's own verdict (field constraints, uniqueness, JSON Schemas)."""
    merged = {field: list(messages) for field, messages in (errors or {}).items()}
    try:
        candidate.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            merged.setdefault(field, []).extend(messages)
    return merged


def with_defaults(items: Any, defaults: dict[str, Any]) -> Any:
    """Embedded objects given the schema's defaults, so every item has one shape (others untouched)."""
    if not isinstance(items, list):
        return items
    return [{**defaults, **item} if isinstance(item, dict) else item for item in items]


@dataclass(frozen=True)
class DocumentKind(Generic[DocumentT]):
    """One kind of document: its model, the fields a client may set, and its validation
    (`validate(candidate)` normalizes the candidate in place or raises `ValidationFailed`)."""

    model: type[DocumentT]
    editable: tuple[str, ...]
    validate: Callable[[DocumentT], None]

    @property
    def object_type(self) -> str:
        """`environment`: the audit trail's object type and the prefix of its actions."""
        return self.model._meta.model_name

    def snapshot(self, document: DocumentT) -> dict[str, Any]:
        return jsonable({field: getattr(document, field) for field in self.editable})

    def audit(self, document_id: Any, *, actor: Any, action: str, changes: dict[str, Any]) -> None:
        audit_record(
            actor=actor.get_username(),
            action=f"{self.object_type}.{action}",
            object_type=self.object_type,
            object_id=document_id,
            changes=changes,
        )


def document_label(model: type[models.Model], pk: Any) -> str:
    """`Environment 'production'`, as messages name a document."""
    return f"{capfirst(model._meta.verbose_name)} {pk!r}"


def stale_revision(model: type[models.Model], pk: Any, current: int) -> Conflict:
    """409 `stale_revision`: someone else changed the document since the client read it."""
    return Conflict(
        f"{document_label(model, pk)} has changed (revision {current}); reload and retry.",
        code="stale_revision",
        revision=current,
    )


def _precondition_failed(model: type[models.Model], pk: Any, current: int, expected: int) -> PreconditionFailed:
    return PreconditionFailed(
        f"{document_label(model, pk)} is at revision {current}, not {expected}.", revision=current
    )


def refused_write(model: type[models.Model], pk: Any, expected_revision: int | None = None) -> Exception:
    """Why a write conditional on the revision matched nothing: the document is gone (404), the
    client's `If-Match` revision is stale (412), or someone else wrote first (409 `stale_revision`)."""
    current = model.objects.filter(pk=pk).values_list("revision", flat=True).first()
    if current is None:
        return NotFound(f"{document_label(model, pk)} no longer exists.")
    if expected_revision is not None:
        return _precondition_failed(model, pk, current, expected_revision)
    return stale_revision(model, pk, current)


def document_create(kind: DocumentKind[DocumentT], *, actor: Any, data: dict[str, Any]) -> DocumentT:
    """Insert a document built from the editable fields in `data`; its id is `data["id"]` or the
    slug of its name. A taken id or name (also by a concurrent create) → 400 naming `id`."""
    fields = {key: value for key, value in data.items() if key in kind.editable}
    id_length = kind.model._meta.pk.max_length
    document = kind.model(id=data.get("id") or slugify(fields.get("name", ""))[:id_length], **fields)
    kind.validate(document)
    document.revision = 1
    try:
        with transaction.atomic():  # a savepoint only, so SQLite stays usable after a collision
            document.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent create took the id or the name
        verbose_name = kind.model._meta.verbose_name
        article = "An" if verbose_name[:1] in "aeiou" else "A"
        raise ValidationFailed(
            {"id": [f"{article} {verbose_name} with id {document.pk!r} or this name exists."]}
        ) from exc
    kind.audit(document.pk, actor=actor, action="created", changes=field_changes({}, kind.snapshot(document)))
    return document


def document_update(
    kind: DocumentKind[DocumentT],
    *,
    document: DocumentT,
    actor: Any,
    data: dict[str, Any],
    expected_revision: int | None = None,
) -> DocumentT:
    """Change the editable fields in `data` (embedded lists are replaced whole), conditionally on
    the revision the client read.

    Two ways to say which revision that was: `expected_revision` (from `If-Match`; differing →
    412) and `data["revision"]` (from the body or an admin form; differing → 409
    `stale_revision`). Without either, the revision of `document` is used, so a concurrent
    change between the read and this write is still refused (409). No change → no write.
    """
    if expected_revision is not None and expected_revision != document.revision:
        raise _precondition_failed(kind.model, document.pk, document.revision, expected_revision)
    expected = data.get("revision") or document.revision
    if expected != document.revision:
        raise stale_revision(kind.model, document.pk, document.revision)
    candidate = copy.copy(document)
    for key, value in data.items():
        if key in kind.editable:
            setattr(candidate, key, value)
    kind.validate(candidate)
    changes = field_changes(kind.snapshot(document), kind.snapshot(candidate))
    if not changes:
        return document
    values = {field: getattr(candidate, field) for field in changes}
    updated_at = now_ms()
    if not kind.model.objects.filter(pk=document.pk, revision=expected).update(
        **values, revision=expected + 1, updated_at=updated_at
    ):
        raise refused_write(kind.model, document.pk, expected_revision)
    candidate.revision, candidate.updated_at = expected + 1, updated_at
    kind.audit(document.pk, actor=actor, action="updated", changes=changes)
    return candidate


def _protected_references(error: ProtectedError) -> dict[str, int]:
    counts: dict[str, int] = {}
    for obj in error.protected_objects:
        name = str(obj._meta.verbose_name_plural)
        counts[name] = counts.get(name, 0) + 1
    return counts


def document_delete(
    kind: DocumentKind[DocumentT],
    *,
    document: DocumentT,
    actor: Any,
    references: Callable[[DocumentT], dict[str, Any]],
    describe: Callable[[dict[str, Any]], str],
) -> None:
    """Delete a document nothing refers to, conditionally on its revision.

    `references(document)` lists what still refers to it by kind (empty: it may go); while it is
    not empty → 409 `protected` with `references`, the message ending in `describe(references)`.
    A reference that lands between the check and the delete is caught by the database (PROTECT).
    """
    found = references(document)
    if not found:
        snapshot = kind.snapshot(document)
        try:
            deleted, _ = kind.model.objects.filter(pk=document.pk, revision=document.revision).delete()
        except ProtectedError as exc:
            found = references(document) or _protected_references(exc)
        else:
            if not deleted:
                raise refused_write(kind.model, document.pk)
    if found:
        raise Conflict(
            f"{document_label(kind.model, document.pk)} cannot be deleted: {describe(found)}.",
            code="protected",
            references=found,
        )
    kind.audit(
        document.pk, actor=actor, action="deleted", changes={field: [value, None] for field, value in snapshot.items()}
    )
