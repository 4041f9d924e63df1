"""Every write to releases and deployments (DESIGN §6). Views, serializers and the admin call these.

Each action checks its rule, performs one conditional update (`filter(pk=…, revision=…,
status__in=…).update(…)`, atomic on SQLite and MongoDB alike) and records one audit event.
A refused action raises an `opsportal.errors.ApplicationError` and changes nothing.

Lifecycle (DESIGN §6) and which actions each status allows (`release_allowed_actions`):

    draft            update, delete, submit, approve, reject, deploy, rollback
    pending_approval update, approve, reject, deploy, rollback
    approved         reject, deploy, rollback
    rejected         update, delete, submit, rollback
    deployed         deploy, rollback
    rolled_back      deploy, rollback

`deploy` and `rollback` are further checked against the environment (`release_deploy_check`,
the current release of the environment).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError

from audit.services import audit_record, field_changes, jsonable, now_ms
from environments.choices import Health, Tier
from environments.models import Environment
from opsportal import roles
from opsportal.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from releases.choices import ApprovalDecision, DeploymentKind, DeploymentStatus, ReleaseAction, ReleaseStatus
from releases.models import Deployment, Release
from releases.selectors import release_current_approvals, release_required_approvals
from workflows.models import Workflow

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    Actor = AbstractBaseUser | None

S = ReleaseStatus
A = ReleaseAction

ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    S.DRAFT: (A.UPDATE, A.DELETE, A.SUBMIT, A.APPROVE, A.REJECT, A.DEPLOY, A.ROLLBACK),
    S.PENDING_APPROVAL: (A.UPDATE, A.APPROVE, A.REJECT, A.DEPLOY, A.ROLLBACK),
    S.APPROVED: (A.REJECT, A.DEPLOY, A.ROLLBACK),
    S.REJECTED: (A.UPDATE, A.DELETE, A.SUBMIT, A.ROLLBACK),
    S.DEPLOYED: (A.DEPLOY, A.ROLLBACK),
    S.ROLLED_BACK: (A.DEPLOY, A.ROLLBACK),
}

# Statuses in which an action is allowed (derived from the table above).
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    action: tuple(status for status, actions in ACTIONS_BY_STATUS.items() if action in actions) for action in A.values
}

# Statuses that satisfy an environment's approval requirement.
COUNTS_AS_APPROVED = (S.APPROVED, S.DEPLOYED)

# Fields a client may set on create/update; everything else is owned by the lifecycle.
WRITABLE_FIELDS = ("name", "version", "description", "team", "workflow", "target_date", "features")
_FK_FIELDS = {"team", "workflow"}

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


# --------------------------------------------------------------------------- helpers


def _username(actor: Actor) -> str:
    return actor.get_username() if actor is not None else ""


_ACTION_PHRASES = {
    "create": "create releases",
    A.UPDATE: "edit releases",
    A.DELETE: "delete releases",
    A.SUBMIT: "submit releases",
    A.APPROVE: "approve releases",
    A.REJECT: "reject releases",
    A.DEPLOY: "deploy releases",
    A.ROLLBACK: "roll back releases",
    "override_freeze": "override a freeze window",
    "report_status": "report deployment status",
}
_MANAGER_ONLY = {A.APPROVE, A.REJECT, A.ROLLBACK, "override_freeze"}


def _check_permission(
    actor: Actor, action: str, release: Release | None, *, environment: Environment | None = None
) -> None:
    """Who may do what to a release (issue #4; roles in `opsportal.roles`). Refusals are 403 naming
    the role or team needed.

    Release Managers (and superusers) may do everything. Engineers may create, edit, delete,
    submit and deploy the releases of their teams (a release without a team: its creator), deploy
    only to environments that do not require approval, and report deployment status. Approve,
    reject, roll back and freeze overrides are for Release Managers. Viewers only read.
    """
    phrase = _ACTION_PHRASES.get(action, action)
    if actor is None or not getattr(actor, "is_active", False):
        raise Forbidden(f"You must be signed in to {phrase}.", code="not_authenticated")
    if roles.is_release_manager(actor):
        return
    if action in _MANAGER_ONLY:
        roles.require_release_manager(actor, what=phrase)
    if not roles.is_engineer(actor):
        raise Forbidden(
            f"To {phrase} you need the {roles.ENGINEERS} or {roles.RELEASE_MANAGERS} role.",
            code="role_required",
            required_role=roles.ENGINEERS,
        )
    if release is not None:
        _check_ownership(actor, release, phrase)
    if environment is not None and environment.requires_approval:
        raise Forbidden(
            f"Deploying to {environment.name} (it requires approval) needs the {roles.RELEASE_MANAGERS} role.",
            code="role_required",
            required_role=roles.RELEASE_MANAGERS,
        )


def _check_ownership(actor: Actor, release: Release, phrase: str) -> None:
    """An Engineer acts on the releases of their teams; a release without a team is its creator's."""
    if release.team_id is None:
        if release.created_by and release.created_by != _username(actor):
            raise Forbidden(
                f"This release has no team: only its creator ({release.created_by}) or a Release Manager may {phrase}.",
                code="team_required",
            )
        return
    if release.team_id not in roles.user_team_ids(actor):
        raise Forbidden(
            f"To {phrase} of team '{release.team_id}' you must be a member of that team or a Release Manager.",
            code="team_required",
            required_team=release.team_id,
        )


def _default_team(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """A release created without a team gets the creator's team when they belong to exactly one."""
    if _fk_id(data.get("team")) is not None or actor is None or roles.is_release_manager(actor):
        return data
    teams = roles.user_team_ids(actor)
    return {**data, "team": next(iter(teams))} if len(teams) == 1 else data


def release_allowed_actions(release: Release) -> list[str]:
    """The actions the release's status allows, in a stable order (see the module docstring)."""
    return list(ACTIONS_BY_STATUS.get(release.status, ()))


def _invalid_transition(release: Release, action: str, status: str | None = None) -> Conflict:
    status = status or release.status
    return Conflict(
        f"Cannot {action} a release in status '{status}'.",
        code="invalid_transition",
        status=status,
        allowed_actions=list(ACTIONS_BY_STATUS.get(status, ())),
    )


def _ensure_allowed(release: Release, action: str) -> None:
    if action not in ACTIONS_BY_STATUS.get(release.status, ()):
        raise _invalid_transition(release, action)


def _refused_update(release: Release, action: str, expected_revision: int | None = None) -> Exception:
    """Why a conditional update matched nothing: gone, wrong status, or a stale revision."""
    current = Release.objects.filter(pk=release.pk).values("status", "revision").first()
    if current is None:
        return NotFound("This release no longer exists.")
    if action not in ACTIONS_BY_STATUS.get(current["status"], ()):
        return _invalid_transition(release, action, status=current["status"])
    if expected_revision is not None:
        return PreconditionFailed(
            f"The release is at revision {current['revision']}, not {expected_revision}.",
            revision=current["revision"],
        )
    return Conflict(
        "The release was changed by someone else meanwhile; reload it and try again.",
        code="stale_revision",
        revision=current["revision"],
        status=current["status"],
    )


def _validation_failed(error: DjangoValidationError) -> ValidationFailed:
    if hasattr(error, "error_dict"):
        return ValidationFailed({field: list(messages) for field, messages in error.message_dict.items()})
    return ValidationFailed({"non_field_errors": list(error.messages)})


def _fk_id(value: Any) -> Any:
    """A team/workflow given as an instance, an id or None → its id (or None)."""
    if value is None or value == "":
        return None
    return getattr(value, "pk", value)


def _normalise_features(features: Any) -> Any:
    """Fill the schema defaults (description, tasks, assignee) so every stored feature has one shape."""
    if not isinstance(features, list):
        return features
    out = []
    for feature in features:
        if isinstance(feature, dict):
            feature = {"description": "", "tasks": [], **feature}
            if isinstance(feature["tasks"], list):
                feature["tasks"] = [{"assignee": "", **t} if isinstance(t, dict) else t for t in feature["tasks"]]
        out.append(feature)
    return out


def _release_values(release: Release, fields: Iterable[str]) -> dict[str, Any]:
    """The writable fields of a release as JSON-safe values (foreign keys as ids)."""
    return jsonable(
        {field: getattr(release, f"{field}_id") if field in _FK_FIELDS else getattr(release, field) for field in fields}
    )


def _apply_data(release: Release, data: dict[str, Any]) -> list[str]:
    """Copy the writable fields present in `data` onto `release`; return their names."""
    present = [field for field in WRITABLE_FIELDS if field in data]
    for field in present:
        value = data[field]
        if field in _FK_FIELDS:
            setattr(release, f"{field}_id", _fk_id(value))
        elif field == "features":
            setattr(release, field, _normalise_features(value if value is not None else []))
        elif field == "description":
            setattr(release, field, value or "")
        else:
            setattr(release, field, value)
    return present


def _validate(release: Release, fields: list[str]) -> None:
    """Field validators (embedded-document schemas, lengths, references) and unique version."""
    all_fields = {f.name for f in Release._meta.concrete_fields}
    try:
        release.full_clean(exclude=sorted(all_fields - set(fields)))
    except DjangoValidationError as error:
        raise _validation_failed(error) from None


def _duplicate_version(version: str) -> ValidationFailed:
    return ValidationFailed({"version": [f"A release with version '{version}' already exists."]})


# --------------------------------------------------------------------------- release CRUD


def release_create(*, actor: Actor, data: dict[str, Any]) -> Release:
    """Create a draft release from `data` (name, version, description, team, workflow, target_date,
    features; optionally `id`, else a new ObjectId string). Duplicate version → 400 on `version`."""
    _check_permission(actor, "create", None)
    data = _default_team(actor, data)
    release = Release(status=S.DRAFT, created_by=_username(actor), revision=1)
    if data.get("id"):
        release.id = str(data["id"])
    fields = _apply_data(release, data)
    for required in ("name", "version"):
        if required not in fields:
            fields.append(required)
    _validate(release, [*fields, "id"])
    if not roles.is_release_manager(actor):
        _check_ownership(actor, release, "create releases")
    try:
        # The savepoint only keeps SQLite usable after a collision; the unique index decides.
        with transaction.atomic():
            release.save(force_insert=True)
    except IntegrityError:
        raise _duplicate_version(release.version) from None
    audit_record(
        actor=_username(actor),
        action="release.created",
        object_type="release",
        object_id=release.pk,
        changes=field_changes({}, _release_values(release, ("status", *WRITABLE_FIELDS))),
    )
    return release


def release_update(
    *, release: Release, actor: Actor, data: dict[str, Any], expected_revision: int | None = None
) -> Release:
    """Change the writable fields present in `data` (draft, pending_approval, rejected only).

    One conditional update on the revision the caller read: a concurrent change → 409
    `stale_revision`; `expected_revision` (e.g. from `If-Match`) differing → 412.
    Lifecycle fields (status, approvals, revision, created_by) are never taken from `data`.
    """
    _check_permission(actor, A.UPDATE, release)
    _ensure_allowed(release, A.UPDATE)
    if expected_revision is not None and expected_revision != release.revision:
        raise PreconditionFailed(
            f"The release is at revision {release.revision}, not {expected_revision}.", revision=release.revision
        )
    fields = [field for field in WRITABLE_FIELDS if field in data]
    before = _release_values(release, fields)
    candidate = Release.objects.model(**{f.attname: getattr(release, f.attname) for f in Release._meta.concrete_fields})
    candidate._state.adding = False
    candidate._state.db = release._state.db
    _apply_data(candidate, data)
    changes = field_changes(before, _release_values(candidate, fields))
    if not changes:
        return release
    changed = list(changes)
    _validate(candidate, changed)
    if "team" in changed and not roles.is_release_manager(actor):
        _check_ownership(actor, candidate, "move releases")
    values: dict[str, Any] = {}
    for field in changed:
        if field in _FK_FIELDS:
            values[f"{field}_id"] = getattr(candidate, f"{field}_id")
        else:
            values[field] = getattr(candidate, field)
    revision = release.revision
    try:
        with transaction.atomic():
            updated = Release.objects.filter(
                pk=release.pk, revision=revision, status__in=ALLOWED_FROM[A.UPDATE]
            ).update(**values, revision=revision + 1, updated_at=now_ms())
    except IntegrityError:
        raise _duplicate_version(values.get("version", "")) from None
    if not updated:
        raise _refused_update(release, A.UPDATE, expected_revision)
    audit_record(
        actor=_username(actor),
        action="release.updated",
        object_type="release",
        object_id=release.pk,
        changes={**changes, "revision": [revision, revision + 1]},
    )
    release.refresh_from_db()
    return release


def release_delete(*, release: Release, actor: Actor) -> None:
    """Delete a draft or rejected release. One that has deployments is protected → 409 `protected`."""
    _check_permission(actor, A.DELETE, release)
    _ensure_allowed(release, A.DELETE)
    snapshot = _release_values(release, ("name", "version", "status"))
    try:
        with transaction.atomic():
            deleted, _ = Release.objects.filter(
                pk=release.pk, revision=release.revision, status__in=ALLOWED_FROM[A.DELETE]
            ).delete()
    except ProtectedError:
        raise Conflict(
            "This release has deployments and cannot be deleted.",
            code="protected",
            status=release.status,
            allowed_actions=release_allowed_actions(release),
        ) from None
    if not deleted:
        raise _refused_update(release, A.DELETE)
    audit_record(
        actor=_username(actor),
        action="release.deleted",
        object_type="release",
        object_id=release.pk,
        changes={key: [value, None] for key, value in snapshot.items()},
    )


# --------------------------------------------------------------------------- approval lifecycle


def _change_status(
    *,
    release: Release,
    actor: Actor,
    action: str,
    to: str,
    audit_action: str,
    extra_values: dict[str, Any] | None = None,
    extra_changes: dict[str, Any] | None = None,
) -> Release:
    """One conditional update (status and revision as read) + one audit event."""
    revision = release.revision
    at = now_ms()
    values = {"status": to, "revision": revision + 1, "updated_at": at, **(extra_values or {})}
    updated = Release.objects.filter(pk=release.pk, revision=revision, status__in=ALLOWED_FROM[action]).update(**values)
    if not updated:
        raise _refused_update(release, action)
    changes: dict[str, Any] = {}
    if to != release.status:
        changes["status"] = [release.status, to]
    changes.update(extra_changes or {})
    audit_record(
        actor=_username(actor), action=audit_action, object_type="release", object_id=release.pk, changes=changes
    )
    for key, value in values.items():
        setattr(release, key, value)
    return release


def release_submit(*, release: Release, actor: Actor) -> Release:
    """Submit a draft (or a reworked rejected release) for approval: → pending_approval."""
    _check_permission(actor, A.SUBMIT, release)
    _ensure_allowed(release, A.SUBMIT)
    return _change_status(
        release=release, actor=actor, action=A.SUBMIT, to=S.PENDING_APPROVAL, audit_action="release.submitted"
    )


def release_approve(*, release: Release, actor: Actor, comment: str = "") -> Release:
    """Record an approval (draft or pending_approval); the release becomes `approved` once it has
    as many approvals as required.

    Required = max(1, the largest `min_approvals` among environments that require approval).
    Only approvals since the last rejection count. The creator cannot approve their own release
    (403 `four_eyes`) and nobody approves twice (409 `already_approved`). Until the count is
    reached the status does not change.
    """
    _check_permission(actor, A.APPROVE, release)
    _ensure_allowed(release, A.APPROVE)
    username = _username(actor)
    if release.created_by and username == release.created_by:
        raise Forbidden("You created this release; someone else must approve it (four eyes).", code="four_eyes")
    current = release_current_approvals(release)
    if any(entry.get("user") == username for entry in current):
        raise Conflict(
            "You have already approved this release.",
            code="already_approved",
            status=release.status,
            allowed_actions=release_allowed_actions(release),
        )
    entry = {
        "user": username,
        "decision": ApprovalDecision.APPROVED.value,
        "comment": comment or "",
        "at": now_ms().isoformat().replace("+00:00", "Z"),
    }
    required = release_required_approvals()
    count = len(current) + 1
    to = S.APPROVED if count >= required else release.status
    return _change_status(
        release=release,
        actor=actor,
        action=A.APPROVE,
        to=to,
        audit_action="release.approved",
        extra_values={"approvals": [*(release.approvals or []), entry]},
        extra_changes={"approvals": [count - 1, count], "required_approvals": required, "comment": entry["comment"]},
    )


def release_reject(*, release: Release, actor: Actor, reason: str) -> Release:
    """Reject a draft, pending or approved release (→ rejected); a reason is required (400 `reason`).

    The rejection is recorded among the approvals; approvals given before it no longer count.
    """
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["A reason is required to reject a release."]})
    _check_permission(actor, A.REJECT, release)
    _ensure_allowed(release, A.REJECT)
    entry = {
        "user": _username(actor),
        "decision": ApprovalDecision.REJECTED.value,
        "comment": reason.strip(),
        "at": now_ms().isoformat().replace("+00:00", "Z"),
    }
    return _change_status(
        release=release,
        actor=actor,
        action=A.REJECT,
        to=S.REJECTED,
        audit_action="release.rejected",
        extra_values={"approvals": [*(release.approvals or []), entry]},
        extra_changes={"reason": entry["comment"]},
    )


# --------------------------------------------------------------------------- deployments


def _parse_moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


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
    - `freeze_window`: now is inside one of the environment's freeze windows (`until`: its end).
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

    now = now_ms()
    active = []
    for window in environment.freeze_windows or []:
        starts, ends = _parse_moment(window.get("starts_at")), _parse_moment(window.get("ends_at"))
        if starts is not None and ends is not None and starts <= now < ends:
            active.append((ends, window.get("reason", "")))
    if active:
        until, reason = max(active, key=lambda item: item[0])
        blockers.append(
            {
                "code": BLOCKER_FREEZE_WINDOW,
                "message": f"{environment.name} is frozen until {_iso(until)}" + (f": {reason}" if reason else "."),
                "until": _iso(until),
                "reason": reason,
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


def _audit_deployment(*, actor: Actor, action: str, deployment: Deployment, changes: dict[str, Any]) -> None:
    audit_record(
        actor=_username(actor), action=action, object_type="deployment", object_id=deployment.pk, changes=changes
    )


def _release_follows_production(
    *, release: Release, actor: Actor, to: str, from_statuses: tuple[str, ...], audit_action: str, changes: dict
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
        audit_action="release.deployed",
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
    _audit_deployment(actor=actor, action="deployment.created", deployment=deployment, changes=changes)
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
        action="deployment.rolled_back",
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
            audit_action="release.rolled_back",
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
    _audit_deployment(actor=actor, action="deployment.status_reported", deployment=deployment, changes=changes)
    if became_current and environment.tier == Tier.PRODUCTION:
        release = Release.objects.get(pk=deployment.release_id)
        _release_deployed_to_production(release=release, environment=environment, deployment=deployment, actor=actor)
    deployment.refresh_from_db()
    return deployment
