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
