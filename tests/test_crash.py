"""A gunicorn worker killed in the middle of a unit of work (issue #9): whatever write it was about
to make, the database holds all of the change or none of it, `check_integrity` is clean, and the
same request, retried with the same Idempotency-Key once the dead request's lease has run out,
succeeds exactly once."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.live_server_gunicorn

# A deploy with an Idempotency-Key writes: 1 the key's claim, then in one unit 2 the Deployment,
# 3 the environment, 4 the audit event, 5 the release, 6 the stored response.
DEPLOY_WRITES = range(1, 7)


def _wait_for(path: Path, seconds: float = 15) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and (text := path.read_text().strip()):
            return text
        time.sleep(0.05)
    raise AssertionError(f"the worker never paused ({path} not written)")


@pytest.mark.parametrize("write", DEPLOY_WRITES)
def test_a_worker_killed_before_any_write_of_a_deploy_leaves_nothing_and_the_retry_succeeds(
    live_gunicorn_faults, write
):
    server = live_gunicorn_faults
    pause = Path(server.env["OPSPORTAL_FAULT_PAUSE_FILE"])
    paused = Path(f"{pause}.paused")
    status, env, _ = server.request("POST", "/api/v1/environments", {"name": f"Crash {uuid.uuid4().hex[:8]}"}, "rm1")
    assert status == 201, env
    version = f"5.{uuid.uuid4().int % 10**8}.0"
    status, release, _ = server.request("POST", "/api/v1/releases", {"name": "Crash", "version": version}, "rm1")
    assert status == 201, release
    deploy = (f"/api/v1/releases/{release['id']}/deploy", {"environment": env["id"]})
    headers = {"Idempotency-Key": f"crash-{uuid.uuid4().hex}"}
    server.token("rm2")

    paused.unlink(missing_ok=True)
    pause.write_text(f"{uuid.uuid4().hex} {write}")
    answers: list = []
    request = threading.Thread(
        target=lambda: answers.append(_try(server, "POST", *deploy, user="rm2", headers=headers)), daemon=True
    )
    request.start()
    worker = int(_wait_for(paused))
    os.kill(worker, signal.SIGKILL)
    request.join(timeout=30)
    pause.unlink()
    assert answers and not (isinstance(answers[0], tuple) and 200 <= answers[0][0] < 300), answers

    _, deployments, _ = server.request("GET", f"/api/v1/deployments?release={release['id']}", user="rm1")
    assert deployments["count"] == 0, "a killed unit left a deployment behind"
    result = server.manage("check_integrity")
    assert result.returncode == 0, result.stdout + result.stderr

    time.sleep(2.2)  # the dead request's Idempotency-Key lease (2 s on this server) runs out
    status, body, _ = server.request("POST", *deploy, user="rm2", headers=headers)
    assert status == 201, body
    status, again, replayed = server.request("POST", *deploy, user="rm2", headers=headers)
    assert (status, again["id"], replayed.get("Idempotent-Replayed")) == (201, body["id"], "true")
    _, deployments, _ = server.request("GET", f"/api/v1/deployments?release={release['id']}", user="rm1")
    assert deployments["count"] == 1
    result = server.manage("check_integrity")
    assert result.returncode == 0, result.stdout + result.stderr


def _try(server, *args, **kwargs):
    try:
        return server.request(*args, **kwargs)
    except OSError as error:  # the worker died under the request: the connection dropped
        return error
