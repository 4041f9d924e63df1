"""The event catalogue (DESIGN §9, issue #11): which audit actions become which events, and what they say.

Every event has a stable `name` (what filters match, e.g. `service.deployed`, `release.*`) and a
`type`: the CDEvents type where the CDEvents spec (0.5.1) has one (`dev.cdevents.service.deployed.0.3.0`),
`dev.opsportal.<name>.v1` otherwise. All share the CDEvents envelope:

    {"context": {"specversion", "id", "source", "type", "timestamp"},
     "subject": {"id", "source", "content": {…}},
     "customData": {"sequence", "action", "actor", "auditEventId", "requestId", "changes"},
     "customDataContentType": "application/json"}

`context.id` is derived from the audit event (`evt_<audit id>_<n>`), so the same event always has the
same id (the `webhook-id` of its deliveries too). `customData.sequence` is the audit event's `seq`:
global and in commit order, what consumers order by and what the stream resumes from.

`drafts_for(audit_event)` runs inside the unit of work that appended the audit event (`events.outbox`):
it describes the release, deployment or environment as that unit wrote them — from the model instances the
service handed to `audit_record(rows=...)`, or else read. Users, groups, tokens, teams, workflows, repairs
and the webhooks themselves are on the audit trail only.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.conf import settings

from audit.actions import AuditAction
from audit.models import AuditEvent

if TYPE_CHECKING:
    from django.db.models import Model

CDEVENTS_SPEC_VERSION = "0.5.1"
A = AuditAction


@dataclass(frozen=True)
class EventType:
    name: str
    type: str
    description: str
    cdevents: bool


def _cd(name: str, version: str, description: str) -> EventType:
    return EventType(name, f"dev.cdevents.{name}.{version}", description, True)


def _own(name: str, description: str) -> EventType:
    return EventType(name, f"dev.opsportal.{name}.v1", description, False)


EVENT_TYPES: tuple[EventType, ...] = (
    _cd("service.deployed", "0.3.0", "A release became the current release of an environment where none ran before."),
    _cd("service.upgraded", "0.3.0", "A release replaced the one that was current on an environment."),
    _cd("service.rolledback", "0.3.0", "An environment was rolled back: the release that ran before is current again."),
    _cd("environment.created", "0.3.0", "An environment was created."),
    _cd("environment.modified", "0.3.0", "An environment was changed (any field; see `customData.changes`)."),
    _cd("environment.deleted", "0.3.0", "An environment was deleted."),
    _cd("incident.detected", "0.3.0", "An incident was reported in an environment (`customData.changes` has it all)."),
    _cd("incident.resolved", "0.3.0", "An incident was resolved."),
    _own("release.created", "A release was created (status `draft`)."),
    _own("release.updated", "A release's fields changed (see `customData.changes`)."),
    _own("release.deleted", "A draft or rejected release was deleted."),
    _own("release.submitted", "A release was submitted for approval."),
    _own("approval.requested", "A release entered `pending_approval`: it waits for a Release Manager."),
    _own("approval.recorded", "An approval was recorded, but the release needs more before it is approved."),
    _own("release.approved", "A release became `approved`."),
    _own(
        "approval.expiring",
        "Approvals of a release stop counting soon under an environment's policy (`expiresAt`; issue #12).",
    ),
    _own("approval.expired", "Approvals of a release stopped counting under an environment's policy (issue #12)."),
    _own("release.rejected", "A release was rejected (`customData.changes.reason`)."),
    _own("release.deployed", "A release became `deployed` (it now runs on a production-tier environment)."),
    _own("release.rolled_back", "A release became `rolled_back` (taken off a production-tier environment)."),
    _own("deployment.started", "A deployment started; its pipeline reports the result later."),
    _own("deployment.succeeded", "A deployment succeeded (at once, or reported by its pipeline)."),
    _own("deployment.failed", "A pipeline reported a deployment as failed."),
    _own("deployment.scheduled", "A deployment was scheduled (`startedAt`: when it runs; issue #12)."),
    _own(
        "deployment.schedule_failed",
        "A scheduled deployment could not run: something blocked it then (`customData.changes.blockers`).",
    ),
    _own("deployment.cancelled", "A scheduled deployment was cancelled before it ran."),
    _own("environment.frozen", "A freeze that blocks this environment was added to the calendar (issue #12)."),
    _own("environment.unfrozen", "A freeze that blocked this environment was removed from the calendar."),
    _own("freeze.started", "An occurrence of a freeze began: deploys to the environment are blocked."),
    _own("freeze.ended", "An occurrence of a freeze ended."),
    _own("environment.health_changed", "An environment's health changed (a deploy, a failure, or an edit)."),
    _own("webhook.test", "Sent by a subscription's test action only; never streamed."),
)
BY_NAME: dict[str, EventType] = {event_type.name: event_type for event_type in EVENT_TYPES}
TEST_EVENT = BY_NAME["webhook.test"]
STREAMED_NAMES = tuple(name for name in BY_NAME if name != TEST_EVENT.name)


def pattern_matches(pattern: str, event_type: EventType) -> bool:
    """`release.*`, `*.deployed`, `service.deployed`, or a full type (`dev.cdevents.service.deployed.0.3.0`)."""
    return fnmatchcase(event_type.name, pattern) or fnmatchcase(event_type.type, pattern)


def names_matching(patterns: list[str] | tuple[str, ...]) -> list[str]:
    """The catalogue names (test event aside) that any of `patterns` matches; no patterns → all."""
    if not patterns:
        return list(STREAMED_NAMES)
    return [name for name in STREAMED_NAMES if any(pattern_matches(p, BY_NAME[name]) for p in patterns)]


# --------------------------------------------------------------------------- payloads


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment is not None else None


def event_id(audit_event_id: str, index: int) -> str:
    return f"evt_{audit_event_id}_{index}"


def envelope(
    *, id: str, event_type: EventType, at: datetime, subject: dict[str, Any], custom: dict[str, Any]
) -> dict[str, Any]:
    """The CDEvents envelope of one event."""
    return {
        "context": {
            "specversion": CDEVENTS_SPEC_VERSION,
            "id": id,
            "source": settings.OPSPORTAL_EVENT_SOURCE,
            "type": event_type.type,
            "timestamp": iso(at),
        },
        "subject": subject,
        "customData": custom,
        "customDataContentType": "application/json",
    }


@dataclass
class Draft:
    """An event about to be written: its name, subject, and what the filters look at."""

    name: str
    subject: dict[str, Any]
    team: str = ""
    environment: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def artifact_id(release: dict[str, Any]) -> str:
    """The release as a package URL (CDEvents `artifactId`): `pkg:generic/<team>@<version>`."""
    return f"pkg:generic/{quote(release.get('team') or 'opsportal', safe='')}@{quote(str(release['version']), safe='')}"


def release_subject(release: dict[str, Any], **content: Any) -> dict[str, Any]:
    return {
        "id": release["id"],
        "source": f"/api/v1/releases/{release['id']}",
        "content": {
            "name": release["name"],
            "version": release["version"],
            "status": release["status"],
            "team": release["team"],
            **content,
        },
    }


def service_subject(release: dict[str, Any], environment_id: str) -> dict[str, Any]:
    """CDEvents `service`: the release (its id) running in an environment."""
    return {
        "id": release["id"],
        "source": f"/api/v1/releases/{release['id']}",
        "content": {
            "environment": {"id": environment_id, "source": f"/api/v1/environments/{environment_id}"},
            "artifactId": artifact_id(release),
        },
    }


def deployment_subject(deployment: dict[str, Any], release: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": deployment["id"],
        "source": f"/api/v1/deployments/{deployment['id']}",
        "content": {
            "release": {"id": release["id"], "name": release["name"], "version": release["version"]},
            "environment": {"id": deployment["environment_id"]},
            "kind": deployment["kind"],
            "status": deployment["status"],
            "sequence": deployment["sequence"],
            "deployedBy": deployment["deployed_by"],
            "pipelineUrl": deployment["pipeline_url"],
            "startedAt": iso(deployment["started_at"]),
            "finishedAt": iso(deployment["finished_at"]),
        },
    }


def environment_subject(
    environment: dict[str, Any], *, cdevents: bool, deleted: bool = False, **content: Any
) -> dict[str, Any]:
    """CDEvents `environment` (`name`, and `uri` but when deleted) for the standard types; ours add their own."""
    body: dict[str, Any] = {"name": environment["name"]}
    if environment.get("url") and not deleted:
        body["uri"] = environment["url"]
    if not cdevents:
        body.update(content)
    return {"id": environment["id"], "source": f"/api/v1/environments/{environment['id']}", "content": body}


# --------------------------------------------------------------------------- audit event → events


def _old(changes: dict[str, Any], key: str) -> Any:
    value = changes.get(key)
    return value[0] if isinstance(value, list) and len(value) == 2 else value


def _new(changes: dict[str, Any], key: str) -> Any:
    value = changes.get(key)
    return value[1] if isinstance(value, list) and len(value) == 2 else value


# The instances handed over by the service for the audit event being described: (model label, pk) → instance.
_handed_over: ContextVar[dict[tuple[str, str], Any]] = ContextVar("opsportal_event_rows", default={})  # noqa: B039 - never mutated
# The test suite turns this on (`opsportal.testing.fixtures`): each handed-over row is compared with the stored one.
VERIFY_HANDED_OVER = False


def _row(model: Any, pk: Any, fields: tuple[str, ...]) -> dict[str, Any] | None:
    """`fields` (attribute names) of the `model` document `pk`: from the instance the service handed over, as
    its unit has just written it (one read less per event, inside the unit), else read."""
    instance = _handed_over.get().get((model._meta.label, str(pk)))
    if instance is None:
        return model.objects.filter(pk=pk).values(*fields).first()
    row = {name: getattr(instance, name) for name in fields}
    if VERIFY_HANDED_OVER:
        stored = model.objects.filter(pk=pk).values(*fields).first()
        if stored != row:
            raise AssertionError(f"{model._meta.label} {pk} handed to audit_record is not as stored: {row} != {stored}")
    return row


def _release_info(release_id: str, changes: dict[str, Any] | None = None) -> dict[str, Any]:
    from releases.models import Release

    row = _row(Release, release_id, ("id", "name", "version", "status", "team_id"))
    if row is not None:
        return {**row, "team": row.pop("team_id") or ""}
    changes = changes or {}  # deleted: what the audit event's snapshot says
    return {
        "id": release_id,
        "name": _old(changes, "name") or "",
        "version": _old(changes, "version") or "",
        "status": "deleted",
        "team": "",
    }


def _on_release(audit: AuditEvent) -> list[Draft]:
    changes = audit.changes or {}
    release = _release_info(audit.object_id, changes)
    environment = changes.get("environment") if isinstance(changes.get("environment"), str) else ""
    team = release["team"]

    def draft(name: str, **content: Any) -> Draft:
        return Draft(name, release_subject(release, **content), team=team, environment=environment)

    action = audit.action
    if action == A.RELEASE_SUBMITTED:
        from releases.selectors import release_required_approvals

        return [draft("release.submitted"), draft("approval.requested", requiredApprovals=release_required_approvals())]
    if action == A.RELEASE_APPROVED:
        if _new(changes, "status") == "approved":
            return [draft("release.approved")]
        approvals = _new(changes, "approvals")
        return [draft("approval.recorded", approvals=approvals, requiredApprovals=changes.get("required_approvals"))]
    if action in (A.RELEASE_APPROVAL_EXPIRING, A.RELEASE_APPROVAL_EXPIRED):
        name = "approval.expiring" if action == A.RELEASE_APPROVAL_EXPIRING else "approval.expired"
        return [draft(name, environment=environment, approvals=changes.get("approvals") or [])]
    if action in (A.RELEASE_DEPLOYED, A.RELEASE_ROLLED_BACK):
        name = "release.deployed" if action == A.RELEASE_DEPLOYED else "release.rolled_back"
        return [draft(name, environment=environment, deployment=changes.get("deployment"))]
    simple = {
        A.RELEASE_CREATED: "release.created",
        A.RELEASE_UPDATED: "release.updated",
        A.RELEASE_DELETED: "release.deleted",
        A.RELEASE_REJECTED: "release.rejected",
    }
    return [draft(simple[action])] if action in simple else []


def _environment_info(environment_id: str, changes: dict[str, Any] | None = None) -> dict[str, Any]:
    from environments.models import Environment

    row = Environment.objects.filter(pk=environment_id).values("id", "name", "url", "tier", "health").first()
    if row is not None:
        return row
    changes = changes or {}
    return {"id": environment_id, "name": _old(changes, "name") or environment_id, "url": "", "tier": "", "health": ""}


def _health_changed(environment_id: str, old: Any, new: Any) -> Draft:
    environment = _environment_info(environment_id)
    subject = environment_subject(environment, cdevents=False, tier=environment["tier"], health=new, previousHealth=old)
    return Draft("environment.health_changed", subject, environment=environment_id)


def _on_environment(audit: AuditEvent) -> list[Draft]:
    changes = audit.changes or {}
    environment = _environment_info(audit.object_id, changes)
    env_id = environment["id"]

    def cdevent(name: str) -> Draft:
        subject = environment_subject(environment, cdevents=True, deleted=name == "environment.deleted")
        return Draft(name, subject, environment=env_id)

    if audit.action == A.ENVIRONMENT_CREATED:
        return [cdevent("environment.created")]
    if audit.action == A.ENVIRONMENT_DELETED:
        return [cdevent("environment.deleted")]
    if audit.action != A.ENVIRONMENT_UPDATED:
        return []
    drafts = [cdevent("environment.modified")]
    if "health" in changes:
        drafts.append(_health_changed(env_id, _old(changes, "health"), _new(changes, "health")))
    return drafts


_DEPLOYMENT_FIELDS = (
    "id",
    "release_id",
    "environment_id",
    "kind",
    "status",
    "sequence",
    "started_at",
    "finished_at",
    "deployed_by",
    "pipeline_url",
    "became_current",
    "previous_deployment_id",
)


_SCHEDULE_EVENTS = {
    A.DEPLOYMENT_SCHEDULED: "deployment.scheduled",
    A.DEPLOYMENT_SCHEDULE_FAILED: "deployment.schedule_failed",
    A.DEPLOYMENT_CANCELLED: "deployment.cancelled",
}


def _on_deployment(audit: AuditEvent) -> list[Draft]:
    from releases.models import Deployment

    changes = audit.changes or {}
    deployment = _row(Deployment, audit.object_id, _DEPLOYMENT_FIELDS)
    if deployment is None:
        return []
    release = _release_info(deployment["release_id"])
    env_id = deployment["environment_id"]
    team = release["team"]

    def about_deployment(name: str) -> Draft:
        return Draft(name, deployment_subject(deployment, release), team=team, environment=env_id)

    def about_service(name: str) -> Draft:
        return Draft(name, service_subject(release, env_id), team=team, environment=env_id)

    became_current = (
        about_service("service.upgraded" if deployment["previous_deployment_id"] else "service.deployed")
        if deployment["became_current"]
        else None
    )
    status = _new(changes, "status")
    drafts: list[Draft] = []
    if audit.action == A.DEPLOYMENT_CREATED:
        drafts.append(about_deployment("deployment.started" if status == "in_progress" else "deployment.succeeded"))
    elif audit.action == A.DEPLOYMENT_STATUS_REPORTED:
        drafts.append(about_deployment("deployment.succeeded" if status == "succeeded" else "deployment.failed"))
    elif audit.action in _SCHEDULE_EVENTS:
        return [about_deployment(_SCHEDULE_EVENTS[audit.action])]
    elif audit.action == A.DEPLOYMENT_ROLLED_BACK:
        drafts.append(about_service("service.rolledback"))
        became_current = None
    else:
        return []
    if became_current is not None and status == "succeeded":
        drafts.append(became_current)
    if "environment_health" in changes:
        drafts.append(_health_changed(env_id, _old(changes, "environment_health"), _new(changes, "environment_health")))
    return drafts


def incident_subject(incident: dict[str, Any], release: dict[str, Any] | None) -> dict[str, Any]:
    """CDEvents `incident` (spec 0.5.1: description, environment, service, artifactId; the rest of the incident,
    its severity and URL, is in `customData.changes`): the release that caused it is the service/artifact."""
    content: dict[str, Any] = {
        "description": incident["title"],
        "environment": {
            "id": incident["environment_id"],
            "source": f"/api/v1/environments/{incident['environment_id']}",
        },
    }
    if release is not None:
        content["service"] = {"id": release["id"], "source": f"/api/v1/releases/{release['id']}"}
        content["artifactId"] = artifact_id(release)
    return {
        "id": incident["id"],
        "source": f"/api/v1/incidents/{incident['id']}",
        "content": content,
    }


def _on_incident(audit: AuditEvent) -> list[Draft]:
    from incidents.models import Incident

    incident = Incident.objects.filter(pk=audit.object_id).values("id", "title", "environment_id", "release_id").first()
    if incident is None or audit.action not in (A.INCIDENT_CREATED, A.INCIDENT_RESOLVED):
        return []
    release = _release_info(incident["release_id"]) if incident["release_id"] else None
    team, env_id = (release or {}).get("team", ""), incident["environment_id"]
    names = ["incident.detected"] if audit.action == A.INCIDENT_CREATED else []
    if audit.action == A.INCIDENT_RESOLVED or _new(audit.changes or {}, "status") == "resolved":
        names.append("incident.resolved")  # also for a past incident reported with its resolution
    return [Draft(name, incident_subject(incident, release), team=team, environment=env_id) for name in names]


def _blocked_environments(changes: dict[str, Any]) -> list[str]:
    """The environments a freeze blocks: as the job recorded them, else from its scope (none: all)."""
    from django.db.models import Q

    from environments.models import Environment

    if "environments_blocked" in changes:
        return list(changes["environments_blocked"])
    ids = _new(changes, "environments") or _old(changes, "environments") or []
    tiers = _new(changes, "tiers") or _old(changes, "tiers") or []
    rows = Environment.objects.order_by("order", "id")
    if ids or tiers:
        rows = rows.filter(Q(pk__in=ids) | Q(tier__in=tiers))
    return list(rows.values_list("id", flat=True))


def _on_freeze(audit: AuditEvent) -> list[Draft]:
    """A freeze added to or removed from the calendar: `environment.frozen` / `environment.unfrozen` for each
    environment it blocks (issue #12); an occurrence starting or ending (the worker): `freeze.started` /
    `freeze.ended`, likewise."""
    changes = audit.changes or {}
    names = {
        A.FREEZE_CREATED: "environment.frozen",
        A.FREEZE_DELETED: "environment.unfrozen",
        A.FREEZE_STARTED: "freeze.started",
        A.FREEZE_ENDED: "freeze.ended",
    }
    name = names.get(audit.action)
    if name is None:
        return []
    freeze = {
        "id": audit.object_id,
        "name": _new(changes, "name") or _old(changes, "name") or audit.object_id,
        "reason": _new(changes, "reason") or _old(changes, "reason") or "",
        "occurrence": changes.get("occurrence"),
    }
    drafts = []
    for env_id in _blocked_environments(changes):
        environment = _environment_info(env_id)
        subject = environment_subject(environment, cdevents=False, freeze=freeze)
        drafts.append(Draft(name, subject, environment=env_id))
    return drafts


_HANDLERS = {
    "release": _on_release,
    "deployment": _on_deployment,
    "environment": _on_environment,
    "incident": _on_incident,
    "freeze": _on_freeze,
}


def drafts_for(audit: AuditEvent, rows: Iterable[Model] = ()) -> list[Draft]:
    """The events `audit` stands for (none for what consumers do not follow). `rows`: model instances the
    event is about, exactly as the unit has just written them (not read back)."""
    handler = _HANDLERS.get(audit.object_type)
    if handler is None:
        return []
    token = _handed_over.set({(row._meta.label, str(row.pk)): row for row in rows})
    try:
        return handler(audit)
    finally:
        _handed_over.reset(token)


def custom_data(audit: AuditEvent, **extra: Any) -> dict[str, Any]:
    return {
        "sequence": audit.seq,
        "action": audit.action,
        "actor": audit.actor,
        "auditEventId": audit.id,
        "requestId": audit.request_id,
        "changes": audit.changes or {},
        **extra,
    }


# --------------------------------------------------------------------------- examples (GET /events/types)

_AT = datetime.fromisoformat("2026-11-20T10:15:00.123+00:00")
_RELEASE = {
    "id": "665f1c2e9b1e8a3d4c5b6a01",
    "name": "Q4 Release",
    "version": "2.4.0",
    "status": "approved",
    "team": "platform-team",
}
_ENVIRONMENT = {"id": "production", "name": "Production", "url": "https://app.example.com", "tier": "production"}
_DEPLOYMENT = {
    "id": "665f1c2e9b1e8a3d4c5b6a55",
    "environment_id": "production",
    "kind": "deploy",
    "status": "succeeded",
    "sequence": 12,
    "deployed_by": "carol",
    "pipeline_url": "https://ci.example.com/runs/981",
    "started_at": _AT,
    "finished_at": _AT,
}


def _example_subject(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(subject, changes) of an example event of `name`."""
    if name.startswith("service."):
        return service_subject(_RELEASE, "production"), {"status": [None, "succeeded"]}
    if name in ("environment.created", "environment.modified", "environment.deleted"):
        subject = environment_subject(_ENVIRONMENT, cdevents=True, deleted=name == "environment.deleted")
        return subject, {"config": [{}, {"replicas": 3}]}
    if name in ("environment.frozen", "environment.unfrozen", "freeze.started", "freeze.ended"):
        occurrence = {"starts_at": "2026-12-19T23:00:00Z", "ends_at": "2026-12-21T23:00:00Z"}
        freeze = {"id": "weekend-freeze", "name": "Weekend freeze", "reason": "No weekend changes"}
        subject = environment_subject(_ENVIRONMENT, cdevents=False, freeze={**freeze, "occurrence": occurrence})
        return subject, {"environments_blocked": ["production"], "occurrence": occurrence}
    if name == "environment.health_changed":
        subject = environment_subject(
            _ENVIRONMENT, cdevents=False, tier="production", health="degraded", previousHealth="healthy"
        )
        return subject, {"status": ["in_progress", "failed"], "environment_health": ["healthy", "degraded"]}
    if name.startswith("deployment."):
        status = {
            "deployment.started": "in_progress",
            "deployment.failed": "failed",
            "deployment.schedule_failed": "failed",
            "deployment.scheduled": "scheduled",
            "deployment.cancelled": "cancelled",
        }.get(name, "succeeded")
        return deployment_subject({**_DEPLOYMENT, "status": status}, _RELEASE), {"status": ["in_progress", status]}
    if name.startswith("incident."):
        incident = {"id": "6761b2c09b1e8a3d4c5b6a80", "title": "Checkout returns 502", "environment_id": "production"}
        status = "open" if name == "incident.detected" else "resolved"
        return incident_subject(incident, _RELEASE), {"status": [None if status == "open" else "open", status]}
    if name == "approval.requested":
        release = {**_RELEASE, "status": "pending_approval"}
        return release_subject(release, requiredApprovals=1), {"status": ["draft", "pending_approval"]}
    if name in ("approval.expiring", "approval.expired"):
        approvals = [{"user": "carol", "at": "2026-11-17T10:15:00.000Z", "expires_at": "2026-11-20T10:15:00.000Z"}]
        return release_subject(_RELEASE, environment="production", approvals=approvals), {
            "environment": "production",
            "approvals": approvals,
        }
    if name == "webhook.test":
        return {
            "id": "665f1c2e9b1e8a3d4c5b6a99",
            "source": "/api/v1/webhooks/665f1c2e9b1e8a3d4c5b6a99",
            "content": {"message": "A test event from Ops Portal."},
        }, {}
    return release_subject(_RELEASE), {"status": ["pending_approval", "approved"]}


_EXAMPLE_ACTIONS = {
    "service.deployed": A.DEPLOYMENT_CREATED,
    "service.upgraded": A.DEPLOYMENT_CREATED,
    "service.rolledback": A.DEPLOYMENT_ROLLED_BACK,
    "environment.modified": A.ENVIRONMENT_UPDATED,
    "environment.frozen": A.FREEZE_CREATED,
    "environment.unfrozen": A.FREEZE_DELETED,
    "freeze.started": A.FREEZE_STARTED,
    "freeze.ended": A.FREEZE_ENDED,
    "environment.health_changed": A.DEPLOYMENT_STATUS_REPORTED,
    "approval.requested": A.RELEASE_SUBMITTED,
    "approval.recorded": A.RELEASE_APPROVED,
    "approval.expiring": A.RELEASE_APPROVAL_EXPIRING,
    "approval.expired": A.RELEASE_APPROVAL_EXPIRED,
    "deployment.started": A.DEPLOYMENT_CREATED,
    "deployment.succeeded": A.DEPLOYMENT_CREATED,
    "deployment.failed": A.DEPLOYMENT_STATUS_REPORTED,
    "incident.detected": A.INCIDENT_CREATED,
    "incident.resolved": A.INCIDENT_RESOLVED,
    "deployment.scheduled": A.DEPLOYMENT_SCHEDULED,
    "deployment.schedule_failed": A.DEPLOYMENT_SCHEDULE_FAILED,
    "deployment.cancelled": A.DEPLOYMENT_CANCELLED,
    "webhook.test": "webhook.test_sent",
}


def example(event_type: EventType) -> dict[str, Any]:
    """A realistic payload of `event_type` (the catalogue's documentation)."""
    subject, changes = _example_subject(event_type.name)
    custom = {
        "sequence": 1042,
        "action": str(_EXAMPLE_ACTIONS.get(event_type.name, event_type.name)),
        "actor": "carol",
        "auditEventId": "665f1c2e9b1e8a3d4c5b6a70",
        "requestId": "9f0c6e1d2b3a4c5d",
        "changes": changes,
    }
    return envelope(id="evt_665f1c2e9b1e8a3d4c5b6a70_0", event_type=event_type, at=_AT, subject=subject, custom=custom)


def catalogue() -> list[dict[str, Any]]:
    """Every event type with its description and an example payload."""
    return [
        {
            "name": event_type.name,
            "type": event_type.type,
            "cdevents": event_type.cdevents,
            "description": event_type.description,
            "example": example(event_type),
        }
        for event_type in EVENT_TYPES
    ]
