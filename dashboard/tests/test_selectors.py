"""`dashboard.selectors`: counts, rates and zero-filled series on hand-built data."""

from datetime import UTC, date, datetime, timedelta

import pytest

from dashboard import selectors
from dashboard.tests.builders import NOW, deployment, release_created
from environments.choices import Health
from opsportal.testing.factories import make_environment, make_standard_environments
from releases.choices import DeploymentKind, DeploymentStatus, ReleaseStatus

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def started(environment, release, at: datetime, status: str = DeploymentStatus.SUCCEEDED, **kwargs):
    finished = None if status == DeploymentStatus.IN_PROGRESS else at + timedelta(minutes=5)
    return deployment(environment, release, started=at, finished=finished, status=status, **kwargs)


def test_deployment_counts_and_success_rate():
    production = make_standard_environments()["production"]
    release = release_created(NOW - 60 * DAY)
    started(production, release, NOW - timedelta(hours=1))
    started(production, release, NOW - timedelta(hours=11), DeploymentStatus.FAILED)
    started(production, release, NOW - timedelta(hours=13), kind=DeploymentKind.ROLLBACK)  # yesterday (UTC)
    started(production, release, NOW - 20 * DAY)
    started(production, release, NOW - timedelta(minutes=10), DeploymentStatus.IN_PROGRESS)
    started(production, release, NOW - 31 * DAY, DeploymentStatus.FAILED)  # outside every window

    counts = selectors.deployment_window_counts(now=NOW)

    assert counts == {
        "today": 3,
        "last_7_days": 4,
        "last_30_days": 5,
        "succeeded_30_days": 3,
        "finished_30_days": 4,
        "success_rate_30_days_percent": 75.0,  # 3 succeeded + 1 failed; the one in progress is not judged yet
    }


def test_success_rate_is_null_without_finished_deployments():
    counts = selectors.deployment_window_counts(now=NOW)

    assert counts["last_30_days"] == 0
    assert counts["success_rate_30_days_percent"] is None


def test_pending_approvals_preview_lists_the_five_waiting_longest():
    pending = [
        release_created(NOW - hours * timedelta(hours=1), status=ReleaseStatus.PENDING_APPROVAL)
        for hours in (1, 50, 3, 40, 2, 30)
    ]
    release_created(NOW - 100 * DAY, status=ReleaseStatus.DRAFT)

    stats = selectors.dashboard_stats(now=NOW)

    assert stats["pending_approvals"]["count"] == 6
    oldest_first = sorted(pending, key=lambda release: release.created_at)[:5]
    assert [item["id"] for item in stats["pending_approvals"]["releases"]] == [r.id for r in oldest_first]
    assert set(stats["pending_approvals"]["releases"][0]) == {"id", "name", "version", "created_at"}
    assert stats["releases"]["total"] == 7
    assert stats["releases"]["by_status"]["draft"] == 1


def test_environments_by_health():
    make_environment("a", health=Health.HEALTHY)
    make_environment("b", health=Health.HEALTHY)
    make_environment("c", health=Health.DEGRADED)

    assert selectors.environment_health_counts() == {"healthy": 2, "degraded": 1, "unknown": 0, "total": 3}


def test_deployments_per_day_cover_thirty_days_by_status_zero_filled():
    production = make_standard_environments()["production"]
    release = release_created(NOW - 60 * DAY)
    started(production, release, datetime(2025, 3, 1, 23, 59, tzinfo=UTC))  # 31 days back: outside
    started(production, release, datetime(2025, 3, 2, 0, 0, tzinfo=UTC))
    started(production, release, datetime(2025, 3, 15, 9, 0, tzinfo=UTC), DeploymentStatus.ROLLED_BACK)
    started(production, release, datetime(2025, 3, 31, 8, 0, tzinfo=UTC))
    started(production, release, datetime(2025, 3, 31, 9, 0, tzinfo=UTC), DeploymentStatus.FAILED)
    started(production, release, datetime(2025, 3, 31, 11, 0, tzinfo=UTC), DeploymentStatus.IN_PROGRESS)

    series = selectors.deployments_per_day(now=NOW)

    assert len(series) == 30
    assert series[0]["date"] == date(2025, 3, 2)
    assert series[-1]["date"] == date(2025, 3, 31)
    by_day = {item["date"]: item for item in series}
    assert by_day[date(2025, 3, 2)] == {
        "date": date(2025, 3, 2),
        "total": 1,
        "in_progress": 0,
        "succeeded": 1,
        "failed": 0,
        "rolled_back": 0,
    }
    assert by_day[date(2025, 3, 15)]["rolled_back"] == 1
    assert by_day[date(2025, 3, 31)] == {
        "date": date(2025, 3, 31),
        "total": 3,
        "in_progress": 1,
        "succeeded": 1,
        "failed": 1,
        "rolled_back": 0,
    }
    assert sum(item["total"] for item in series) == 5
    assert by_day[date(2025, 3, 20)]["total"] == 0


def test_releases_per_week_cover_twelve_iso_weeks_zero_filled():
    release_created(datetime(2025, 1, 12, 23, 59, tzinfo=UTC))  # Sunday before the first week: outside
    release_created(datetime(2025, 1, 13, 0, 0, tzinfo=UTC))
    release_created(datetime(2025, 3, 30, 18, 0, tzinfo=UTC))  # Sunday: week of 24 March
    release_created(datetime(2025, 3, 24, 0, 0, tzinfo=UTC))
    release_created(datetime(2025, 3, 31, 11, 0, tzinfo=UTC))

    series = selectors.releases_per_week(now=NOW)

    assert [item["week_start"] for item in series] == [date(2025, 1, 13) + timedelta(weeks=n) for n in range(12)]
    assert {item["week_start"]: item["count"] for item in series if item["count"]} == {
        date(2025, 1, 13): 1,
        date(2025, 3, 24): 2,
        date(2025, 3, 31): 1,
    }


def test_dashboard_on_an_empty_database():
    stats = selectors.dashboard_stats(now=NOW)
    metrics = selectors.dashboard_metrics(now=NOW)

    assert stats["releases"] == {"total": 0, "by_status": dict.fromkeys(ReleaseStatus.values, 0)}
    assert stats["pending_approvals"] == {"count": 0, "releases": []}
    assert stats["deployments"]["today"] == 0
    assert stats["environments"] == {"healthy": 0, "degraded": 0, "unknown": 0, "total": 0}
    assert [item["total"] for item in metrics["deployments_per_day"]] == [0] * 30
    assert [item["count"] for item in metrics["releases_per_week"]] == [0] * 12
