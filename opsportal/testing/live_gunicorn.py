"""A real gunicorn (2+ workers) on a throw-away database, for tests that need real concurrency
(races between workers) or a live schema (fuzzing).

The database is a fresh SQLite file, or, where `MONGODB_URI` is set (the MongoDB leg), a MongoDB
database of its own on that server, `<test database>_live` (e.g. `test_opsportal_live`), dropped
before and after: not the test database itself, which pytest-django recreates at session start
and flushes after every test (DESIGN §3), while this server's data lives for the whole session.
Tests using the `live_gunicorn` fixture are marked `live_server_gunicorn`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

SETUP_SCRIPT = """
from django.contrib.auth.models import Group, User
from opsportal.roles import ENGINEERS, RELEASE_MANAGERS, VIEWERS
users = {USERS}
for name, role in users.items():
    user = User.objects.create_user(name, name + "@example.com", "pw-" + name + "-12345")
    if role:
        user.groups.add(Group.objects.get(name=role))
"""

# The sample data's calendar and production policy depend on the day the tests run (issue #12): a weekly
# weekend freeze and the German public holidays on production, a Christmas change freeze, approvals that
# stop counting after 72 hours, a deployment scheduled for 2026-11-27 (overdue on any later day), and a
# policy that wants the security team, which the users below are not in. The live tests make their own
# environments, releases, freezes and policies; so that what they find of the sample data does not change
# with the weekday or the date (CI on a Saturday, on 25 December), the server starts without the sample
# freezes and the scheduled deployment, and production asks one Release Manager, as before issue #12.
# Tests that need a freeze or a policy make their own. (Test setup, like `loaddata`: no service, no audit.)
DATE_FREE_SAMPLE_SCRIPT = """
from environments.models import Environment, Freeze
from environments.policies import default_policy
from releases.choices import DeploymentStatus
from releases.models import Deployment
Freeze.objects.all().delete()
Deployment.objects.filter(status=DeploymentStatus.SCHEDULED).delete()
Environment.objects.filter(pk="production").update(approval_policy=default_policy(1), requires_approval=True)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    base_url: str
    env: dict[str, str]
    log_path: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, body: Any = None, user: str | None = None, headers: dict | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method)  # noqa: S310 - loopback only
        req.add_header("Content-Type", "application/json")
        req.add_header("Accept", "application/json")
        if user:
            req.add_header("Authorization", f"Bearer {self.token(user)}")
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        try:
            with urllib.request.urlopen(req, timeout=60) as response:  # noqa: S310 - loopback only
                raw = response.read()
                return response.status, json.loads(raw) if raw else None, dict(response.headers)
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = raw.decode(errors="replace")
            return error.code, payload, dict(error.headers)

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        """`manage.py <args>` against this server's database (e.g. `check_integrity`)."""
        return subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def token(self, user: str) -> str:
        if user not in self.tokens:
            status, body, _ = self.request(
                "POST", "/api/v1/auth/token/", {"username": user, "password": f"pw-{user}-12345"}
            )
            assert status == 200, (status, body)
            self.tokens[user] = body["access"]
        return self.tokens[user]


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300
    )


def live_mongodb_uri(uri: str, database: str) -> str:
    """`uri` (credentials, hosts and options kept) naming `database` instead of its own."""
    return urlunsplit(urlsplit(uri)._replace(path=f"/{database}"))


def live_database_name() -> str:
    from django.conf import settings

    test_name = settings.DATABASES["default"].get("TEST", {}).get("NAME") or "test_opsportal"
    return f"{test_name}_live"


def live_server_env(tmp: Path, port: int, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: production-like settings on a throw-away database (see the module)."""
    env = {
        k: v for k, v in (os.environ if environ is None else environ).items() if not k.startswith(("PYTEST", "DJANGO_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "opsportal.settings",
            "SECRET_KEY": "live-server-test-secret-key-0123456789",
            "DEBUG": "false",
            "OPSPORTAL_SQLITE_PATH": str(tmp / "live.sqlite3"),
            "OPSPORTAL_CACHE_DIR": str(tmp / "cache"),
            "OPSPORTAL_ANONYMOUS_READ": "false",
            "OPSPORTAL_THROTTLE_USER": "100000/min",
            "OPSPORTAL_THROTTLE_ANON": "100000/min",
            # The fuzzer signs in with made-up passwords; later tests still sign in from the same address.
            "OPSPORTAL_THROTTLE_LOGIN_IP": "100000/min",
            "OPSPORTAL_THROTTLE_LOGIN_USERNAME": "100000/min",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": "2",
            "LOG_LEVEL": "WARNING",
        }
    )
    if env.get("MONGODB_URI"):
        env["MONGODB_URI"] = live_mongodb_uri(env["MONGODB_URI"], live_database_name())
    return env


def _drop_mongodb_database(uri: str) -> None:
    from pymongo import MongoClient

    with MongoClient(uri) as client:
        client.drop_database(client.get_default_database())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if {"live_gunicorn", "live_gunicorn_faults", "live_gunicorn_fuzz"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live_server_gunicorn)


@pytest.fixture(scope="session")
def live_gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """gunicorn with 2 workers, a fresh migrated database (SQLite, or MongoDB where MONGODB_URI is
    set), sample data and users per role."""
    tmp = tmp_path_factory.mktemp("live")
    port = free_port()
    env = live_server_env(tmp, port)
    mongodb_uri = env.get("MONGODB_URI")
    if mongodb_uri:
        _drop_mongodb_database(mongodb_uri)  # left over by an interrupted run
    try:
        yield from _serve(env, tmp, port)
    finally:
        if mongodb_uri:
            _drop_mongodb_database(mongodb_uri)


@pytest.fixture(scope="session")
def live_gunicorn_faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Like `live_gunicorn`, on a database of its own, with the pause seam of `opsportal.testing.faults`
    in every worker (`OPSPORTAL_FAULT_PAUSE_FILE`) and a 2-second Idempotency-Key lease."""
    if os.environ.get("MONGODB_URI"):
        pytest.skip("the crash tests need SQLite: a killed worker's MongoDB transaction times out instead (60 s)")
    tmp = tmp_path_factory.mktemp("live-faults")
    port = free_port()
    env = live_server_env(tmp, port)
    env.update(OPSPORTAL_FAULT_PAUSE_FILE=str(tmp / "pause"), OPSPORTAL_IDEMPOTENCY_LEASE_SECONDS="2")
    yield from _serve(env, tmp, port, config="opsportal/testing/gunicorn_faults.conf.py")


@pytest.fixture(scope="session")
def live_gunicorn_fuzz(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """Like `live_gunicorn`, on a database of its own: the environments, teams and releases the API fuzzer
    makes up (an environment requiring 7 approvals…) must not change what other live tests see. On
    MongoDB (one database per run) the shared server."""
    if os.environ.get("MONGODB_URI"):
        yield request.getfixturevalue("live_gunicorn")
        return
    tmp = tmp_path_factory.mktemp("live-fuzz")
    port = free_port()
    yield from _serve(live_server_env(tmp, port), tmp, port)


def _serve(
    env: dict[str, str],
    tmp: Path,
    port: int,
    config: str = "gunicorn.conf.py",
    *,
    serve_env: dict[str, str] | None = None,
    ready_path: str = "/health",
) -> Iterator[LiveServer]:
    """Migrate, load the sample data and the users with `env`, then run gunicorn with `serve_env`
    (default: the same) until `ready_path` answers 200."""
    _manage(env, "migrate", "--noinput")
    if (ROOT / "fixtures" / "sample_data.json").exists():
        _manage(env, "loaddata", "sample_data")
        _manage(env, "shell", "-c", DATE_FREE_SAMPLE_SCRIPT)
    users = {"rm1": "Release Managers", "rm2": "Release Managers", "eng": "Engineers", "viewer": "Viewers"}
    users.update({f"rm{i}": "Release Managers" for i in range(3, 25)})
    _manage(env, "shell", "-c", SETUP_SCRIPT.replace("{USERS}", repr(users)))
    log_path = tmp / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own server
            [
                sys.executable, "-m", "gunicorn", "-c", config,
                "--bind", f"127.0.0.1:{port}", "--workers", "2", "opsportal.wsgi:application",
            ],
            cwd=ROOT, env=serve_env or env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = LiveServer(base_url=f"http://127.0.0.1:{port}", env=serve_env or env, log_path=log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{log_path.read_text()[-3000:]}")
            try:
                status, _, _ = server.request("GET", ready_path)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not become healthy:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
