"""Writes on workflows: create, update, delete (each one write + one audit event)."""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.text import slugify

from audit.services import audit_record, field_changes, jsonable, now_ms
from environments.models import Environment
from opsportal.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from releases.models import Release
from workflows.models import Workflow

EDITABLE_FIELDS = ("name", "description", "active", "stages", "triggers")


def _check_manage_permission(actor: Any) -> None:
    """Who may create, change and delete workflows.

    For now any active signed-in user; the access-control issue narrows it to release
    managers and administrators (this is the one place to change).
    """
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        raise Forbidden("You do not have permission to manage workflows.")


def _stage_errors(stages: Any) -> list[str]:
    """Every stage names an existing environment, and no environment twice."""
    if not isinstance(stages, list):
        return []
    named = [
        (index, stage["environment"])
        for index, stage in enumerate(stages)
        if isinstance(stage, dict) and isinstance(stage.get("environment"), str)
    ]
    existing = set(Environment.objects.filter(pk__in={env for _, env in named}).values_list("pk", flat=True))
    errors: list[str] = []
    first_index: dict[str, int] = {}
    for index, environment in named:
        if environment not in existing:
            errors.append(f"stages[{index}].environment: environment {environment!r} does not exist.")
        elif (first := first_index.setdefault(environment, index)) != index:
            errors.append(f"stages[{index}].environment: environment {environment!r} is already stages[{first}].")
    return errors


def _validate(candidate: Workflow) -> None:
    """Schema, field and cross-object rules on the workflow as it would be saved.

    Stages get the schema's default (`requires_approval` = false) so every stage has one shape.
    """
    errors: dict[str, list[str]] = {}
    if isinstance(candidate.stages, list):
        candidate.stages = [
            {"requires_approval": False, **stage} if isinstance(stage, dict) else stage for stage in candidate.stages
        ]
    if isinstance(candidate.triggers, list):
        candidate.triggers = [
            {"params": {}, **trigger} if isinstance(trigger, dict) else trigger for trigger in candidate.triggers
        ]
    try:
        candidate.full_clean()
    except ValidationError as exc:
        errors = {field: list(messages) for field, messages in exc.message_dict.items()}
    if "stages" not in errors:  # existence checks only make sense on well-formed stages
        stage_errors = _stage_errors(candidate.stages)
        if stage_errors:
            errors["stages"] = stage_errors
    if errors:
        raise ValidationFailed(errors)


def _snapshot(workflow: Workflow) -> dict[str, Any]:
    return jsonable({field: getattr(workflow, field) for field in EDITABLE_FIELDS})


def workflow_create(*, actor: Any, data: dict[str, Any]) -> Workflow:
    """Create a workflow; its id defaults to the slug of its name."""
    _check_manage_permission(actor)
    fields = {key: value for key, value in data.items() if key in EDITABLE_FIELDS}
    workflow = Workflow(id=data.get("id") or slugify(fields.get("name", ""))[:64], **fields)
    _validate(workflow)
    workflow.revision = 1
    try:
        with transaction.atomic():  # a savepoint only, so SQLite stays usable after a collision
            workflow.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent create took the id or the name
        raise ValidationFailed({"id": [f"A workflow with id {workflow.id!r} or this name exists."]}) from exc
    audit_record(
        actor=actor.get_username(),
        action="workflow.created",
        object_type="workflow",
        object_id=workflow.pk,
        changes=field_changes({}, _snapshot(workflow)),
    )
    return workflow


def workflow_update(
    *, workflow: Workflow, actor: Any, data: dict[str, Any], expected_revision: int | None = None
) -> Workflow:
    """Change a workflow's editable fields (stages and triggers are replaced whole), conditionally on its revision.

    Two ways to say which revision the client read: `expected_revision` (from `If-Match`;
    differing → 412) and `data["revision"]` (from the body or an admin form; differing → 409
    `stale_revision`). Without either, the revision of the object passed in is used, so a
    concurrent change between the read and this write is still refused (409).
    """
    _check_manage_permission(actor)
    if expected_revision is not None and expected_revision != workflow.revision:
        raise PreconditionFailed(
            f"Workflow {workflow.pk!r} is at revision {workflow.revision}, not {expected_revision}.",
            revision=workflow.revision,
        )
    expected = data.get("revision") or workflow.revision
    if expected != workflow.revision:
        raise Conflict(
            f"Workflow {workflow.pk!r} has changed (revision {workflow.revision}); reload and retry.",
            code="stale_revision",
            revision=workflow.revision,
        )
    candidate = copy.copy(workflow)
    for key, value in data.items():
        if key in EDITABLE_FIELDS:
            setattr(candidate, key, value)
    _validate(candidate)
    changes = field_changes(_snapshot(workflow), _snapshot(candidate))
    if not changes:
        return workflow
    updated_at = now_ms()
    values = {field: getattr(candidate, field) for field in changes}
    if not Workflow.objects.filter(pk=workflow.pk, revision=expected).update(
        **values, revision=expected + 1, updated_at=updated_at
    ):
        current = Workflow.objects.filter(pk=workflow.pk).values_list("revision", flat=True).first()
        if current is None:
            raise NotFound(f"Workflow {workflow.pk!r} no longer exists.")
        if expected_revision is not None:
            raise PreconditionFailed(
                f"Workflow {workflow.pk!r} is at revision {current}, not {expected_revision}.", revision=current
            )
        raise Conflict(
            f"Workflow {workflow.pk!r} has changed (revision {current}); reload and retry.",
            code="stale_revision",
            revision=current,
        )
    candidate.revision, candidate.updated_at = expected + 1, updated_at
    audit_record(
        actor=actor.get_username(),
        action="workflow.updated",
        object_type="workflow",
        object_id=workflow.pk,
        changes=changes,
    )
    return candidate


def workflow_delete(*, workflow: Workflow, actor: Any) -> None:
    """Delete a workflow no release follows (else 409; deactivate it instead)."""
    _check_manage_permission(actor)
    workflow_id, snapshot = workflow.pk, _snapshot(workflow)
    releases = Release.objects.filter(workflow=workflow_id).count()
    try:
        if not releases:
            workflow.delete()
    except ProtectedError as exc:  # a release was created after the check
        releases = len(exc.protected_objects)
    if releases:
        raise Conflict(
            f"Workflow {workflow_id!r} cannot be deleted: {releases} release(s) follow it; set active=false instead.",
            code="protected",
            references={"releases": releases},
        )
    audit_record(
        actor=actor.get_username(),
        action="workflow.deleted",
        object_type="workflow",
        object_id=workflow_id,
        changes={field: [value, None] for field, value in snapshot.items()},
    )
