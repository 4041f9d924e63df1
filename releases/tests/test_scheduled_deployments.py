"""Scheduled deployments (issue #12): at a time or at the next open window; run by the worker's job when
due with every blocker re-checked; cancelled; one per environment and minute; listed by status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from environments.choices import Tier
from events.models import Event
from opsportal.errors import Conflict
from opsportal.testing.factories import client_for, make_environment, make_freeze, make_release
from releases.integrity import integrity_violations
from releases.models import Deployment, Release
from releases.services import deployment_cancel, deployments_run_due, release_deploy, release_schedule_deploy

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock(db, monkeypatch):
    class Clock:
        at = T0

    instance = Clock()
    monkeypatch.setattr(timezone, "now", lambda: instance.at)
    return instance


def _schedule(release, environment, actor, **delta) -> Deployment:
    return release_schedule_deploy(
        release=release, environment=environment, actor=actor, scheduled_for=T0 + timedelta(**delta)
    )


@pytest.fixture
def staging(db):
    return make_environment("staging", tier=Tier.STAGING)


def test_a_scheduled_deploy_runs_when_due(clock, staging, carol):
    release = make_release()
    api = client_for(carol)
    body = {"environment": "staging", "scheduled_for": "2026-12-01T10:00:00+01:00", "notes": "nightly"}
    created = api.post(f"/api/v1/releases/{release.pk}/deploy", body, format="json")
    assert created.status_code == 201, created.json()
    scheduled = created.json()
    assert (scheduled["status"], scheduled["sequence"], scheduled["scheduled_for"]) == (
        "scheduled",
        None,
        "2026-12-01T09:00:00Z",
    )
    listed = api.get("/api/v1/deployments", {"status": "scheduled"}).json()["results"]
    assert [d["id"] for d in listed] == [scheduled["id"]]
    assert deployments_run_due() == {"due": 0, "succeeded": 0, "failed": 0}  # not yet
    clock.at = T0 + timedelta(hours=1)
    assert deployments_run_due() == {"due": 1, "succeeded": 1, "failed": 0}
    deployment = Deployment.objects.get(pk=scheduled["id"])
    assert (deployment.status, deployment.sequence, deployment.became_current) == ("succeeded", 1, True)
    staging.refresh_from_db()
    assert (staging.current_release_id, staging.deployment_seq) == (release.pk, 1)
    assert [e.name for e in Event.objects.order_by("seq", "index")][:1] == ["deployment.scheduled"]
    assert Event.objects.filter(name="deployment.succeeded").exists()
    assert integrity_violations() == []


def test_a_scheduled_deploy_blocked_at_run_time_fails_with_its_blockers(clock, staging, carol):
    release = make_release()
    scheduled = release_schedule_deploy(
        release=release, environment=staging, actor=carol, scheduled_for=T0 + timedelta(minutes=30)
    )
    make_freeze("staging", starts_at=T0 + timedelta(minutes=20), ends_at=T0 + timedelta(hours=2), reason="incident")
    clock.at = T0 + timedelta(minutes=31)
    assert deployments_run_due() == {"due": 1, "succeeded": 0, "failed": 1}
    deployment = Deployment.objects.get(pk=scheduled.pk)
    assert deployment.status == "failed" and deployment.sequence is None and deployment.schedule_slot == deployment.pk
    assert [b["code"] for b in deployment.blockers] == ["freeze_window"]
    (failed,) = Event.objects.filter(name="deployment.schedule_failed")
    assert failed.payload["customData"]["changes"]["blockers"][0]["reason"] == "incident"
    assert AuditEvent.objects.get(action="deployment.schedule_failed").actor == "system"
    assert staging.deployments.filter(status="succeeded").count() == 0
    assert integrity_violations() == []


def test_cancel_a_scheduled_deploy(clock, staging, carol, dave):
    release = make_release()
    scheduled = release_schedule_deploy(
        release=release, environment=staging, actor=carol, scheduled_for=T0 + timedelta(hours=1)
    )
    response = client_for(dave).post(f"/api/v1/deployments/{scheduled.pk}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert Event.objects.filter(name="deployment.cancelled").count() == 1
    again = client_for(dave).post(f"/api/v1/deployments/{scheduled.pk}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    clock.at = T0 + timedelta(hours=2)
    assert deployments_run_due()["due"] == 0
    # Its minute is free again.
    assert release_schedule_deploy(
        release=release, environment=staging, actor=carol, scheduled_for=T0 + timedelta(hours=3)
    )


def test_a_second_deploy_for_the_same_environment_and_minute_is_409_naming_the_first(clock, staging, carol):
    first = release_schedule_deploy(
        release=make_release(), environment=staging, actor=carol, scheduled_for=T0 + timedelta(hours=1)
    )
    response = client_for(carol).post(
        f"/api/v1/releases/{make_release().pk}/deploy",
        {"environment": "staging", "scheduled_for": "2026-12-01T09:00:42Z"},
        format="json",
    )
    assert response.status_code == 409
    assert (response.json()["code"], response.json()["deployment"]) == ("schedule_taken", first.pk)
    other_minute = {"environment": "staging", "scheduled_for": "2026-12-01T09:01:00Z"}
    assert (
        client_for(carol).post(f"/api/v1/releases/{make_release().pk}/deploy", other_minute, format="json").status_code
        == 201
    )


def test_at_the_next_open_window(clock, staging, carol):
    make_freeze("staging", starts_at=T0 - timedelta(hours=1), ends_at=T0 + timedelta(hours=2))
    make_freeze("staging", starts_at=T0 + timedelta(hours=2), ends_at=T0 + timedelta(hours=3))
    body = {"environment": "staging", "at": "next_open_window"}
    response = client_for(carol).post(f"/api/v1/releases/{make_release().pk}/deploy", body, format="json")
    assert response.status_code == 201
    assert response.json()["scheduled_for"] == "2026-12-01T11:00:00Z"


@pytest.mark.parametrize(
    "body",
    [
        {"scheduled_for": "2026-12-01T07:00:00Z"},  # in the past
        {"scheduled_for": "tomorrow"},
        {"at": "whenever"},
        {"scheduled_for": "2026-12-01T10:00:00Z", "at": "next_open_window"},
        {"scheduled_for": ["2026-12-01T10:00:00Z"]},
    ],
)
def test_bad_schedules_are_400(clock, staging, carol, body):
    response = client_for(carol).post(
        f"/api/v1/releases/{make_release().pk}/deploy", {"environment": "staging", **body}, format="json"
    )
    assert response.status_code == 400
    assert not Deployment.objects.exists()


def test_a_manual_deploy_that_lands_first_is_seen_by_the_run(clock, staging, carol):
    release = make_release()
    scheduled = release_schedule_deploy(
        release=release, environment=staging, actor=carol, scheduled_for=T0 + timedelta(minutes=5)
    )
    clock.at = T0 + timedelta(minutes=6)
    release_deploy(release=Release.objects.get(pk=release.pk), environment=staging, actor=carol)
    assert deployments_run_due() == {"due": 1, "succeeded": 0, "failed": 1}
    assert [b["code"] for b in Deployment.objects.get(pk=scheduled.pk).blockers] == ["already_deployed"]
    assert integrity_violations() == []
    with pytest.raises(Conflict):
        deployment_cancel(deployment=scheduled, actor=carol)


def _snapshot() -> tuple:
    from environments.models import Environment

    return (
        sorted(Deployment.objects.values_list("id", "status", "sequence", "schedule_slot")),
        sorted(Environment.objects.values_list("id", "revision", "deployment_seq", "current_release_id")),
        sorted(Release.objects.values_list("id", "revision", "status")),
        AuditEvent.objects.count(),
        Event.objects.count(),
    )


@pytest.mark.parametrize("write", range(1, 12))
def test_a_crash_at_any_write_of_a_scheduled_run_leaves_all_or_nothing(clock, staging, carol, write):
    """A crash between two writes of the run (deployment, environment, release, audit, outbox): nothing of
    it is left, and the next run of the job completes it."""
    from opsportal.testing.faults import InjectedFault, fail_at_write

    scheduled = _schedule(make_release(), staging, carol, minutes=5)
    clock.at = T0 + timedelta(minutes=6)
    before = _snapshot()
    with fail_at_write(write) as fault:
        try:
            deployments_run_due()
        except InjectedFault:
            pass
    if fault.fired:
        assert _snapshot() == before
    assert deployments_run_due()["due"] == (1 if fault.fired else 0)
    assert Deployment.objects.get(pk=scheduled.pk).status == "succeeded"
    assert integrity_violations() == []
