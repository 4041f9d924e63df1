"""Writes on environments: create, update, delete (each one write + one audit event)."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.text import slugify

from audit.services import audit_record, field_changes, jsonable, now_ms
from environments.models import Environment
from environments.selectors import parse_freeze_moment
from opsportal.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from releases.models import Deployment
from workflows.models import Workflow

# What a client may set; `current_release`, `current_deployment`, `deployment_seq` belong to
# the deployment services.
EDITABLE_FIELDS = (
    "name",
    "tier",
    "order",
    "url",
    "description",
    "config",
    "requires_approval",
    "min_approvals",
    "freeze_windows",
    "health",
)
DERIVED_FIELDS = ("current_release", "current_deployment", "deployment_seq")


def _check_manage_permission(actor: Any) -> None:
    """Who may create, change and delete environments.

    For now any active signed-in user; the access-control issue narrows it to release
    managers and administrators (this is the one place to change).
    """
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        raise Forbidden("You do not have permission to manage environments.")


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
    try:
        candidate.full_clean(exclude=DERIVED_FIELDS)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationFailed(errors)


def _snapshot(environment: Environment) -> dict[str, Any]:
    return jsonable({field: getattr(environment, field) for field in EDITABLE_FIELDS})


def environment_create(*, actor: Any, data: dict[str, Any]) -> Environment:
    """Create an environment; its id defaults to the slug of its name."""
    _check_manage_permission(actor)
    fields = {key: value for key, value in data.items() if key in EDITABLE_FIELDS}
    environment = Environment(id=data.get("id") or slugify(fields.get("name", ""))[:64], **fields)
    _validate(environment)
    environment.revision = 1
    try:
        with transaction.atomic():  # a savepoint only, so SQLite stays usable after a collision
            environment.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent create took the id or the name
        raise ValidationFailed({"id": [f"An environment with id {environment.id!r} or this name exists."]}) from exc
    audit_record(
        actor=actor.get_username(),
        action="environment.created",
        object_type="environment",
        object_id=environment.pk,
        changes=field_changes({}, _snapshot(environment)),
    )
    return environment


def environment_update(
    *, environment: Environment, actor: Any, data: dict[str, Any], expected_revision: int | None = None
) -> Environment:
    """Change an environment's editable fields, conditionally on its revision.

    Two ways to say which revision the client read: `expected_revision` (from `If-Match`;
    differing → 412) and `data["revision"]` (from the body or an admin form; differing → 409
    `stale_revision`). Without either, the revision of the object passed in is used, so a
    concurrent change between the read and this write is still refused (409).
    """
    _check_manage_permission(actor)
    if expected_revision is not None and expected_revision != environment.revision:
        raise PreconditionFailed(
            f"Environment {environment.pk!r} is at revision {environment.revision}, not {expected_revision}.",
            revision=environment.revision,
        )
    expected = data.get("revision") or environment.revision
    if expected != environment.revision:
        raise Conflict(
            f"Environment {environment.pk!r} has changed (revision {environment.revision}); reload and retry.",
            code="stale_revision",
            revision=environment.revision,
        )
    candidate = copy.copy(environment)
    for key, value in data.items():
        if key in EDITABLE_FIELDS:
            setattr(candidate, key, value)
    _validate(candidate)
    before, after = _snapshot(environment), _snapshot(candidate)
    changes = field_changes(before, after)
    if not changes:
        return environment
    values = {field: getattr(candidate, field) for field in changes}
    updated_at = now_ms()
    if not Environment.objects.filter(pk=environment.pk, revision=expected).update(
        **values, revision=expected + 1, updated_at=updated_at
    ):
        current = Environment.objects.filter(pk=environment.pk).values_list("revision", flat=True).first()
        if current is None:
            raise NotFound(f"Environment {environment.pk!r} no longer exists.")
        if expected_revision is not None:
            raise PreconditionFailed(
                f"Environment {environment.pk!r} is at revision {current}, not {expected_revision}.", revision=current
            )
        raise Conflict(
            f"Environment {environment.pk!r} has changed (revision {current}); reload and retry.",
            code="stale_revision",
            revision=current,
        )
    candidate.revision, candidate.updated_at = expected + 1, updated_at
    audit_record(
        actor=actor.get_username(),
        action="environment.updated",
        object_type="environment",
        object_id=environment.pk,
        changes=changes,
    )
    return candidate


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


def _refuse_delete(environment: Environment, blockers: dict[str, Any]) -> Conflict:
    parts = []
    if "deployments" in blockers:
        parts.append(f"{blockers['deployments']} deployment(s) refer to it")
    if "current_release" in blockers:
        parts.append(f"release {blockers['current_release']!r} is deployed there")
    if "workflows" in blockers:
        parts.append(f"workflow(s) {', '.join(blockers['workflows'])} have a stage there")
    return Conflict(
        f"Environment {environment.pk!r} cannot be deleted: {'; '.join(parts)}.", code="protected", references=blockers
    )


def environment_delete(*, environment: Environment, actor: Any) -> None:
    """Delete an environment nothing refers to: no deployments, no current release, in no workflow (else 409)."""
    _check_manage_permission(actor)
    blockers = _delete_blockers(environment)
    if blockers:
        raise _refuse_delete(environment, blockers)
    environment_id, snapshot = environment.pk, _snapshot(environment)
    try:
        environment.delete()
    except ProtectedError as exc:  # a deployment landed after the check
        raise _refuse_delete(environment, {"deployments": len(exc.protected_objects)}) from exc
    audit_record(
        actor=actor.get_username(),
        action="environment.deleted",
        object_type="environment",
        object_id=environment_id,
        changes={field: [value, None] for field, value in snapshot.items()},
    )
