"""Webhook subscriptions: create, update, delete, rotate the secret, send a test event (issue #11).

Who may: Release Managers (and superusers) manage every subscription; a team's members manage the
subscriptions of that team (`team`), which only receive that team's events. A subscription without a
team is portal-wide: Release Managers only. API tokens never manage webhooks.

Each write is one unit of work with one `webhook.*` audit event; secrets never appear in the trail.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Model

from audit.actions import AuditAction
from audit.services import audit_record, field_changes, jsonable
from environments.models import Environment
from events.catalogue import TEST_EVENT, envelope, names_matching
from events.models import Delivery, WebhookSubscription
from events.outbox import body_bytes, new_delivery, subscriptions_changed
from events.transport import UnsafeTarget, check_url, literal_refusal
from opsportal import roles
from opsportal.clock import now_ms
from opsportal.documents import refused_write
from opsportal.errors import Conflict, Forbidden, PreconditionFailed, ValidationFailed
from opsportal.ids import new_id
from opsportal.uow import unit_of_work
from teams.models import Team
from tokens.permissions import require_token_scope

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret
SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 bytes
MAX_FILTERS = 50
SYSTEM_ACTOR = "system"
EDITABLE_FIELDS = ("url", "description", "event_types", "environments", "teams", "team", "active")


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_hint(secret: str) -> str:
    """What lists show of a secret: its prefix and last four characters."""
    return f"{SECRET_PREFIX}…{secret[-4:]}" if secret else ""


def signing_secrets(subscription: WebhookSubscription, at: datetime | None = None) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one during its grace period."""
    at = at or now_ms()
    found = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and expires > at:
        found.append(subscription.previous_secret)
    return found


# --------------------------------------------------------------------------- permissions


def _username(actor: Any) -> str:
    return actor.get_username() if actor is not None else ""


def check_manage(actor: Any, team: str) -> None:
    """Refuse (403) unless `actor` may manage the webhooks of `team` ("" = portal-wide ones)."""
    if actor is None or not getattr(actor, "is_active", False) or not actor.is_authenticated:
        raise Forbidden("You must be signed in to manage webhooks.", code="not_authenticated")
    require_token_scope(actor, None, team_id=None, what="manage webhooks")
    if roles.is_release_manager(actor):
        return
    if not team:
        raise roles.release_manager_required("manage portal-wide webhooks")
    if team not in roles.user_team_ids(actor):
        raise Forbidden(
            f"To manage the webhooks of team '{team}' you must be a member of that team or a Release Manager.",
            code="team_required",
            required_team=team,
        )


# --------------------------------------------------------------------------- validation


def _string_list(errors: dict[str, list[str]], name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        errors[name] = ["A list of non-empty strings."]
        return []
    if len(value) > MAX_FILTERS:
        errors[name] = [f"At most {MAX_FILTERS} entries."]
    return list(dict.fromkeys(item.strip() for item in value))


def _existing_ids(errors: dict[str, list[str]], name: str, value: Any, model: type[Model]) -> list[str]:
    """A filter list of ids (environments, teams): each must name an existing document."""
    wanted = _string_list(errors, name, value)
    known = set(model.objects.filter(pk__in=wanted).values_list("id", flat=True))
    unknown = [f"Unknown {model._meta.verbose_name} '{pk}'." for pk in wanted if pk not in known]
    if unknown:
        errors[name] = unknown
    return wanted


def _clean(data: dict[str, Any], *, actor: Any, creating: bool) -> dict[str, Any]:
    """The editable fields present in `data`, validated and normalized (400 naming each bad field)."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    if "url" in data or creating:
        url = str(data.get("url") or "").strip()
        try:
            if not url:
                raise UnsafeTarget("This field is required.")
            if len(url) > WebhookSubscription._meta.get_field("url").max_length:
                raise UnsafeTarget("At most 2000 characters.")
            check_url(url)
            refusal = literal_refusal(url)
            if refusal:
                raise UnsafeTarget(f"Not allowed: {refusal}.")
        except UnsafeTarget as error:
            errors["url"] = [str(error)]
        cleaned["url"] = url
    if "description" in data:
        cleaned["description"] = str(data.get("description") or "")[:2000]
    if "event_types" in data:
        patterns = _string_list(errors, "event_types", data["event_types"])
        unknown = [pattern for pattern in patterns if not names_matching([pattern])]
        if unknown:
            errors["event_types"] = [
                f"'{pattern}' matches no event type (GET /api/v1/events/types lists them)." for pattern in unknown
            ]
        cleaned["event_types"] = patterns
    for field, model in (("environments", Environment), ("teams", Team)):
        if field in data:
            cleaned[field] = _existing_ids(errors, field, data[field], model)
    if "team" in data or creating:
        team = data.get("team") or ""
        team = getattr(team, "pk", team)
        if not team and creating and not roles.is_release_manager(actor):
            mine = roles.user_team_ids(actor)
            team = next(iter(mine)) if len(mine) == 1 else ""
        if team and not Team.objects.filter(pk=team).exists():
            errors["team"] = [f"Unknown team '{team}'."]
        cleaned["team"] = str(team)
    if "active" in data:
        cleaned["active"] = bool(data["active"])
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _snapshot(subscription: WebhookSubscription) -> dict[str, Any]:
    return jsonable({field: getattr(subscription, field) for field in EDITABLE_FIELDS})


def _audit(actor: Any, action: AuditAction, subscription_id: str, changes: dict[str, Any]) -> None:
    username = actor if isinstance(actor, str) else _username(actor)
    audit_record(actor=username, action=action, object_type="webhook", object_id=subscription_id, changes=changes)


def _fresh(subscription: WebhookSubscription, expected_revision: int | None = None) -> WebhookSubscription:
    """The subscription as it is now, inside the unit (404 when gone, 412 on a stale `If-Match`)."""
    fresh = WebhookSubscription.objects.filter(pk=subscription.pk).first()
    if fresh is None:
        raise refused_write(WebhookSubscription, subscription.pk)
    if expected_revision is not None and expected_revision != fresh.revision:
        raise PreconditionFailed(
            f"Webhook subscription {fresh.pk!r} is at revision {fresh.revision}, not {expected_revision}.",
            revision=fresh.revision,
        )
    return fresh


def _write(subscription: WebhookSubscription, **values: Any) -> None:
    """One update conditional on the revision read in this unit (a concurrent change: 409 `stale_revision`)."""
    values = {**values, "revision": subscription.revision + 1, "updated_at": now_ms()}
    if not WebhookSubscription.objects.filter(pk=subscription.pk, revision=subscription.revision).update(**values):
        raise refused_write(WebhookSubscription, subscription.pk)
    subscriptions_changed()
    for key, value in values.items():
        setattr(subscription, key, value)


# --------------------------------------------------------------------------- services


@unit_of_work
def webhook_create(*, actor: Any, data: dict[str, Any]) -> WebhookSubscription:
    """Create a subscription with a new secret (`subscription.secret`: show it once, it is not shown again).

    `team` defaults to the creator's team when they are not a Release Manager and belong to exactly one."""
    cleaned = _clean(data, actor=actor, creating=True)
    check_manage(actor, cleaned["team"])
    now = now_ms()
    subscription = WebhookSubscription(
        **cleaned,
        secret=new_secret(),
        created_by=_username(actor),
        created_at=now,
        updated_at=now,
        revision=1,
    )
    if subscription.team:
        subscription.teams = []  # a team's subscription gets that team's events only
    subscription.save(force_insert=True)
    subscriptions_changed()
    _audit(actor, AuditAction.WEBHOOK_CREATED, subscription.pk, field_changes({}, _snapshot(subscription)))
    return subscription


@unit_of_work
def webhook_update(
    *,
    subscription: WebhookSubscription,
    actor: Any,
    data: dict[str, Any],
    expected_revision: int | None = None,
) -> WebhookSubscription:
    """Change a subscription's URL, filters, description, team or `active` flag (conditionally on its revision).

    Turning a disabled subscription on again clears its `disabled_reason`; deliveries cancelled meanwhile
    can be sent again with `webhook_redeliver`. Only Release Managers move a subscription to another team."""
    subscription = _fresh(subscription, expected_revision)
    check_manage(actor, subscription.team)
    cleaned = _clean(data, actor=actor, creating=False)
    if "team" in cleaned and cleaned["team"] != subscription.team:
        check_manage(actor, cleaned["team"])
        if not roles.is_release_manager(actor):
            raise roles.release_manager_required("move webhooks to another team")
    before = _snapshot(subscription)
    candidate = {**before, **cleaned}
    if candidate["team"]:
        candidate["teams"] = []
    changes = field_changes(before, candidate)
    if not changes:
        return subscription
    values: dict[str, Any] = {field: candidate[field] for field in changes}
    if values.get("active") is True:
        values.update(disabled_reason="", disabled_at=None)
    _write(subscription, **values)
    _audit(actor, AuditAction.WEBHOOK_UPDATED, subscription.pk, changes)
    return subscription


@unit_of_work
def webhook_delete(*, subscription: WebhookSubscription, actor: Any, expected_revision: int | None = None) -> None:
    """Delete a subscription and its delivery log."""
    subscription = _fresh(subscription, expected_revision)
    check_manage(actor, subscription.team)
    snapshot = _snapshot(subscription)
    deliveries = Delivery.objects.filter(subscription_id=subscription.pk).delete()[0]
    if not WebhookSubscription.objects.filter(pk=subscription.pk, revision=subscription.revision).delete()[0]:
        raise refused_write(WebhookSubscription, subscription.pk)
    subscriptions_changed()
    changes = {key: [value, None] for key, value in snapshot.items()}
    _audit(actor, AuditAction.WEBHOOK_DELETED, subscription.pk, {**changes, "deliveries_deleted": deliveries})


@unit_of_work
def webhook_rotate_secret(
    *, subscription: WebhookSubscription, actor: Any, grace_hours: int | None = None
) -> WebhookSubscription:
    """Give the subscription a new secret (returned once, in `subscription.secret`). For `grace_hours`
    (default `OPSPORTAL_WEBHOOK_SECRET_GRACE_HOURS`; 0: none) deliveries carry both signatures, the new
    secret's and the old one's, so receivers can switch without missing a delivery."""
    subscription = _fresh(subscription)
    check_manage(actor, subscription.team)
    grace = settings.OPSPORTAL_WEBHOOK_SECRET_GRACE_HOURS if grace_hours is None else grace_hours
    if grace < 0 or grace > 24 * 30:
        raise ValidationFailed({"grace_hours": ["Between 0 and 720 hours."]})
    now = now_ms()
    expires = now + timedelta(hours=grace) if grace else None
    old_hint = secret_hint(subscription.secret)
    _write(
        subscription,
        secret=new_secret(),
        previous_secret=subscription.secret if grace else "",
        previous_secret_expires_at=expires,
    )
    changes = {
        "secret": [old_hint, secret_hint(subscription.secret)],
        "previous_secret_expires_at": [None, expires.isoformat() if expires else None],
    }
    _audit(actor, AuditAction.WEBHOOK_SECRET_ROTATED, subscription.pk, changes)
    return subscription


@unit_of_work
def webhook_send_test(*, subscription: WebhookSubscription, actor: Any) -> Delivery:
    """Queue a `webhook.test` event for this subscription alone (the worker sends it like any other: signed,
    logged, retried). A disabled subscription → 409 `subscription_inactive`."""
    subscription = _fresh(subscription)
    check_manage(actor, subscription.team)
    ensure_active(subscription)
    audit = audit_record(
        actor=_username(actor),
        action=AuditAction.WEBHOOK_TEST_SENT,
        object_type="webhook",
        object_id=subscription.pk,
        changes={"url": subscription.url},
    )
    event_id = f"evt_test_{new_id()}"
    payload = envelope(
        id=event_id,
        event_type=TEST_EVENT,
        at=audit.at,
        subject={
            "id": subscription.pk,
            "source": f"/api/v1/webhooks/{subscription.pk}",
            "content": {"message": "A test event from Ops Portal.", "url": subscription.url},
        },
        custom={"sequence": audit.seq, "action": audit.action, "actor": audit.actor, "auditEventId": audit.id},
    )
    delivery = new_delivery(
        subscription=subscription,
        event=None,
        body=body_bytes(payload),
        now=audit.at,
        event_id=event_id,
        event_name=TEST_EVENT.name,
        event_type=TEST_EVENT.type,
        seq=audit.seq,
        test=True,
    )
    delivery.save(force_insert=True)
    return delivery


def ensure_active(subscription: WebhookSubscription) -> None:
    if not subscription.active:
        reason = f": {subscription.disabled_reason}" if subscription.disabled_reason else ""
        raise Conflict(
            f"This webhook subscription is disabled{reason}. Turn it on (`active: true`) first.",
            code="subscription_inactive",
        )


@unit_of_work
def webhook_disable(*, subscription_id: str, reason: str, actor: str = SYSTEM_ACTOR) -> bool:
    """Turn a subscription off with a reason (the worker, when a receiver answers 410 Gone). False if it
    was already off."""
    now = now_ms()
    updated = WebhookSubscription.objects.filter(pk=subscription_id, active=True).update(
        active=False, disabled_reason=reason[:500], disabled_at=now, updated_at=now, revision=F("revision") + 1
    )
    if updated:
        subscriptions_changed()
        _audit(actor, AuditAction.WEBHOOK_DISABLED, subscription_id, {"active": [True, False], "reason": reason})
    return bool(updated)
