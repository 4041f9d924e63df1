"""Incidents (issue #13): report, edit and resolve. Each write is one unit of work with its audit event.

Who may: Release Managers (and superusers) any incident; Engineers of the environment's teams; API
tokens with the `report_incidents` scope naming one of those teams (their owner's rights apply too).
The environment's teams are the teams whose releases were deployed there, plus the team of the release
the incident is linked to. Viewers only read.

Creating one appends `incident.created` (the event catalogue sends CDEvents `incident.detected`, and
`incident.resolved` too for a past incident reported with its `resolved_at`); resolving appends
`incident.resolved`. Updates and resolves are conditional on the revision read inside the unit (DESIGN
§3): of two resolves racing, one wins and the other gets 409 `invalid_transition`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from audit.actions import AuditAction
from audit.services import audit_record
from environments.models import Environment
from incidents.choices import IncidentStatus
from incidents.models import Incident
from opsportal import roles
from opsportal.clock import now_ms
from opsportal.documents import refused_write, touch_references
from opsportal.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from opsportal.uow import Transient, unit_of_work
from releases.models import Deployment, Release
from tokens.choices import TokenScope
from tokens.permissions import actor_token, require_token_scope, token_scope_refused

# How far in the future a reported time may be (clocks of CI runners and pagers drift).
CLOCK_SKEW = timedelta(minutes=5)
EDITABLE_FIELDS = (
    "title",
    "description",
    "severity",
    "environment",
    "deployment",
    "started_at",
    "external_id",
    "url",
)
# What the audit event and the API show of an incident (ids for the references).
AUDITED_FIELDS = (*EDITABLE_FIELDS, "release", "status", "resolved_at")


def _username(actor: Any) -> str:
    return actor.get_username() if actor is not None else ""


def _ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _pk(value: Any) -> Any:
    if value is None or value == "":
        return None
    return getattr(value, "pk", value)


def _snapshot(incident: Incident) -> dict[str, Any]:
    return {field: getattr(incident, f"{field}_id" if field in _REFERENCES else field) for field in AUDITED_FIELDS}


_REFERENCES = ("environment", "deployment", "release")


# --------------------------------------------------------------------------- permissions


def _ships_to(environment_id: str, team_ids: set[str]) -> set[str]:
    """Which of `team_ids` have had a release deployed to the environment (one `exists` query per team: the
    teams of a user or a token are few)."""
    return {
        team_id
        for team_id in sorted(team_ids)
        if Deployment.objects.filter(environment_id=environment_id, release__team_id=team_id).exists()
    }


def _check_permission(actor: Any, *, environment: Environment, release: Release | None, what: str) -> None:
    """Refuse `what` (403) unless `actor` may report incidents in `environment` (see the module docstring)."""
    if actor is None or not getattr(actor, "is_active", False):
        raise Forbidden(f"You must be signed in to {what}.", code="not_authenticated")
    # The linked release's team belongs to the environment's teams even before its first success there.
    linked = {release.team_id} if release is not None and release.team_id else set()
    token = actor_token(actor)
    if token is not None:
        # The scope first (403 naming it); the teams below, against the environment's.
        require_token_scope(actor, TokenScope.REPORT_INCIDENTS, team_id=next(iter(token.teams), None), what=what)
        allowed = (set(token.teams) & linked) or _ships_to(environment.pk, set(token.teams) - linked)
        if not allowed:
            raise token_scope_refused(
                f"This API token may report incidents only for teams {', '.join(token.teams) or '(none)'}, "
                f"and none of them deploys to {environment.name}."
            )
    if roles.is_release_manager(actor):
        return
    if not roles.is_engineer(actor):
        raise Forbidden(
            f"To {what} you need the {roles.ENGINEERS} or {roles.RELEASE_MANAGERS} role.",
            code="role_required",
            required_role=roles.ENGINEERS,
        )
    mine = set(roles.user_team_ids(actor))
    if not ((mine & linked) or _ships_to(environment.pk, mine - linked)):
        raise Forbidden(
            f"To {what} in {environment.name} you must be a member of a team that deploys there "
            "(or a Release Manager).",
            code="team_required",
        )


# --------------------------------------------------------------------------- validation


def _validation_failed(error: DjangoValidationError) -> ValidationFailed:
    return ValidationFailed({field: [str(m) for m in messages] for field, messages in error.message_dict.items()})


def _references(*, environment_id: Any, deployment_id: Any) -> tuple[Environment, Deployment | None, Release | None]:
    """The environment, deployment and release an incident names, read inside the unit (400 when unknown
    or inconsistent). Without an environment, the deployment's is used."""
    deployment = None
    if deployment_id is not None:
        deployment = Deployment.objects.filter(pk=deployment_id).first()
        if deployment is None:
            raise ValidationFailed({"deployment": [f"No deployment has the id '{deployment_id}'."]})
        environment_id = environment_id or deployment.environment_id
    if environment_id is None:
        raise ValidationFailed({"environment": ["Name the environment (or the deployment that caused the incident)."]})
    environment = Environment.objects.filter(pk=environment_id).first()
    if environment is None:
        raise ValidationFailed({"environment": [f"No environment has the id '{environment_id}'."]})
    if deployment is not None and deployment.environment_id != environment.pk:
        raise ValidationFailed(
            {
                "deployment": [
                    f"Deployment {deployment.pk} went to '{deployment.environment_id}', not '{environment.pk}'."
                ]
            }
        )
    release = Release.objects.filter(pk=deployment.release_id).first() if deployment is not None else None
    return environment, deployment, release


def _check_times(incident: Incident, deployment: Deployment | None) -> None:
    now = now_ms()
    errors: dict[str, list[str]] = {}
    if incident.started_at > now + CLOCK_SKEW:
        errors["started_at"] = ["An incident cannot start in the future."]
    if deployment is not None and incident.started_at < deployment.started_at:
        errors.setdefault("started_at", []).append(
            f"The incident started before deployment {deployment.pk} it is linked to "
            f"({deployment.started_at.isoformat().replace('+00:00', 'Z')})."
        )
    if incident.resolved_at is not None:
        if incident.resolved_at < incident.started_at:
            errors["resolved_at"] = ["An incident is resolved after it started."]
        elif incident.resolved_at > now + CLOCK_SKEW:
            errors["resolved_at"] = ["An incident cannot be resolved in the future."]
    if errors:
        raise ValidationFailed(errors)


def _clean(incident: Incident, deployment: Deployment | None) -> None:
    incident.external_id = (incident.external_id or "").strip() or None
    try:
        incident.clean_fields(exclude=["id", "environment", "deployment", "release"])
    except DjangoValidationError as error:
        raise _validation_failed(error) from None
    _check_times(incident, deployment)


def _duplicate(external_id: str | None) -> Conflict:
    existing = Incident.objects.filter(external_id=external_id).values_list("id", flat=True).first()
    return Conflict(
        f"An incident with the external id '{external_id}' was already reported ({existing}).",
        code="duplicate_incident",
        incident=existing,
    )


def _save_new(incident: Incident) -> None:
    try:
        with transaction.atomic():  # a savepoint on SQLite; on MongoDB the unit's transaction
            incident.save(force_insert=True)
    except IntegrityError as error:
        raise Transient("another incident took this id") from error


# --------------------------------------------------------------------------- services


@unit_of_work
def incident_create(*, actor: Any, data: dict[str, Any]) -> Incident:
    """Report an incident (one unit of work, audited `incident.created`).

    `data`: `title`, `severity`, `environment` and/or `deployment` (the deployment that caused it; its
    environment is used when none is named), `started_at` (default now), optionally `resolved_at` (a
    past incident), `description`, `external_id` (unique: 409 `duplicate_incident`), `url`.
    """
    environment, deployment, release = _references(
        environment_id=_pk(data.get("environment")), deployment_id=_pk(data.get("deployment"))
    )
    _check_permission(actor, environment=environment, release=release, what="report incidents")
    now = now_ms()
    resolved_at = data.get("resolved_at")
    incident = Incident(
        title=(data.get("title") or "").strip(),
        description=data.get("description") or "",
        environment_id=environment.pk,
        deployment_id=deployment.pk if deployment else None,
        release_id=release.pk if release else None,
        started_at=_ms(data.get("started_at") or now),
        resolved_at=_ms(resolved_at) if resolved_at else None,
        external_id=data.get("external_id"),
        url=data.get("url") or "",
        reported_by=_username(actor),
        created_at=now,
        updated_at=now,
    )
    if data.get("severity"):
        incident.severity = data["severity"]
    if incident.resolved_at is not None:
        incident.status = IncidentStatus.RESOLVED
        incident.resolved_by = _username(actor)
    _clean(incident, deployment)
    if incident.external_id and Incident.objects.filter(external_id=incident.external_id).exists():
        raise _duplicate(incident.external_id)  # refused before anything is written
    touch_references(Environment, [environment.pk])  # a concurrent delete of the environment cannot commit
    _save_new(incident)
    audit_record(
        actor=_username(actor),
        action=AuditAction.INCIDENT_CREATED,
        object_type="incident",
        object_id=incident.pk,
        changes={field: [None, value] for field, value in _snapshot(incident).items() if value not in (None, "")},
    )
    return incident


def _fresh(incident: Incident, expected_revision: int | None) -> Incident:
    fresh = Incident.objects.filter(pk=incident.pk).first()
    if fresh is None:
        raise NotFound(f"Incident {incident.pk!r} no longer exists.")
    if expected_revision is not None and fresh.revision != expected_revision:
        raise PreconditionFailed(
            f"Incident {incident.pk!r} is at revision {fresh.revision}, not {expected_revision}.",
            revision=fresh.revision,
        )
    return fresh


def _write(incident: Incident, read_revision: int, values: dict[str, Any], **condition: Any) -> None:
    """Write `values` conditionally on the revision read in this unit (else the unit runs again)."""
    values = {**values, "revision": read_revision + 1, "updated_at": now_ms()}
    try:
        with transaction.atomic():
            updated = Incident.objects.filter(pk=incident.pk, revision=read_revision, **condition).update(**values)
    except IntegrityError:
        raise _duplicate(values.get("external_id")) from None
    if not updated:
        if not Incident.objects.filter(pk=incident.pk).exists():
            raise refused_write(Incident, incident.pk)
        raise Transient("the incident changed since this unit read it")
    for key, value in values.items():
        setattr(incident, key, value)


@unit_of_work
def incident_update(
    *, incident: Incident, actor: Any, data: dict[str, Any], expected_revision: int | None = None
) -> Incident:
    """Change an incident's editable fields (`EDITABLE_FIELDS`; linking it to the deployment that caused it
    after triage, a corrected start, a new severity…), conditionally on `expected_revision` (412 when stale).
    Resolving is `incident_resolve`. One unit of work, audited `incident.updated` with the changed fields."""
    caller = incident
    expected_revision = data.get("revision", expected_revision)
    incident = _fresh(incident, expected_revision)
    before = _snapshot(incident)
    _, _, release_before = _references(environment_id=incident.environment_id, deployment_id=incident.deployment_id)
    environment_before = Environment.objects.get(pk=incident.environment_id)
    _check_permission(actor, environment=environment_before, release=release_before, what="edit incidents")
    unknown = sorted(set(data) - set(EDITABLE_FIELDS) - {"revision"})
    if unknown:
        raise ValidationFailed({field: ["This field cannot be changed here."] for field in unknown})
    environment_id = _pk(data["environment"]) if "environment" in data else incident.environment_id
    deployment_id = _pk(data["deployment"]) if "deployment" in data else incident.deployment_id
    if "environment" in data and "deployment" not in data and environment_id != incident.environment_id:
        deployment_id = None  # the old link named the old environment
    environment, deployment, release = _references(environment_id=environment_id, deployment_id=deployment_id)
    if environment.pk != environment_before.pk or release != release_before:
        _check_permission(actor, environment=environment, release=release, what="edit incidents")
    for field in ("title", "description", "severity", "external_id", "url"):
        if field in data:
            setattr(incident, field, data[field] if data[field] is not None or field == "external_id" else "")
    if "title" in data:
        incident.title = (incident.title or "").strip()
    if data.get("started_at"):
        incident.started_at = _ms(data["started_at"])
    incident.environment_id = environment.pk
    incident.deployment_id = deployment.pk if deployment else None
    incident.release_id = release.pk if release else None
    _clean(incident, deployment)
    changes = {field: [before[field], value] for field, value in _snapshot(incident).items() if before[field] != value}
    if not changes:
        _sync(caller, incident)
        return incident
    values = {field if field not in _REFERENCES else f"{field}_id": value[1] for field, value in changes.items()}
    if incident.environment_id != environment_before.pk:
        touch_references(Environment, [incident.environment_id])
    _write(incident, incident.revision, values)
    audit_record(
        actor=_username(actor),
        action=AuditAction.INCIDENT_UPDATED,
        object_type="incident",
        object_id=incident.pk,
        changes=changes,
    )
    _sync(caller, incident)
    return incident


@unit_of_work
def incident_resolve(
    *,
    incident: Incident,
    actor: Any,
    resolved_at: datetime | None = None,
    expected_revision: int | None = None,
) -> Incident:
    """Resolve an open incident at `resolved_at` (default now; not before it started, not in the future).
    Already resolved → 409 `invalid_transition`. One unit of work, audited `incident.resolved` (CDEvents
    `incident.resolved`)."""
    caller = incident
    incident = _fresh(incident, expected_revision)
    environment, deployment, release = _references(
        environment_id=incident.environment_id, deployment_id=incident.deployment_id
    )
    _check_permission(actor, environment=environment, release=release, what="resolve incidents")
    if incident.status == IncidentStatus.RESOLVED:
        raise Conflict(
            f"Incident {incident.pk} was already resolved at "
            f"{incident.resolved_at.isoformat().replace('+00:00', 'Z')} by {incident.resolved_by or 'someone'}.",
            code="invalid_transition",
            status=incident.status,
            allowed_actions=[],
        )
    incident.resolved_at = _ms(resolved_at or now_ms())
    _check_times(incident, deployment)
    values = {
        "status": IncidentStatus.RESOLVED,
        "resolved_at": incident.resolved_at,
        "resolved_by": _username(actor),
    }
    _write(incident, incident.revision, values, status=IncidentStatus.OPEN)
    audit_record(
        actor=_username(actor),
        action=AuditAction.INCIDENT_RESOLVED,
        object_type="incident",
        object_id=incident.pk,
        changes={
            "status": [IncidentStatus.OPEN, IncidentStatus.RESOLVED],
            "resolved_at": [None, incident.resolved_at],
            "environment": incident.environment_id,
            "deployment": incident.deployment_id,
            "release": incident.release_id,
        },
    )
    _sync(caller, incident)
    return incident


def _sync(caller: Incident, fresh: Incident) -> None:
    if caller is not fresh:
        for field in fresh._meta.concrete_fields:
            setattr(caller, field.attname, getattr(fresh, field.attname))
