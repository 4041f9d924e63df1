"""Writes on revisioned documents (environments, teams, workflows): create, conditional update,
delete — each one write plus one audit event (DESIGN §3, STYLE "Where logic lives").

An app's services keep their names, signatures and rules; what is the same for every document
lives here. A `DocumentKind` names the model, the fields a client may set, the app's validation,
what blocks a delete and who may write (`manage`: Release Managers and superusers); then

- `kind.create` inserts (the id defaults to the slug of the name) and audits `<type>.created`;
- `kind.update` applies `data` to a copy, validates it, writes only what changed in one update
  conditional on the revision, and audits `<type>.updated` with field → [old, new];
- `kind.delete` refuses (409 `protected`) while something refers to the document, deletes
  conditionally on the revision and on `reference_seq` (which every unit that writes a reference
  raises, `touch_references`), and audits `<type>.deleted`;
- `refused_write` says why a conditional write matched nothing (404, 412 or 409 `stale_revision`),
  also for services that write with conditions of their own (e.g. a status).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, ProtectedError
from django.utils.text import capfirst, slugify

from audit.actions import AuditAction
from audit.services import audit_record, field_changes, jsonable, now_ms
from opsportal.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from opsportal.roles import require_release_manager
from opsportal.uow import unit_of_work

DocumentT = TypeVar("DocumentT", bound=models.Model)
Errors = dict[str, list[str]]


def editable_fields(model: type[models.Model], *, exclude: Iterable[str] = ()) -> tuple[str, ...]:
    """What a client may set, in the model's order: every editable stored field but the id,
    `revision` and `exclude` (fields other services maintain)."""
    skip = {"revision", *exclude}
    return tuple(
        field.name
        for field in model._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in skip
    )


def model_errors(candidate: models.Model, errors: Errors | None = None, *, exclude: Iterable[str] = ()) -> Errors:
    """`errors` followed by the model's own verdict (field constraints, uniqueness, JSON Schemas)."""
    merged = {field: list(messages) for field, messages in (errors or {}).items() if messages}
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


def protected_references(model: type[models.Model], pk: Any) -> dict[str, int]:
    """What the database would refuse to delete the document for: for every relation that protects
    it (`on_delete=PROTECT`), how many objects refer to it, by accessor (e.g. `{"releases": 2}`)."""
    found: dict[str, int] = {}
    for relation in model._meta.related_objects:
        if relation.on_delete is models.PROTECT:
            count = relation.related_model._default_manager.filter(**{relation.field.name: pk}).count()
            if count:
                found[relation.get_accessor_name()] = count
    return found


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


def _protected_objects(error: ProtectedError) -> dict[str, int]:
    counts: dict[str, int] = {}
    for obj in error.protected_objects:
        name = str(obj._meta.verbose_name_plural)
        counts[name] = counts.get(name, 0) + 1
    return counts


def touch_references(model: type[models.Model], ids: Iterable[Any]) -> int:
    """Inside a unit of work that writes a reference to these documents: +1 on their `reference_seq`,
    so that a concurrent delete of one of them (conditional on it) cannot also commit (DESIGN §3).
    Returns how many of them were there."""
    wanted = {pk for pk in ids if pk}
    if not wanted:
        return 0
    return model.objects.filter(pk__in=wanted).update(reference_seq=F("reference_seq") + 1)


@dataclass(frozen=True)
class DocumentKind(Generic[DocumentT]):
    """One kind of document and its own rules:

    - `editable`: the fields a client may set (see `editable_fields`);
    - `validate(candidate)`: normalizes the candidate in place and returns field → messages
      (empty when it may be saved; `model_errors` gives the model's own verdict);
    - `describe`: why references block a delete, e.g. `"{releases} release(s) belong to it"`
      (formatted with the references) or a function of them;
    - `references(document)`: what else refers to it (e.g. embedded ids), on top of the
      relations that protect it (`protected_references`);
    - `manage`: the act (e.g. "manage teams") that creating, changing and deleting need the
      Release Managers role for (`require_release_manager`); None: the caller checks;
    - `derived`: stored fields `validate` sets from the editable ones, written with every change.
    """

    model: type[DocumentT]
    editable: tuple[str, ...]
    validate: Callable[[DocumentT], Errors]
    describe: str | Callable[[dict[str, Any]], str]
    references: Callable[[DocumentT], dict[str, Any]] | None = None
    manage: str | None = None
    # The documents this one refers to (model → ids), touched on every write (`touch_references`).
    refers_to: Callable[[DocumentT], dict[type[models.Model], Iterable[Any]]] | None = None
    # Stored fields `validate` derives from the editable ones (e.g. an environment's `requires_approval`
    # from its approval policy): written with every change.
    derived: tuple[str, ...] = ()

    @property
    def object_type(self) -> str:
        """`environment`: the audit trail's object type and the prefix of its actions."""
        return self.model._meta.model_name

    def snapshot(self, document: DocumentT) -> dict[str, Any]:
        return jsonable({field: getattr(document, field) for field in self.editable})

    def _allow(self, actor: Any) -> None:
        if self.manage:
            require_release_manager(actor, what=self.manage)

    def _check(self, candidate: DocumentT) -> None:
        errors = self.validate(candidate)
        if errors:
            raise ValidationFailed(errors)

    def _audit(self, document_id: Any, *, actor: Any, action: str, changes: dict[str, Any]) -> None:
        audit_record(
            actor=actor.get_username(),
            action=AuditAction(f"{self.object_type}.{action}"),
            object_type=self.object_type,
            object_id=document_id,
            changes=changes,
        )

    def _touch(self, document: DocumentT) -> None:
        for model, ids in (self.refers_to(document) if self.refers_to else {}).items():
            touch_references(model, ids)

    def blockers(self, document: DocumentT) -> dict[str, Any]:
        """Everything that refers to the document, by kind (empty when it may be deleted)."""
        found: dict[str, Any] = protected_references(self.model, document.pk)
        if self.references is not None:
            found.update(self.references(document))
        return found

    def refusal(self, pk: Any, references: dict[str, Any]) -> Conflict:
        """409 `protected`: the document cannot be deleted while `references` refer to it."""
        reason = self.describe.format(**references) if isinstance(self.describe, str) else self.describe(references)
        return Conflict(
            f"{document_label(self.model, pk)} cannot be deleted: {reason}.",
            code="protected",
            references=references,
        )

    @unit_of_work
    def create(self, *, actor: Any, data: dict[str, Any]) -> DocumentT:
        """Insert a document built from the editable fields in `data`; its id is `data["id"]` or the
        slug of its name. A taken id or name (also by a concurrent create) → 400 naming `id`."""
        self._allow(actor)
        fields = {key: value for key, value in data.items() if key in self.editable}
        id_length = self.model._meta.pk.max_length
        document = self.model(id=data.get("id") or slugify(fields.get("name", ""))[:id_length], **fields)
        self._check(document)
        document.revision = 1
        try:
            with transaction.atomic():  # a savepoint only, so SQLite stays usable after a collision
                document.save(force_insert=True)
        except IntegrityError as exc:  # a concurrent create took the id or the name
            name = self.model._meta.verbose_name
            article = "An" if name[:1] in "aeiou" else "A"
            raise ValidationFailed({"id": [f"{article} {name} with id {document.pk!r} or this name exists."]}) from exc
        self._touch(document)
        self._audit(document.pk, actor=actor, action="created", changes=field_changes({}, self.snapshot(document)))
        return document

    @unit_of_work
    def update(
        self, *, document: DocumentT, actor: Any, data: dict[str, Any], expected_revision: int | None = None
    ) -> DocumentT:
        """Change the editable fields in `data` (embedded lists are replaced whole), conditionally
        on the revision the client read; no change → no write.

        Two ways to say which revision that was: `expected_revision` (from `If-Match`; differing →
        412) and `data["revision"]` (from the body or an admin form; differing → 409
        `stale_revision`). Without either, the revision of `document` is used, so a concurrent
        change between the read and this write is still refused (409).
        """
        self._allow(actor)
        if expected_revision is not None and expected_revision != document.revision:
            raise _precondition_failed(self.model, document.pk, document.revision, expected_revision)
        expected = data.get("revision") or document.revision
        if expected != document.revision:
            raise stale_revision(self.model, document.pk, document.revision)
        candidate = copy.copy(document)
        for key, value in data.items():
            if key in self.editable:
                setattr(candidate, key, value)
        self._check(candidate)
        changes = field_changes(self.snapshot(document), self.snapshot(candidate))
        if not changes:
            return document
        values = {field: getattr(candidate, field) for field in (*changes, *self.derived)}
        updated_at = now_ms()
        if not self.model.objects.filter(pk=document.pk, revision=expected).update(
            **values, revision=expected + 1, updated_at=updated_at
        ):
            raise refused_write(self.model, document.pk, expected_revision)
        candidate.revision, candidate.updated_at = expected + 1, updated_at
        self._touch(candidate)
        self._audit(document.pk, actor=actor, action="updated", changes=changes)
        return candidate

    @unit_of_work
    def delete(self, *, document: DocumentT, actor: Any) -> None:
        """Delete a document nothing refers to (else 409 `protected`), conditionally on its revision.
        A reference that lands between the check and the delete is caught by the database (PROTECT)."""
        self._allow(actor)
        reference_seq = self.model.objects.filter(pk=document.pk).values_list("reference_seq", flat=True).first()
        found = self.blockers(document)
        if not found:
            snapshot = self.snapshot(document)
            try:
                deleted, _ = self.model.objects.filter(
                    pk=document.pk, revision=document.revision, reference_seq=reference_seq
                ).delete()
            except ProtectedError as exc:
                found = self.blockers(document) or _protected_objects(exc)
            else:
                if not deleted:
                    raise refused_write(self.model, document.pk)
        if found:
            raise self.refusal(document.pk, found)
        changes = {field: [value, None] for field, value in snapshot.items()}
        self._audit(document.pk, actor=actor, action="deleted", changes=changes)


class DocumentServices(NamedTuple):
    """An app's write services, as views and tests find them: `create(*, actor, data)`,
    `update(*, <model_name>, actor, data, expected_revision)`, `delete(*, <model_name>, actor)`
    (e.g. `team_create`, `team_update`, `team_delete`), and `manage`, the act they need the Release
    Managers role for (e.g. "manage teams"; None where the services check other rules)."""

    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., Any]
    manage: str | None = None
