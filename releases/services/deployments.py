"""Deployments: the deploy check, deploy, rollback and status reports (DESIGN §6)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from audit.actions import AuditAction
from audit.services import audit_record, now_ms
from environments.choices import Health, Tier
from environments.models import Environment
from environments.selectors import environment_active_freeze
from opsportal.errors import Conflict, NotFound, ValidationFailed
from releases.choices import DeploymentKind, DeploymentStatus, ReleaseAction, ReleaseStatus
from releases.models import Deployment, Release
from releases.selectors import release_required_approvals
from releases.services.lifecycle import (
    ALLOWED_FROM,
    COUNTS_AS_APPROVED,
    _ensure_allowed,
    _validation_failed,
    release_allowed_actions,
)
from releases.services.permissions import _check_permission, _username
from workflows.models import Workflow

if TYPE_CHECKING:
    from releases.services.permissions import Actor

S = ReleaseStatus
A = ReleaseAction

# A deploy that loses the race for an environment's next sequence re-checks and retries this often.
DEPLOY_CLAIM_ATTEMPTS = 10

# Blocker codes of `release_deploy_check`.
BLOCKER_INVALID_STATUS = "invalid_status"
BLOCKER_APPROVAL_REQUIRED = "approval_required"
BLOCKER_WORKFLOW_ORDER = "workflow_order"
BLOCKER_FREEZE_WINDOW = "freeze_window"
BLOCKER_ALREADY_DEPLOYED = "already_deployed"
BLOCKER_DEPLOYMENT_IN_PROGRESS = "deployment_in_progress"
BLOCKER_CODES = (
    BLOCKER_INVALID_STATUS,
    BLOCKER_APPROVAL_REQUIRED,
    BLOCKER_WORKFLOW_ORDER,
    BLOCKER_FREEZE_WINDOW,
    BLOCKER_ALREADY_DEPLOYED,
    BLOCKER_DEPLOYMENT_IN_PROGRESS,
)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _workflow_stage(release: Release, environment: Environment) -> tuple[Workflow | None, int | None]:
    if not release.workflow_id:
        return None, None
    workflow = Workflow.objects.filter(pk=release.workflow_id).first()
    if workflow is None:
        return None, None
    stages = [stage.get("environment") for stage in workflow.stages or []]
    return workflow, (stages.index(environment.pk) if environment.pk in stages else None)


def release_deploy_check(*, release: Release, environment: Environment) -> list[dict[str, Any]]:
    """What stands between this release and `environment`; an empty list means it may be deployed.

    Each blocker is `{"code", "message", ...context}`:
    - `invalid_status`: a rejected release never deploys.
    - `approval_required`: the environment (or its workflow stage) requires approval and the
      release is not `approved` or `deployed`. So drafts, pending and rolled-back releases may
      deploy only where no approval is needed.
    - `workflow_order`: the release follows a workflow, and the environment is not one of its
      stages, or is stage N > 0 and the release has no succeeded deployment on stage N-1.
    - `freeze_window`: now is inside one of the environment's freeze windows (`until`: the end of the
      freeze, back-to-back and overlapping windows merged; see `environment_active_freeze`).
    - `already_deployed`: the release is already the environment's current release.
    - `deployment_in_progress`: another deployment to the environment has not reported yet.
    """
    blockers: list[dict[str, Any]] = []
    status = release.status
    if status == S.REJECTED:
        blockers.append(
            {
                "code": BLOCKER_INVALID_STATUS,
                "message": "A rejected release cannot be deployed; rework and resubmit it.",
                "status": status,
            }
        )

    workflow, stage_index = _workflow_stage(release, environment)
    stage = workflow.stages[stage_index] if workflow is not None and stage_index is not None else {}
    needs_approval = environment.requires_approval or bool(stage.get("requires_approval"))
    if needs_approval and status not in COUNTS_AS_APPROVED and status != S.REJECTED:
        blockers.append(
            {
                "code": BLOCKER_APPROVAL_REQUIRED,
                "message": f"{environment.name} only takes approved releases; this one is '{status}'.",
                "status": status,
                "required_approvals": release_required_approvals(),
            }
        )

    if workflow is not None:
        stages = [s.get("environment") for s in workflow.stages or []]
        if stage_index is None:
            blockers.append(
                {
                    "code": BLOCKER_WORKFLOW_ORDER,
                    "message": f"{environment.name} is not a stage of workflow '{workflow.name}'.",
                    "workflow": workflow.pk,
                }
            )
        elif stage_index > 0:
            previous = stages[stage_index - 1]
            succeeded = Deployment.objects.filter(
                release_id=release.pk, environment_id=previous, status=DeploymentStatus.SUCCEEDED
            ).exists()
            if not succeeded:
                blockers.append(
                    {
                        "code": BLOCKER_WORKFLOW_ORDER,
                        "message": f"Workflow '{workflow.name}' requires a successful deployment to "
                        f"'{previous}' before '{environment.pk}'.",
                        "workflow": workflow.pk,
                        "required_environment": previous,
                    }
                )

    freeze = environment_active_freeze(environment, now_ms())
    if freeze is not None:
        until = _iso(freeze.until)
        because = f": {freeze.reason}" if freeze.reason else "."
        blockers.append(
            {
                "code": BLOCKER_FREEZE_WINDOW,
                "message": f"{environment.name} is frozen until {until}{because}",
                "until": until,
                "reason": freeze.reason,
            }
        )

    if environment.current_release_id == release.pk:
        blocker = {
            "code": BLOCKER_ALREADY_DEPLOYED,
            "message": f"This release is already deployed to {environment.name}.",
        }
        if environment.current_deployment_id:
            blocker["deployment"] = environment.current_deployment_id
        blockers.append(blocker)

    running = (
        Deployment.objects.filter(environment_id=environment.pk, status=DeploymentStatus.IN_PROGRESS)
        .values_list("id", flat=True)
        .first()
    )
    if running:
        blockers.append(
            {
                "code": BLOCKER_DEPLOYMENT_IN_PROGRESS,
                "message": f"Deployment {running} to {environment.name} has not reported a result yet.",
                "deployment": running,
            }
        )
    return blockers


def _claim_environment(
    *,
    environment: Environment,
    deployment: Deployment,
    env_values: dict[str, Any],
    condition: dict[str, Any] | None = None,
) -> None:
    """Insert `deployment` as the environment's next sequence, then move the environment forward.

    The unique (environment, sequence) index is what serializes concurrent deployments: the
    loser's insert collides → 409 `concurrent_deployment`. The environment is then updated
    conditionally on the sequence that was read (and on `condition`).
    """
    seq_read = deployment.sequence - 1
    try:
        # A savepoint only so that SQLite stays usable after a collision.
        with transaction.atomic():
            deployment.save(force_insert=True)
    except IntegrityError:
        raise Conflict(
            f"Another deployment to {environment.name} happened meanwhile; reload and try again.",
            code="concurrent_deployment",
        ) from None
    updated = Environment.objects.filter(pk=environment.pk, deployment_seq=seq_read, **(condition or {})).update(
        deployment_seq=deployment.sequence, revision=F("revision") + 1, updated_at=deployment.started_at, **env_values
    )
    if not updated:
        # Someone moved the environment without claiming a sequence: undo our claim.
        Deployment.objects.filter(pk=deployment.pk).delete()
        raise Conflict(f"{environment.name} changed meanwhile; reload and try again.", code="concurrent_deployment")
    environment.deployment_seq = deployment.sequence
    environment.revision += 1
    for key, value in env_values.items():
        setattr(environment, key, value)


def _audit_deployment(*, actor: Actor, action: AuditAction, deployment: Deployment, changes: dict[str, Any]) -> None:
    audit_record(
        actor=_username(actor), action=action, object_type="deployment", object_id=deployment.pk, changes=changes
    )


def _release_follows_production(
    *, release: Release, actor: Actor, to: str, from_statuses: tuple[str, ...], audit_action: AuditAction, changes: dict
) -> None:
    """Move the release's status after a production deployment event (conditional on its status)."""
    current = Release.objects.filter(pk=release.pk).values("status", "revision").first()
    if current is None or current["status"] == to or current["status"] not in from_statuses:
        return
    updated = Release.objects.filter(pk=release.pk, status=current["status"]).update(
        status=to, revision=F("revision") + 1, updated_at=now_ms()
    )
    if not updated:
        return
    audit_record(
        actor=_username(actor),
        action=audit_action,
        object_type="release",
        object_id=release.pk,
        changes={"status": [current["status"], to], **changes},
    )
    release.status = to
    release.revision = current["revision"] + 1


def _release_deployed_to_production(
    *, release: Release, environment: Environment, deployment: Deployment, actor: Actor
) -> None:
    """A deployment of the release to a production-tier environment succeeded: the release becomes `deployed`."""
    _release_follows_production(
        release=release,
        actor=actor,
        to=S.DEPLOYED,
        from_statuses=ALLOWED_FROM[A.DEPLOY],
        audit_action=AuditAction.RELEASE_DEPLOYED,
        changes={"environment": environment.pk, "deployment": deployment.pk},
    )


def release_deploy(
    *,
    release: Release,
    environment: Environment,
    actor: Actor,
    notes: str = "",
    status: str = DeploymentStatus.SUCCEEDED,
    pipeline_url: str = "",
    override_freeze: bool = False,
    reason: str = "",
) -> Deployment:
    """Deploy the release to the environment (as the caller read it) and record a Deployment.

    Refused with 409 carrying the blockers of `release_deploy_check` (`code` `invalid_transition`
    for a rejected release, else `deploy_blocked`). `override_freeze` drops only the freeze-window
    blocker and needs a `reason`. `status` is `succeeded` (the default: the deploy is done) or
    `in_progress` (a pipeline reports later via `deployment_report_status`). A succeeded deploy
    makes the release the environment's current release (health `healthy`); on a
    production-tier environment the release becomes `deployed`.

    Concurrency: the Deployment takes sequence `environment.deployment_seq + 1`; a concurrent
    deploy to the same environment collides on the unique sequence → 409 `concurrent_deployment`.
    """
    if status not in (DeploymentStatus.SUCCEEDED, DeploymentStatus.IN_PROGRESS):
        raise ValidationFailed({"status": ["A new deployment is either 'succeeded' or 'in_progress'."]})
    if override_freeze and not (reason or "").strip():
        raise ValidationFailed({"reason": ["A reason is required to override a freeze window."]})
    _check_permission(actor, A.DEPLOY, release, environment=environment)
    if override_freeze:
        _check_permission(actor, "override_freeze", release)
    now = now_ms()
    deployment = Deployment(
        release_id=release.pk,
        environment_id=environment.pk,
        kind=DeploymentKind.DEPLOY,
        status=status,
        sequence=environment.deployment_seq + 1,
        started_at=now,
        finished_at=now if status == DeploymentStatus.SUCCEEDED else None,
        deployed_by=_username(actor),
        notes=notes or "",
        pipeline_url=pipeline_url or "",
    )
    try:
        deployment.clean_fields(exclude=["id", "release", "environment", "rolled_back_from"])
    except DjangoValidationError as error:
        raise _validation_failed(error) from None

    for attempt in range(DEPLOY_CLAIM_ATTEMPTS):
        blockers = release_deploy_check(release=release, environment=environment)
        overridden = [b for b in blockers if b["code"] == BLOCKER_FREEZE_WINDOW] if override_freeze else []
        blockers = [b for b in blockers if b not in overridden]
        if blockers:
            illegal = A.DEPLOY not in release_allowed_actions(release)
            raise Conflict(
                f"Cannot deploy {release.version} to {environment.name}: "
                + "; ".join(blocker["message"] for blocker in blockers),
                code="invalid_transition" if illegal else "deploy_blocked",
                status=release.status,
                allowed_actions=release_allowed_actions(release),
                blockers=blockers,
            )
        env_values: dict[str, Any] = {}
        if status == DeploymentStatus.SUCCEEDED:
            env_values = {
                "current_release_id": release.pk,
                "current_deployment_id": deployment.pk,
                "health": Health.HEALTHY,
            }
        try:
            _claim_environment(environment=environment, deployment=deployment, env_values=env_values)
            break
        except Conflict as error:
            if error.code != "concurrent_deployment" or attempt + 1 == DEPLOY_CLAIM_ATTEMPTS:
                raise
            # Another deployment to this environment landed first: look again at the environment
            # as it is now (its blockers may have changed, e.g. `already_deployed`) and take the
            # next sequence. Still one conditional insert + update per attempt.
            environment.refresh_from_db()
            deployment.sequence = environment.deployment_seq + 1

    changes: dict[str, Any] = {
        "release": [None, release.pk],
        "environment": [None, environment.pk],
        "kind": [None, deployment.kind],
        "status": [None, status],
        "sequence": [None, deployment.sequence],
    }
    if notes:
        changes["notes"] = [None, notes]
    if pipeline_url:
        changes["pipeline_url"] = [None, pipeline_url]
    if overridden:
        changes["freeze_overridden"] = {"reason": reason.strip(), "until": overridden[0]["until"]}
    _audit_deployment(actor=actor, action=AuditAction.DEPLOYMENT_CREATED, deployment=deployment, changes=changes)
    if status == DeploymentStatus.SUCCEEDED and environment.tier == Tier.PRODUCTION:
        _release_deployed_to_production(release=release, environment=environment, deployment=deployment, actor=actor)
    return deployment


def release_rollback(*, release: Release, environment: Environment, actor: Actor, reason: str = "") -> Deployment:
    """Take the release off the environment and put back the previous successfully deployed release.

    The release must be the environment's current release (else 409 `not_current_release`). The
    target is the release of the most recent succeeded deployment on the environment that belongs
    to a different release (deployments that were rolled back are `rolled_back`, so never chosen);
    none → 409 `nothing_to_roll_back_to`. Records a succeeded `rollback` Deployment of the target
    with `rolled_back_from` = this release, marks the replaced deployment `rolled_back`, and on a
    production-tier environment the release becomes `rolled_back`. Freeze windows do not block a
    rollback (it restores a known-good state).
    """
    _check_permission(actor, A.ROLLBACK, release)
    _ensure_allowed(release, A.ROLLBACK)
    if environment.current_release_id != release.pk:
        raise Conflict(
            f"{release.version} is not the current release of {environment.name}; only that one can be rolled back.",
            code="not_current_release",
            current_release=environment.current_release_id,
            status=release.status,
            allowed_actions=release_allowed_actions(release),
        )
    target = (
        Deployment.objects.filter(environment_id=environment.pk, status=DeploymentStatus.SUCCEEDED)
        .exclude(release_id=release.pk)
        .order_by("-finished_at", "-sequence")
        .values("id", "release_id")
        .first()
    )
    if target is None:
        raise Conflict(
            f"Nothing to roll back to: no other release has been deployed successfully to {environment.name}.",
            code="nothing_to_roll_back_to",
            status=release.status,
            allowed_actions=release_allowed_actions(release),
        )
    now = now_ms()
    replaced = environment.current_deployment_id
    deployment = Deployment(
        release_id=target["release_id"],
        environment_id=environment.pk,
        kind=DeploymentKind.ROLLBACK,
        status=DeploymentStatus.SUCCEEDED,
        sequence=environment.deployment_seq + 1,
        started_at=now,
        finished_at=now,
        deployed_by=_username(actor),
        notes=reason or "",
        rolled_back_from_id=release.pk,
    )
    _claim_environment(
        environment=environment,
        deployment=deployment,
        env_values={
            "current_release_id": target["release_id"],
            "current_deployment_id": deployment.pk,
            "health": Health.HEALTHY,
        },
        condition={"current_release_id": release.pk},
    )
    if replaced:
        Deployment.objects.filter(pk=replaced, status=DeploymentStatus.SUCCEEDED).update(
            status=DeploymentStatus.ROLLED_BACK, revision=F("revision") + 1
        )
    audit_record(
        actor=_username(actor),
        action=AuditAction.DEPLOYMENT_ROLLED_BACK,
        object_type="deployment",
        object_id=deployment.pk,
        changes={
            "release": [None, target["release_id"]],
            "environment": [None, environment.pk],
            "kind": [None, DeploymentKind.ROLLBACK],
            "status": [None, DeploymentStatus.SUCCEEDED],
            "sequence": [None, deployment.sequence],
            "rolled_back_from": [None, release.pk],
            "replaced_deployment": {
                "id": replaced,
                "status": [DeploymentStatus.SUCCEEDED, DeploymentStatus.ROLLED_BACK],
            },
            "reason": reason or "",
        },
    )
    if environment.tier == Tier.PRODUCTION:
        _release_follows_production(
            release=release,
            actor=actor,
            to=S.ROLLED_BACK,
            from_statuses=(S.DEPLOYED, S.APPROVED),
            audit_action=AuditAction.RELEASE_ROLLED_BACK,
            changes={"environment": environment.pk, "deployment": deployment.pk, "reason": reason or ""},
        )
    return deployment


def deployment_report_status(*, deployment: Deployment, actor: Actor, status: str, notes: str = "") -> Deployment:
    """A pipeline reports how an `in_progress` deployment ended: `succeeded` or `failed` (else 409).

    Succeeded: the release becomes the environment's current release and, on a production-tier
    environment, `deployed` — unless a later deployment (or rollback) to the environment has
    started since: then the environment keeps what that one set. Failed on a production-tier
    environment: the environment's health becomes `degraded`.
    """
    if status not in (DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED):
        raise ValidationFailed({"status": ["Report either 'succeeded' or 'failed'."]})
    _check_permission(actor, "report_status", None)
    now = now_ms()
    values: dict[str, Any] = {"status": status, "finished_at": now, "revision": F("revision") + 1}
    if notes:
        values["notes"] = notes
    updated = Deployment.objects.filter(pk=deployment.pk, status=DeploymentStatus.IN_PROGRESS).update(**values)
    if not updated:
        current = Deployment.objects.filter(pk=deployment.pk).values_list("status", flat=True).first()
        if current is None:
            raise NotFound("This deployment no longer exists.")
        raise Conflict(
            f"Only an in-progress deployment can report its result; this one is '{current}'.",
            code="invalid_transition",
            status=current,
            allowed_actions=[],
        )
    environment = Environment.objects.get(pk=deployment.environment_id)
    became_current = False
    if status == DeploymentStatus.SUCCEEDED:
        # Only while no later deployment has claimed the environment.
        became_current = (
            Environment.objects.filter(pk=environment.pk, deployment_seq=deployment.sequence).update(
                current_release_id=deployment.release_id,
                current_deployment_id=deployment.pk,
                health=Health.HEALTHY,
                revision=F("revision") + 1,
                updated_at=now,
            )
            == 1
        )
    elif environment.tier == Tier.PRODUCTION:
        Environment.objects.filter(pk=environment.pk).update(
            health=Health.DEGRADED, revision=F("revision") + 1, updated_at=now
        )
    changes: dict[str, Any] = {
        "status": [DeploymentStatus.IN_PROGRESS, status],
        "release": deployment.release_id,
        "environment": deployment.environment_id,
    }
    if notes:
        changes["notes"] = [deployment.notes, notes]
    _audit_deployment(
        actor=actor, action=AuditAction.DEPLOYMENT_STATUS_REPORTED, deployment=deployment, changes=changes
    )
    if became_current and environment.tier == Tier.PRODUCTION:
        release = Release.objects.get(pk=deployment.release_id)
        _release_deployed_to_production(release=release, environment=environment, deployment=deployment, actor=actor)
    deployment.refresh_from_db()
    return deployment
