"""The JWT's user and roles are cached per token for at most 30 s, and any change to users, groups or teams
invalidates every worker's cache at once through the collection versions (issue #18)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from opsportal.api import authentication
from opsportal.roles import RELEASE_MANAGERS
from opsportal.testing.factories import make_user

pytestmark = pytest.mark.django_db

AUDIT = "/api/v1/audit-events"  # Release Managers only


@pytest.fixture
def carol(db):
    return make_user("carol", RELEASE_MANAGERS)


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def user_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "auth_user" in q["sql"]]


def test_the_user_and_roles_are_read_once_per_token(carol):
    client = bearer(carol)
    assert client.get(AUDIT).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(AUDIT).status_code == 200
    assert user_queries(queries) == []


def test_a_demoted_release_manager_is_refused_on_their_next_request(carol):
    client = bearer(carol)
    assert client.get(AUDIT).status_code == 200
    carol.groups.remove(Group.objects.get(name=RELEASE_MANAGERS))  # as the backoffice does
    response = client.get(AUDIT)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_deactivated_user_is_refused_on_their_next_request(carol):
    client = bearer(carol)
    assert client.get(AUDIT).status_code == 200
    carol.is_active = False
    carol.save()
    assert client.get(AUDIT).status_code == 401


def test_a_change_to_another_user_drops_the_cache_too(carol):
    client = bearer(carol)
    client.get(AUDIT)
    make_user("someone-else")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(AUDIT).status_code == 200
    assert user_queries(queries)  # read again: the stamp moved


def test_an_entry_lives_at_most_30_seconds(carol, monkeypatch):
    client = bearer(carol)
    client.get(AUDIT)
    later = authentication.time.monotonic() + authentication.USER_TTL_S + 0.1
    monkeypatch.setattr(authentication.time, "monotonic", lambda: later)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(AUDIT).status_code == 200
    assert user_queries(queries)


def test_what_a_request_sets_on_its_user_stays_in_that_request(carol):
    token = AccessToken.for_user(carol)
    auth = authentication.CachedJWTAuthentication()
    first = auth.get_user(token)
    first.first_name = "changed in one request"
    second = auth.get_user(token)
    assert second.first_name != "changed in one request"
    assert len(authentication.CachedJWTAuthentication._entries) == 1  # the same entry served both
