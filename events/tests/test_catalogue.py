"""The event catalogue (issue #11): which change gives which events, with what payload; CDEvents types
validate against the CDEvents 0.5.1 schemas; ids are stable and derived from the audit event."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from audit.models import AuditEvent
from environments.choices import Tier
from environments.services import (
    environment_create,
    environment_delete,
    environment_update,
    freeze_create,
    freeze_delete,
)
from events.catalogue import BY_NAME, CDEVENTS_SPEC_VERSION, EVENT_TYPES, example
from events.models import Event
from opsportal.testing.factories import client_for, make_environment, make_release
from releases.choices import DeploymentStatus
from releases.services import (
    deployment_report_status,
    release_approve,
    release_create,
    release_delete,
    release_deploy,
    release_reject,
    release_rollback,
    release_submit,
    release_update,
)

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).parent / "cdevents"


def cdevents_schema(event_type: str) -> dict:
    """The spec's schema of a CDEvents type (`links` left out: it refers to files we do not carry)."""
    name = event_type.removeprefix("dev.cdevents.").rsplit(".", 3)[0].replace(".", "")
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    schema["properties"]["context"]["properties"].pop("links")
    return schema


def validate(payload: dict) -> None:
    """The envelope every event has; CDEvents types also against their schema."""
    assert set(payload) == {"context", "subject", "customData", "customDataContentType"}
    assert payload["context"]["specversion"] == CDEVENTS_SPEC_VERSION
    assert payload["context"]["source"] == "/opsportal"
    assert payload["context"]["timestamp"].endswith("Z")
    assert {"id", "content"} <= set(payload["subject"])
    if payload["context"]["type"].startswith("dev.cdevents."):
        jsonschema.validate(payload, cdevents_schema(payload["context"]["type"]))
    else:
        assert payload["context"]["type"].startswith("dev.opsportal.") and payload["context"]["type"].endswith(".v1")


class Recorder:
    """The events written since it was made (or last asked)."""

    def __init__(self) -> None:
        self.seen = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    def new(self) -> list[Event]:
        events = list(Event.objects.filter(seq__gt=self.seen).order_by("seq", "index"))
        if events:
            self.seen = events[-1].seq
        for event in events:
            validate(event.payload)
        return events

    def names(self) -> list[str]:
        return [event.name for event in self.new()]


def test_every_catalogue_example_is_a_valid_payload():
    for event_type in EVENT_TYPES:
        payload = example(event_type)
        validate(payload)
        assert payload["context"]["type"] == event_type.type


def test_the_issue_asks_for_these_types():
    wanted = {
        "release.created",
        "release.submitted",
        "release.approved",
        "release.rejected",
        "release.deployed",
        "release.rolled_back",
        "deployment.started",
        "deployment.succeeded",
        "deployment.failed",
        "environment.frozen",
        "environment.unfrozen",
        "environment.health_changed",
        "approval.requested",
    }
    assert wanted <= set(BY_NAME)
    cdevents = {t.name for t in EVENT_TYPES if t.cdevents}
    assert {"service.deployed", "service.upgraded", "service.rolledback", "environment.modified"} <= cdevents


def test_a_release_through_its_lifecycle(release, alice, carol, envs):
    events = Recorder()
    release_submit(release=release, actor=alice)
    submitted, requested = events.new()
    assert (submitted.name, requested.name) == ("release.submitted", "approval.requested")
    assert requested.payload["subject"]["content"] == {
        "name": release.name,
        "version": release.version,
        "status": "pending_approval",
        "team": "platform-team",
        "requiredApprovals": 1,
    }
    assert requested.team == "platform-team"

    release_approve(release=release, actor=carol)
    assert events.names() == ["release.approved"]

    release_deploy(release=release, environment=envs["development"], actor=alice)
    assert events.names() == ["deployment.succeeded", "service.deployed", "environment.health_changed"]
    release_deploy(release=release, environment=envs["staging"], actor=alice)
    events.new()
    release_deploy(release=release, environment=envs["production"], actor=alice)
    produced = events.new()
    assert [e.name for e in produced] == [
        "deployment.succeeded",
        "service.deployed",
        "environment.health_changed",
        "release.deployed",
    ]
    service = produced[1].payload
    assert service["context"]["type"] == "dev.cdevents.service.deployed.0.3.0"
    assert service["subject"]["content"] == {
        "environment": {"id": "production", "source": "/api/v1/environments/production"},
        "artifactId": f"pkg:generic/platform-team@{release.version}",
    }
    assert all(event.environment == "production" for event in produced)

    # A second release replaces the first: an upgrade; rolling it back: a rollback.
    second = make_release(team_id="platform-team", created_by="alice", status="approved")
    release_deploy(release=second, environment=envs["production"], actor=alice)
    assert events.names() == ["deployment.succeeded", "service.upgraded", "release.deployed"]
    release_rollback(release=second, environment=envs["production"], actor=alice, reason="errors")
    rolled = events.new()
    assert [e.name for e in rolled] == ["service.rolledback", "release.rolled_back"]
    assert rolled[0].payload["subject"]["id"] == release.pk, "the release that runs again"
    assert rolled[0].payload["customData"]["changes"]["rolled_back_from"] == [None, second.pk]


def test_release_create_update_reject_delete(envs, team, alice, carol):
    events = Recorder()
    release = release_create(actor=alice, data={"name": "Q9", "version": "9.0.0", "team": team.pk})
    assert events.names() == ["release.created"]
    release = release_update(release=release, actor=alice, data={"description": "more"})
    (updated,) = events.new()
    assert updated.name == "release.updated"
    assert updated.payload["customData"]["changes"]["description"] == ["", "more"]
    release_reject(release=release, actor=carol, reason="No rollback plan")
    (rejected,) = events.new()
    assert rejected.payload["customData"]["changes"]["reason"] == "No rollback plan"
    assert rejected.payload["customData"]["actor"] == "carol"
    release_delete(release=release, actor=alice)
    (deleted,) = events.new()
    assert deleted.name == "release.deleted"
    assert deleted.payload["subject"]["content"]["version"] == "9.0.0"


def test_an_approval_short_of_the_required_count(release, alice, carol, envs):
    policy = {"rules": [{"approvals": 2, "group": "Release Managers"}]}
    environment_update(environment=envs["production"], actor=alice, data={"approval_policy": policy})
    release_submit(release=release, actor=alice)
    events = Recorder()
    release_approve(release=release, actor=carol)
    (recorded,) = events.new()
    assert recorded.name == "approval.recorded"
    assert recorded.payload["subject"]["content"]["approvals"] == 1
    assert recorded.payload["subject"]["content"]["requiredApprovals"] == 2


def test_pipeline_reports_started_then_failed_degrades_production(team, alice):
    production = make_environment("prod-eu", tier=Tier.PRODUCTION, health="healthy")
    release = make_release(team_id=team.pk, created_by="alice")
    events = Recorder()
    deployment = release_deploy(release=release, environment=production, actor=alice, status="in_progress")
    (started,) = events.new()
    assert started.name == "deployment.started"
    assert started.payload["subject"]["content"]["status"] == "in_progress"
    assert started.payload["subject"]["source"] == f"/api/v1/deployments/{deployment.pk}"
    deployment_report_status(deployment=deployment, actor=alice, status=DeploymentStatus.FAILED)
    failed, health = events.new()
    assert failed.name == "deployment.failed"
    assert health.name == "environment.health_changed"
    assert health.payload["subject"]["content"]["health"] == "degraded"
    assert health.payload["subject"]["content"]["previousHealth"] == "healthy"


def test_environment_events(alice):
    events = Recorder()
    environment = environment_create(actor=alice, data={"id": "qa", "name": "QA", "url": "https://qa.example.com"})
    (created,) = events.new()
    assert created.name == "environment.created"
    assert created.payload["subject"]["content"] == {"name": "QA", "uri": "https://qa.example.com"}
    data = {"name": "Holidays", "starts_at": "2030-12-20T00:00:00Z", "ends_at": "2031-01-02T00:00:00Z"}
    freeze = freeze_create(actor=alice, data={**data, "reason": "holidays", "environments": ["qa"]})  # issue #12
    (frozen,) = events.new()
    assert frozen.name == "environment.frozen" and frozen.environment == "qa"
    assert frozen.payload["subject"]["content"]["freeze"]["reason"] == "holidays"
    freeze_delete(freeze=freeze, actor=alice)
    assert events.names() == ["environment.unfrozen"]
    environment = environment_update(environment=environment, actor=alice, data={"health": "degraded"})
    assert events.names() == ["environment.modified", "environment.health_changed"]
    environment_delete(environment=environment, actor=alice)
    (deleted,) = events.new()
    assert deleted.name == "environment.deleted"
    assert deleted.payload["subject"]["content"] == {"name": "QA"}


def test_event_ids_are_derived_from_the_audit_event(release, alice):
    release_submit(release=release, actor=alice)
    audit = AuditEvent.objects.get(action="release.submitted")
    events = list(Event.objects.filter(seq=audit.seq).order_by("index"))
    assert [event.id for event in events] == [f"evt_{audit.id}_0", f"evt_{audit.id}_1"]
    for event in events:
        assert event.payload["context"]["id"] == event.id
        assert event.payload["customData"]["sequence"] == audit.seq
        assert event.payload["customData"]["auditEventId"] == audit.id
        assert event.payload["context"]["timestamp"] == audit.at.isoformat(timespec="milliseconds").replace(
            "+00:00", "Z"
        )


def test_changes_to_webhooks_users_and_teams_are_not_events(alice, team):
    from events.services import webhook_create

    events = Recorder()
    webhook_create(actor=alice, data={"url": "https://hooks.example.com/x"})
    assert events.new() == []


def test_the_catalogue_endpoint(api_client, alice):
    response = client_for(alice).get("/api/v1/events/types")
    assert response.status_code == 200
    body = response.json()
    assert [entry["name"] for entry in body] == [t.name for t in EVENT_TYPES]
    for entry in body:
        validate(entry["example"])
        assert entry["description"]
