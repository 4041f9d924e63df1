"""A real gunicorn (2+ workers) on a throw-away SQLite database, for tests that need real
concurrency (races between workers) or a live schema (fuzzing)."""

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


@pytest.fixture(scope="session")
def live_gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """gunicorn with 2 workers, fresh migrated SQLite, sample data and users per role."""
    if os.environ.get("MONGODB_URI"):
        pytest.skip("the live-server tests use their own SQLite database; skipped on the MongoDB leg")
    tmp = tmp_path_factory.mktemp("live")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "opsportal.settings",
            "SECRET_KEY": "live-server-test-secret-key-0123456789",
            "DEBUG": "false",
            "OPSPORTAL_SQLITE_PATH": str(tmp / "live.sqlite3"),
            "OPSPORTAL_ANONYMOUS_READ": "false",
            "OPSPORTAL_THROTTLE_USER": "100000/min",
            "OPSPORTAL_THROTTLE_ANON": "100000/min",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": "2",
            "LOG_LEVEL": "WARNING",
        }
    )
    env.pop("MONGODB_URI", None)
    _manage(env, "migrate", "--noinput")
    if (ROOT / "fixtures" / "sample_data.json").exists():
        _manage(env, "loaddata", "sample_data")
    users = {"rm1": "Release Managers", "rm2": "Release Managers", "eng": "Engineers", "viewer": "Viewers"}
    users.update({f"rm{i}": "Release Managers" for i in range(3, 25)})
    _manage(env, "shell", "-c", SETUP_SCRIPT.replace("{USERS}", repr(users)))
    log_path = tmp / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own server
            [
                sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                "--bind", f"127.0.0.1:{port}", "--workers", "2", "opsportal.wsgi:application",
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = LiveServer(base_url=f"http://127.0.0.1:{port}", env=env, log_path=log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{log_path.read_text()[-3000:]}")
            try:
                status, _, _ = server.request("GET", "/health")
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
