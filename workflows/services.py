"""Writes on workflows: create, update, delete (each one write + one audit event).

Managing workflows is for Release Managers (and superusers); the generic write, revision and
audit logic is `opsportal.documents`; the rules here are the workflow's own.
"""

from __future__ import annotations

from typing import Any

from environments.models import Environment
from opsportal.documents import (
    DocumentKind,
    document_create,
    document_delete,
    document_update,
    editable_fields,
    model_errors,
    with_defaults,
)
from opsportal.errors import ValidationFailed
from opsportal.roles import require_release_manager
from releases.models import Release
from workflows.models import Workflow

EDITABLE_FIELDS = editable_fields(Workflow)
MANAGE = "manage workflows"


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

    Stages and triggers get the schema's defaults (`requires_approval` = false, `params` = {})
    so every item has one shape.
    """
    candidate.stages = with_defaults(candidate.stages, {"requires_approval": False})
    candidate.triggers = with_defaults(candidate.triggers, {"params": {}})
    errors = model_errors(candidate)
    if "stages" not in errors:  # existence checks only make sense on well-formed stages
        stage_errors = _stage_errors(candidate.stages)
        if stage_errors:
            errors["stages"] = stage_errors
    if errors:
        raise ValidationFailed(errors)


WORKFLOWS = DocumentKind(Workflow, EDITABLE_FIELDS, _validate)


def workflow_create(*, actor: Any, data: dict[str, Any]) -> Workflow:
    """Create a workflow; its id defaults to the slug of its name."""
    require_release_manager(actor, what=MANAGE)
    return document_create(WORKFLOWS, actor=actor, data=data)


def workflow_update(
    *, workflow: Workflow, actor: Any, data: dict[str, Any], expected_revision: int | None = None
) -> Workflow:
    """Change a workflow's editable fields (stages and triggers are replaced whole), conditionally on its revision."""
    require_release_manager(actor, what=MANAGE)
    return document_update(WORKFLOWS, document=workflow, actor=actor, data=data, expected_revision=expected_revision)


def _followers(workflow: Workflow) -> dict[str, int]:
    count = Release.objects.filter(workflow=workflow.pk).count()
    return {"releases": count} if count else {}


def workflow_delete(*, workflow: Workflow, actor: Any) -> None:
    """Delete a workflow no release follows (else 409; deactivate it instead)."""
    require_release_manager(actor, what=MANAGE)
    document_delete(
        WORKFLOWS,
        document=workflow,
        actor=actor,
        references=_followers,
        describe=lambda found: f"{found['releases']} release(s) follow it; set active=false instead",
    )
