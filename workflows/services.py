"""Writes on workflows: create, update, delete (each one write + one audit event, through
`opsportal.documents`). Only Release Managers (and superusers) manage workflows; a workflow that
releases follow is deactivated (`active=false`) rather than deleted.
"""

from __future__ import annotations

from typing import Any

from environments.models import Environment
from opsportal.documents import DocumentKind, DocumentServices, Errors, editable_fields, model_errors, with_defaults
from workflows.models import Workflow

EDITABLE_FIELDS = editable_fields(Workflow)


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


def _validate(candidate: Workflow) -> Errors:
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
    return errors


# A followed workflow is deactivated rather than deleted, so past releases keep their path.
WORKFLOWS = DocumentKind(
    Workflow,
    EDITABLE_FIELDS,
    _validate,
    describe="{releases} release(s) follow it; set active=false instead",
    manage="manage workflows",
    refers_to=lambda workflow: {
        Environment: [stage.get("environment") for stage in workflow.stages or [] if isinstance(stage, dict)]
    },
)


def workflow_create(*, actor: Any, data: dict[str, Any]) -> Workflow:
    """Create a workflow; its id defaults to the slug of its name. Every stage must name an
    existing environment, each environment at most once."""
    return WORKFLOWS.create(actor=actor, data=data)


def workflow_update(
    *, workflow: Workflow, actor: Any, data: dict[str, Any], expected_revision: int | None = None
) -> Workflow:
    """Change a workflow's editable fields (stages and triggers are replaced whole), conditionally on its revision.

    The new stage order applies from the next deploy of each release that follows the workflow.
    """
    return WORKFLOWS.update(document=workflow, actor=actor, data=data, expected_revision=expected_revision)


def workflow_delete(*, workflow: Workflow, actor: Any) -> None:
    """Delete a workflow no release follows (else 409; deactivate it instead)."""
    WORKFLOWS.delete(document=workflow, actor=actor)


SERVICES = DocumentServices(workflow_create, workflow_update, workflow_delete, manage=WORKFLOWS.manage)
