"""Deployments: the deploy check, deploy, rollback and status reports (DESIGN §6).

Each write is one unit of work (`opsportal.uow`, DESIGN §3). Inside it the service reads the
release, the environment and the deployment afresh (what the caller passed may be stale), checks
the rules on what it read, and writes everything that changes — the Deployment, the environment
(its sequence, current release and deployment), the replaced deployment, the release (its status,
or at least its revision) and the audit events — each conditionally on the revision it read. On
SQLite the unit holds the write lock from its first statement; on MongoDB two units that read the
same state cannot both commit (write conflict), and the loser runs again on the new state. So a
reject, a freeze edit or a rollback that lands first is seen by the deploy, never skipped, and a
crash at any step leaves all of it or none of it.

When a deployment becomes its environment's current one it records the deployment it replaced
(`previous_deployment`): that is what a rollback returns to.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model

from audit.actions import AuditAction
from audit.services import audit_record, now_ms
from environments.choices import Health, Tier
from environments.models import Environment
from environments.policies import default_policy, policy_with_defaults
from environments.selectors import ActiveFreeze, environment_active_freeze
from evidence.services import evidence_on_production
from opsportal.errors import Conflict, NotFound, ValidationFailed
from opsportal.uow import Transient, unit_of_work
from releases.choices import DeploymentKind, DeploymentStatus, ReleaseAction, ReleaseStatus
from releases.models import Deployment, Release
from releases.selectors import release_approval_status
from releases.services.lifecycle import (
    ALLOWED_FROM,
    COUNTS_AS_APPROVED,
    _ensure_allowed,
    _validation_failed,
    release_allowed_actions,
)
from releases.services.permissions import _check_permission, _username
from releases.services.summaries import SUMMARY_PENDING, release_environments_apply
from workflows.models import Workflow

if TYPE_CHECKING:
    from releases.services.permissions import Actor

S = ReleaseStatus
A = ReleaseAction

# Blocker codes of `release_deploy_check`.
BLOCKER_INVALID_STATUS = "invalid_status"
BLOCKER_APPROVAL_REQUIRED = "approval_required"
BLOCKER_WORKFLOW_ORDER = "workflow_order"
BLOCKER_FREEZE_WINDOW = "freeze_window"
BLOCKER_ALREADY_DEPLOYED = "already_deployed"
BLOCKER_DEPLOYMENT_IN_PROGRESS = "deployment_in_progress"
BLOCKER_FOUR_EYES = "four_eyes"
BLOCKER_CODES = (
    BLOCKER_INVALID_STATUS,
    BLOCKER_APPROVAL_REQUIRED,
    BLOCKER_FOUR_EYES,
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


def _freeze_blocker(environment: Environment, freeze: ActiveFreeze) -> dict[str, Any]:
    """`freeze_window`: the freeze in force, its current occurrence and `next_open_at` (issue #12)."""
    occurrence = freeze.occurrence
    until = _iso(freeze.until) if freeze.until is not None else None
    because = f": {freeze.reason}" if freeze.reason else "."
    blocker = {
        "code": BLOCKER_FREEZE_WINDOW,
        "message": f"{environment.name} is frozen until {until or 'further notice'}{because}",
        "reason": freeze.reason,
        "freeze": occurrence.freeze,
        "occurrence": {"starts_at": _iso(occurrence.starts_at), "ends_at": _iso(occurrence.ends_at)},
    }
    # No `until` when the freezes chain beyond the calendar's horizon (3 years).
    return {**blocker, "until": until, "next_open_at": until} if until else blocker


def _unmet_message(rule: dict[str, Any]) -> str:
    lost = [f"{rule[key]} {key}" for key in ("expired", "stale") if rule[key]]
    return f"{rule['rule']} needs {rule['needed']}, has {rule['have']}" + (f" ({', '.join(lost)})" if lost else "")


def _approval_blockers(
    release: Release, environment: Environment, stage: dict[str, Any], *, deployer: str
) -> list[dict[str, Any]]:
    """`approval_required` (status, unmet rules) and `four_eyes` (the deployer is the only approver)."""
    if release.status == S.REJECTED:
        return []
    if environment.requires_approval:
        policy = policy_with_defaults(environment.approval_policy)
    elif stage.get("requires_approval"):
        policy = default_policy()  # a workflow stage that requires approval: the default rule
    else:
        return []
    entry = {"environment": environment.pk, "name": environment.name, "policy": policy}
    evaluation = release_approval_status(release, policies=[entry], at=now_ms(), deployer=deployer)[0]
    unmet = [{key: rule[key] for key in ("rule", "needed", "have", "expired", "stale")} for rule in evaluation["rules"]]
    unmet = [rule for rule in unmet if rule["have"] < rule["needed"]]
    blockers = []
    if release.status not in COUNTS_AS_APPROVED or unmet:
        reasons = []
        if release.status not in COUNTS_AS_APPROVED:
            reasons.append(f"this one is '{release.status}'")
        reasons.extend(_unmet_message(rule) for rule in unmet)
        blockers.append(
            {
                "code": BLOCKER_APPROVAL_REQUIRED,
                "message": f"{environment.name} only takes approved releases; {'; '.join(reasons)}.",
                "status": release.status,
                "required_approvals": sum(rule["needed"] for rule in evaluation["rules"]),
                "unmet_rules": unmet,
            }
        )
    if evaluation["deployer_is_only_approver"]:
        blockers.append(
            {
                "code": BLOCKER_FOUR_EYES,
                "message": f"{environment.name}'s policy says the deployer ({deployer}) cannot be this "
                "release's only approver.",
                "status": release.status,
            }
        )
    return blockers


def release_deploy_check(*, release: Release, environment: Environment, deployer: str = "") -> list[dict[str, Any]]:
    """What stands between this release and `environment`; an empty list means it may be deployed.

    Each blocker is `{"code", "message", ...context}`:
    - `invalid_status`: a rejected release never deploys.
    - `approval_required`: the environment's approval policy has rules (or its workflow stage
      requires approval: one Release Manager) and the release is not `approved` or `deployed`, or
      its current approvals do not meet every rule now (`unmet_rules`: `rule`, `needed`, `have`,
      and how many matching approvals no longer count: `expired`, `stale` — given on other content).
      So drafts, pending and rolled-back releases may deploy only where no approval is needed.
    - `four_eyes`: the policy forbids it and `deployer` would be the release's only approver.
    - `workflow_order`: the release follows a workflow, and the environment is not one of its
      stages, or is stage N > 0 and the release has no succeeded deployment on stage N-1.
    - `freeze_window`: a freeze of the calendar that applies to this environment and the release's team
      is in force now (issue #12): `freeze` (its id), `occurrence` (`starts_at`, `ends_at`), and
      `next_open_at` (= `until`): the first moment no freeze blocks this release there, back-to-back
      and overlapping occurrences merged (see `environment_active_freeze`).
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
    blockers.extend(_approval_blockers(release, environment, stage, deployer=deployer))

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

    freeze = environment_active_freeze(environment, now_ms(), team=release.team_id)
    if freeze is not None:
        blockers.append(_freeze_blocker(environment, freeze))

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


def deployment_in_wrong_status(deployment: Deployment, only: str) -> Conflict:
    """409 `invalid_transition`: `only` (e.g. "Only a scheduled deployment can be cancelled") and its status."""
    return Conflict(
        f"{only}; this one is '{deployment.status}'.",
        code="invalid_transition",
        status=deployment.status,
        allowed_actions=[],
    )


def _fresh(model: type[Model], pk: Any, what: str) -> Any:
    """The document as it is now, inside the unit (404 when it is gone)."""
    document = model.objects.filter(pk=pk).first()
    if document is None:
        raise NotFound(f"This {what} no longer exists.")
    return document


def _sync(caller: Model | None, fresh: Model) -> None:
    """Give the caller's instance the state the unit wrote (services used to update it in place)."""
    if caller is not None and caller is not fresh:
        for field in fresh._meta.concrete_fields:
            setattr(caller, field.attname, getattr(fresh, field.attname))


def _claim_environment(
    *, environment: Environment, deployment: Deployment, env_values: dict[str, Any], scheduled: bool = False
) -> None:
    """Insert `deployment` as the environment's next sequence and move the environment forward,
    conditionally on the sequence and revision read in this unit (else the unit runs again). A
    `scheduled` deployment (issue #12) exists already: it is updated, conditionally on its revision."""
    try:
        with transaction.atomic():  # a savepoint on SQLite; on MongoDB the unit's transaction
            if not scheduled:
                deployment.save(force_insert=True)
            elif not Deployment.objects.filter(
                pk=deployment.pk, revision=deployment.revision, status=DeploymentStatus.SCHEDULED
            ).update(**_run_values(deployment)):
                raise Transient("the scheduled deployment changed since this unit read it")
    except IntegrityError as error:
        raise Transient("another deployment took this sequence") from error
    values = {"deployment_seq": deployment.sequence, "revision": environment.revision + 1, **env_values}
    updated = Environment.objects.filter(
        pk=environment.pk, revision=environment.revision, deployment_seq=deployment.sequence - 1
    ).update(updated_at=deployment.started_at, **values)
    if not updated:
        raise Transient("the environment changed since this unit read it")
    for key, value in values.items():
        setattr(environment, key, value)


def _run_values(deployment: Deployment) -> dict[str, Any]:
    """What a scheduled deployment becomes when it runs (its slot freed, its revision up)."""
    deployment.revision += 1
    fields = ("sequence", "status", "started_at", "finished_at", "became_current", "previous_deployment_id")
    return {
        **{field: getattr(deployment, field) for field in fields},
        "schedule_slot": deployment.pk,
        "revision": deployment.revision,
    }


def _write_release(*, release: Release, status: str | None = None) -> str | None:
    """Write the release conditionally on the revision read in this unit: its state decided the
    outcome (DESIGN §3: no write skew). Returns the status it had when `status` changed it."""
    values: dict[str, Any] = {"revision": release.revision + 1, "updated_at": now_ms()}
    before = release.status
    if status is not None and status != before:
        values["status"] = status
    if getattr(release, SUMMARY_PENDING, False):  # patched by `release_environments_apply(carried=release)`
        values["environments"] = release.environments
    updated = Release.objects.filter(pk=release.pk, revision=release.revision).update(**values)
    if not updated:
        raise Transient("the release changed since this unit read it")
    for key, value in values.items():
        setattr(release, key, value)
    setattr(release, SUMMARY_PENDING, False)
    return before if "status" in values else None


def _health_change(before: str, after: str | None) -> dict[str, Any]:
    """`{"environment_health": [old, new]}` when the unit changes the environment's health (the event
    catalogue turns it into `environment.health_changed`, issue #11); else nothing."""
    return {"environment_health": [before, after]} if after is not None and after != before else {}


def _audit(
    *,
    actor: Actor,
    action: AuditAction,
    object_type: str,
    object_id: str,
    changes: dict[str, Any],
    rows: tuple[Model, ...] = (),
) -> None:
    """`audit_record`; `rows`: the release and deployment as this unit has written them so far."""
    audit_record(
        actor=_username(actor), action=action, object_type=object_type, object_id=object_id, changes=changes, rows=rows
    )


def _release_follows(
    *,
    release: Release,
    environment: Environment,
    deployment: Deployment,
    actor: Actor,
    to: str,
    from_statuses: tuple[str, ...],
    action: AuditAction,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write the release (conditionally on its revision: its state decided the outcome); on a
    production-tier environment its status becomes `to` from any of `from_statuses`, audited."""
    production = environment.tier == Tier.PRODUCTION
    before = _write_release(release=release, status=to if production and release.status in from_statuses else None)
    if before is not None:
        _audit(
            actor=actor,
            action=action,
            object_type="release",
            object_id=release.pk,
            changes={
                "status": [before, to],
                "environment": environment.pk,
                "deployment": deployment.pk,
                **(extra or {}),
            },
            rows=(release,),
        )


def _release_deployed(*, release: Release, environment: Environment, deployment: Deployment, actor: Actor) -> None:
    """The release's deployment became current on `environment`: on a production-tier environment
    the release becomes `deployed`, from any status that may deploy, and its signed evidence is collected
    and stored in this same unit (issue #13)."""
    _release_follows(
        release=release,
        environment=environment,
        deployment=deployment,
        actor=actor,
        to=S.DEPLOYED,
        from_statuses=ALLOWED_FROM[A.DEPLOY],
        action=AuditAction.RELEASE_DEPLOYED,
    )
    if environment.tier == Tier.PRODUCTION:
        evidence_on_production(release=release, actor=actor)


@unit_of_work
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
    """Deploy the release to the environment and record a Deployment (one unit of work).

    Refused with 409 carrying the blockers of `release_deploy_check` on the release and the
    environment as they are inside the unit (`code` `invalid_transition` for a rejected release,
    else `deploy_blocked`). `override_freeze` drops only the freeze-window blocker and needs a
    `reason`. `status` is `succeeded` (the default: the deploy is done) or `in_progress` (a
    pipeline reports later via `deployment_report_status`). A succeeded deploy makes the release
    the environment's current release (health `healthy`); on a production-tier environment the
    release becomes `deployed`.

    The Deployment takes sequence `deployment_seq + 1`; the environment and the release are
    written conditionally on the revisions read, so a concurrent deploy, reject, rollback or
    freeze edit either lands first (and is seen) or after (and sees this one).
    """
    if status not in (DeploymentStatus.SUCCEEDED, DeploymentStatus.IN_PROGRESS):
        raise ValidationFailed({"status": ["A new deployment is either 'succeeded' or 'in_progress'."]})
    if override_freeze and not (reason or "").strip():
        raise ValidationFailed({"reason": ["A reason is required to override a freeze window."]})
    caller_release, caller_environment = release, environment
    release = _fresh(Release, release.pk, "release")
    environment = _fresh(Environment, environment.pk, "environment")
    _check_permission(actor, A.DEPLOY, release, environment=environment)
    if override_freeze:
        _check_permission(actor, "override_freeze", release)
    now = now_ms()
    succeeded = status == DeploymentStatus.SUCCEEDED
    deployment = Deployment(
        release_id=release.pk,
        environment_id=environment.pk,
        kind=DeploymentKind.DEPLOY,
        status=status,
        sequence=environment.deployment_seq + 1,
        started_at=now,
        finished_at=now if succeeded else None,
        deployed_by=_username(actor),
        notes=notes or "",
        pipeline_url=pipeline_url or "",
        became_current=succeeded,
        previous_deployment_id=environment.current_deployment_id if succeeded else None,
    )
    try:
        deployment.clean_fields(exclude=["id", "release", "environment", "rolled_back_from", "previous_deployment"])
    except DjangoValidationError as error:
        raise _validation_failed(error) from None

    blockers = release_deploy_check(release=release, environment=environment, deployer=_username(actor))
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
    if succeeded:
        env_values = {
            "current_release_id": release.pk,
            "current_deployment_id": deployment.pk,
            "health": Health.HEALTHY,
        }
    health_before, current_before = environment.health, environment.current_release_id
    _claim_environment(environment=environment, deployment=deployment, env_values=env_values)
    # The summaries both releases embed; this release's goes out with its write below (`_write_release`).
    release_environments_apply(
        environment=environment, deployments=[deployment], release_ids=[current_before], carried=release
    )

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
        # Scoped to the occurrence in force now: the next occurrence blocks again (issue #12).
        changes["freeze_overridden"] = {
            "reason": reason.strip(),
            "freeze": overridden[0]["freeze"],
            "occurrence": overridden[0]["occurrence"],
            "until": overridden[0].get("until"),
        }
    changes.update(_health_change(health_before, env_values.get("health")))
    _audit(
        actor=actor,
        action=AuditAction.DEPLOYMENT_CREATED,
        object_type="deployment",
        object_id=deployment.pk,
        changes=changes,
        rows=(deployment, release),
    )
    if succeeded:
        _release_deployed(release=release, environment=environment, deployment=deployment, actor=actor)
    else:
        _write_release(release=release)
    _sync(caller_release, release)
    _sync(caller_environment, environment)
    return deployment


@unit_of_work
def release_rollback(*, release: Release, environment: Environment, actor: Actor, reason: str = "") -> Deployment:
    """Take the release off the environment and put back the deployment it replaced (one unit of work).

    The release must be the environment's current release (else 409 `not_current_release`). The
    target is the deployment that was current before the current one became current (recorded
    then, so never one that was still in progress); none → 409 `nothing_to_roll_back_to`.
    Rolling back twice goes back twice. Records a succeeded `rollback` Deployment of the target's
    release with `rolled_back_from` = this release, marks the replaced deployment `rolled_back`,
    and on a production-tier environment the release becomes `rolled_back`. Freeze windows do
    not block a rollback (it restores a known-good state).
    """
    caller_release, caller_environment = release, environment
    release = _fresh(Release, release.pk, "release")
    environment = _fresh(Environment, environment.pk, "environment")
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
    replaced = Deployment.objects.filter(pk=environment.current_deployment_id).first()
    target = (
        Deployment.objects.filter(pk=replaced.previous_deployment_id).first()
        if replaced is not None and replaced.previous_deployment_id
        else None
    )
    if target is None:
        raise Conflict(
            f"Nothing to roll back to: no other release was current on {environment.name} before this one.",
            code="nothing_to_roll_back_to",
            status=release.status,
            allowed_actions=release_allowed_actions(release),
        )
    now = now_ms()
    deployment = Deployment(
        release_id=target.release_id,
        environment_id=environment.pk,
        kind=DeploymentKind.ROLLBACK,
        status=DeploymentStatus.SUCCEEDED,
        sequence=environment.deployment_seq + 1,
        started_at=now,
        finished_at=now,
        deployed_by=_username(actor),
        notes=reason or "",
        rolled_back_from_id=release.pk,
        became_current=True,
        previous_deployment_id=target.previous_deployment_id,
    )
    health_before = environment.health
    _claim_environment(
        environment=environment,
        deployment=deployment,
        env_values={
            "current_release_id": target.release_id,
            "current_deployment_id": deployment.pk,
            "health": Health.HEALTHY,
        },
    )
    replaced_change: dict[str, Any] | None = None
    if replaced.status == DeploymentStatus.SUCCEEDED:
        updated = Deployment.objects.filter(pk=replaced.pk, revision=replaced.revision).update(
            status=DeploymentStatus.ROLLED_BACK, revision=replaced.revision + 1
        )
        if not updated:
            raise Transient("the replaced deployment changed since this unit read it")
        replaced.status, replaced.revision = DeploymentStatus.ROLLED_BACK, replaced.revision + 1
        replaced_change = {"id": replaced.pk, "status": [DeploymentStatus.SUCCEEDED, DeploymentStatus.ROLLED_BACK]}
    # The summaries both releases embed; this release's goes out with its write below (`_release_follows`).
    release_environments_apply(
        environment=environment, deployments=[deployment, replaced], release_ids=[release.pk], carried=release
    )
    _audit(
        actor=actor,
        action=AuditAction.DEPLOYMENT_ROLLED_BACK,
        object_type="deployment",
        object_id=deployment.pk,
        changes={
            "release": [None, target.release_id],
            "environment": [None, environment.pk],
            "kind": [None, DeploymentKind.ROLLBACK],
            "status": [None, DeploymentStatus.SUCCEEDED],
            "sequence": [None, deployment.sequence],
            "rolled_back_from": [None, release.pk],
            "replaced_deployment": replaced_change or {"id": replaced.pk},
            "restored_deployment": target.pk,
            "reason": reason or "",
            **_health_change(health_before, Health.HEALTHY),
        },
        rows=(deployment,),
    )
    _release_follows(
        release=release,
        environment=environment,
        deployment=deployment,
        actor=actor,
        to=S.ROLLED_BACK,
        from_statuses=(S.DEPLOYED, S.APPROVED),
        action=AuditAction.RELEASE_ROLLED_BACK,
        extra={"reason": reason or ""},
    )
    _sync(caller_release, release)
    _sync(caller_environment, environment)
    return deployment


@unit_of_work
def deployment_report_status(*, deployment: Deployment, actor: Actor, status: str, notes: str = "") -> Deployment:
    """A pipeline reports how an `in_progress` deployment ended: `succeeded` or `failed` (else 409).

    Only the release's team members, the deployment's deployer, an API token scoped to the release's
    team, or a Release Manager may report it (`_check_permission`, issue #10).
    Succeeded: the release becomes the environment's current release and, on a production-tier
    environment, `deployed` — unless a later deployment (or rollback) to the environment has
    started since: then the environment keeps what that one set. Failed on a production-tier
    environment: the environment's health becomes `degraded`. One unit of work.
    """
    if status not in (DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED):
        raise ValidationFailed({"status": ["Report either 'succeeded' or 'failed'."]})
    caller = deployment
    deployment = _fresh(Deployment, deployment.pk, "deployment")
    release = _fresh(Release, deployment.release_id, "release")
    _check_permission(actor, "report_status", release, deployed_by=deployment.deployed_by)
    if deployment.status != DeploymentStatus.IN_PROGRESS:
        raise deployment_in_wrong_status(deployment, "Only an in-progress deployment can report its result")
    environment = _fresh(Environment, deployment.environment_id, "environment")
    now = now_ms()
    # Only while no later deployment has claimed the environment.
    becomes_current = status == DeploymentStatus.SUCCEEDED and environment.deployment_seq == deployment.sequence
    values: dict[str, Any] = {"status": status, "finished_at": now, "revision": deployment.revision + 1}
    if notes:
        values["notes"] = notes
    env_values: dict[str, Any] = {}
    if becomes_current:
        values.update(became_current=True, previous_deployment_id=environment.current_deployment_id)
        env_values = {
            "current_release_id": deployment.release_id,
            "current_deployment_id": deployment.pk,
            "health": Health.HEALTHY,
        }
    elif status == DeploymentStatus.FAILED and environment.tier == Tier.PRODUCTION:
        env_values = {"health": Health.DEGRADED}
    updated = Deployment.objects.filter(
        pk=deployment.pk, revision=deployment.revision, status=DeploymentStatus.IN_PROGRESS
    ).update(**values)
    if not updated:
        raise Transient("the deployment changed since this unit read it")
    if env_values:
        env_values["revision"] = environment.revision + 1
        updated = Environment.objects.filter(pk=environment.pk, revision=environment.revision).update(
            updated_at=now, **env_values
        )
        if not updated:
            raise Transient("the environment changed since this unit read it")
    health_before, current_before = environment.health, environment.current_release_id
    for key, value in env_values.items():
        setattr(environment, key, value)
    changes: dict[str, Any] = {
        "status": [DeploymentStatus.IN_PROGRESS, status],
        "release": deployment.release_id,
        "environment": deployment.environment_id,
    }
    if notes:
        changes["notes"] = [deployment.notes, notes]
    changes.update(_health_change(health_before, env_values.get("health")))
    for key, value in values.items():
        setattr(deployment, key, value)
    _audit(
        actor=actor,
        action=AuditAction.DEPLOYMENT_STATUS_REPORTED,
        object_type="deployment",
        object_id=deployment.pk,
        changes=changes,
        rows=(deployment, release),
    )
    if becomes_current:
        _release_deployed(release=release, environment=environment, deployment=deployment, actor=actor)
    release_environments_apply(environment=environment, deployments=[deployment], release_ids=[current_before])
    _sync(caller, deployment)
    return deployment
