"""Helpers of the GraphQL tests: a client that posts to `/graphql` with a real JWT (or an API token)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from opsportal.roles import ENGINEERS, RELEASE_MANAGERS, VIEWERS
from opsportal.testing.factories import make_standard_environments, make_team, make_user


@dataclass
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def data(self) -> Any:
        assert not self.body.get("errors"), self.body
        return self.body["data"]

    @property
    def error(self) -> dict[str, Any]:
        """The one error of the answer: message, path and the envelope in `extensions`."""
        errors = self.body.get("errors") or []
        assert len(errors) == 1, self.body
        return errors[0]


def graphql(query: str, variables: dict | None = None, *, user: Any = None, bearer: str | None = None) -> Answer:
    """POST `query` to /graphql as `user` (a JWT, as a client sends it), with `bearer` as is, or anonymously."""
    headers = {}
    if user is not None:
        bearer = str(AccessToken.for_user(user))
    if bearer is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {bearer}"
    response = Client().post(
        "/graphql",
        json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
        **headers,
    )
    return Answer(response.status_code, response.json())


@pytest.fixture
def envs(db):
    return make_standard_environments()


@pytest.fixture
def team(db):
    return make_team(
        id="payments",
        members=[{"name": "Erin", "email": "erin@example.com", "role": "dev", "username": "erin"}],
    )


@pytest.fixture
def manager(db):
    return make_user("maria", RELEASE_MANAGERS)


@pytest.fixture
def manager2(db):
    return make_user("mario", RELEASE_MANAGERS)


@pytest.fixture
def engineer(db, team):
    return make_user("erin", ENGINEERS)


@pytest.fixture
def viewer(db):
    return make_user("vera", VIEWERS)


@dataclass
class LiveASGI:
    """The ASGI server (gunicorn.asgi.conf.py, uvicorn workers) beside `live_gunicorn`, on its database."""

    ws_url: str
    rest: Any  # the LiveServer of live_gunicorn: REST calls and tokens

    def transport(self, user: str | None = None, **kwargs: Any) -> Any:
        from gql.transport.websockets import WebsocketsTransport

        payload = {"Authorization": f"Bearer {self.rest.token(user)}"} if user else {}
        return WebsocketsTransport(
            url=self.ws_url,
            init_payload=payload,
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            **kwargs,
        )


@pytest.fixture(scope="session")
def live_asgi(live_gunicorn) -> Any:
    import subprocess
    import sys
    import time
    import urllib.request

    from opsportal.testing.live_gunicorn import ROOT, free_port

    port = free_port()
    log_path = live_gunicorn.log_path.with_name("asgi.log")
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own server
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.asgi.conf.py", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT, env=live_gunicorn.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the ASGI server exited early:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the ASGI server did not answer:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield LiveASGI(ws_url=f"ws://127.0.0.1:{port}/graphql", rest=live_gunicorn)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
