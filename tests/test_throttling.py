"""Throttling (issue #4): per-user and anonymous rates on the shared cache; 429 with Retry-After."""

import os

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_rates(monkeypatch, settings):
    settings.ANONYMOUS_READ = True
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "5/min"})
    cache.clear()
    yield
    cache.clear()


def test_anonymous_clients_get_429_with_retry_after(tight_rates):
    client = APIClient()
    statuses = [client.get("/api/v1/teams").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/teams")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"


def test_each_user_has_their_own_budget(tight_rates, superuser, django_user_model):
    first, second = APIClient(), APIClient()
    first.force_authenticate(superuser)
    second.force_authenticate(django_user_model.objects.create_user("other", "o@example.com", "pw-123456789"))
    assert [first.get("/api/v1/teams").status_code for _ in range(6)][-1] == 429
    assert second.get("/api/v1/teams").status_code == 200


@pytest.mark.skipif(bool(os.environ.get("MONGODB_URI")), reason="needs SQLite: on MongoDB the cache is Redis or files")
def test_the_throttle_counters_live_in_the_database_cache_shared_by_all_workers(tight_rates):
    from django.conf import settings

    assert settings.CACHES["default"]["BACKEND"] == "opsportal.cache.DatabaseCache"  # Django's, writes queued
    APIClient().get("/api/v1/teams", REMOTE_ADDR="10.1.2.3")
    # Every worker reads the same table, so this history counts against the client everywhere.
    assert len(cache.get("throttle_anon_10.1.2.3")) == 1
