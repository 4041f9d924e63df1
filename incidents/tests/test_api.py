"""`/api/v1/incidents` (issue #13): report, edit, resolve, list; who may; bad input; stale writes; faults."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from environments.choices import Tier
from events.models import Event
from incidents.models import Incident
from opsportal import roles
from opsportal.clock import now_ms
from opsportal.testing.factories import client_for, make_environment, make_release, make_team, make_user
from opsportal.testing.faults import InjectedFault, fail_at_write
from releases.services import release_deploy
from tokens.services import api_token_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents"


@pytest.fixture
def world():
    """Team `shop` (engineer `erin`) deploys to production; team `other` (engineer `olga`) does not."""
    make_team(id="shop", members=[{"name": "Erin", "email": "erin@example.com", "username": "erin"}])
    make_team(id="other", members=[{"name": "Olga", "email": "olga@example.com", "username": "olga"}])
    rm = make_user("rita", roles.RELEASE_MANAGERS)
    erin = make_user("erin", roles.ENGINEERS)
    olga = make_user("olga", roles.ENGINEERS)
    viewer = make_user("vic", roles.VIEWERS)
    production = make_environment("production", name="Production", tier=Tier.PRODUCTION)
    staging = make_environment("staging", name="Staging", tier=Tier.STAGING)
    release = make_release(team_id="shop", created_by="erin")
    deployment = release_deploy(release=release, environment=production, actor=rm)
    return {
        "rm": rm,
        "erin": erin,
        "olga": olga,
        "viewer": viewer,
        "production": production,
        "staging": staging,
        "release": release,
        "deployment": deployment,
    }


def _report(client, **fields):
    body = {"title": "Checkout 502s", "severity": "critical", **fields}
    return client.post(URL, body, format="json")


def _token_client(owner, scopes, teams):
    _, secret = api_token_create(actor=owner, name="pager", scopes=scopes, teams=teams)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_reporting_an_incident_links_the_release_audits_it_and_emits_incident_detected(world):
    response = _report(client_for(world["erin"]), deployment=world["deployment"].pk, external_id="PD-1")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["environment"] == "production", "the deployment's environment is used"
    assert body["release"] == world["release"].pk
    assert body["status"] == "open" and body["reported_by"] == "erin"
    assert response["Location"].endswith(f"/api/v1/incidents/{body['id']}")
    event = AuditEvent.objects.filter(action="incident.created", object_id=body["id"]).get()
    assert event.actor == "erin" and event.changes["deployment"] == [None, world["deployment"].pk]
    sent = Event.objects.get(audit_event=event.id)
    assert sent.type == "dev.cdevents.incident.detected.0.3.0"
    assert sent.payload["subject"]["content"]["environment"]["id"] == "production"
    assert sent.payload["subject"]["content"]["service"]["id"] == world["release"].pk


def test_a_past_incident_reported_with_its_resolution_emits_detected_and_resolved(world):
    started = now_ms() - timedelta(hours=3)
    response = _report(
        client_for(world["rm"]),
        environment="staging",
        started_at=started.isoformat(),
        resolved_at=(started + timedelta(minutes=30)).isoformat(),
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "resolved" and response.json()["release"] is None
    names = sorted(Event.objects.filter(name__startswith="incident.").values_list("name", flat=True))
    assert names == ["incident.detected", "incident.resolved"]


def test_resolving_audits_emits_and_a_second_resolve_is_refused(world):
    created = _report(client_for(world["erin"]), deployment=world["deployment"].pk).json()
    url = f"{URL}/{created['id']}/resolve"
    first = client_for(world["erin"]).post(url, {}, format="json")
    assert first.status_code == 200, first.json()
    assert first.json()["status"] == "resolved" and first.json()["resolved_by"] == "erin"
    assert first["ETag"] == f'"{created["id"]}-2"'
    assert AuditEvent.objects.filter(action="incident.resolved", object_id=created["id"]).count() == 1
    assert Event.objects.filter(name="incident.resolved").count() == 1
    again = client_for(world["rm"]).post(url, {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert "already resolved" in again.json()["detail"]
    assert AuditEvent.objects.filter(action="incident.resolved").count() == 1


def test_update_changes_fields_and_a_stale_revision_changes_nothing(world):
    created = _report(client_for(world["rm"]), environment="production").json()
    client = client_for(world["erin"])
    linked = client.patch(
        f"{URL}/{created['id']}", {"deployment": world["deployment"].pk, "severity": "low"}, format="json"
    )
    assert linked.status_code == 200, linked.json()
    assert (linked.json()["release"], linked.json()["severity"], linked.json()["revision"]) == (
        world["release"].pk,
        "low",
        2,
    )
    event = AuditEvent.objects.get(action="incident.updated", object_id=created["id"])
    assert event.changes["severity"] == ["critical", "low"]
    assert event.changes["release"] == [None, world["release"].pk]
    stale = client.patch(f"{URL}/{created['id']}", {"title": "x"}, format="json", HTTP_IF_MATCH=f'"{created["id"]}-1"')
    assert stale.status_code == 412
    stale_body = client.patch(f"{URL}/{created['id']}", {"title": "x", "revision": 1}, format="json")
    assert stale_body.status_code == 412
    assert Incident.objects.get(pk=created["id"]).title == "Checkout 502s"


@pytest.mark.parametrize(
    ("who", "code"),
    [("olga", "team_required"), ("viewer", "role_required")],
)
def test_only_managers_and_engineers_of_the_environments_teams_report(world, who, code):
    response = _report(client_for(world[who]), environment="production")
    assert response.status_code == 403 and response.json()["code"] == code, response.json()
    assert Incident.objects.count() == 0


def test_anonymous_cannot_report(world):
    response = _report(APIClient(), environment="production")
    assert response.status_code in (401, 403)
    assert Incident.objects.count() == 0


def test_an_engineer_cannot_resolve_another_teams_incident(world):
    created = _report(client_for(world["erin"]), deployment=world["deployment"].pk).json()
    response = client_for(world["olga"]).post(f"{URL}/{created['id']}/resolve", {}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "team_required"


def test_a_ci_token_with_the_scope_and_team_reports_and_resolves(world):
    client = _token_client(world["erin"], ["report_incidents", "read"], ["shop"])
    response = _report(client, deployment=world["deployment"].pk)
    assert response.status_code == 201, response.json()
    assert client.get(f"{URL}/{response.json()['id']}").status_code == 200
    resolved = client.post(f"{URL}/{response.json()['id']}/resolve", {}, format="json")
    assert resolved.status_code == 200, resolved.json()


def test_a_token_without_the_scope_or_for_another_team_is_refused(world):
    no_scope = _token_client(world["erin"], ["report_deployments"], ["shop"])
    response = _report(no_scope, environment="production")
    assert response.status_code == 403 and response.json()["code"] == "token_scope"
    assert "report_incidents" in response.json()["detail"]
    other_team = _token_client(world["olga"], ["report_incidents"], ["other"])
    response = _report(other_team, environment="production")
    assert response.status_code == 403 and response.json()["code"] == "token_scope"
    assert "Production" in response.json()["detail"]
    assert Incident.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": {"nested": 1}}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"started_at": 12}, "started_at"),
        ({"url": "not a url"}, "url"),
        ({"environment": "nowhere"}, "environment"),
        ({"environment": None}, "environment"),
        ({"deployment": "000000000000000000000000"}, "deployment"),
        ({"environment": "staging", "deployment": "DEPLOYMENT"}, "deployment"),
        ({"started_at": "2999-01-01T00:00:00Z"}, "started_at"),
        ({"started_at": "2026-01-02T00:00:00Z", "resolved_at": "2026-01-01T00:00:00Z"}, "resolved_at"),
    ],
)
def test_bad_input_is_400_naming_the_field(world, fields, field):
    if fields.get("deployment") == "DEPLOYMENT":
        fields = {**fields, "deployment": world["deployment"].pk}
    body = {"environment": "production", **fields} if "environment" in fields or "deployment" not in fields else fields
    response = _report(client_for(world["rm"]), **body)
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert Incident.objects.count() == 0 and not AuditEvent.objects.filter(action="incident.created").exists()


def test_an_incident_cannot_start_before_the_deployment_it_blames(world):
    before = world["deployment"].started_at - timedelta(minutes=5)
    response = _report(client_for(world["rm"]), deployment=world["deployment"].pk, started_at=before.isoformat())
    assert response.status_code == 400 and "started_at" in response.json()["errors"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"title": "\\ud800", "environment": "production"}',
        b'{"title": "a\\u0000b", "environment": "production"}',
        b'{"title": "x", "environment": "production", "description": ' + b"[" * 200 + b"]" * 200 + b"}",
        b'{"title": "x", "environment": "production", "description": "' + b"a" * (3 * 1024 * 1024) + b'"}',
        b"[1, 2, 3]",
        b"not json",
    ],
    ids=["lone-surrogate", "nul", "deeply-nested", "huge", "array", "garbage"],
)
def test_malformed_bodies_are_refused_with_the_error_envelope(world, raw):
    client = client_for(world["rm"])
    response = client.generic("POST", URL, raw, content_type="application/json")
    assert 400 <= response.status_code < 500, response.status_code
    assert "code" in json.loads(response.content)
    assert Incident.objects.count() == 0


def test_the_same_external_incident_is_reported_once(world):
    client = client_for(world["rm"])
    assert _report(client, environment="production", external_id="PD-7").status_code == 201
    again = _report(client, environment="production", external_id=" PD-7 ")
    assert again.status_code == 409 and again.json()["code"] == "duplicate_incident"
    assert Incident.objects.count() == 1
    # Without an external id, any number of incidents.
    assert _report(client, environment="production").status_code == 201
    assert _report(client, environment="production", external_id="").status_code == 201


def test_list_filters(world):
    client = client_for(world["rm"])
    linked = _report(client, deployment=world["deployment"].pk, severity="low").json()
    _report(client, environment="staging")
    client.post(f"{URL}/{linked['id']}/resolve", {}, format="json")

    def ids(query):
        response = client.get(f"{URL}?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids("team=shop") == [linked["id"]]
    assert ids(f"release={world['release'].pk}") == [linked["id"]]
    assert ids("status=resolved") == [linked["id"]]
    assert len(ids("status=open")) == 1 and ids("severity=low") == [linked["id"]]
    assert len(ids("environment=staging")) == 1
    assert client.get(f"{URL}?status=bogus").status_code == 400


@pytest.mark.parametrize("write", [1, 2, 3, 4])
def test_a_fault_at_any_write_of_a_report_leaves_nothing(world, write):
    client = client_for(world["rm"])
    client.raise_request_exception = True
    before = (Incident.objects.count(), AuditEvent.objects.count(), Event.objects.count())
    with fail_at_write(write) as fault, pytest.raises(InjectedFault):
        _report(client, deployment=world["deployment"].pk)
    assert fault.fired
    assert (Incident.objects.count(), AuditEvent.objects.count(), Event.objects.count()) == before
    client.raise_request_exception = False
    assert _report(client, deployment=world["deployment"].pk).status_code == 201


def test_an_environment_with_incidents_cannot_be_deleted(world):
    env = make_environment("qa", name="QA")
    _report(client_for(world["rm"]), environment="qa")
    response = client_for(world["rm"]).delete(f"/api/v1/environments/{env.pk}")
    assert response.status_code == 409 and response.json()["code"] == "protected"
    assert "incident" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("resolve", {"resolved_at": "soon"}, "resolved_at"),
        ("resolve", {"resolved_at": "2000-01-01T00:00:00Z"}, "resolved_at"),
        ("resolve", {"revision": "one"}, "revision"),
        ("", {"severity": ["high"]}, "severity"),
        ("", {"deployment": 42}, "deployment"),
        ("", {"environment": "staging"}, None),  # moving it unlinks the production deployment: allowed
        ("", {"started_at": "2999-01-01T00:00:00Z"}, "started_at"),
    ],
)
def test_bad_updates_and_resolves_are_400_and_change_nothing(world, path, body, field):
    created = _report(client_for(world["rm"]), deployment=world["deployment"].pk).json()
    url = f"{URL}/{created['id']}" + (f"/{path}" if path else "")
    client = client_for(world["rm"])
    response = client.post(url, body, format="json") if path else client.patch(url, body, format="json")
    if field is None:
        assert response.status_code == 200 and response.json()["deployment"] is None, response.json()
        return
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    incident = Incident.objects.get(pk=created["id"])
    assert (incident.revision, incident.status) == (1, "open")
