"""Release create/update/delete and the approval lifecycle (DESIGN §6).

Each action is one unit of work (`opsportal.uow`): it checks its rule, performs one conditional
update (`filter(pk=…, revision=…, status__in=…).update(…)`, on the revision the caller read) and
records one audit event, in one transaction. A refused action raises an
`opsportal.errors.ApplicationError` and changes nothing.

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

import copy
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from audit.actions import AuditAction
from audit.services import audit_record, field_changes, jsonable, now_ms
from environments.policies import creator_may_approve, default_policy
from opsportal import roles
from opsportal.documents import touch_references
from opsportal.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from opsportal.uow import unit_of_work
from releases.approvals import approver_credentials, next_approval_notice, release_content_digest
from releases.choices import ApprovalDecision, ReleaseAction, ReleaseStatus
from releases.history import release_search_text
from releases.models import Release
from releases.selectors import (
    release_approval_policies,
    release_approval_status,
    release_current_approvals,
    release_required_approvals,
)
from releases.services.permissions import _check_ownership, _check_permission, _default_team, _fk_id, _username
from teams.models import Team
from workflows.models import Workflow

if TYPE_CHECKING:
    from releases.services.permissions import Actor

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
            release.search_text = release_search_text(release.features)
        elif field == "description":
            setattr(release, field, value or "")
        else:
            setattr(release, field, value)
    return present


def _validate(release: Release, fields: list[str], *, unique: bool = True) -> None:
    """Field validators (embedded-document schemas, lengths, references) and, with `unique`, unique version."""
    all_fields = {f.name for f in Release._meta.concrete_fields}
    try:
        release.full_clean(exclude=sorted(all_fields - set(fields)), validate_unique=unique)
    except DjangoValidationError as error:
        raise _validation_failed(error) from None


_REFERENCES = {"team": Team, "workflow": Workflow}


def _touch_references(release: Release, fields: Iterable[str]) -> None:
    """The team and workflow the release now names: see `opsportal.documents.touch_references`. One that
    is not there (deleted meanwhile) → 400 on its field, and the unit leaves nothing behind."""
    for field in fields:
        value = getattr(release, f"{field}_id")
        if value and not touch_references(_REFERENCES[field], [value]):
            raise ValidationFailed({field: [f"Unknown {field} '{value}'."]})


def _duplicate_version(version: str) -> ValidationFailed:
    return ValidationFailed({"version": [f"A release with version '{version}' already exists."]})


# --------------------------------------------------------------------------- release CRUD


@unit_of_work
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
    # No read in the unit for what its writes find out anyway: a taken version makes the insert fail, a team
    # or workflow that is gone is not found by `_touch_references` (the view's serializer has checked them
    # already; this catches a concurrent change, one read fewer each). An id the client chose is looked up
    # first: after a failed insert a MongoDB transaction is over, so the collision cannot be told apart then.
    _validate(release, [field for field in (*fields, "id") if field not in _REFERENCES], unique=False)
    if data.get("id") and Release.objects.filter(pk=release.pk).exists():
        raise ValidationFailed({"id": [f"A release with id '{release.pk}' already exists."]})
    if not roles.is_release_manager(actor):
        _check_ownership(actor, release, "create releases")
    try:
        # The savepoint only keeps SQLite usable after a collision; the unique indexes decide.
        with transaction.atomic():
            release.save(force_insert=True)
    except IntegrityError:
        raise _duplicate_version(release.version) from None
    _touch_references(release, ("team", "workflow"))
    audit_record(
        actor=_username(actor),
        action=AuditAction.RELEASE_CREATED,
        object_type="release",
        object_id=release.pk,
        changes=field_changes({}, _release_values(release, ("status", *WRITABLE_FIELDS))),
        rows=[release],
    )
    return release


@unit_of_work
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
    if "features" in changed:
        values["search_text"] = candidate.search_text
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
    _touch_references(candidate, [field for field in ("team", "workflow") if field in changed])
    audit_record(
        actor=_username(actor),
        action=AuditAction.RELEASE_UPDATED,
        object_type="release",
        object_id=release.pk,
        changes={**changes, "revision": [revision, revision + 1]},
    )
    release.refresh_from_db()
    return release


@unit_of_work
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
    except (ProtectedError, IntegrityError):
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
        action=AuditAction.RELEASE_DELETED,
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
    audit_action: AuditAction,
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
    # The caller's instance changes only once the whole unit has gone through (a failed append leaves it as read).
    written = copy.copy(release)
    for key, value in values.items():
        setattr(written, key, value)
    audit_record(
        actor=_username(actor),
        action=audit_action,
        object_type="release",
        object_id=release.pk,
        changes=changes,
        rows=[written],
    )
    for key, value in values.items():
        setattr(release, key, value)
    return release


@unit_of_work
def release_submit(*, release: Release, actor: Actor) -> Release:
    """Submit a draft (or a reworked rejected release) for approval: → pending_approval."""
    _check_permission(actor, A.SUBMIT, release)
    _ensure_allowed(release, A.SUBMIT)
    return _change_status(
        release=release, actor=actor, action=A.SUBMIT, to=S.PENDING_APPROVAL, audit_action=AuditAction.RELEASE_SUBMITTED
    )


def _approval_targets(policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What `approved` means: every policy with rules met; without any, one Release Manager's approval."""
    return policies or [{"environment": "", "name": "", "policy": default_policy()}]


@unit_of_work
def release_approve(*, release: Release, actor: Actor, comment: str = "") -> Release:
    """Record an approval (draft or pending_approval); the release becomes `approved` once the current
    approvals meet the approval policy of every environment that asks for approvals (issue #12; without
    any, one Release Manager's approval).

    The approval records the digest of the content approved and the approver's groups and teams (what
    the policies' rules match on). Only approvals since the last rejection count. The creator cannot
    approve their own release (403 `four_eyes`) unless every policy allows it — no bypass for
    superusers or staff — and nobody approves twice (409 `already_approved`). Until the policies are
    met the status does not change. Approvers: Release Managers, and members of a group or team that a
    policy's rule names.
    """
    _check_permission(actor, A.APPROVE, release)
    _ensure_allowed(release, A.APPROVE)
    username = _username(actor)
    policies = release_approval_policies()
    if release.created_by and username == release.created_by and not creator_may_approve(policies):
        raise Forbidden("You created this release; someone else must approve it (four eyes).", code="four_eyes")
    current = release_current_approvals(release)
    if any(entry.get("user") == username for entry in current):
        raise Conflict(
            "You have already approved this release.",
            code="already_approved",
            status=release.status,
            allowed_actions=release_allowed_actions(release),
        )
    at = now_ms()
    entry = {
        "user": username,
        "decision": ApprovalDecision.APPROVED.value,
        "comment": comment or "",
        "at": at.isoformat().replace("+00:00", "Z"),
        "digest": release_content_digest(release),
        **approver_credentials(actor),
    }
    approvals = [*(release.approvals or []), entry]
    after = Release(**{**{f.attname: getattr(release, f.attname) for f in Release._meta.concrete_fields}})
    after.approvals = approvals
    status = release_approval_status(after, policies=_approval_targets(policies), at=at)
    required = release_required_approvals(policies=policies)
    count = len(current) + 1
    to = S.APPROVED if all(entry["met"] for entry in status) else release.status
    return _change_status(
        release=release,
        actor=actor,
        action=A.APPROVE,
        to=to,
        audit_action=AuditAction.RELEASE_APPROVED,
        extra_values={"approvals": approvals, "approval_notice_at": next_approval_notice(approvals, policies)},
        extra_changes={
            "approvals": [count - 1, count],
            "required_approvals": required,
            "comment": entry["comment"],
            "digest": entry["digest"],
            "unmet_rules": [
                {"environment": env["environment"], **rule}
                for env in status
                for rule in env["rules"]
                if not rule["met"]
            ],
        },
    )


@unit_of_work
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
        audit_action=AuditAction.RELEASE_REJECTED,
        extra_values={"approvals": [*(release.approvals or []), entry]},
        extra_changes={"reason": entry["comment"]},
    )
