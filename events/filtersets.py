"""List filters of events, webhook subscriptions and deliveries (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from events.catalogue import names_matching
from events.choices import DeliveryStatus
from events.models import Delivery, Event, WebhookSubscription
from events.stream import EventFilter
from opsportal.errors import ValidationFailed

MAX_SEQUENCE = 2**63 - 1  # what a database integer holds


def split(value: str | None) -> list[str]:
    """`a, b,,c` → `["a", "b", "c"]`."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


class EventFilterSet(django_filters.FilterSet):
    """The filters of the event list and of the stream — those of a subscription."""

    types = django_filters.CharFilter(
        method="filter_by_event_filter",
        help_text="Comma-separated event names, types or patterns, e.g. `release.*,service.deployed` "
        "(GET /api/v1/events/types lists them).",
    )
    environment = django_filters.CharFilter(
        method="filter_by_event_filter", help_text="Comma-separated environment ids: events about these only."
    )
    team = django_filters.CharFilter(
        method="filter_by_event_filter", help_text="Comma-separated team ids: events about their releases only."
    )
    after = django_filters.NumberFilter(
        field_name="seq",
        lookup_expr="gt",
        min_value=0,
        max_value=MAX_SEQUENCE,
        decimal_places=0,
        help_text="Only events after this sequence (exclusive).",
    )

    class Meta:
        model = Event
        fields = ["types", "environment", "team", "after"]

    def filter_by_event_filter(self, queryset, name, value):
        return queryset  # applied together in `filter_queryset`

    def event_filter(self) -> EventFilter:
        """The filters as an `EventFilter` (400 naming a pattern that matches no event type)."""
        data = self.form.cleaned_data
        types = split(data.get("types"))
        unknown = [pattern for pattern in types if not names_matching([pattern])]
        if unknown:
            raise ValidationFailed({"types": [f"'{pattern}' matches no event type." for pattern in unknown]})
        return EventFilter.of(types=types, environments=split(data.get("environment")), teams=split(data.get("team")))

    def filter_queryset(self, queryset):
        return self.event_filter().apply(super().filter_queryset(queryset))


class WebhookSubscriptionFilterSet(django_filters.FilterSet):
    team = django_filters.CharFilter(help_text="Owning team id (empty: portal-wide subscriptions).")
    active = django_filters.BooleanFilter(help_text="On (true) or disabled (false).")

    class Meta:
        model = WebhookSubscription
        fields = ["team", "active"]


class DeliveryFilterSet(django_filters.FilterSet):
    subscription = django_filters.CharFilter(field_name="subscription_id", help_text="Subscription id.")
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    event_type = django_filters.CharFilter(
        method="filter_event_type", help_text="Event name (`service.deployed`) or full type."
    )
    event_id = django_filters.CharFilter(help_text="The event's id (the `webhook-id` header).")
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created at or after (ISO 8601)"
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Created before (ISO 8601)"
    )

    class Meta:
        model = Delivery
        fields = ["subscription", "status", "event_type", "event_id", "created_after", "created_before"]

    def filter_event_type(self, queryset, name, value):
        return queryset.filter(Q(event_name=value) | Q(event_type=value))
