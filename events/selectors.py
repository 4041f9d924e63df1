"""Reads of the events app: who sees which subscriptions and deliveries, the event list, the dashboard feed."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from events.models import Delivery, Event, WebhookSubscription
from events.stream import EventFilter
from opsportal import roles


def subscriptions_visible_to(user: Any) -> QuerySet[WebhookSubscription]:
    """Release Managers see every subscription; other users those of their teams."""
    if user is None or not user.is_authenticated:
        return WebhookSubscription.objects.none()
    if roles.is_release_manager(user):
        return WebhookSubscription.objects.all()
    return WebhookSubscription.objects.filter(team__in=sorted(roles.user_team_ids(user)))


def deliveries_visible_to(user: Any) -> QuerySet[Delivery]:
    """The deliveries of the subscriptions `user` sees."""
    if user is None or not user.is_authenticated:
        return Delivery.objects.none()
    if roles.is_release_manager(user):
        return Delivery.objects.all()
    ids = list(subscriptions_visible_to(user).values_list("id", flat=True))
    return Delivery.objects.filter(subscription_id__in=ids)


def event_list(*, filters: EventFilter, after: int | None = None) -> QuerySet[Event]:
    """Events in sequence order, after `after` (a sequence), matching `filters`."""
    queryset = Event.objects.all()
    if after is not None:
        queryset = queryset.filter(seq__gt=after)
    return filters.apply(queryset).order_by("seq", "index")
