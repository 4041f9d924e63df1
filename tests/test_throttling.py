"""Throttling (issue #4): per-user and anonymous rates; 429 with Retry-After. Reads count per process or
in Redis and never write to the database; writes count in the cache shared by every worker (issue #18)."""

import os

import pytest
import redis
from django.core.cache import cache, caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import AccessToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_rates(monkeypatch, settings):
    settings.ANONYMOUS_READ = True
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "5/min"})
    cache.clear()
    caches["throttle"].clear()
    yield
    cache.clear()
    caches["throttle"].clear()


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


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def test_a_read_writes_nothing_to_the_database(tight_rates, superuser):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(superuser)}")
    client.get("/api/v1/releases")  # warm: content types, permissions
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/releases").status_code == 200
        assert client.get("/api/v1/teams").status_code == 200
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]
    assert writes == []
    # … and yet it counted: the read budget is kept per process.
    assert len(caches["throttle"].get(f"throttle_user_{superuser.pk}")) == 3


def test_write_counters_live_in_the_file_cache_shared_by_all_workers(tight_rates, api, superuser):
    from django.conf import settings
    from django.core.cache.backends.filebased import FileBasedCache

    assert settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache")
    with CaptureQueriesContext(connection) as queries:
        assert api.post("/api/v1/teams", {"name": "Web"}, format="json").status_code == 201
    # The counter is no write to the database (it would queue behind the units of work) …
    assert not [q["sql"] for q in queries.captured_queries if "cache" in q["sql"]]
    # … and every worker reads the same directory: another process's cache there sees this write.
    other_worker = FileBasedCache(settings.CACHES["default"]["LOCATION"], {})
    assert len(other_worker.get(f"throttle_user_{superuser.pk}")) == 1
    # Reads count elsewhere: the write budget is not spent by polling.
    api.get("/api/v1/teams")
    assert len(other_worker.get(f"throttle_user_{superuser.pk}")) == 1


@pytest.mark.skipif(bool(os.environ.get("MONGODB_URI")), reason="needs SQLite: the file cache beside its database")
def test_without_redis_the_shared_cache_sits_beside_the_sqlite_database():
    from django.conf import settings

    if os.environ.get("OPSPORTAL_CACHE_DIR"):
        pytest.skip("OPSPORTAL_CACHE_DIR names the cache directory")
    assert settings.CACHES["default"]["LOCATION"] == f"{settings.SQLITE_PATH}.cache"


def test_write_budget_holds_whatever_the_reads(tight_rates, api):
    statuses = [api.post("/api/v1/teams", {"name": f"Team {n}"}, format="json").status_code for n in range(6)]
    assert statuses == [201] * 5 + [429]
    assert api.get("/api/v1/teams").status_code == 200  # reads have their own budget


@pytest.fixture
def redis_throttle(redis_url, settings):
    """The read throttle on a real Redis server, as with REDIS_URL set."""
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url},
    }
    server = redis.Redis.from_url(redis_url)
    server.flushdb()
    yield server
    server.flushdb()


def test_with_redis_the_read_budget_is_shared_and_kept_in_redis(tight_rates, redis_throttle):
    client = APIClient()
    statuses = [client.get("/api/v1/teams", REMOTE_ADDR="10.1.2.3").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    keys = [key.decode() for key in redis_throttle.keys("*")]
    assert [key for key in keys if key.endswith("throttle_anon_10.1.2.3")], keys
    # The counter lives in Redis and nowhere else: any worker sees it, and emptying Redis resets it.
    redis_throttle.flushdb()
    assert client.get("/api/v1/teams", REMOTE_ADDR="10.1.2.3").status_code == 200
