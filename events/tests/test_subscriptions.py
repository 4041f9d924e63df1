"""Webhook subscriptions through the API (issue #11): who may see and manage which, validation, the secret
shown once in Standard Webhooks form, rotation, the audit trail; the delivery log's visibility."""

from __future__ import annotations

import base64

import pytest

from audit.models import AuditEvent
from events import services
from events.models import Delivery, WebhookSubscription
from opsportal.testing.factories import client_for
from releases.services import release_submit

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/opsportal"


def create(user, **data):
    return client_for(user).post("/api/v1/webhooks", {"url": URL, **data}, format="json")


def test_a_release_manager_creates_one_and_sees_the_secret_once(alice, envs):
    response = create(alice, event_types=["release.*", "service.deployed"], environments=["production"])
    assert response.status_code == 201, response.json()
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    assert body["secret_hint"] == f"whsec_…{secret[-4:]}"
    assert body["team"] == "" and body["active"] is True and body["revision"] == 1
    assert response["Location"].endswith(f"/api/v1/webhooks/{body['id']}")

    detail = client_for(alice).get(f"/api/v1/webhooks/{body['id']}")
    assert "secret" not in detail.json()
    assert detail["ETag"] == f'"{body["id"]}-1"'
    listed = client_for(alice).get("/api/v1/webhooks").json()["results"]
    assert [item["id"] for item in listed] == [body["id"]] and "secret" not in listed[0]

    created = AuditEvent.objects.get(action="webhook.created")
    assert created.object_id == body["id"]
    assert secret not in str(created.changes)
    assert created.changes["url"] == [None, URL]


def test_team_members_manage_their_teams_subscriptions_only(alice, erin, frank, victor, team):
    response = create(erin)
    assert response.status_code == 201, response.json()
    mine = response.json()
    assert mine["team"] == "platform-team", "defaults to the Engineer's one team"
    portal_wide = create(alice).json()

    assert [s["id"] for s in client_for(erin).get("/api/v1/webhooks").json()["results"]] == [mine["id"]]
    assert client_for(erin).get(f"/api/v1/webhooks/{portal_wide['id']}").status_code == 404
    assert client_for(frank).get("/api/v1/webhooks").json()["results"] == []
    assert len(client_for(alice).get("/api/v1/webhooks").json()["results"]) == 2

    refused = create(frank, team="platform-team")
    assert refused.status_code == 403
    assert refused.json()["code"] == "team_required"
    assert create(frank).json()["code"] == "role_required", "no team: portal-wide, Release Managers only"
    assert create(victor, team="platform-team").status_code == 403
    patched = client_for(erin).patch(f"/api/v1/webhooks/{mine['id']}", {"description": "ours"}, format="json")
    assert patched.status_code == 200 and patched.json()["description"] == "ours"
    moved = client_for(erin).patch(f"/api/v1/webhooks/{mine['id']}", {"team": ""}, format="json")
    assert moved.status_code == 403
    assert client_for(erin).delete(f"/api/v1/webhooks/{mine['id']}").status_code == 204


def test_anonymous_clients_see_nothing(api_client, alice, settings):
    settings.ANONYMOUS_READ = True
    create(alice)
    assert api_client.get("/api/v1/webhooks").status_code == 401
    assert api_client.get("/api/v1/webhooks/deliveries").status_code == 401


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"url": "ftp://example.com/x"}, "url", "Only http and https"),
        ({"url": "https://user:pw@example.com/x"}, "url", "Credentials in the URL"),
        ({"url": "not a url"}, "url", "Only http and https"),
        ({"url": "http://10.0.0.5/hook"}, "url", "10.0.0.5 is a private address"),
        ({"url": "http://169.254.169.254/latest"}, "url", "link-local"),
        ({"url": "http://localhost:8000/hook"}, "url", "loopback"),
        ({"event_types": ["release.aproved"]}, "event_types", "'release.aproved' matches no event type"),
        ({"environments": ["moon"]}, "environments", "Unknown environment 'moon'."),
        ({"teams": ["nope"]}, "teams", "Unknown team 'nope'."),
    ],
)
def test_invalid_settings_are_refused_field_by_field(alice, envs, settings, data, field, message):
    settings.OPSPORTAL_WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = create(alice, **data)
    assert response.status_code == 400, response.json()
    assert message in " ".join(response.json()["errors"][field])
    assert not WebhookSubscription.objects.exists()


def test_rotate_secret(alice):
    created = create(alice).json()
    response = client_for(alice).post(
        f"/api/v1/webhooks/{created['id']}/rotate-secret", {"grace_hours": 2}, format="json"
    )
    assert response.status_code == 200, response.json()
    rotated = response.json()
    assert rotated["secret"] != created["secret"]
    assert rotated["previous_secret_valid_until"] is not None
    assert rotated["revision"] == 2
    subscription = WebhookSubscription.objects.get(pk=created["id"])
    assert services.signing_secrets(subscription) == [rotated["secret"], created["secret"]]
    none = client_for(alice).post(f"/api/v1/webhooks/{created['id']}/rotate-secret", {"grace_hours": 0}, format="json")
    assert none.json()["previous_secret_valid_until"] is None


def test_turning_a_disabled_subscription_on_clears_its_reason(alice):
    created = create(alice).json()
    services.webhook_disable(subscription_id=created["id"], reason="410 Gone")
    api = client_for(alice)
    assert api.post(f"/api/v1/webhooks/{created['id']}/test").json()["code"] == "subscription_inactive"
    response = api.patch(f"/api/v1/webhooks/{created['id']}", {"active": True}, format="json")
    assert response.status_code == 200
    assert response.json()["disabled_reason"] == "" and response.json()["active"] is True


def test_if_match_makes_a_change_conditional(alice):
    created = create(alice).json()
    api = client_for(alice)
    stale = api.patch(
        f"/api/v1/webhooks/{created['id']}", {"description": "x"}, format="json", HTTP_IF_MATCH='"nope-9"'
    )
    assert stale.status_code == 412
    ok = api.patch(
        f"/api/v1/webhooks/{created['id']}", {"description": "x"}, format="json", HTTP_IF_MATCH=f'"{created["id"]}-1"'
    )
    assert ok.status_code == 200


def test_deleting_a_subscription_deletes_its_log(alice, release, receiver, subscribe):
    subscription = subscribe(receiver())
    release_submit(release=release, actor=alice)
    assert Delivery.objects.filter(subscription=subscription).count() == 2
    assert client_for(alice).delete(f"/api/v1/webhooks/{subscription.pk}").status_code == 204
    assert not Delivery.objects.exists()
    assert AuditEvent.objects.get(action="webhook.deleted").changes["deliveries_deleted"] == 2


def test_the_delivery_log_is_filtered_and_scoped(alice, erin, release, receiver, subscribe):
    ours = subscribe(receiver(), actor=erin)
    everything = subscribe(receiver())
    release_submit(release=release, actor=alice)
    api = client_for(alice)
    listed = api.get("/api/v1/webhooks/deliveries", {"subscription": everything.pk, "event_type": "approval.requested"})
    assert [d["event_name"] for d in listed.json()["results"]] == ["approval.requested"]
    by_type = api.get("/api/v1/webhooks/deliveries", {"event_type": "dev.opsportal.release.submitted.v1"})
    assert by_type.json()["count"] == 2
    assert api.get("/api/v1/webhooks/deliveries", {"status": "pending"}).json()["count"] == 4
    # an Engineer sees their team's log only
    theirs = client_for(erin).get("/api/v1/webhooks/deliveries").json()["results"]
    assert {d["subscription"] for d in theirs} == {ours.pk}
    detail = client_for(erin).get(f"/api/v1/webhooks/deliveries/{theirs[0]['id']}").json()
    assert detail["attempts"] == [] and detail["payload"]["context"]["id"] == detail["event_id"]
    other = Delivery.objects.filter(subscription=everything).first()
    assert client_for(erin).get(f"/api/v1/webhooks/deliveries/{other.pk}").status_code == 404
    assert client_for(erin).post(f"/api/v1/webhooks/deliveries/{other.pk}/replay").status_code == 404


def test_api_tokens_read_but_never_manage_webhooks(alice, api_client):
    from tokens.services import api_token_create

    _, secret = api_token_create(actor=alice, name="ci", scopes=["read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api_client.get("/api/v1/webhooks").status_code == 200
    refused = api_client.post("/api/v1/webhooks", {"url": URL}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "token_scope"
