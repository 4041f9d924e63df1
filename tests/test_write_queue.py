"""API write requests take their worker's write turn (`opsportal.middleware.WriteQueueMiddleware`, issue #9's
write mix): on SQLite one at a time per process, reads never, sign-in never, and only once the body is in."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test import RequestFactory

from opsportal.limits import MAX_BODY_BYTES
from opsportal.middleware import WriteQueueMiddleware

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="needs SQLite: MongoDB queues no writes")


class Recorder:
    """A view stand-in that notes how many requests are inside it at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self.lock = threading.Lock()

    def __call__(self, request):
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        time.sleep(0.05)
        with self.lock:
            self.inside -= 1
        return "response"


def _concurrently(requests) -> int:
    view = Recorder()
    middleware = WriteQueueMiddleware(view)
    threads = [threading.Thread(target=middleware, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return view.most


def test_api_writes_of_one_worker_run_one_at_a_time():
    factory = RequestFactory()
    requests = [factory.post("/api/v1/teams", {"name": f"T{n}"}, content_type="application/json") for n in range(4)]
    assert _concurrently(requests) == 1


def test_reads_and_sign_in_are_never_queued():
    factory = RequestFactory()
    reads = [factory.get("/api/v1/teams") for _ in range(3)]
    assert _concurrently(reads) == 3
    sign_ins = [
        factory.post("/api/v1/auth/token/", {"username": "a", "password": "b"}, content_type="application/json")
        for _ in range(3)
    ]
    assert _concurrently(sign_ins) == 3  # a password hash must not hold up the writes


def test_a_body_over_the_limit_is_left_to_the_view_unqueued():
    factory = RequestFactory()
    huge = [
        factory.post("/api/v1/teams", b"x" * (MAX_BODY_BYTES + 1), content_type="application/json") for _ in range(3)
    ]
    assert _concurrently(huge) == 3  # the view answers 413, as before, without taking a turn


def test_a_write_queued_behind_another_goes_on_when_it_finishes():
    factory = RequestFactory()
    order: list[str] = []

    def view(request):
        order.append(f"start {request.path}")
        time.sleep(0.05)
        order.append(f"end {request.path}")
        return "response"

    middleware = WriteQueueMiddleware(view)
    first = threading.Thread(target=middleware, args=(factory.post("/api/v1/teams"),))
    second = threading.Thread(target=middleware, args=(factory.post("/api/v1/environments"),))
    first.start()
    time.sleep(0.01)
    second.start()
    first.join(timeout=10)
    second.join(timeout=10)
    teams, environments = "/api/v1/teams", "/api/v1/environments"
    assert order == [f"start {teams}", f"end {teams}", f"start {environments}", f"end {environments}"]
