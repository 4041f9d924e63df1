"""Incident writes racing against a gunicorn with 2 workers (issue #13): two resolves of one incident, two
reports of one external incident. Exactly one wins; the other gets 409; the trail has one event."""

from __future__ import annotations

import uuid

import pytest

from tests.test_concurrency import _race

pytestmark = pytest.mark.live_server_gunicorn

ROUNDS = 3


def _audit_count(server, action, object_id=None):
    query = f"action={action}&page_size=100" + (f"&object_id={object_id}" if object_id else "")
    status, body, _ = server.request("GET", f"/api/v1/audit-events?{query}", user="rm1")
    assert status == 200, body
    return body["count"]


def test_two_resolves_at_once_one_wins(live_gunicorn):
    server = live_gunicorn
    for user in ("rm1", "rm2", "rm3"):
        server.token(user)
    for _ in range(ROUNDS):
        status, incident, _ = server.request(
            "POST", "/api/v1/incidents", {"title": "Race", "environment": "production"}, user="rm1"
        )
        assert status == 201, incident
        url = f"/api/v1/incidents/{incident['id']}/resolve"
        results = _race([lambda u=u, url=url: server.request("POST", url, {}, user=u) for u in ("rm2", "rm3")])
        statuses = sorted(status for status, _, _ in results)
        assert statuses == [200, 409], results
        loser = next(body for status, body, _ in results if status == 409)
        assert loser["code"] == "invalid_transition"
        assert _audit_count(server, "incident.resolved", incident["id"]) == 1


def test_two_reports_of_one_external_incident_at_once_one_wins(live_gunicorn):
    server = live_gunicorn
    for user in ("rm1", "rm2", "rm3"):
        server.token(user)
    for _ in range(ROUNDS):
        external = f"PD-{uuid.uuid4().hex[:10]}"
        body = {"title": "Pager", "environment": "production", "external_id": external}
        results = _race(
            [lambda u=u, body=body: server.request("POST", "/api/v1/incidents", body, user=u) for u in ("rm2", "rm3")]
        )
        statuses = sorted(status for status, _, _ in results)
        assert statuses == [201, 409], results
        assert next(b for s, b, _ in results if s == 409)["code"] == "duplicate_incident"
        _, listed, _ = server.request("GET", f"/api/v1/incidents?external_id={external}", user="rm1")
        assert listed["count"] == 1
    result = server.manage("check_integrity")
    assert result.returncode == 0, result.stdout + result.stderr
