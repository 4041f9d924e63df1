"""The transactional outbox (DESIGN §9): the events of a change and their webhook deliveries are rows
written by the unit of work that makes the change.

`audit.services.audit_record` calls `outbox_record(event)` right after appending the audit event,
inside the same unit: so an event exists, and a delivery is queued, exactly when the change commits.
A unit that rolls back takes them along; none is ever sent for it. The worker
(`manage.py run_worker`) sends what committed.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings

from events.catalogue import BY_NAME, custom_data, drafts_for, envelope, event_id, names_matching
from events.choices import DeliveryStatus
from events.models import Delivery, Event, WebhookSubscription
from opsportal.uow import unit_memo

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.db.models import Model

    from audit.models import AuditEvent


def body_bytes(payload: dict[str, Any]) -> str:
    """The exact JSON text that is signed and sent (stored on the delivery, so every attempt sends the same)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def subscription_matches(subscription: WebhookSubscription, *, name: str, team: str, environment: str) -> bool:
    """Whether the subscription's filters let an event through (empty filter: anything). A team's subscription
    only gets its team's events."""
    if subscription.event_types and name not in names_matching(subscription.event_types):
        return False
    if subscription.environments and environment not in subscription.environments:
        return False
    teams = [subscription.team] if subscription.team else subscription.teams
    return not teams or team in teams


def new_delivery(
    *, subscription: WebhookSubscription, event: Event | None, body: str, now: datetime, **fields: Any
) -> Delivery:
    """A delivery due now, retried until `OPSPORTAL_WEBHOOK_RETRY_HOURS` from now."""
    if event is not None:
        fields = {"event_id": event.id, "event_name": event.name, "event_type": event.type, "seq": event.seq, **fields}
    return Delivery(
        subscription=subscription,
        body=body,
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
        retry_until=now + timedelta(hours=settings.OPSPORTAL_WEBHOOK_RETRY_HOURS),
        created_at=now,
        updated_at=now,
        **fields,
    )


# The unit's memo (`opsportal.uow.unit_memo`) of the active subscriptions, read at its first event.
_SUBSCRIPTIONS = "active_webhook_subscriptions"


def active_subscriptions() -> list[WebhookSubscription]:
    """The active subscriptions, read once per unit of work (a deploy's or rollback's unit has two or three
    events); a unit that changes a subscription forgets them (`subscriptions_changed`)."""
    memo = unit_memo()
    if _SUBSCRIPTIONS not in memo:
        memo[_SUBSCRIPTIONS] = list(WebhookSubscription.objects.filter(active=True).order_by())
    return memo[_SUBSCRIPTIONS]


def subscriptions_changed() -> None:
    """Called by every write of a subscription: the unit's next event reads them again."""
    unit_memo().pop(_SUBSCRIPTIONS, None)


def outbox_record(audit_event: AuditEvent, rows: Iterable[Model] = ()) -> list[Event]:
    """Inside the unit that appended `audit_event`: write its events (`events.catalogue`; `rows` as in
    `drafts_for`) and one delivery per active subscription whose filters match each of them."""
    drafts = drafts_for(audit_event, rows)
    if not drafts:
        return []
    events = []
    for index, draft in enumerate(drafts):
        event_type = BY_NAME[draft.name]
        identifier = event_id(audit_event.id, index)
        payload = envelope(
            id=identifier,
            event_type=event_type,
            at=audit_event.at,
            subject=draft.subject,
            custom=custom_data(audit_event, **draft.extra),
        )
        events.append(
            Event(
                id=identifier,
                seq=audit_event.seq,
                index=index,
                name=draft.name,
                type=event_type.type,
                at=audit_event.at,
                audit_event=audit_event.id,
                team=draft.team,
                environment=draft.environment,
                payload=payload,
            )
        )
    Event.objects.bulk_create(events)
    subscriptions = active_subscriptions()
    deliveries = [
        new_delivery(subscription=subscription, event=event, body=body_bytes(event.payload), now=audit_event.at)
        for event in events
        for subscription in subscriptions
        if subscription_matches(subscription, name=event.name, team=event.team, environment=event.environment)
    ]
    if deliveries:
        Delivery.objects.bulk_create(deliveries)
    return events
