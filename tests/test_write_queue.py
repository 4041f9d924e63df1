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
from opsportal.uow import FifoLock

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


def _queue_up(lock: FifoLock, count: int, order: list[int]) -> list[threading.Thread]:
    """`count` threads that wait for `lock` one after the other (each is queued before the next starts)."""

    def take(number: int) -> None:
        assert lock.acquire(timeout=10)
        order.append(number)
        time.sleep(0.01)  # a request's work
        lock.release()

    threads = []
    for number in range(count):
        thread = threading.Thread(target=take, args=(number,))
        thread.start()
        deadline = time.monotonic() + 5
        while len(lock._waiters) <= number and time.monotonic() < deadline:
            time.sleep(0.001)
        threads.append(thread)
    return threads


def test_the_write_turn_goes_to_the_longest_waiting_request_first():
    lock, order = FifoLock(), []
    assert lock.acquire(timeout=1)
    threads = _queue_up(lock, 5, order)
    lock.release()
    # A request that arrives just as the turn is handed on does not jump the queue (a `threading.Lock` would
    # let it: the woken waiter has not run yet).
    assert not lock.acquire(timeout=0)
    for thread in threads:
        thread.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]
    assert lock.acquire(timeout=0.01)  # free again once the queue has gone through


def test_a_request_that_gives_up_waiting_leaves_the_queue():
    lock = FifoLock()
    assert lock.acquire(timeout=1)
    assert not lock.acquire(timeout=0.02)
    lock.release()
    assert lock.acquire(timeout=0.01)  # nobody left waiting to hand it to
