"""`/releases/analytics` is served from the shared cache until the next write."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsportal.testing.factories import make_standard_environments
from releases.services import release_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/releases/analytics"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_repeated_reads_reuse_the_report(api, superuser):
    make_standard_environments()
    with CaptureQueriesContext(connection) as computed:
        first = api.get(URL).json()
    with CaptureQueriesContext(connection) as reused:
        second = api.get(URL).json()
    assert second == first

    def figures(queries):
        return [q["sql"] for q in queries if "releases_release" in q["sql"] or "releases_deployment" in q["sql"]]

    assert figures(computed.captured_queries)
    assert figures(reused.captured_queries) == []


def test_a_write_through_the_services_is_seen_at_once(api, superuser):
    make_standard_environments()
    before = api.get(URL).json()["by_status"]["draft"]
    release_create(actor=superuser, data={"name": "Fresh", "version": "42.0.0"})
    assert api.get(URL).json()["by_status"]["draft"] == before + 1


def test_each_window_has_its_own_report(api):
    make_standard_environments()
    assert api.get(URL, {"days": 7}).json()["window_days"] == 7
    assert api.get(URL, {"days": 30}).json()["window_days"] == 30
