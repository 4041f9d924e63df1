"""Writes on environments: create, update, delete (each one write + one audit event).

Managing environments is for Release Managers (and superusers); the generic write, revision and
audit logic is `opsportal.documents`; the rules here are the environment's own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from environments.models import Environment
from environments.selectors import parse_freeze_moment
from opsportal.documents import (
    DocumentKind,
    document_create,
    document_delete,
    document_update,
    editable_fields,
    model_errors,
)
from opsportal.errors import ValidationFailed
from opsportal.roles import require_release_manager
from releases.models import Deployment
from workflows.models import Workflow

# `current_release`, `current_deployment`, `deployment_seq` belong to the deployment services.
DERIVED_FIELDS = ("current_release", "current_deployment", "deployment_seq")
# What a client may set.
EDITABLE_FIELDS = editable_fields(Environment, exclude=DERIVED_FIELDS)
MANAGE = "manage environments"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _clean_freeze_windows(windows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Windows with bounds normalized to UTC `…Z`, and the messages of the invalid ones."""
    cleaned: list[dict[str, Any]] = []
    errors: list[str] = []
    for index, window in enumerate(windows):
        path = f"freeze_windows[{index}]"
        starts = parse_freeze_moment(window.get("starts_at"))
        ends = parse_freeze_moment(window.get("ends_at"))
        for key, moment in (("starts_at", starts), ("ends_at", ends)):
            if moment is None:
                errors.append(
                    f"{path}.{key}: must be an ISO 8601 date-time with a time zone, e.g. 2026-12-20T00:00:00Z."
                )
        if starts and ends and ends <= starts:
            errors.append(f"{path}.ends_at: must be after starts_at ({_iso(starts)}).")
        if starts and ends:
            cleaned.append({"reason": "", **window, "starts_at": _iso(starts), "ends_at": _iso(ends)})
    return cleaned, errors


def _validate(candidate: Environment) -> None:
    """Schema, field and cross-field rules on the environment as it would be saved."""
    errors: dict[str, list[str]] = {}
    if isinstance(candidate.freeze_windows, list) and all(isinstance(w, dict) for w in candidate.freeze_windows):
        windows, window_errors = _clean_freeze_windows(candidate.freeze_windows)
        if window_errors:
            errors["freeze_windows"] = window_errors
        else:
            candidate.freeze_windows = windows
    if candidate.requires_approval and not candidate.min_approvals:
        errors["min_approvals"] = ["must be at least 1 when requires_approval is set."]
    errors = model_errors(candidate, errors, exclude=DERIVED_FIELDS)
    if errors:
        raise ValidationFailed(errors)


ENVIRONMENTS = DocumentKind(Environment, EDITABLE_FIELDS, _validate)


def environment_create(*, actor: Any, data: dict[str, Any]) -> Environment:
    """Create an environment; its id defaults to the slug of its name."""
    require_release_manager(actor, what=MANAGE)
    return document_create(ENVIRONMENTS, actor=actor, data=data)


def environment_update(
    *, environment: Environment, actor: Any, data: dict[str, Any], expected_revision: int | None = None
) -> Environment:
    """Change an environment's editable fields, conditionally on its revision (see `document_update`)."""
    require_release_manager(actor, what=MANAGE)
    return document_update(
        ENVIRONMENTS, document=environment, actor=actor, data=data, expected_revision=expected_revision
    )


def _delete_blockers(environment: Environment) -> dict[str, Any]:
    """What still refers to the environment, by kind (empty when it may go)."""
    blockers: dict[str, Any] = {}
    deployments = Deployment.objects.filter(environment=environment.pk).count()
    if deployments:
        blockers["deployments"] = deployments
    if environment.current_release_id:
        blockers["current_release"] = environment.current_release_id
    # Stages are embedded documents and workflows are few: read them whole rather than
    # rely on a JSON containment lookup SQLite lacks.
    workflows = [
        workflow_id
        for workflow_id, stages in Workflow.objects.values_list("id", "stages")
        if any(isinstance(stage, dict) and stage.get("environment") == environment.pk for stage in stages or [])
    ]
    if workflows:
        blockers["workflows"] = workflows
    return blockers


def _describe_blockers(blockers: dict[str, Any]) -> str:
    parts = []
    if "deployments" in blockers:
        parts.append(f"{blockers['deployments']} deployment(s) refer to it")
    if "current_release" in blockers:
        parts.append(f"release {blockers['current_release']!r} is deployed there")
    if "workflows" in blockers:
        parts.append(f"workflow(s) {', '.join(blockers['workflows'])} have a stage there")
    return "; ".join(parts)


def environment_delete(*, environment: Environment, actor: Any) -> None:
    """Delete an environment nothing refers to: no deployments, no current release, in no workflow (else 409)."""
    require_release_manager(actor, what=MANAGE)
    document_delete(
        ENVIRONMENTS, document=environment, actor=actor, references=_delete_blockers, describe=_describe_blockers
    )
