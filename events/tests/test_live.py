"""Against a real gunicorn and real `manage.py run_worker` processes (issue #11): a worker killed in the
middle of a delivery (its lease runs out, another worker delivers with the same webhook-id), a clean
stop on SIGTERM, and the SSE stream resumed with `Last-Event-ID` without missing anything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from events.tests.receivers import Answer, Receiver
from events.tests.sse import EventStream
from opsportal.testing.live_gunicorn import (
    ROOT,
    LiveServer,
    _drop_mongodb_database,
    _serve,
    free_port,
    live_database_name,
    live_mongodb_uri,
    live_server_env,
)
from opsportal.testing.orphans import start_from_dev_py, wait_gone

pytestmark = pytest.mark.live_server_gunicorn

LEASE_SECONDS = 3


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """gunicorn on a database of its own, with loopback webhooks allowed, 1 s heartbeats, 3 s leases."""
    tmp = tmp_path_factory.mktemp("events-live")
    port = free_port()
    env = live_server_env(tmp, port)
    env.update(
        OPSPORTAL_WEBHOOK_ALLOW_PRIVATE_TARGETS="true",
        OPSPORTAL_SSE_HEARTBEAT_SECONDS="1",
        OPSPORTAL_WORKER_LEASE_SECONDS=str(LEASE_SECONDS),
        LOG_LEVEL="INFO",
    )
    if env.get("MONGODB_URI"):
        env["MONGODB_URI"] = live_mongodb_uri(env["MONGODB_URI"], f"{live_database_name()}_events")
        _drop_mongodb_database(env["MONGODB_URI"])
    try:
        yield from _serve(env, tmp, port)
    finally:
        if env.get("MONGODB_URI"):
            _drop_mongodb_database(env["MONGODB_URI"])


class WorkerProcess:
    def __init__(self, live: LiveServer, log: Path) -> None:
        self.log = log
        with log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "run_worker", "--poll", "0.2", "--no-jobs"],
                cwd=ROOT,
                env=live.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def workers(live: LiveServer, tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []

    class Start(list):
        def __call__(self) -> WorkerProcess:
            worker = WorkerProcess(live, tmp_path / f"worker-{len(started)}.log")
            started.append(worker)
            return worker

    yield Start()
    for worker in started:
        worker.stop()


def subscribe(live: LiveServer, target: Receiver, **fields) -> dict:
    status, body, _ = live.request("POST", "/api/v1/webhooks", {"url": target.url, **fields}, user="rm1")
    assert status == 201, body
    target.secrets.append(body["secret"])
    return body


def create_release(live: LiveServer, version: str) -> dict:
    status, body, _ = live.request("POST", "/api/v1/releases", {"name": f"R {version}", "version": version}, user="rm1")
    assert status == 201, body
    return body


def deliveries(live: LiveServer, subscription: dict) -> list[dict]:
    status, body, _ = live.request("GET", f"/api/v1/webhooks/deliveries?subscription={subscription['id']}", user="rm1")
    assert status == 200, body
    return body["results"]


def wait_until(predicate, timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_worker_killed_mid_delivery_is_replaced_when_its_lease_runs_out(live, workers):
    target = Receiver([Answer(200, delay=60), Answer(200)]).start()  # the first answer never comes in time
    try:
        subscription = subscribe(live, target, event_types=["release.created"])
        create_release(live, "11.0.1")
        first = workers()
        target.wait_for(1, timeout=20)
        assert len(target.received) == 1, first.output()
        killed_at = time.monotonic()
        first.process.send_signal(signal.SIGKILL)  # in the middle of the delivery
        first.process.wait(timeout=10)
        second = workers()
        received = target.wait_for(2, timeout=LEASE_SECONDS + 20)
        assert len(received) == 2, second.output()
        assert time.monotonic() - killed_at >= LEASE_SECONDS - 1, "not before the lease ran out"
        assert received[0].webhook_id == received[1].webhook_id, "the same webhook-id: the receiver can deduplicate"
        assert all(r.verified_with for r in received)
        assert received[0].body == received[1].body
        wait_until(lambda: deliveries(live, subscription)[0]["status"] == "succeeded", what="the delivery")
        (delivery,) = deliveries(live, subscription)
        assert delivery["attempt_count"] == 1, "the killed worker's attempt was never recorded"
        _, detail, _ = live.request("GET", f"/api/v1/webhooks/deliveries/{delivery['id']}", user="rm1")
        assert detail["attempts"][0]["status_code"] == 200
    finally:
        target.stop()


def test_sigterm_finishes_the_delivery_in_flight_then_exits(live, workers):
    target = Receiver([Answer(200, delay=2)]).start()
    try:
        subscription = subscribe(live, target, event_types=["release.created"])
        create_release(live, "11.0.2")
        worker = workers()
        target.wait_for(1, timeout=20)
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(timeout=20) == 0, worker.output()
        (delivery,) = deliveries(live, subscription)
        assert delivery["status"] == "succeeded", "recorded before exiting"
        assert "worker stopped" in worker.output()
    finally:
        target.stop()


def test_an_sse_client_that_reconnects_with_last_event_id_misses_nothing(live):
    token = live.token("viewer")
    stream = EventStream(live.base_url, token).open()
    assert stream.status == 200
    assert stream.response.getheader("Content-Type").startswith("text/event-stream")
    stream.read(0, timeout=0.5)  # ": connected"
    assert stream.comments and stream.comments[0].startswith("connected at")

    first = create_release(live, "12.0.0")
    (message,) = stream.read(1)
    assert message.data["context"]["type"] == "dev.opsportal.release.created.v1"
    assert message.data["subject"]["id"] == first["id"]
    resume_from = message.last_event_id
    assert resume_from == str(message.data["customData"]["sequence"])
    stream.close()

    # Missed while disconnected: a release created, one created and submitted (two events of one sequence).
    second = create_release(live, "12.0.1")
    third = create_release(live, "12.0.2")
    status, _, _ = live.request("POST", f"/api/v1/releases/{third['id']}/submit", user="rm1")
    assert status == 200

    resumed = EventStream(live.base_url, token, last_event_id=resume_from).open()
    missed = resumed.read(4)
    assert [(m.data["subject"]["id"], m.data["context"]["type"].split(".")[2:4]) for m in missed] == [
        (second["id"], ["release", "created"]),
        (third["id"], ["release", "created"]),
        (third["id"], ["release", "submitted"]),
        (third["id"], ["approval", "requested"]),
    ]
    # The same events, in the same order, as the list gives them.
    status, listed, _ = live.request("GET", f"/api/v1/events?after={resume_from}", user="viewer")
    assert [e["id"] for e in listed["results"]] == [m.data["context"]["id"] for m in missed]
    # `id` comes after the last event of a sequence only: resuming never splits one.
    assert missed[2].last_event_id == missed[1].last_event_id
    assert missed[3].last_event_id == str(missed[3].data["customData"]["sequence"])

    # Idle: heartbeats (1 s here, 15 s by default).
    assert resumed.read(1, timeout=2.5) == []
    assert resumed.heartbeats >= 1
    resumed.close()


def test_the_stream_is_filtered_like_a_subscription_and_needs_read_access(live):
    stream = EventStream(live.base_url, live.token("viewer"), query={"types": "approval.*"}).open()
    stream.read(0, timeout=0.3)
    release = create_release(live, "13.0.0")
    live.request("POST", f"/api/v1/releases/{release['id']}/submit", user="rm1")
    (message,) = stream.read(1)
    assert message.data["context"]["type"] == "dev.opsportal.approval.requested.v1"
    stream.close()

    anonymous = EventStream(live.base_url).open()
    assert anonymous.status == 401  # OPSPORTAL_ANONYMOUS_READ is off on this server
    anonymous.close()
    bad = EventStream(live.base_url, live.token("viewer"), query={"types": "nope.*"}).open()
    assert bad.status == 400
    bad.close()


def test_each_of_many_open_streams_sees_a_new_event_within_two_seconds(live):
    token = live.token("viewer")
    streams = [EventStream(live.base_url, token, timeout=5).open() for _ in range(20)]
    try:
        for stream in streams:
            stream.read(0, timeout=0.2)
        # the API keeps answering beside them
        assert live.request("GET", "/api/v1/releases?page_size=5", user="viewer")[0] == 200
        started = time.monotonic()
        created = create_release(live, "14.0.0")
        for stream in streams:
            (message,) = stream.read(1, timeout=5)
            assert message.data["subject"]["id"] == created["id"]
        assert time.monotonic() - started < 2.5
    finally:
        for stream in streams:
            stream.close()


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize(
    "parent_lives",
    [0.0, 3.0],
    ids=["parent-ends-before-the-worker-is-up", "parent-ends-while-the-worker-runs"],
)
def test_the_worker_of_dev_py_run_stops_with_its_parent(live, tmp_path, parent_lives):
    """`--exit-with-parent`: the worker `dev.py run` starts beside gunicorn ends when gunicorn does, however long
    the worker takes to start (Django's set-up on a busy machine can outlast its parent)."""
    log = tmp_path / "worker.log"
    pid = start_from_dev_py("start_worker", live.env, log, parent_lives)
    wait_gone(pid, timeout=60, what="the orphaned worker")  # its start-up included
    output = log.read_text(errors="replace")
    assert "parent process gone, stopping" in output, output  # stopped for that reason, not by crashing
