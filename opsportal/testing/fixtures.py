"""Shared pytest fixtures (registered by the root conftest).

Every API response these clients receive is checked against the OpenAPI schema
(`opsportal.testing.openapi_contract`, also registered by the root conftest)."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from opsportal.testing.factories import client_for, make_user


@pytest.fixture(autouse=True, scope="session")
def _verify_rows_handed_to_events():
    """Services hand the rows an audit event is about to the event catalogue instead of letting it read them
    back (`audit_record(rows=...)`): in every test each such row is compared with what is stored, so a
    service that hands over a stale instance fails (AssertionError) rather than send a wrong event."""
    from events import catalogue

    catalogue.VERIFY_HANDED_OVER = True
    yield
    catalogue.VERIFY_HANDED_OVER = False


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """The caches start empty in every test: the per-process ones (the read throttle's counters, the JWT
    users; issue #18) and the shared file cache (the write and sign-in throttles' counters), which no
    rollback undoes."""
    yield
    from django.core.cache import caches

    from opsportal.api.authentication import CachedJWTAuthentication
    from opsportal.api.rows import forget_process_caches

    caches["throttle"].clear()
    caches["default"].clear()
    CachedJWTAuthentication.forget_all()
    forget_process_caches()


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous API client."""
    return APIClient()


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "root-password-123")


@pytest.fixture
def api(superuser) -> APIClient:
    """An API client authenticated as a superuser (writes need a user)."""
    return client_for(superuser)


def user_fixture(username: str, *roles: str, name: str | None = None, doc: str = "", **fields: Any) -> Any:
    """A fixture (named `name`, by default `username`): that user (see `make_user`) in the given role groups,
    with `fields` set (`is_staff=True` for the admin)."""

    def fixture(db: None) -> Any:
        return make_user(username, *roles, **fields)

    fixture.__doc__ = doc or None
    return pytest.fixture(name=name or username)(fixture)
