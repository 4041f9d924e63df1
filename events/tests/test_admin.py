"""Webhooks in the backoffice (issue #11): subscriptions saved through the services (the secret shown
once), actions (test event, rotation, redelivery), the delivery log with its attempts and replay, the
events and the periodic jobs; team members see their team's subscriptions only."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from events.choices import DeliveryStatus
from events.models import Delivery, WebhookSubscription
from events.tests.receivers import Answer
from opsportal.testing.admin import change_url, messages_of
from releases.services import release_submit

pytestmark = pytest.mark.django_db

ADD = reverse("admin:events_webhooksubscription_add")
LIST = reverse("admin:events_webhooksubscription_changelist")
DELIVERIES = reverse("admin:events_delivery_changelist")


@pytest.fixture
def staff(alice, erin):
    for user in (alice, erin):
        user.is_staff = True
        user.save()
    return alice


def test_create_through_the_service_with_the_secret_shown_once(client, staff):
    client.force_login(staff)
    response = client.post(
        ADD,
        {
            "url": "https://hooks.example.com/x",
            "description": "chat",
            "team": "",
            "active": "on",
            "event_types": json.dumps(["release.*"]),
            "environments": "[]",
            "teams": "[]",
        },
        follow=True,
    )
    assert response.status_code == 200
    subscription = WebhookSubscription.objects.get()
    assert subscription.event_types == ["release.*"]
    (message,) = [m for m in messages_of(response) if "Signing secret" in m]
    assert subscription.secret in message
    page = client.get(change_url(subscription)).content.decode()
    assert subscription.secret not in page
    assert f"whsec_…{subscription.secret[-4:]}" in page
    assert AuditEvent.objects.filter(action="webhook.created", actor="alice").exists()


def test_a_refused_save_shows_the_reason_on_the_form(client, staff):
    client.force_login(staff)
    response = client.post(
        ADD,
        {
            "url": "ftp://files.example.com/x",
            "team": "",
            "active": "on",
            "event_types": "[]",
            "environments": "[]",
            "teams": "[]",
        },
    )
    assert response.status_code == 200
    assert "Only http and https" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_actions_and_the_delivery_log(client, staff, release, alice, receiver, subscribe, worker):
    target = receiver(Answer(500, body="boom"), Answer(200))
    subscription = subscribe(target, event_types=["release.submitted"])
    release_submit(release=release, actor=alice)
    Delivery.objects.update(retry_until=Delivery.objects.get().created_at)  # no retries
    worker.run_once()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    client.force_login(staff)

    page = client.get(change_url(delivery)).content.decode()
    assert "boom" in page and ">500<" in page  # the attempt at a glance
    assert "release.submitted" in page
    listed = client.get(DELIVERIES).content.decode()
    assert delivery.event_name in listed

    response = client.post(DELIVERIES, {"action": "replay", "_selected_action": [delivery.pk]}, follow=True)
    assert "1 deliveries queued again." in messages_of(response)
    worker.run_once()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED

    response = client.post(LIST, {"action": "send_test_event", "_selected_action": [subscription.pk]}, follow=True)
    assert any("Test event queued" in m for m in messages_of(response))
    response = client.post(LIST, {"action": "rotate_secret", "_selected_action": [subscription.pk]}, follow=True)
    subscription.refresh_from_db()
    assert any(subscription.secret in m for m in messages_of(response))
    response = client.post(LIST, {"action": "redeliver_failed", "_selected_action": [subscription.pk]}, follow=True)
    assert any("queued again" in m for m in messages_of(response))
    for name in ("event", "periodicjob"):
        assert client.get(reverse(f"admin:events_{name}_changelist")).status_code == 200


def test_team_members_see_their_teams_subscriptions(client, staff, erin, team, receiver, subscribe):
    ours = subscribe(receiver(), actor=erin)
    other = subscribe(receiver())
    client.force_login(erin)
    page = client.get(LIST).content.decode()
    assert ours.url in page and re.search(re.escape(change_url(other)), page) is None
    assert client.get(change_url(other)).status_code == 302  # not theirs: back to the list
