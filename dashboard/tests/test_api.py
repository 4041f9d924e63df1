"""`/api/v1/releases/analytics` and `/api/v1/dashboard/{stats,metrics,health}` over HTTP."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from dashboard import selectors
from dashboard.api.views import ReleaseAnalyticsViewSet
from dashboard.tests.builders import NOW, deployment, release_created
from environments.choices import Health
from opsportal.testing.factories import make_standard_environments, make_team
from opsportal.testing.probes import database_unreachable
from releases.analytics import release_analytics
from releases.choices import DeploymentKind, DeploymentStatus, ReleaseStatus

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
ENDPOINTS = [
    "/api/v1/releases/analytics",
    "/api/v1/dashboard/stats",
    "/api/v1/dashboard/metrics",
    "/api/v1/dashboard/health",
]


@pytest.fixture(autouse=True)
def frozen_now():
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield NOW


@pytest.fixture
def add_history():
    """Adds `count` deployments (every outcome and kind, three environments) and count // 5 releases."""
    envs = list(make_standard_environments().values())
    team = make_team()
    # The first five already give every environment a success (so each has its median query).
    outcomes = [
        DeploymentStatus.SUCCEEDED,
        DeploymentStatus.SUCCEEDED,
        DeploymentStatus.SUCCEEDED,
        DeploymentStatus.FAILED,
        DeploymentStatus.ROLLED_BACK,
    ]
    added = 0

    def add(count: int) -> None:
        nonlocal added
        releases = [
            release_created(NOW - (30 + n) * DAY, team=None if n % 2 else team, status=ReleaseStatus.values[n % 6])
            for n in range(max(count // 5, 1))
        ]
        for n in range(count):
            status = outcomes[n % len(outcomes)]
            kind = DeploymentKind.ROLLBACK if n % 7 == 6 else DeploymentKind.DEPLOY
            added += 1
            deployment(
                envs[n % len(envs)],
                releases[n % len(releases)],
                finished=NOW - timedelta(minutes=added * 7),
                started=NOW - timedelta(minutes=added * 7 + 5),
                status=status,
                kind=kind,
            )

    return add


def test_analytics_report(api):
    production = make_standard_environments()["production"]
    release = release_created(NOW - 2 * DAY, status=ReleaseStatus.DEPLOYED, team=make_team(name="Platform"))
    for hours in (1, 2, 3):
        deployment(production, release, finished=release.created_at + timedelta(hours=hours))
    deployment(production, release, finished=NOW - timedelta(hours=1), status=DeploymentStatus.FAILED)

    response = api.get("/api/v1/releases/analytics")

    assert response.status_code == 200
    body = response.json()
    assert body["generated_at"] == "2025-03-31T12:00:00Z"
    assert body["window_days"] == 30
    assert body["window_start"] == "2025-03-01T12:00:00Z"
    assert body["by_status"]["deployed"] == 1
    assert body["by_team"] == [{"team_id": release.team_id, "team_name": "Platform", "count": 1}]
    assert body["created_per_month"][-1] == {"month": "2025-03", "count": 1}
    assert len(body["created_per_month"]) == 12
    production_figures = body["dora"][-1]
    assert production_figures["environment_id"] == "production"
    assert production_figures["successful_deployments"] == 3
    assert production_figures["change_failure_rate_percent"] == 25.0
    assert production_figures["lead_time_median_seconds"] == 2 * 3600
    assert production_figures["mean_time_to_restore_seconds"] is None


def test_analytics_window_parameter(api):
    production = make_standard_environments()["production"]
    release = release_created(NOW - 60 * DAY)
    deployment(production, release, finished=NOW - 10 * DAY)
    deployment(production, release, finished=NOW - 2 * DAY)

    week = api.get("/api/v1/releases/analytics?days=7").json()
    year = api.get("/api/v1/releases/analytics/", {"days": 365}).json()

    assert week["window_days"] == 7
    assert api.get("/api/v1/releases/analytics?days=").json()["window_days"] == 30  # empty: the default
    assert week["dora"][-1]["successful_deployments"] == 1
    assert year["dora"][-1]["successful_deployments"] == 2


@pytest.mark.parametrize("days", ["0", "366", "-3", "abc", "7.5", "1e3"])
def test_analytics_refuses_a_bad_window(api, days):
    response = api.get("/api/v1/releases/analytics", {"days": days})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["days"]
    assert body["errors"]["days"]


def test_analytics_route_is_not_taken_for_a_release_id():
    assert resolve("/api/v1/releases/analytics").func.cls is ReleaseAnalyticsViewSet
    assert resolve("/api/v1/releases/analytics/").func.cls is ReleaseAnalyticsViewSet


def test_dashboard_stats(api):
    envs = make_standard_environments()
    envs["production"].health = Health.DEGRADED
    envs["production"].save()
    pending = release_created(NOW - DAY, status=ReleaseStatus.PENDING_APPROVAL, name="Security Patch")
    release = release_created(NOW - 5 * DAY, status=ReleaseStatus.DEPLOYED)
    for status in (DeploymentStatus.SUCCEEDED, DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED):
        deployment(envs["staging"], release, finished=NOW - 3 * DAY, status=status)
    deployment(envs["production"], release, finished=NOW - timedelta(hours=2))

    body = api.get("/api/v1/dashboard/stats").json()

    assert body["releases"]["total"] == 2
    assert body["releases"]["by_status"]["pending_approval"] == 1
    assert body["pending_approvals"] == {
        "count": 1,
        "releases": [
            {
                "id": pending.id,
                "name": "Security Patch",
                "version": pending.version,
                "created_at": "2025-03-30T12:00:00Z",
            }
        ],
    }
    assert body["deployments"] == {
        "today": 1,
        "last_7_days": 4,
        "last_30_days": 4,
        "succeeded_30_days": 3,
        "finished_30_days": 4,
        "success_rate_30_days_percent": 75.0,
    }
    assert body["environments"] == {"healthy": 0, "degraded": 1, "unknown": 2, "total": 3}


def test_dashboard_metrics(api):
    production = make_standard_environments()["production"]
    release = release_created(NOW - 2 * DAY)
    deployment(production, release, finished=NOW - timedelta(hours=1))
    deployment(production, release, finished=NOW - DAY, status=DeploymentStatus.FAILED)

    body = api.get("/api/v1/dashboard/metrics").json()

    days = body["deployments_per_day"]
    assert len(days) == 30
    assert (days[0]["date"], days[-1]["date"]) == ("2025-03-02", "2025-03-31")
    assert days[-1] == {
        "date": "2025-03-31",
        "total": 1,
        "in_progress": 0,
        "succeeded": 1,
        "failed": 0,
        "rolled_back": 0,
    }
    assert days[-2]["failed"] == 1
    weeks = body["releases_per_week"]
    assert len(weeks) == 12
    assert weeks[-1] == {"week_start": "2025-03-31", "count": 0}
    assert weeks[-2] == {"week_start": "2025-03-24", "count": 1}


def test_dashboard_health(api, settings):
    make_standard_environments()

    body = api.get("/api/v1/dashboard/health").json()

    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["backend"] == connection.vendor
    assert body["database"]["round_trip_ms"] >= 0
    assert body["version"] == settings.APP_VERSION
    assert body["uptime_seconds"] >= 0
    assert body["environments"] == {"healthy": 0, "degraded": 0, "unknown": 3, "total": 3}
    assert body["checked_at"] == "2025-03-31T12:00:00Z"


def test_dashboard_health_reports_an_unreachable_database(api):
    with database_unreachable():
        response = api.get("/api/v1/dashboard/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "error"
    assert body["database"]["ok"] is False
    assert body["database"]["error"] == "OperationalError"
    assert body["environments"] is None


@pytest.mark.parametrize("url", ENDPOINTS)
def test_every_endpoint_answers_on_an_empty_database(api, url):
    assert api.get(url).status_code == 200


@pytest.mark.parametrize("url", ENDPOINTS)
def test_anonymous_reads_follow_the_setting(api_client, settings, url):
    settings.ANONYMOUS_READ = False
    assert api_client.get(url).status_code in (401, 403)
    settings.ANONYMOUS_READ = True
    assert api_client.get(url).status_code == 200


# Every figure is an aggregate: the number of queries depends on the number of environments
# (one median query each), never on the number of deployments or releases. Counted on the
# selectors, because the request itself also talks to the throttling cache.
REPORTS = {
    # status, team, team names, months, environments, counts, restore, 3 medians
    "analytics": (lambda: release_analytics(now=NOW), 10),
    "stats": (lambda: selectors.dashboard_stats(now=NOW), 4),
    # two series, then the five DORA figures (issue #13): per figure the environments of the tier and
    # their deployments, plus the restores and the rework look-back
    "metrics": (lambda: selectors.dashboard_metrics(now=NOW), 13),
    # read probe, write probe (savepoint, update matching nothing, rollback, release), environments
    "health": (selectors.dashboard_health, 6),
}


@pytest.mark.parametrize("deployments", [5, 50])
@pytest.mark.parametrize("report", list(REPORTS))
def test_queries_do_not_grow_with_data(django_assert_max_num_queries, add_history, report, deployments):
    add_history(deployments)
    selector, max_queries = REPORTS[report]

    with django_assert_max_num_queries(max_queries):
        selector()


@pytest.mark.parametrize("report", list(REPORTS))
def test_same_number_of_queries_for_5_and_50_deployments(add_history, report):
    selector, _ = REPORTS[report]
    add_history(5)
    with CaptureQueriesContext(connection) as small:
        selector()
    add_history(45)

    with CaptureQueriesContext(connection) as large:
        selector()

    assert len(large) == len(small)
