"""Real races against gunicorn with 2 workers (issue #4): every lifecycle action is one unit of
work, so concurrent requests never both win and never get lost. On SQLite, and on MongoDB where
`MONGODB_URI` is set (a database of the live server's own, see opsportal/testing/live_gunicorn.py)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.live_server_gunicorn


def _race(calls):
    """Run the callables at the same moment (a barrier releases them together)."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _new_release(server, creator="eng"):
    version = f"9.{uuid.uuid4().int % 10**6}.0"
    status, body, _ = server.request("POST", "/api/v1/releases", {"name": "Race", "version": version}, user=creator)
    assert status == 201, body
    return body["id"]


def test_twenty_release_managers_approve_at_once_exactly_one_wins(live_gunicorn):
    server = live_gunicorn
    release_id = _new_release(server)
    assert server.request("POST", f"/api/v1/releases/{release_id}/submit", {}, user="eng")[0] == 200
    managers = [f"rm{i}" for i in range(1, 21)]
    for manager in managers:
        server.token(manager)  # log in before the race so the race is only the approvals
    results = _race(
        [lambda m=m: server.request("POST", f"/api/v1/releases/{release_id}/approve", {}, user=m) for m in managers]
    )
    statuses = sorted(status for status, _, _ in results)
    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == 19, statuses
    _, release, _ = server.request("GET", f"/api/v1/releases/{release_id}", user="rm1")
    assert release["status"] == "approved"
    assert len(release["approvals"]) == 1
    _, history, _ = server.request("GET", f"/api/v1/releases/{release_id}/history?page_size=100", user="rm1")
    assert [e["action"] for e in history["results"]].count("release.approved") == 1


def test_ten_concurrent_deploys_create_exactly_one_deployment(live_gunicorn):
    server = live_gunicorn
    release_id = _new_release(server)
    for user in ("rm1", "rm2", *[f"rm{i}" for i in range(3, 11)]):
        server.token(user)
    users = ["rm1", "rm2", *[f"rm{i}" for i in range(3, 11)]]
    results = _race(
        [
            lambda u=u: server.request(
                "POST", f"/api/v1/releases/{release_id}/deploy", {"environment": "development"}, user=u
            )
            for u in users
        ]
    )
    statuses = sorted(status for status, _, _ in results)
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == 9, statuses
    _, deployments, _ = server.request(
        "GET", f"/api/v1/deployments?release={release_id}&environment=development", user="rm1"
    )
    assert deployments["count"] == 1
    _, env_status, _ = server.request("GET", "/api/v1/environments/development/status", user="rm1")
    assert env_status["current_release"]["id"] == release_id


def test_same_idempotency_key_races_run_once(live_gunicorn):
    server = live_gunicorn
    key = uuid.uuid4().hex
    version = f"8.{uuid.uuid4().int % 10**6}.0"
    body = {"name": "Idempotent", "version": version}
    results = _race(
        [lambda: server.request("POST", "/api/v1/releases", body, user="rm1", headers={"Idempotency-Key": key})] * 5
    )
    created = [r for r in results if r[0] == 201]
    assert created, [r[0] for r in results]
    assert {r[1]["id"] for r in created} == {created[0][1]["id"]}  # replays return the first response
    assert all(r[0] in (201, 409) for r in results)
    _, listing, _ = server.request("GET", f"/api/v1/releases?search={version}", user="rm1")
    assert listing["count"] == 1
