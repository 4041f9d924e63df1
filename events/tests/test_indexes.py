"""The events app's hot queries are served by plain MongoDB indexes (DESIGN §3), checked without a server
with the machinery of tests/test_mongo_indexes.py."""

from __future__ import annotations

import pytest

from events.models import Delivery, Event, PeriodicJob, WebhookSubscription
from opsportal.clock import now_ms
from tests.test_mongo_indexes import (  # noqa: F401 - `created_indexes` is a fixture
    access_path,
    created_indexes,
    pipeline,
    serving_index,
)

NOW = now_ms()

HOT_QUERIES = {
    # events.services.deliveries_claim: the due deliveries, soonest first (every worker, every second).
    "due deliveries": (
        lambda: Delivery.objects.filter(status="pending", next_attempt_at__lte=NOW).order_by("next_attempt_at")[:4],
        {"status"},
    ),
    # events.outbox: the active subscriptions, in every unit of work that records an event.
    "active subscriptions": (lambda: WebhookSubscription.objects.filter(active=True).order_by(), {"active"}),
    # events.stream: the events after the newest one a process holds (every stream poll).
    "events after a sequence": (lambda: Event.objects.filter(seq__gt=41).order_by("seq", "index")[:500], set()),
    "the newest event": (lambda: Event.objects.order_by("-seq", "-index")[:1], set()),
    # The delivery log of one subscription (API and admin), newest first.
    "a subscription's deliveries": (
        lambda: Delivery.objects.filter(subscription="s1").order_by("-created_at", "id")[:20],
        {"subscription_id"},
    ),
    # webhook_redeliver: a subscription's failed deliveries since a time.
    "a subscription's failed deliveries": (
        lambda: Delivery.objects.filter(subscription="s1", status__in=["failed"], created_at__gte=NOW).order_by(),
        {"subscription_id", "status"},
    ),
    # Retention: succeeded deliveries delivered before the cutoff.
    "succeeded deliveries to prune": (
        lambda: Delivery.objects.filter(status="succeeded", delivered_at__lt=NOW).order_by().values_list("id")[:1000],
        {"status"},
    ),
    "the delivery log": (lambda: Delivery.objects.order_by("-created_at", "id")[:20], set()),
    "a team's subscriptions": (
        lambda: WebhookSubscription.objects.filter(team__in=["a"]).order_by("-created_at", "id")[:20],
        {"team"},
    ),
    "deliveries of an event": (lambda: Delivery.objects.filter(event_id="evt_x_0").order_by(), {"event_id"}),
    "due periodic jobs": (lambda: PeriodicJob.objects.filter(next_run_at__lte=NOW).order_by("next_run_at"), set()),
}


@pytest.mark.parametrize("name", list(HOT_QUERIES))
def test_hot_query_is_served_by_a_plain_index(created_indexes, name):  # noqa: F811 - the fixture
    make_queryset, expected_equality = HOT_QUERIES[name]
    queryset = make_queryset()
    stages = pipeline(queryset)
    equality, sort = access_path(stages)
    assert equality == expected_equality, stages
    indexes = created_indexes[queryset.model._meta.db_table]
    assert serving_index(indexes, equality, sort) is not None, (name, stages, [str(i) for i in indexes])
