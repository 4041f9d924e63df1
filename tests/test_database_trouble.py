"""Database trouble is a 503, fast (issue #10): a locked, read-only or unreachable database answers
503 in the error envelope with `Retry-After`, well inside gunicorn's 60 s timeout; `/health/live`
answers without the database; `/health` (readiness) answers within 2 s and names what failed.

Against real gunicorn servers on SQLite: the shared live server, its database locked by another
connection holding `BEGIN IMMEDIATE`; and a server of this module's own on a database it may only
read. Unit-level cases (MongoDB's errors, the admin) use the Django test client."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.db.utils import OperationalError
from pymongo.errors import NotPrimaryError, ServerSelectionTimeoutError

from opsportal.database import SQLITE_BUSY_TIMEOUT_SECONDS
from opsportal.testing.live_gunicorn import LiveServer, _serve, free_port, live_server_env
from opsportal.testing.mongo_compile import allow_raw_sql
from opsportal.testing.probes import database_unreachable
from opsportal.unavailable import LOCKED, READ_ONLY, UNREACHABLE, database_unavailable

needs_sqlite = pytest.mark.skipif(bool(os.environ.get("MONGODB_URI")), reason="locks and files of SQLite")
GUNICORN_TIMEOUT = 60


@contextmanager
def locked(database: str) -> Iterator[None]:
    """Another connection holds SQLite's write lock, as a stuck process or a shell's `BEGIN IMMEDIATE` does."""
    with allow_raw_sql():
        holder = sqlite3.connect(database, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()


def timed(server: LiveServer, method: str, path: str, **kwargs) -> tuple[float, int, object, dict]:
    started = time.monotonic()
    status, body, headers = server.request(method, path, **kwargs)
    return time.monotonic() - started, status, body, headers


def assert_unavailable(status: int, body: object, headers: dict, reason: str) -> None:
    assert status == 503, body
    assert body["code"] == "database_unavailable"
    assert body["reason"] == reason
    assert body["detail"].endswith(".")
    assert int(headers["Retry-After"]) > 0


# --------------------------------------------------------------------------- locked (the shared live server)


@needs_sqlite
def test_a_locked_database_answers_503_fast(live_gunicorn):
    """issue #10: a write waited 60 s and got a generic 500; /health hung 74 s, then said ok."""
    live_gunicorn.token("rm1")  # signed in before the lock
    with locked(live_gunicorn.env["OPSPORTAL_SQLITE_PATH"]):
        took, status, body, headers = timed(live_gunicorn, "GET", "/health")
        assert took < 2
        assert status == 503, body
        assert (body["read"], body["write"], body["database"]) == ("ok", LOCKED, "error")
        assert body["detail"].startswith("The database can be read but not written. The database is busy")
        assert int(headers["Retry-After"]) > 0

        took, status, body, _ = timed(live_gunicorn, "GET", "/health/live")
        assert (status, body["status"]) == (200, "ok") and took < 1

        took, status, body, headers = timed(
            live_gunicorn, "POST", "/api/v1/teams", body={"id": "locked-out", "name": "Locked out"}, user="rm1"
        )
        assert_unavailable(status, body, headers, LOCKED)
        assert took < GUNICORN_TIMEOUT / 3  # a few busy waits of 5 s at most

    status, body, _ = live_gunicorn.request("POST", "/api/v1/teams", {"id": "locked-out", "name": "Locked out"}, "rm1")
    assert status == 201, body  # the lock is gone: the same write goes through
    assert live_gunicorn.request("GET", "/health")[0] == 200


@needs_sqlite
def test_writers_take_turns_across_workers_and_a_stuck_turn_does_not_block_them(live_gunicorn):
    """The write mix's p99 (issue #9): SQLite writers queue on the database's turn file (`opsportal.uow`),
    not in SQLite's busy handler. A write that arrives while another process has the turn waits for it
    and goes through as soon as it is handed over; a turn held past the busy timeout is passed by."""
    live_gunicorn.token("rm1")
    assert live_gunicorn.request("POST", "/api/v1/teams", {"id": "turn-0", "name": "Turn 0"}, "rm1")[0] == 201
    turn_file = f"{live_gunicorn.env['OPSPORTAL_SQLITE_PATH']}.turn"
    assert os.path.exists(turn_file), "units of work take their turn on the turn file"

    descriptor = os.open(turn_file, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # another worker's unit is writing
        answers: dict[str, tuple[float, int]] = {}

        def send(name: str, path: str, body: dict, user: str | None) -> None:
            status = live_gunicorn.request("POST", path, body, user)[0]
            answers[name] = (time.monotonic(), status)

        writers = [
            threading.Thread(target=send, args=("unit", "/api/v1/teams", {"id": "turn-1", "name": "Turn 1"}, "rm1")),
            # a failed sign-in: its throttle counters live in the file cache, not in the database
            threading.Thread(
                target=send, args=("counter", "/api/v1/auth/token/", {"username": "rm1", "password": "wrong"}, None)
            ),
        ]
        for writer in writers:
            writer.start()
        time.sleep(1.0)
        assert list(answers) == ["counter"], "the unit waits for its turn; a throttle counter does not"
        assert answers["counter"][1] == 401
        handed_over = time.monotonic()
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        for writer in writers:
            writer.join(timeout=30)
        assert answers["unit"][1] == 201 and answers["unit"][0] >= handed_over

        fcntl.flock(descriptor, fcntl.LOCK_EX)  # a stuck turn: the write goes ahead after the busy timeout
        took, status, body, _ = timed(
            live_gunicorn, "POST", "/api/v1/teams", body={"id": "turn-2", "name": "Turn 2"}, user="rm1"
        )
        assert status == 201, body
        assert SQLITE_BUSY_TIMEOUT_SECONDS - 0.5 <= took < GUNICORN_TIMEOUT / 3
    finally:
        os.close(descriptor)


# --------------------------------------------------------------------------- read-only (a server of its own)


@pytest.fixture(scope="module")
def read_only_server(tmp_path_factory) -> Iterator[LiveServer]:
    """gunicorn on a database it can read but not write: set up read-write, then opened read-only
    (`mode=ro`), exactly as SQLite opens a file or a disk it may not write (whatever the test's user)."""
    if os.environ.get("MONGODB_URI"):
        pytest.skip("a read-only SQLite file")
    tmp = tmp_path_factory.mktemp("read-only")
    port = free_port()
    env = live_server_env(tmp, port)
    serve_env = {**env, "OPSPORTAL_SQLITE_PATH": f"file:{env['OPSPORTAL_SQLITE_PATH']}?mode=ro"}
    yield from _serve(env, tmp, port, serve_env=serve_env, ready_path="/health/live")


@pytest.mark.live_server_gunicorn  # a gunicorn of its own
def test_health_says_error_on_a_read_only_database(read_only_server):
    """issue #10: /health said ok on a read-only disk while every write failed."""
    took, status, body, headers = timed(read_only_server, "GET", "/health")
    assert took < 2
    assert status == 503, body
    assert (body["status"], body["read"], body["write"]) == ("error", "ok", READ_ONLY)
    assert body["detail"] == (
        "The database can be read but not written. "
        "The database is read-only at the moment, so nothing can be changed. Retry later."
    )
    assert int(headers["Retry-After"]) > 0
    assert read_only_server.request("GET", "/health/live")[0] == 200


@pytest.mark.live_server_gunicorn  # a gunicorn of its own
def test_writes_to_a_read_only_database_answer_503(read_only_server):
    assert read_only_server.request("GET", "/api/v1/teams", user="rm1")[0] == 200  # reads still work
    took, status, body, headers = timed(
        read_only_server, "POST", "/api/v1/teams", body={"id": "ro", "name": "Read-only"}, user="rm1"
    )
    assert_unavailable(status, body, headers, READ_ONLY)
    assert took < 5


# --------------------------------------------------------------------------- unreachable, MongoDB, the admin


@pytest.mark.django_db
def test_health_names_an_unreachable_database_and_live_does_not_touch_it(client, django_assert_num_queries):
    with database_unreachable():
        response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert (body["read"], body["write"]) == (UNREACHABLE, "skipped")
    assert body["detail"].startswith("The database cannot be read. The database cannot be reached")
    with django_assert_num_queries(0):
        live = client.get("/health/live")
    assert live.status_code == 200 and live.json()["status"] == "ok"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (OperationalError("database is locked"), LOCKED),
        (OperationalError("attempt to write a readonly database"), READ_ONLY),
        (OperationalError("unable to open database file"), UNREACHABLE),
        (ServerSelectionTimeoutError("localhost:27017: [Errno 111] Connection refused"), UNREACHABLE),
        (NotPrimaryError("not primary"), READ_ONLY),
        (OperationalError("no such table: x"), None),  # a bug, not an outage: stays a 500
        (ValueError("database is locked"), None),
    ],
)
def test_which_errors_mean_the_database_is_unavailable(error, reason):
    found = database_unavailable(error)
    assert (found.reason if found else None) == reason
    wrapped = RuntimeError("while saving")
    wrapped.__cause__ = error
    assert (database_unavailable(wrapped) or mock.Mock(reason=None)).reason == reason


@pytest.mark.django_db
def test_the_api_answers_503_for_mongodb_without_a_primary(api):
    api.raise_request_exception = False
    with mock.patch(
        "teams.api.views.TeamViewSet.perform_create", side_effect=ServerSelectionTimeoutError("no primary")
    ):
        response = api.post("/api/v1/teams", {"id": "web", "name": "Web"}, format="json")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert response.json()["reason"] == UNREACHABLE
    assert response["Retry-After"] == "30"


@pytest.mark.django_db
def test_the_admin_answers_503_too(client, superuser):
    client.raise_request_exception = False
    client.force_login(superuser)
    with mock.patch("teams.admin.TeamAdmin.get_queryset", side_effect=OperationalError("database is locked")):
        response = client.get("/admin/teams/team/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "busy" in response.content.decode()
