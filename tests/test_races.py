"""Check-then-act races against gunicorn with 2 workers (issue #9): a reject, a freeze edit, a
rollback, a status report or a delete racing a deploy or a new reference. Whatever the order the
requests land in, exactly one outcome wins, and `check_integrity` finds nothing afterwards."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.test_concurrency import _race

pytestmark = pytest.mark.live_server_gunicorn

ROUNDS = 4
ONE_RELEASE_MANAGER = {"rules": [{"approvals": 1, "group": "Release Managers"}]}


def _ok(status: int) -> bool:
    return 200 <= status < 300


def _post(server, path, body=None, user="rm1"):
    return server.request("POST", path, body or {}, user=user)


def _environment(server, tier="development", **fields):
    name = f"Race {tier} {uuid.uuid4().hex[:8]}"
    status, body, _ = _post(server, "/api/v1/environments", {"name": name, "tier": tier, **fields})
    assert status == 201, body
    return body["id"]


def _release(server, approved=False):
    version = f"7.{uuid.uuid4().int % 10**8}.0"
    status, body, _ = _post(server, "/api/v1/releases", {"name": "Race", "version": version}, user="eng")
    assert status == 201, body
    if approved:
        assert _post(server, f"/api/v1/releases/{body['id']}/submit", user="eng")[0] == 200
        assert _post(server, f"/api/v1/releases/{body['id']}/approve")[0] == 200
    return body["id"]


def _deploy(server, release_id, env_id, **extra):
    return _post(server, f"/api/v1/releases/{release_id}/deploy", {"environment": env_id, **extra}, user="rm2")


def _get(server, path):
    status, body, _ = server.request("GET", path, user="rm1")
    assert status == 200, body
    return body


def _audit_seqs(server, action, object_id=None):
    query = f"action={action}&page_size=100" + (f"&object_id={object_id}" if object_id else "")
    return [event["seq"] for event in _get(server, f"/api/v1/audit-events?{query}")["results"]]


def _assert_integrity(server):
    result = server.manage("check_integrity")
    assert result.returncode == 0, result.stdout + result.stderr


def test_reject_racing_a_production_deploy(live_gunicorn):
    server = live_gunicorn
    for _ in range(ROUNDS):
        env_id = _environment(server, "production", approval_policy=ONE_RELEASE_MANAGER)
        release_id = _release(server, approved=True)
        reject, deploy = _race(
            [
                lambda r=release_id: _post(server, f"/api/v1/releases/{r}/reject", {"reason": "race"}),
                lambda r=release_id, e=env_id: _deploy(server, r, e),
            ]
        )
        assert _ok(reject[0]) != _ok(deploy[0]), (reject, deploy)  # exactly one wins
        release = _get(server, f"/api/v1/releases/{release_id}")
        current = _get(server, f"/api/v1/environments/{env_id}")["current_release"]
        if _ok(deploy[0]):
            assert (release["status"], current) == ("deployed", release_id)
            assert reject[1]["code"] == "invalid_transition"
        else:
            assert (release["status"], current) == ("rejected", None)
            assert deploy[1]["code"] == "invalid_transition"
    _assert_integrity(server)


def test_freeze_edit_racing_a_deploy(live_gunicorn):
    server = live_gunicorn
    now = datetime.now(UTC)
    window = {
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
        "reason": "incident",
    }
    for _ in range(ROUNDS):
        env_id = _environment(server)
        release_id = _release(server)
        freeze, deploy = _race(
            [
                lambda e=env_id: _post(
                    server,
                    "/api/v1/freezes",
                    {**window, "name": f"Incident {uuid.uuid4().hex[:8]}", "environments": [e]},
                ),
                lambda r=release_id, e=env_id: _deploy(server, r, e),
            ]
        )
        assert _ok(freeze[0]), freeze  # a freeze is always added (issue #12: a document of the calendar)
        frozen_at = _audit_seqs(server, "freeze.created", freeze[1]["id"])
        if _ok(deploy[0]):
            # A deploy that got through committed before the freeze did, never after it.
            (deployed_at,) = _audit_seqs(server, "deployment.created", deploy[1]["id"])
            assert not frozen_at or deployed_at < min(frozen_at), (freeze, deploy)
        else:
            assert _ok(freeze[0]) and deploy[0] == 409
            assert [b["code"] for b in deploy[1]["blockers"]] == ["freeze_window"]
        assert _ok(freeze[0]) or freeze[1]["code"] == "stale_revision"  # lost to the deploy's write: reload
    _assert_integrity(server)


def _second_of_three_current(server):
    """A new environment where a first, then a second release was deployed; a third is ready."""
    env_id = _environment(server)
    first, second, third = _release(server), _release(server), _release(server)
    assert _deploy(server, first, env_id)[0] == 201
    assert _deploy(server, second, env_id)[0] == 201
    return env_id, first, second, third


def test_rollback_racing_a_deploy(live_gunicorn):
    server = live_gunicorn
    for _ in range(ROUNDS):
        env_id, _, second, third = _second_of_three_current(server)
        rollback, deploy = _race(
            [
                lambda r=second, e=env_id: _post(server, f"/api/v1/releases/{r}/rollback", {"environment": e}),
                lambda r=third, e=env_id: _deploy(server, r, e),
            ]
        )
        assert _ok(deploy[0]), deploy  # a deploy of another release is never blocked by the rollback
        current = _get(server, f"/api/v1/environments/{env_id}")["current_release"]
        assert current == third
        if not _ok(rollback[0]):  # the deploy landed first: `second` was no longer current
            assert rollback[1]["code"] == "not_current_release"
    _assert_integrity(server)


def test_status_report_racing_a_rollback(live_gunicorn):
    server = live_gunicorn
    for _ in range(ROUNDS):
        env_id, first, second, third = _second_of_three_current(server)
        status, running, _ = _deploy(server, third, env_id, status="in_progress")
        assert status == 201, running
        report, rollback = _race(
            [
                lambda d=running["id"]: server.request(
                    "PATCH", f"/api/v1/deployments/{d}", {"status": "succeeded"}, user="rm1"
                ),
                lambda r=second, e=env_id: _post(server, f"/api/v1/releases/{r}/rollback", {"environment": e}),
            ]
        )
        assert _ok(report[0]), report  # the pipeline's report is always recorded
        current = _get(server, f"/api/v1/environments/{env_id}")["current_release"]
        if _ok(rollback[0]):  # the rollback came first: the late success does not take over
            assert current == first
        else:
            assert rollback[1]["code"] == "not_current_release"
            assert current == third
    _assert_integrity(server)


def test_team_delete_racing_a_release_that_names_it(live_gunicorn):
    server = live_gunicorn
    for _ in range(ROUNDS):
        status, team, _ = _post(server, "/api/v1/teams", {"name": f"Race team {uuid.uuid4().hex[:8]}"})
        assert status == 201, team
        version = f"6.{uuid.uuid4().int % 10**8}.0"
        delete, create = _race(
            [
                lambda t=team["id"]: server.request("DELETE", f"/api/v1/teams/{t}", user="rm1"),
                lambda t=team["id"], v=version: _post(
                    server, "/api/v1/releases", {"name": "Race", "version": v, "team": t}, user="rm2"
                ),
            ]
        )
        assert _ok(delete[0]) != _ok(create[0]), (delete, create)  # never a release naming a deleted team
        if _ok(delete[0]):
            assert create[0] == 400 and "team" in create[1]["errors"]
        else:
            assert delete[0] == 409 and delete[1]["code"] == "protected"
    _assert_integrity(server)


def test_a_scheduled_deploy_racing_a_manual_deploy(live_gunicorn):  # issue #12
    """The worker runs a due scheduled deploy (another process) while a manual deploy of the same release
    to the same environment comes in: exactly one of them deploys it, the other sees it (the run fails
    with `already_deployed`, or the manual deploy is refused), and the invariants hold."""
    server = live_gunicorn
    run_due = "from releases.services import deployments_run_due; print(deployments_run_due())"
    for _ in range(2):
        env_id, release_id = _environment(server), _release(server)
        when = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
        status, scheduled, _ = _post(
            server, f"/api/v1/releases/{release_id}/deploy", {"environment": env_id, "scheduled_for": when}
        )
        assert status == 201 and scheduled["status"] == "scheduled", scheduled
        time.sleep(2.2)
        run, manual = _race(
            [lambda: server.manage("shell", "-c", run_due), lambda r=release_id, e=env_id: _deploy(server, r, e)]
        )
        assert run.returncode == 0, run.stderr
        deployments = _get(server, f"/api/v1/deployments?environment={env_id}&page_size=100")["results"]
        succeeded = [d for d in deployments if d["status"] == "succeeded"]
        assert len(succeeded) == 1, deployments  # one of the two deployed it
        ran = next(d for d in deployments if d["id"] == scheduled["id"])
        if _ok(manual[0]):
            assert ran["status"] == "failed" and [b["code"] for b in ran["blockers"]] == ["already_deployed"]
        else:
            assert ran["status"] == "succeeded" and manual[1]["code"] == "deploy_blocked", manual
        assert _get(server, f"/api/v1/environments/{env_id}")["current_release"] == release_id
    _assert_integrity(server)
