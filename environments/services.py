"""Writes on environments: create, update, delete (each one write + one audit event, through
`opsportal.documents`). Only Release Managers (and superusers) manage environments; the
deployment services alone move `current_release`, `current_deployment` and `deployment_seq`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q

from environments.calendar import occurrences, rrule_error, zone
from environments.choices import Tier
from environments.models import Environment, Freeze
from environments.policies import POLICY_DEFAULTS, policy_requires_approval
from opsportal.documents import DocumentKind, DocumentServices, Errors, editable_fields, model_errors
from opsportal.errors import ValidationFailed
from opsportal.roles import require_release_manager
from opsportal.schemas import schema_errors
from opsportal.uow import unit_of_work
from teams.models import Team
from workflows.models import Workflow

DERIVED_FIELDS = ("current_release", "current_deployment", "deployment_seq", "requires_approval")
EDITABLE_FIELDS = editable_fields(Environment, exclude=DERIVED_FIELDS)


def _validate(candidate: Environment) -> Errors:
    """Schema, field and cross-field rules on the environment as it would be saved; the approval policy
    is stored with every key, and `requires_approval` derived from it."""
    errors: Errors = {}
    if isinstance(candidate.approval_policy, dict):
        # Every key stored (the defaults of those not given); the schema then checks the whole policy.
        policy = {**POLICY_DEFAULTS, **candidate.approval_policy}
        if isinstance(policy["rules"], list):
            policy["rules"] = [{"name": "", **rule} if isinstance(rule, dict) else rule for rule in policy["rules"]]
        candidate.approval_policy = policy
        if not schema_errors("environments.schemas.APPROVAL_POLICY", "approval_policy", candidate.approval_policy):
            errors["approval_policy"] = _policy_errors(candidate.approval_policy)
    candidate.requires_approval = policy_requires_approval(candidate.approval_policy)
    return model_errors(candidate, errors, exclude=DERIVED_FIELDS)


def _policy_errors(policy: dict[str, Any]) -> list[str]:
    """Rules that name a team that does not exist, or a role group that does not exist."""
    from django.contrib.auth.models import Group

    rules = [rule for rule in policy.get("rules") or [] if isinstance(rule, dict)]
    teams = {rule["team"] for rule in rules if isinstance(rule.get("team"), str)}
    groups = {rule["group"] for rule in rules if isinstance(rule.get("group"), str)}
    known_teams = set(Team.objects.filter(pk__in=teams).values_list("id", flat=True)) if teams else set()
    known_groups = set(Group.objects.filter(name__in=groups).values_list("name", flat=True)) if groups else set()
    errors = []
    for index, rule in enumerate(rules):
        if isinstance(rule.get("team"), str) and rule["team"] not in known_teams:
            errors.append(f"rules[{index}].team: no team '{rule['team']}'.")
        if isinstance(rule.get("group"), str) and rule["group"] not in known_groups:
            errors.append(f"rules[{index}].group: no group '{rule['group']}'.")
    return errors


def _references(environment: Environment) -> dict[str, Any]:
    """What refers to the environment besides its deployments: the release deployed there, workflow stages."""
    blockers: dict[str, Any] = {}
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
    if "incidents" in blockers:
        parts.append(f"{blockers['incidents']} incident(s) refer to it")
    if "workflows" in blockers:
        parts.append(f"workflow(s) {', '.join(blockers['workflows'])} have a stage there")
    return "; ".join(parts)


ENVIRONMENTS = DocumentKind(
    Environment,
    EDITABLE_FIELDS,
    _validate,
    _describe_blockers,
    _references,
    manage="manage environments",
    derived=("requires_approval",),
)


def environment_create(*, actor: Any, data: dict[str, Any]) -> Environment:
    """Create an environment; its id defaults to the slug of its name, derived fields start empty."""
    return ENVIRONMENTS.create(actor=actor, data=data)


def environment_update(
    *, environment: Environment, actor: Any, data: dict[str, Any], expected_revision: int | None = None
) -> Environment:
    """Change an environment's editable fields, conditionally on its revision (see `DocumentKind.update`).

    Changing the approval policy takes effect on the next deploy check.
    """
    return ENVIRONMENTS.update(document=environment, actor=actor, data=data, expected_revision=expected_revision)


def environment_delete(*, environment: Environment, actor: Any) -> None:
    """Delete an environment nothing refers to: no deployments, no current release, in no workflow (else 409)."""
    ENVIRONMENTS.delete(document=environment, actor=actor)


SERVICES = DocumentServices(environment_create, environment_update, environment_delete, manage=ENVIRONMENTS.manage)


# --------------------------------------------------------------------------- the freeze calendar (issue #12)

FREEZE_EDITABLE_FIELDS = editable_fields(Freeze)


def _freeze_errors(candidate: Freeze) -> Errors:
    """Timing (one-off or recurring, a real time zone and RRULE), scope (known environments and teams)."""
    errors: Errors = {"timezone": [], "rrule": [], "ends_at": [], "duration_minutes": [], "environments": []}
    if zone(candidate.timezone) is None:
        errors["timezone"].append(f"'{candidate.timezone}' is not an IANA time zone (e.g. Europe/Berlin).")
    starts = candidate.starts_at if isinstance(candidate.starts_at, datetime) else None
    if candidate.rrule:
        if starts is not None and (problem := rrule_error(candidate.rrule, starts)):
            errors["rrule"].append(problem)
        if not candidate.duration_minutes:
            errors["duration_minutes"].append("A recurring freeze needs the length of each occurrence.")
        if candidate.ends_at is not None:
            errors["ends_at"].append("A recurring freeze ends with its rule (UNTIL or COUNT), not ends_at.")
    else:
        if candidate.ends_at is None:
            errors["ends_at"].append("A one-off freeze needs ends_at (or give an rrule to make it recurring).")
        elif starts is not None and isinstance(candidate.ends_at, datetime) and candidate.ends_at <= starts:
            errors["ends_at"].append("must be after starts_at.")
        if candidate.duration_minutes:
            errors["duration_minutes"].append("Only recurring freezes have a duration; one-offs have ends_at.")
    errors["tiers"] = [f"no tier '{tier}'." for tier in candidate.tiers or [] if tier not in Tier.values]
    for field, model in (("environments", Environment), ("teams", Team)):
        ids = [value for value in getattr(candidate, field) or [] if isinstance(value, str)]
        known = set(model.objects.filter(pk__in=ids).values_list("id", flat=True)) if ids else set()
        errors.setdefault(field, []).extend(
            f"no {model._meta.model_name} '{value}'." for value in ids if value not in known
        )
    return model_errors(candidate, errors)


def _freeze_scope(freeze: Freeze) -> dict[type, list[str]]:
    """The environments a freeze blocks: touched by every write, so a deploy there that read the calendar
    before this write cannot also commit on MongoDB (DESIGN §3); and the teams it names."""
    environments = Environment.objects.all()
    if freeze.environments or freeze.tiers:
        environments = environments.filter(Q(pk__in=freeze.environments or []) | Q(tier__in=freeze.tiers or []))
    return {Environment: list(environments.values_list("id", flat=True)), Team: list(freeze.teams or [])}


FREEZES = DocumentKind(
    Freeze,
    FREEZE_EDITABLE_FIELDS,
    _freeze_errors,
    "it cannot be protected",
    manage="manage freezes",
    refers_to=_freeze_scope,
)


def freeze_create(*, actor: Any, data: dict[str, Any]) -> Freeze:
    """Add a freeze to the calendar (Release Managers); `created_by` is the actor. Audited, one unit of work."""
    return FREEZES.create(actor=actor, data={**data, "created_by": getattr(actor, "username", "") or ""})


def freeze_update(*, freeze: Freeze, actor: Any, data: dict[str, Any], expected_revision: int | None = None) -> Freeze:
    """Change a freeze (its timing, scope, reason), conditionally on its revision; `created_by` stays."""
    data = {key: value for key, value in data.items() if key != "created_by"}
    return FREEZES.update(document=freeze, actor=actor, data=data, expected_revision=expected_revision)


def freeze_delete(*, freeze: Freeze, actor: Any) -> None:
    """Remove a freeze from the calendar (its past occurrences stay in the audit trail)."""
    FREEZES.delete(document=freeze, actor=actor)


FREEZE_SERVICES = DocumentServices(freeze_create, freeze_update, freeze_delete, manage=FREEZES.manage)


# --------------------------------------------------------------------------- holiday calendars (.ics)

MAX_ICS_BYTES = 1_000_000
MAX_ICS_EVENTS = 1000


def _ics_moment(value: Any, tz: Any) -> datetime | None:
    """A DTSTART/DTEND value as an aware datetime: a date is local midnight in `tz`; a floating time is in `tz`."""
    from datetime import date, time

    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=tz)
    return None


def _ics_freeze(event: Any, tz: Any, tz_name: str) -> dict[str, Any]:
    """One VEVENT as the fields of a freeze (one-off, or recurring with its RRULE and EXDATEs)."""
    uid = str(event.get("uid") or "")
    summary = str(event.get("summary") or uid or "Imported freeze")
    starts = _ics_moment(event.decoded("dtstart", None), tz)
    if starts is None:
        raise ValidationFailed({"file": [f"Event {uid or summary!r} has no DTSTART."]})
    if event.get("dtend") is not None:
        ends = _ics_moment(event.decoded("dtend"), tz)
    elif event.get("duration") is not None:
        ends = starts + event.decoded("duration")
    else:
        ends = starts + timedelta(days=1)  # an all-day event without an end lasts its day (RFC 5545 3.6.1)
    fields: dict[str, Any] = {"starts_at": starts, "timezone": tz_name, "source": f"ics:{uid or summary}"[:300]}
    if event.get("rrule") is not None:
        minutes = max(1, int((ends - starts).total_seconds() // 60))
        rule = event.get("rrule").to_ical().decode()
        exdates = []
        for group in event.get("exdate") if isinstance(event.get("exdate"), list) else [event.get("exdate")]:
            for item in getattr(group, "dts", []) if group is not None else []:
                moment = _ics_moment(item.dt, tz)
                exdates.append(moment.astimezone(tz).replace(tzinfo=None).isoformat())
        fields.update(rrule=rule, duration_minutes=minutes, exdates=exdates, ends_at=None)
    else:
        fields.update(ends_at=ends, rrule="", duration_minutes=None, exdates=[])
    return {"name": summary[:150], "reason": summary[:500], **fields}


@unit_of_work
def freezes_import_ics(
    *,
    actor: Any,
    content: bytes,
    timezone: str = "UTC",
    environments: list[str] | None = None,
    tiers: list[str] | None = None,
    teams: list[str] | None = None,
) -> dict[str, list[str]]:
    """Import an iCalendar file (e.g. a public-holiday calendar) as freezes, all or nothing: each VEVENT
    becomes a freeze (all-day events: local midnight to midnight in `timezone`; RRULE/EXDATE kept),
    scoped as given. A freeze imported before from the same event (its `UID`) is updated instead, so a
    calendar can be imported again. Returns the ids created and updated."""
    import icalendar

    require_release_manager(actor, what=FREEZES.manage)
    tz = zone(timezone)
    if tz is None:
        raise ValidationFailed({"timezone": [f"'{timezone}' is not an IANA time zone (e.g. Europe/Berlin)."]})
    if len(content) > MAX_ICS_BYTES:
        raise ValidationFailed({"file": [f"At most {MAX_ICS_BYTES:,} bytes."]})
    try:
        calendar = icalendar.Calendar.from_ical(content.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, IndexError, KeyError) as error:
        raise ValidationFailed({"file": [f"Not an iCalendar file: {str(error)[:200]}"]}) from None
    events = list(calendar.walk("VEVENT"))
    if not events or len(events) > MAX_ICS_EVENTS:
        raise ValidationFailed({"file": [f"An iCalendar file with 1 to {MAX_ICS_EVENTS} events (VEVENT)."]})
    scope = {"environments": environments or [], "tiers": tiers or [], "teams": teams or []}
    answer: dict[str, list[str]] = {"created": [], "updated": []}
    for event in events:
        data = {**_ics_freeze(event, tz, timezone), **scope}
        existing = Freeze.objects.filter(source=data["source"]).first()
        if existing is not None:
            freeze_update(freeze=existing, actor=actor, data={k: v for k, v in data.items() if k != "name"})
            answer["updated"].append(existing.pk)
        else:
            stamp = data["starts_at"].astimezone(tz).date().isoformat()
            data["name"] = f"{data['name']} {stamp}"[:200]
            answer["created"].append(freeze_create(actor=actor, data=data).pk)
    return answer


# --------------------------------------------------------------------------- freeze edges (the worker)

FIRST_LOOK_BACK = timedelta(minutes=5)


@unit_of_work
def freeze_announce_edges(*, freeze_id: str, at: datetime | None = None) -> int:
    """Record `freeze.started` / `freeze.ended` for each edge of the freeze's occurrences since it was last
    announced (first time: the last 5 minutes) up to `at` (default now), with the environments blocked.
    The mark moves by compare-and-set: a second worker's unit matches nothing and runs again, finding
    nothing left to announce. Returns how many edges were announced."""
    from audit.actions import AuditAction
    from audit.services import audit_record
    from opsportal.clock import now_ms
    from opsportal.uow import Transient

    at = at or now_ms()
    freeze = Freeze.objects.filter(pk=freeze_id).first()
    if freeze is None:
        return 0
    since = freeze.announced_until or at - FIRST_LOOK_BACK
    if since >= at:
        return 0
    if not Freeze.objects.filter(pk=freeze.pk, announced_until=freeze.announced_until).update(announced_until=at):
        raise Transient("another worker announced this freeze meanwhile")
    blocked = list(_freeze_scope(freeze)[Environment])
    edges = []
    for occurrence in occurrences(freeze, since - timedelta(days=1), at + timedelta(milliseconds=1)):
        window = {"starts_at": _iso_ms(occurrence.starts_at), "ends_at": _iso_ms(occurrence.ends_at)}
        for moment, action in (
            (occurrence.starts_at, AuditAction.FREEZE_STARTED),
            (occurrence.ends_at, AuditAction.FREEZE_ENDED),
        ):
            if since < moment <= at:
                edges.append((moment, action, window))
    for _, action, window in sorted(edges, key=lambda edge: edge[0]):
        audit_record(
            actor="system",
            action=action,
            object_type="freeze",
            object_id=freeze.pk,
            changes={
                "name": freeze.name,
                "reason": freeze.reason,
                "occurrence": window,
                "environments_blocked": blocked,
            },
        )
    return len(edges)


def freezes_announce_edges(*, at: datetime | None = None) -> dict[str, int]:
    """The worker's job: announce the edges of every freeze (each freeze one unit of work)."""
    ids = list(Freeze.objects.order_by("id").values_list("id", flat=True))
    return {"freezes": len(ids), "edges": sum(freeze_announce_edges(freeze_id=pk, at=at) for pk in ids)}


def _iso_ms(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
