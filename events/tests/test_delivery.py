"""Delivering webhooks to real receivers on loopback (issue #11): Standard Webhooks signatures verified by
the `standardwebhooks` package; failures, timeouts, 429 + Retry-After, 410; the delivery log; rotation;
the SSRF guard; claims and leases; replays; retention."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from events import services
from events.choices import DeliveryStatus
from events.models import Delivery, Event, PeriodicJob
from events.periodic import registered_jobs
from events.tests.receivers import Answer
from events.transport import address_refusal, parse_retry_after, post
from events.worker import Worker
from opsportal.clock import now_ms
from opsportal.testing.factories import client_for
from releases.services import release_deploy, release_submit

pytestmark = pytest.mark.django_db


def deliveries(subscription) -> list[Delivery]:
    return list(Delivery.objects.filter(subscription=subscription).order_by("seq", "event_id"))


def make_due(*items: Delivery) -> None:
    Delivery.objects.filter(pk__in=[d.pk for d in items]).update(next_attempt_at=now_ms())


def test_delivered_signed_and_logged(release, alice, receiver, subscribe, worker):
    target = receiver()
    subscription = subscribe(target, event_types=["release.submitted"])
    release_submit(release=release, actor=alice)
    assert worker.run_once() == 1
    (received,) = target.wait_for(1)
    assert received.verified_with == [subscription.secret], received.error
    event = Event.objects.get(name="release.submitted")
    assert received.webhook_id == event.id
    assert received.payload == event.payload
    assert received.headers["content-type"] == "application/json"
    assert abs(int(received.headers["webhook-timestamp"]) - time.time()) < 5
    assert received.headers["webhook-signature"].startswith("v1,")

    (delivery,) = deliveries(subscription)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.delivered_at is not None
    (attempt,) = delivery.attempts
    assert attempt["status_code"] == 200
    assert attempt["response"] == '{"ok":true}'
    assert attempt["error"] == ""
    assert attempt["worker"] == "test-worker"
    assert attempt["duration_ms"] >= 0
    assert worker.run_once() == 0, "nothing is sent twice"


def test_a_failing_receiver_is_retried_with_backoff_and_the_attempts_are_logged(
    release, alice, receiver, subscribe, worker
):
    target = receiver(Answer(500, body="database is down"), Answer(503, body="still down"), Answer(204, body=""))
    subscription = subscribe(target, event_types=["release.submitted"])
    release_submit(release=release, actor=alice)
    worker.run_once()
    (delivery,) = deliveries(subscription)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code == 500
    wait = (delivery.next_attempt_at - now_ms()).total_seconds()
    assert 20 <= wait <= 36, "30 s ±20 % after the first failure"
    assert delivery.attempts[0]["response"] == "database is down"
    assert delivery.attempts[0]["next_attempt_at"] is not None
    assert worker.run_once() == 0, "not due yet"

    make_due(delivery)
    worker.run_once()
    delivery.refresh_from_db()
    wait = (delivery.next_attempt_at - now_ms()).total_seconds()
    assert 70 <= wait <= 110, "then 90 s ±20 %"
    make_due(delivery)
    worker.run_once()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert [a["status_code"] for a in delivery.attempts] == [500, 503, 204]
    received = target.wait_for(3)
    assert len({r.webhook_id for r in received}) == 1, "every retry carries the same webhook-id"
    assert all(r.verified_with for r in received)


def test_the_backoff_schedule_spans_about_three_days():
    delays = []
    elapsed = 0.0
    for failures in range(1, 40):
        delay = services.retry_delay(failures)
        elapsed += delay
        if elapsed > 72 * 3600:
            break
        delays.append(delay)
    assert 10 <= len(delays) <= 16
    assert max(delays) <= 12 * 3600 * 1.2
    assert services.retry_delay(1, retry_after=7) == 7
    assert services.retry_delay(1, retry_after=0) == 1
    assert services.retry_delay(1, retry_after=10**9) == 12 * 3600


def test_a_receiver_that_times_out(release, alice, receiver, subscribe, worker, settings):
    settings.OPSPORTAL_WEBHOOK_TIMEOUT_SECONDS = 1
    target = receiver(Answer(200, delay=3))
    subscription = subscribe(target, event_types=["release.submitted"])
    release_submit(release=release, actor=alice)
    started = time.monotonic()
    worker.run_once()
    assert time.monotonic() - started < 2.5, "the timeout bounds the attempt"
    (delivery,) = deliveries(subscription)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("timeout")
    assert delivery.attempts[0]["error"].startswith("timeout")


def test_429_with_retry_after_is_honoured(release, alice, receiver, subscribe, worker):
    target = receiver(Answer(429, headers={"Retry-After": "2"}, body="slow down"), Answer(200))
    subscription = subscribe(target, event_types=["release.submitted"])
    release_submit(release=release, actor=alice)
    worker.run_once()
    (delivery,) = deliveries(subscription)
    wait = (delivery.next_attempt_at - now_ms()).total_seconds()
    assert 1 <= wait <= 2.1, "the receiver's Retry-After, not the 30 s backoff"
    assert worker.run_once() == 0
    time.sleep(2.1)
    assert worker.run_once() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert [a["status_code"] for a in delivery.attempts] == [429, 200]


def test_retry_after_as_an_http_date():
    now = timezone.now()
    later = now + timedelta(seconds=120)
    assert 119 <= parse_retry_after(later.strftime("%a, %d %b %Y %H:%M:%S GMT"), now) <= 121
    assert parse_retry_after("soon") is None


def test_410_disables_the_subscription_with_the_reason(release, alice, receiver, subscribe, worker, envs):
    target = receiver(Answer(410, body="gone"))
    subscription = subscribe(target)
    release_submit(release=release, actor=alice)  # two events: two deliveries
    first, second = deliveries(subscription)
    worker.concurrency = 1  # one claim per round: the first answer disables the subscription
    worker.run_once()
    subscription.refresh_from_db()
    assert subscription.active is False
    assert "410 Gone" in subscription.disabled_reason
    assert subscription.disabled_at is not None
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == DeliveryStatus.FAILED
    assert first.last_error.startswith("410 Gone")
    assert second.status == DeliveryStatus.CANCELLED, "not sent to a subscription that is off"
    assert len(target.received) == 1
    disabled = AuditEvent.objects.get(action="webhook.disabled")
    assert disabled.actor == "system"
    assert disabled.changes["active"] == [True, False]
    # shown in the API
    body = client_for(alice).get(f"/api/v1/webhooks/{subscription.pk}").json()
    assert body["active"] is False
    assert "410 Gone" in body["disabled_reason"]
    # no more deliveries for it
    release_deploy(release=release, environment=envs["development"], actor=alice)
    assert len(deliveries(subscription)) == 2


def test_gives_up_after_the_retry_window(release, alice, receiver, subscribe, worker):
    target = receiver(Answer(502))
    subscription = subscribe(target, event_types=["release.submitted"])
    release_submit(release=release, actor=alice)
    Delivery.objects.filter(subscription=subscription).update(retry_until=now_ms() + timedelta(seconds=5))
    worker.run_once()
    (delivery,) = deliveries(subscription)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error.startswith("gave up after 1 attempt(s): HTTP 502")
    assert delivery.next_attempt_at is None


def test_during_a_rotation_both_secrets_sign(release, alice, receiver, subscribe, worker):
    old_receiver = receiver()
    subscription = subscribe(old_receiver, event_types=["release.submitted", "approval.requested"])
    old_secret = subscription.secret
    rotated = services.webhook_rotate_secret(subscription=subscription, actor=alice, grace_hours=1)
    assert rotated.secret != old_secret and rotated.secret.startswith("whsec_")
    new_receiver = receiver(secrets=[rotated.secret])
    Delivery.objects.all().delete()
    services.webhook_update(subscription=rotated, actor=alice, data={"url": new_receiver.url})
    release_submit(release=release, actor=alice)
    worker.run_once()
    for received in new_receiver.wait_for(2):
        assert received.verified_with == [rotated.secret]
        assert len(received.headers["webhook-signature"].split(" ")) == 2
        # a receiver still on the old secret verifies too
        from standardwebhooks.webhooks import Webhook

        Webhook(old_secret).verify(received.body, received.headers)

    # after the grace period: the new secret only
    rotated.refresh_from_db()
    assert services.signing_secrets(rotated, now_ms() + timedelta(hours=2)) == [rotated.secret]
    rotation = AuditEvent.objects.get(action="webhook.secret_rotated")
    assert old_secret not in str(rotation.changes) and rotated.secret not in str(rotation.changes)


def test_the_ssrf_guard_refuses_private_targets_after_resolution(release, alice, receiver, subscribe, worker, settings):
    target = receiver()
    subscription = subscribe(target, event_types=["release.submitted"])
    settings.OPSPORTAL_WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    release_submit(release=release, actor=alice)
    worker.run_once()
    (delivery,) = deliveries(subscription)
    assert target.received == []
    assert delivery.last_error.startswith("refused: 127.0.0.1 resolves to 127.0.0.1 is a loopback address")
    outcome = post("http://localhost:9/x", body="{}", headers={})
    assert outcome.error.startswith("refused: localhost resolves to")
    assert post("ftp://example.com/x", body="{}", headers={}).error.startswith("refused: Only http and https")


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - a refused target, not a bind
        ("224.0.0.1", False),
    ],
)
def test_address_guard(address, allowed):
    assert (address_refusal(address, allow_private=False) is None) is allowed
    if address in ("0.0.0.0", "224.0.0.1"):  # noqa: S104
        assert address_refusal(address, allow_private=True) is not None, "never a unicast target"


def test_a_claim_is_taken_by_one_worker_only(release, alice, receiver, subscribe):
    target = receiver()
    subscription = subscribe(target, event_types=["release.submitted"])
    release_submit(release=release, actor=alice)
    (due,) = deliveries(subscription)
    claimed = services.deliveries_claim(worker="a", limit=10, lease_seconds=60)
    assert [d.pk for d in claimed] == [due.pk]
    assert services.deliveries_claim(worker="b", limit=10, lease_seconds=60) == []
    # b read the delivery before a claimed it: its conditional update finds a token that is no longer there
    assert not Delivery.objects.filter(pk=due.pk, claim_token=due.claim_token).update(claimed_by="b")
    claimed[0].refresh_from_db()
    assert claimed[0].claimed_by == "a"
    assert (claimed[0].next_attempt_at - now_ms()).total_seconds() > 55, "due again when the lease runs out"


def test_a_lease_that_ran_out_is_claimed_again_and_the_first_worker_records_nothing(
    release, alice, receiver, subscribe
):
    target = receiver()
    subscription = subscribe(target, event_types=["release.submitted"])
    release_submit(release=release, actor=alice)
    (stale,) = services.deliveries_claim(worker="a", limit=10, lease_seconds=60)
    Delivery.objects.filter(pk=stale.pk).update(next_attempt_at=now_ms())  # a's lease ran out
    (fresh,) = services.deliveries_claim(worker="b", limit=10, lease_seconds=60)
    services.delivery_attempt(delivery=fresh, worker="b")
    assert services.delivery_attempt(delivery=stale, worker="a") is not None  # a wakes up and sends
    (delivery,) = deliveries(subscription)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert [a["worker"] for a in delivery.attempts] == ["b"], "a's claim was lost: its attempt is not recorded"
    assert {r.webhook_id for r in target.wait_for(2)} == {delivery.event_id}, "at worst twice, same webhook-id"


def test_replay_and_redeliver(release, alice, receiver, subscribe, worker):
    target = receiver(Answer(500), Answer(500), Answer(200))
    subscription = subscribe(target, event_types=["release.submitted", "approval.requested"])
    release_submit(release=release, actor=alice)
    Delivery.objects.update(retry_until=now_ms())  # no retries: both fail at once
    worker.run_once()
    first, second = deliveries(subscription)
    assert {first.status, second.status} == {DeliveryStatus.FAILED}

    api = client_for(alice)
    response = api.post(f"/api/v1/webhooks/deliveries/{first.pk}/replay")
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "pending"
    assert response.json()["replays"] == 1
    worker.run_once()
    first.refresh_from_db()
    assert first.status == DeliveryStatus.SUCCEEDED
    assert [(a["round"], a["n"]) for a in first.attempts] == [(0, 1), (1, 1)]

    since = (first.created_at - timedelta(minutes=1)).isoformat()
    response = api.post(f"/api/v1/webhooks/{subscription.pk}/redeliver", {"since": since}, format="json")
    assert response.status_code == 202
    assert response.json() == {"count": 1}
    worker.run_once()
    second.refresh_from_db()
    assert second.status == DeliveryStatus.SUCCEEDED
    ids = [r.webhook_id for r in target.wait_for(4)]
    assert sorted(ids) == sorted([first.event_id, first.event_id, second.event_id, second.event_id])
    assert AuditEvent.objects.filter(action="webhook.delivery_replayed").count() == 1
    assert AuditEvent.objects.get(action="webhook.deliveries_redelivered").changes["count"] == 1


def test_the_test_event(alice, receiver, subscribe, worker, db):
    target = receiver()
    subscription = subscribe(target)
    response = client_for(alice).post(f"/api/v1/webhooks/{subscription.pk}/test")
    assert response.status_code == 202
    assert response["Location"].endswith(f"/api/v1/webhooks/deliveries/{response.json()['id']}")
    worker.run_once()
    (received,) = target.wait_for(1)
    assert received.payload["context"]["type"] == "dev.opsportal.webhook.test.v1"
    assert received.payload["subject"]["content"]["url"] == target.url
    assert received.verified_with
    assert not Event.objects.filter(name="webhook.test").exists(), "a test event is not streamed"


def test_retention_prunes_old_succeeded_deliveries_and_events(release, alice, receiver, subscribe, worker, settings):
    target = receiver(Answer(200))
    subscription = subscribe(target)
    release_submit(release=release, actor=alice)
    worker.run_once()
    kept = subscribe(receiver(Answer(500)), event_types=["release.submitted"])
    Delivery.objects.create(
        subscription=kept,
        event_id="evt_x_0",
        event_name="release.submitted",
        event_type="dev.opsportal.release.submitted.v1",
        body="{}",
        status=DeliveryStatus.FAILED,
        retry_until=now_ms(),
        created_at=now_ms() - timedelta(days=90),
        updated_at=now_ms(),
    )
    old = now_ms() - timedelta(days=31)
    Delivery.objects.filter(subscription=subscription).update(delivered_at=old)
    Event.objects.update(at=old)
    result = services.deliveries_prune()
    assert result == {"deliveries": 2, "events": 2}
    assert not Delivery.objects.filter(subscription=subscription).exists()
    assert Delivery.objects.filter(subscription=kept).count() == 1, "failed deliveries stay for replay"
    pruned = AuditEvent.objects.get(action="webhook.deliveries_pruned")
    assert pruned.changes["deliveries"] == 2 and pruned.changes["days"] == 30
    assert services.deliveries_prune() == {"deliveries": 0, "events": 0}
    assert AuditEvent.objects.filter(action="webhook.deliveries_pruned").count() == 1, "nothing pruned: no event"


def test_periodic_jobs_run_once_per_interval_however_many_workers(db):
    names = [job.name for job in registered_jobs()]
    assert "events.prune_deliveries" in names
    first = Worker(inline=True, name="w1")
    second = Worker(inline=True, name="w2")
    first.run_once()
    second.run_once()
    job = PeriodicJob.objects.get(pk="events.prune_deliveries")
    assert job.runs == 1
    assert job.last_outcome == "ok"
    assert job.last_result == {"deliveries": 0, "events": 0}
    assert (job.next_run_at - job.last_started_at) == timedelta(hours=1)
    # a claim whose worker died runs out with its lease; then another worker runs it
    PeriodicJob.objects.filter(pk=job.pk).update(next_run_at=now_ms() - timedelta(seconds=1))
    claimed = services.periodic_job_claim(name=job.pk, worker="w3", lease_seconds=60)
    assert claimed is not None
    # the claim answers as stored: due again when its lease runs out
    assert claimed.next_run_at == PeriodicJob.objects.get(pk=job.pk).next_run_at
    assert claimed.next_run_at - claimed.last_started_at == timedelta(seconds=60)
    assert services.periodic_job_claim(name=job.pk, worker="w4", lease_seconds=60) is None
    PeriodicJob.objects.filter(pk=job.pk).update(next_run_at=now_ms() - timedelta(seconds=1))  # w3 died
    second.run_once()
    job.refresh_from_db()
    assert job.runs == 2


def test_a_failing_job_is_recorded_and_the_worker_goes_on(db, monkeypatch):
    from events import periodic

    def broken() -> dict:
        raise RuntimeError("disk full")

    monkeypatch.setitem(
        periodic._REGISTRY, "test.broken", periodic.PeriodicJobSpec("test.broken", timedelta(minutes=5), broken)
    )
    Worker(inline=True, name="w1").run_once()
    job = PeriodicJob.objects.get(pk="test.broken")
    assert job.last_outcome == "error"
    assert job.last_error == "RuntimeError: disk full"
    assert PeriodicJob.objects.get(pk="events.prune_deliveries").last_outcome == "ok"
