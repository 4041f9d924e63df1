"""The transactional outbox (issue #11): deliveries are written by the unit of work of the change, for the
active subscriptions whose filters match; a unit that rolls back leaves no event and sends nothing."""

from __future__ import annotations

import itertools

import pytest

from audit.models import AuditEvent
from events import services
from events.choices import DeliveryStatus
from events.models import Delivery, Event
from opsportal.testing.faults import InjectedFault, fail_at_write
from releases.models import Deployment
from releases.services import release_deploy, release_submit

pytestmark = pytest.mark.django_db


def test_one_delivery_per_matching_active_subscription(release, envs, alice, receiver, subscribe):
    everything = subscribe(receiver())
    deploys = subscribe(receiver(), event_types=["service.*"])
    production = subscribe(receiver(), event_types=["service.*"], environments=["production"])
    off = subscribe(receiver())
    services.webhook_update(subscription=off, actor=alice, data={"active": False})

    release_deploy(release=release, environment=envs["development"], actor=alice)

    def names(subscription):
        return sorted(Delivery.objects.filter(subscription=subscription).values_list("event_name", flat=True))

    assert names(everything) == ["deployment.succeeded", "environment.health_changed", "service.deployed"]
    assert names(deploys) == ["service.deployed"]
    assert names(production) == []
    assert names(off) == []
    delivery = Delivery.objects.get(subscription=deploys)
    event = Event.objects.get(pk=delivery.event_id)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at == event.at, "due at once"
    assert delivery.seq == event.seq
    assert delivery.body.startswith('{"context":{"specversion":"0.5.1","id":"' + event.id)


def test_a_teams_subscription_gets_that_teams_events_only(envs, team, alice, erin, receiver, subscribe):
    from opsportal.testing.factories import make_release, make_team

    ours = subscribe(receiver(), actor=erin)
    assert ours.team == "platform-team", "an Engineer's subscription belongs to their team"
    theirs = make_team(id="mobile-team", name="Mobile")
    release_submit(release=make_release(team=theirs, created_by="alice"), actor=alice)
    assert not Delivery.objects.filter(subscription=ours).exists()
    release_submit(release=make_release(team=team, created_by="alice"), actor=alice)
    assert sorted(Delivery.objects.filter(subscription=ours).values_list("event_name", flat=True)) == [
        "approval.requested",
        "release.submitted",
    ]


def test_filters_by_team_list_and_patterns(envs, team, alice, receiver, subscribe):
    from opsportal.testing.factories import make_release

    approvals = subscribe(receiver(), event_types=["approval.*"], teams=["platform-team"])
    full_type = subscribe(receiver(), event_types=["dev.opsportal.release.submitted.v1"])
    release_submit(release=make_release(team=team, created_by="alice"), actor=alice)
    release_submit(release=make_release(created_by="alice"), actor=alice)  # no team
    assert list(Delivery.objects.filter(subscription=approvals).values_list("event_name", flat=True)) == [
        "approval.requested"
    ]
    assert Delivery.objects.filter(subscription=full_type).count() == 2


def test_a_unit_that_rolls_back_leaves_no_event_and_no_delivery(release, envs, alice, receiver, subscribe, worker):
    """A deploy fails at its 1st, 2nd, … write (`fail_at_write`: a crash, a lost connection…): each time the
    change, its audit events, its events and its deliveries all go, and the receiver never hears of it.
    Then the deploy runs through (no write left to fail) and is delivered. issue #11"""
    target = receiver()
    subscribe(target)
    before = (AuditEvent.objects.count(), Event.objects.count(), Delivery.objects.count())
    for write in itertools.count(1):
        with fail_at_write(write) as fault:
            try:
                release_deploy(release=release, environment=envs["development"], actor=alice)
            except InjectedFault:
                pass
        if not fault.fired:
            break
        assert (AuditEvent.objects.count(), Event.objects.count(), Delivery.objects.count()) == before, write
        assert not Deployment.objects.exists()
        assert worker.run_once() == 0
        assert target.received == []
    assert write > 5, "the deploy's writes: deployment, environment, audit event, events, deliveries, release"
    assert worker.run_once() == 3
    assert {r.payload["context"]["type"] for r in target.wait_for(3)} == {
        "dev.opsportal.deployment.succeeded.v1",
        "dev.cdevents.service.deployed.0.3.0",
        "dev.opsportal.environment.health_changed.v1",
    }
    assert all(r.verified_with for r in target.received)


def test_a_unit_reads_the_subscriptions_once_and_again_after_changing_one(release, envs, alice, receiver, subscribe):
    """The active subscriptions are read at a unit's first event and kept for its others (`active_subscriptions`),
    unless the unit changes a subscription in between: its later events see the change."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsportal.uow import run_in_unit

    first = subscribe(receiver())
    target = receiver()

    def unit():
        release_deploy(release=release, environment=envs["development"], actor=alice)
        second = subscribe(target)
        release_submit(release=release, actor=alice)  # an event after the change, in the same unit
        return second

    with CaptureQueriesContext(connection) as queries:
        second = run_in_unit(unit)
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "events_webhooksubscription"' in q["sql"]]
    assert len(reads) == 2, "one read for the deploy's events, one after the subscription changed"
    assert Delivery.objects.filter(subscription=first, event_name="release.submitted").count() == 1
    assert Delivery.objects.filter(subscription=second, event_name="release.submitted").count() == 1
    assert not Delivery.objects.filter(subscription=second, event_name="service.deployed").exists()
