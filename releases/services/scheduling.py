"""Scheduled deployments (issue #12): deploy at a time (`scheduled_for`), or at the next open window.

- `release_schedule_deploy` records a Deployment in status `scheduled` (no sequence yet). Two deployments
  scheduled for the same environment and minute collide on `schedule_slot` (a unique index, so racing
  requests too): the second is refused with 409 naming the first.
- `deployment_run_scheduled` (the worker's job, `releases.jobs.run_scheduled_deployments`) runs one when it
  is due, as its scheduler, re-checking every blocker at that moment (`release_deploy_check`). Blocked →
  `failed` with the blockers recorded (`deployment.schedule_failed`); else it claims the environment's next
  sequence exactly as a manual deploy does (`deployments._claim_environment`), so a manual deploy racing it
  either lands first (and is seen) or after.
- `deployment_cancel` calls one off (→ `cancelled`).
Each is one unit of work with its audit event, conditional on the revisions read.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from audit.actions import AuditAction
from environments.models import Environment
from environments.selectors import environment_active_freeze
from opsportal.clock import now_ms
from opsportal.errors import Conflict, ValidationFailed
from opsportal.uow import Transient, unit_of_work
from releases.choices import DeploymentKind, DeploymentStatus, ReleaseAction
from releases.models import Deployment, Release
from releases.services.deployments import (
    _audit,
    _claim_environment,
    _fresh,
    _health_change,
    _iso,
    _release_deployed,
    deployment_in_wrong_status,
    release_deploy_check,
)
from releases.services.lifecycle import _ensure_allowed
from releases.services.permissions import _check_permission, _username
from releases.services.summaries import release_environments_refresh

if TYPE_CHECKING:
    from releases.services.permissions import Actor

NEXT_OPEN_WINDOW = "next_open_window"
SYSTEM_ACTOR = "system"


def _audit_new(actor: Actor, action: AuditAction, deployment: Deployment, **changes: Any) -> None:
    """The audit event of a deployment scheduled, or run: its release and environment, when, and `changes`."""
    release, environment = [None, deployment.release_id], [None, deployment.environment_id]
    _audit(
        actor=actor,
        action=action,
        object_type="deployment",
        object_id=deployment.pk,
        changes={"release": release, "environment": environment, "scheduled_for": _iso(deployment.scheduled_for)}
        | changes,
    )


def _slot(environment_id: str, moment: datetime) -> str:
    return f"{environment_id}|{moment:%Y-%m-%dT%H:%M}"


def _slot_taken(slot: str) -> Conflict:
    first = Deployment.objects.filter(schedule_slot=slot).values("id", "release_id", "scheduled_for").first()
    return Conflict(
        f"Another deployment is scheduled for this environment in the same minute: {first['id'] if first else '?'}.",
        code="schedule_taken",
        deployment=first["id"] if first else None,
        release=first["release_id"] if first else None,
    )


@unit_of_work
def release_schedule_deploy(
    *,
    release: Release,
    environment: Environment,
    actor: Actor,
    scheduled_for: datetime | None = None,
    at: str = "",
    notes: str = "",
) -> Deployment:
    """Schedule a deploy of the release to the environment, at `scheduled_for` (aware, in the future) or
    `at="next_open_window"` (the first moment no freeze blocks this release there: `next_open_at`).
    The blockers are checked when it runs, not now; the deploy permission (and the action) now."""
    if (scheduled_for is None) == (at != NEXT_OPEN_WINDOW):
        raise ValidationFailed({"scheduled_for": ["Give either scheduled_for or at=next_open_window."]})
    release = _fresh(Release, release.pk, "release")
    environment = _fresh(Environment, environment.pk, "environment")
    _check_permission(actor, ReleaseAction.DEPLOY, release, environment=environment)
    _ensure_allowed(release, ReleaseAction.DEPLOY)
    now = now_ms()
    if at == NEXT_OPEN_WINDOW:
        freeze = environment_active_freeze(environment, now, team=release.team_id)
        if freeze is not None and freeze.until is None:
            raise Conflict("No open window within 3 years.", code="no_open_window", freeze=freeze.freeze)
        scheduled_for = freeze.until if freeze is not None else now
    elif scheduled_for.tzinfo is None or scheduled_for <= now:
        raise ValidationFailed({"scheduled_for": ["A time in the future, with a time zone."]})
    scheduled_for = scheduled_for.replace(microsecond=scheduled_for.microsecond // 1000 * 1000)
    slot = _slot(environment.pk, scheduled_for.astimezone(now.tzinfo))
    if Deployment.objects.filter(schedule_slot=slot).exists():
        raise _slot_taken(slot)
    deployment = Deployment(
        release_id=release.pk,
        environment_id=environment.pk,
        kind=DeploymentKind.DEPLOY,
        status=DeploymentStatus.SCHEDULED,
        sequence=None,
        started_at=scheduled_for,
        scheduled_for=scheduled_for,
        schedule_slot=slot,
        deployed_by=_username(actor),
        notes=notes or "",
    )
    try:
        with transaction.atomic():
            deployment.save(force_insert=True)
    except IntegrityError:
        raise _slot_taken(slot) from None
    _audit_new(actor, AuditAction.DEPLOYMENT_SCHEDULED, deployment, status=[None, DeploymentStatus.SCHEDULED], at=at)
    return deployment


def _finish_unscheduled(deployment: Deployment, *, actor: str, status: str, action: AuditAction, **values: Any) -> None:
    """Move a scheduled deployment to `status` (cancelled, or failed with its blockers), conditionally."""
    updated = Deployment.objects.filter(
        pk=deployment.pk, revision=deployment.revision, status=DeploymentStatus.SCHEDULED
    ).update(status=status, schedule_slot=deployment.pk, revision=deployment.revision + 1, **values)
    if not updated:
        raise Transient("the deployment changed since this unit read it")
    from audit.services import audit_record

    changes = {"status": [DeploymentStatus.SCHEDULED, status], "release": deployment.release_id}
    changes["environment"] = deployment.environment_id
    if values.get("blockers"):
        changes["blockers"] = values["blockers"]
    audit_record(actor=actor, action=action, object_type="deployment", object_id=deployment.pk, changes=changes)
    deployment.status, deployment.schedule_slot = status, deployment.pk
    for key, value in values.items():
        setattr(deployment, key, value)


@unit_of_work
def deployment_cancel(*, deployment: Deployment, actor: Actor) -> Deployment:
    """Call off a scheduled deployment (→ `cancelled`); only a scheduled one (else 409). Who may deploy the
    release there, or whoever scheduled it, may cancel it."""
    caller = deployment
    deployment = _fresh(Deployment, deployment.pk, "deployment")
    release = _fresh(Release, deployment.release_id, "release")
    if _username(actor) != deployment.deployed_by:
        environment = _fresh(Environment, deployment.environment_id, "environment")
        _check_permission(actor, ReleaseAction.DEPLOY, release, environment=environment)
    if deployment.status != DeploymentStatus.SCHEDULED:
        raise deployment_in_wrong_status(deployment, "Only a scheduled deployment can be cancelled")
    _finish_unscheduled(
        deployment,
        actor=_username(actor),
        status=DeploymentStatus.CANCELLED,
        action=AuditAction.DEPLOYMENT_CANCELLED,
        finished_at=now_ms(),
    )
    caller.__dict__.update({k: v for k, v in deployment.__dict__.items() if not k.startswith("_")})
    return deployment


@unit_of_work
def deployment_run_scheduled(*, deployment_id: str) -> str:
    """Run one due scheduled deployment as its scheduler; returns its status afterwards (`succeeded`, or
    `failed` when something blocks it now or its scheduler may no longer deploy there)."""
    deployment = Deployment.objects.filter(pk=deployment_id).first()
    now = now_ms()
    if deployment is None or deployment.status != DeploymentStatus.SCHEDULED or deployment.scheduled_for > now:
        return deployment.status if deployment is not None else ""
    release = _fresh(Release, deployment.release_id, "release")
    environment = _fresh(Environment, deployment.environment_id, "environment")
    actor = get_user_model().objects.filter(username=deployment.deployed_by, is_active=True).first()
    blockers = release_deploy_check(release=release, environment=environment, deployer=deployment.deployed_by)
    if actor is None:
        blockers.append({"code": "scheduler_gone", "message": f"{deployment.deployed_by} can no longer deploy."})
    else:
        try:
            _check_permission(actor, ReleaseAction.DEPLOY, release, environment=environment)
        except Exception as refusal:  # noqa: BLE001 - any refusal is recorded as a blocker, not raised
            blockers.append({"code": "forbidden", "message": str(refusal)})
    if blockers:
        _finish_unscheduled(
            deployment,
            actor=SYSTEM_ACTOR,
            status=DeploymentStatus.FAILED,
            action=AuditAction.DEPLOYMENT_SCHEDULE_FAILED,
            finished_at=now,
            blockers=blockers,
        )
        return DeploymentStatus.FAILED
    deployment.sequence = environment.deployment_seq + 1
    deployment.status = DeploymentStatus.SUCCEEDED
    deployment.started_at = deployment.finished_at = now
    deployment.became_current = True
    deployment.previous_deployment_id = environment.current_deployment_id
    current_before = environment.current_release_id
    health_before = environment.health
    env_values = {"current_release_id": release.pk, "current_deployment_id": deployment.pk, "health": "healthy"}
    _claim_environment(environment=environment, deployment=deployment, env_values=env_values, scheduled=True)
    _audit_new(
        actor,
        AuditAction.DEPLOYMENT_CREATED,
        deployment,
        kind=[None, deployment.kind],
        status=[DeploymentStatus.SCHEDULED, DeploymentStatus.SUCCEEDED],
        sequence=[None, deployment.sequence],
        **_health_change(health_before, "healthy"),
    )
    _release_deployed(release=release, environment=environment, deployment=deployment, actor=actor)
    release_environments_refresh(release_ids=[release.pk, current_before])  # the summaries both embed (issue #18)
    return DeploymentStatus.SUCCEEDED


def deployments_run_due(*, limit: int = 100) -> dict[str, int]:
    """Run every scheduled deployment that is due, earliest first, each in its own unit of work."""
    due = list(
        Deployment.objects.filter(status=DeploymentStatus.SCHEDULED, scheduled_for__lte=now_ms())
        .order_by("scheduled_for", "id")
        .values_list("id", flat=True)[:limit]
    )
    outcomes = [deployment_run_scheduled(deployment_id=deployment_id) for deployment_id in due]
    return {"due": len(due), "succeeded": outcomes.count("succeeded"), "failed": outcomes.count("failed")}
