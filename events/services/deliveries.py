"""Webhook deliveries: the worker's claim, send and record; replays; retention (issue #11).

The worker (`events.worker`) claims due deliveries (`deliveries_claim`: one conditional update each,
which only one worker can win), sends each outside any transaction (`delivery_attempt`) and records the
attempt conditionally on its claim (`delivery_record_attempt`). A worker that dies mid-delivery leaves
the delivery claimed until its lease runs out (`OPSPORTAL_WORKER_LEASE_SECONDS`); then it is due again
and another worker sends it, with the same `webhook-id`: at least once, at worst twice.

Retries: any answer but a 2xx is a failure. The next attempt comes after `retry_delay` — 30 s, then times 3
per failure up to 12 h, ±20 % jitter (about 13 attempts over the three days of
`OPSPORTAL_WEBHOOK_RETRY_HOURS`), or after the receiver's `Retry-After` when it sends one — until
`retry_until`, then the delivery is `failed`. A 410 Gone fails it at once and disables the subscription.

Ordering: deliveries are independent — a failing one does not hold back the next event for the same
subscription (three days of retries would). Every payload carries `customData.sequence` (the audit
sequence: global, in commit order) so that a receiver can order events and ignore a stale one.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F

from audit.actions import AuditAction
from audit.services import audit_record
from events.catalogue import iso
from events.choices import DeliveryStatus
from events.models import Delivery, Event, WebhookSubscription
from events.services.subscriptions import (
    SYSTEM_ACTOR,
    _username,
    check_manage,
    ensure_active,
    signing_secrets,
    webhook_disable,
)
from events.transport import Outcome, post, sign
from opsportal.clock import now_ms
from opsportal.errors import NotFound, ValidationFailed
from opsportal.ids import new_id
from opsportal.uow import run_in_unit, unit_of_work

log = logging.getLogger("opsportal.webhooks")

FIRST_RETRY_SECONDS = 30
RETRY_FACTOR = 3
MAX_RETRY_SECONDS = 12 * 3600
ATTEMPTS_KEPT = 50
PRUNE_BATCH = 1000


def retry_delay(failures: int, retry_after: float | None = None) -> float:
    """Seconds until the next attempt after `failures` failed ones: the receiver's `Retry-After` when it gave
    one (at least 1 s), else exponential backoff with ±20 % jitter; never more than 12 h."""
    if retry_after is not None:
        return min(max(retry_after, 1.0), MAX_RETRY_SECONDS)
    base = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * RETRY_FACTOR ** max(0, failures - 1))
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


# --------------------------------------------------------------------------- the worker's side


def deliveries_claim(*, worker: str, limit: int, lease_seconds: int | None = None) -> list[Delivery]:
    """Claim up to `limit` due deliveries for `worker`, soonest first. Each claim is one conditional update
    (status `pending`, due, and the `claim_token` read): of two workers only one wins it. A claimed
    delivery's `next_attempt_at` is the end of the lease: if the worker dies, it is due again then."""
    lease = timedelta(seconds=lease_seconds or settings.OPSPORTAL_WORKER_LEASE_SECONDS)
    now = now_ms()
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("id", "claim_token")[:limit]
    )
    claimed: list[str] = []
    for pk, token in due:
        mine = new_id()

        def claim(pk: str = pk, token: str = token, mine: str = mine) -> int:
            return Delivery.objects.filter(
                pk=pk, status=DeliveryStatus.PENDING, claim_token=token, next_attempt_at__lte=now
            ).update(claim_token=mine, claimed_by=worker, next_attempt_at=now + lease, updated_at=now)

        if run_in_unit(claim):
            claimed.append(pk)
    return sorted(Delivery.objects.filter(pk__in=claimed), key=lambda d: claimed.index(d.pk))


def delivery_attempt(*, delivery: Delivery, worker: str = "") -> Outcome | None:
    """Send a claimed delivery once and record the attempt. None when there was nothing to send (the
    subscription is gone, or disabled: the delivery is cancelled)."""
    subscription = WebhookSubscription.objects.filter(pk=delivery.subscription_id).first()
    if subscription is None:
        return None
    if not subscription.active:
        delivery_cancel(delivery=delivery, reason=f"subscription disabled: {subscription.disabled_reason}".strip())
        return None
    at = now_ms()
    headers = sign(msg_id=delivery.event_id, body=delivery.body, secrets=signing_secrets(subscription, at), at=at)
    outcome = post(subscription.url, body=delivery.body, headers=headers)
    delivery_record_attempt(delivery=delivery, outcome=outcome, at=at, worker=worker)
    return outcome


def _describe(outcome: Outcome) -> str:
    if outcome.status_code is None:
        return outcome.error or "no answer"
    return f"HTTP {outcome.status_code}" + (f" ({outcome.error})" if outcome.error else "")


@unit_of_work
def delivery_record_attempt(*, delivery: Delivery, outcome: Outcome, at: datetime, worker: str = "") -> str:
    """Record one attempt of a delivery this worker claimed (conditionally on its claim; a worker whose
    lease ran out meanwhile records nothing) and decide what comes next. Returns the new status."""
    now = now_ms()
    number = delivery.attempt_count + 1
    attempt: dict[str, Any] = {
        "n": number,
        "round": delivery.replays,
        "at": iso(at),
        "duration_ms": outcome.duration_ms,
        "status_code": outcome.status_code,
        "response": outcome.response_excerpt,
        "error": outcome.error,
        "worker": worker,
        "next_attempt_at": None,  # after a failure: when the next attempt is due
    }
    values: dict[str, Any] = {
        "attempt_count": number,
        "attempts": [*(delivery.attempts or []), attempt][-ATTEMPTS_KEPT:],
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:500],
        "claim_token": "",
        "claimed_by": "",
        "updated_at": now,
    }
    gone = outcome.status_code == 410
    if outcome.succeeded:
        values.update(status=DeliveryStatus.SUCCEEDED, delivered_at=now, next_attempt_at=None)
    elif gone:
        values.update(status=DeliveryStatus.FAILED, next_attempt_at=None, last_error="410 Gone: subscription disabled")
    else:
        delay = retry_delay(number, outcome.retry_after)
        upcoming = now + timedelta(seconds=delay)
        if upcoming > delivery.retry_until:
            values.update(
                status=DeliveryStatus.FAILED,
                next_attempt_at=None,
                last_error=f"gave up after {number} attempt(s): {_describe(outcome)}"[:500],
            )
        else:
            values.update(status=DeliveryStatus.PENDING, next_attempt_at=upcoming)
        attempt["next_attempt_at"] = iso(values["next_attempt_at"])
    updated = Delivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token).update(**values)
    if not updated:
        log.warning(
            "delivery claim lost", extra={"delivery": delivery.pk, "event_id": delivery.event_id, "worker": worker}
        )
        return "claim_lost"
    if gone:
        webhook_disable(
            subscription_id=delivery.subscription_id,
            reason=f"The receiver answered 410 Gone at {iso(now)} (delivery {delivery.pk}).",
        )
    status = values["status"]
    log.info(
        "webhook delivery",
        extra={
            "delivery": delivery.pk,
            "subscription": delivery.subscription_id,
            "event_id": delivery.event_id,
            "event": delivery.event_name,
            "sequence": delivery.seq,
            "attempt": number,
            "status_code": outcome.status_code,
            "duration_ms": outcome.duration_ms,
            "outcome": status,
            "next_attempt_at": iso(values.get("next_attempt_at")),
            "error": outcome.error,
            "worker": worker,
        },
    )
    for key, value in values.items():
        setattr(delivery, key, value)
    return status


@unit_of_work
def delivery_cancel(*, delivery: Delivery, reason: str) -> None:
    """A claimed delivery whose subscription is off: `cancelled` (redeliver it once the subscription is on)."""
    Delivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token).update(
        status=DeliveryStatus.CANCELLED,
        next_attempt_at=None,
        last_error=reason[:500],
        claim_token="",
        claimed_by="",
        updated_at=now_ms(),
    )


# --------------------------------------------------------------------------- replays


def _restart_values(now: datetime) -> dict[str, Any]:
    return {
        "status": DeliveryStatus.PENDING,
        "next_attempt_at": now,
        "retry_until": now + timedelta(hours=settings.OPSPORTAL_WEBHOOK_RETRY_HOURS),
        "attempt_count": 0,
        "replays": F("replays") + 1,
        "claim_token": "",
        "claimed_by": "",
        "updated_at": now,
    }


@unit_of_work
def delivery_replay(*, delivery: Delivery, actor: Any) -> Delivery:
    """Send a delivery again, now (whatever its status), with the same `webhook-id` and body; its retries
    start over. The subscription must be on (409 `subscription_inactive`)."""
    fresh = Delivery.objects.filter(pk=delivery.pk).first()
    if fresh is None:
        raise NotFound("This delivery no longer exists.")
    subscription = WebhookSubscription.objects.get(pk=fresh.subscription_id)
    check_manage(actor, subscription.team)
    ensure_active(subscription)
    now = now_ms()
    Delivery.objects.filter(pk=fresh.pk).update(**_restart_values(now))
    audit_record(
        actor=_username(actor),
        action=AuditAction.WEBHOOK_DELIVERY_REPLAYED,
        object_type="webhook",
        object_id=subscription.pk,
        changes={"delivery": fresh.pk, "event_id": fresh.event_id, "status": [fresh.status, DeliveryStatus.PENDING]},
    )
    fresh.refresh_from_db()
    return fresh


REDELIVERABLE = (DeliveryStatus.FAILED, DeliveryStatus.CANCELLED)


@unit_of_work
def webhook_redeliver(
    *,
    subscription: WebhookSubscription,
    actor: Any,
    since: datetime,
    statuses: tuple[str, ...] | list[str] = REDELIVERABLE,
) -> int:
    """Send again every delivery of the subscription created at or after `since` whose status is one of
    `statuses` (default: failed and cancelled). Returns how many."""
    subscription = WebhookSubscription.objects.filter(pk=subscription.pk).first()
    if subscription is None:
        raise NotFound("This webhook subscription no longer exists.")
    check_manage(actor, subscription.team)
    ensure_active(subscription)
    bad = [status for status in statuses if status not in REDELIVERABLE]
    if bad or not statuses:
        raise ValidationFailed({"statuses": [f"Only {', '.join(REDELIVERABLE)} deliveries are sent again."]})
    now = now_ms()
    count = Delivery.objects.filter(
        subscription_id=subscription.pk, status__in=list(statuses), created_at__gte=since
    ).update(**_restart_values(now))
    audit_record(
        actor=_username(actor),
        action=AuditAction.WEBHOOK_DELIVERIES_REDELIVERED,
        object_type="webhook",
        object_id=subscription.pk,
        changes={"count": count, "since": iso(since), "statuses": list(statuses)},
    )
    return count


# --------------------------------------------------------------------------- retention


def deliveries_prune(*, now: datetime | None = None, days: int | None = None) -> dict[str, int]:
    """Delete succeeded deliveries delivered, and stream events recorded, more than `days` (default
    `OPSPORTAL_DELIVERY_RETENTION_DAYS`) ago: batches of 1000, each one unit with one audit event."""
    days = settings.OPSPORTAL_DELIVERY_RETENTION_DAYS if days is None else days
    cutoff = (now or now_ms()) - timedelta(days=days)
    totals = {"deliveries": 0, "events": 0}

    def batch() -> tuple[int, int]:
        delivery_ids = list(
            Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED, delivered_at__lt=cutoff)
            .order_by()
            .values_list("id", flat=True)[:PRUNE_BATCH]
        )
        event_ids = list(Event.objects.filter(at__lt=cutoff).order_by().values_list("id", flat=True)[:PRUNE_BATCH])
        deliveries = Delivery.objects.filter(pk__in=delivery_ids).delete()[0] if delivery_ids else 0
        events = Event.objects.filter(pk__in=event_ids).delete()[0] if event_ids else 0
        if deliveries or events:
            audit_record(
                actor=SYSTEM_ACTOR,
                action=AuditAction.WEBHOOK_DELIVERIES_PRUNED,
                object_type="webhook",
                object_id="retention",
                changes={"deliveries": deliveries, "events": events, "before": iso(cutoff), "days": days},
            )
        return deliveries, events

    while True:
        deliveries, events = run_in_unit(batch)
        totals["deliveries"] += deliveries
        totals["events"] += events
        if deliveries < PRUNE_BATCH and events < PRUNE_BATCH:
            return totals
