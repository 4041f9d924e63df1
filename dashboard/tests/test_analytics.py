"""`releases.analytics`: each figure on hand-built data with a known answer."""

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.tests.builders import NOW, deployment, release_created
from opsportal.testing.factories import make_environment, make_standard_environments, make_team
from releases import analytics
from releases.choices import DeploymentKind, DeploymentStatus, ReleaseStatus

pytestmark = pytest.mark.django_db

HOUR = 3600
DAY = timedelta(days=1)


def dora_for(environment_id: str, *, days: int = 30) -> dict:
    return next(row for row in analytics.dora_metrics(days=days, now=NOW) if row["environment_id"] == environment_id)


# --- counts


def test_counts_by_status_include_every_status():
    release_created(NOW, status=ReleaseStatus.DRAFT)
    release_created(NOW, status=ReleaseStatus.DRAFT)
    release_created(NOW, status=ReleaseStatus.DEPLOYED)

    assert analytics.release_counts_by_status() == {
        "draft": 2,
        "pending_approval": 0,
        "approved": 0,
        "rejected": 0,
        "deployed": 1,
        "rolled_back": 0,
    }


def test_counts_by_team_name_teams_and_group_releases_without_one_as_unassigned():
    platform = make_team(id="platform-team", name="Platform Team")
    web = make_team(id="web-team", name="Web Team")
    for _ in range(3):
        release_created(NOW, team=platform)
    release_created(NOW, team=web)
    release_created(NOW)
    release_created(NOW)

    assert analytics.release_counts_by_team() == [
        {"team_id": "platform-team", "team_name": "Platform Team", "count": 3},
        {"team_id": None, "team_name": "unassigned", "count": 2},
        {"team_id": "web-team", "team_name": "Web Team", "count": 1},
    ]


def test_releases_per_month_are_the_last_twelve_months_zero_filled_oldest_first():
    release_created(datetime(2024, 3, 31, 23, 59, tzinfo=UTC))  # 13 months back: outside
    release_created(datetime(2024, 4, 1, 0, 0, tzinfo=UTC))
    release_created(datetime(2025, 1, 15, 8, 0, tzinfo=UTC))
    release_created(datetime(2025, 1, 31, 23, 0, tzinfo=UTC))
    release_created(datetime(2025, 3, 1, 0, 0, tzinfo=UTC))

    series = analytics.releases_created_per_month(now=NOW)

    assert [item["month"] for item in series] == [
        "2024-04",
        "2024-05",
        "2024-06",
        "2024-07",
        "2024-08",
        "2024-09",
        "2024-10",
        "2024-11",
        "2024-12",
        "2025-01",
        "2025-02",
        "2025-03",
    ]
    assert {item["month"]: item["count"] for item in series if item["count"]} == {
        "2024-04": 1,
        "2025-01": 2,
        "2025-03": 1,
    }


def test_month_series_crosses_the_year_boundary():
    assert [start.isoformat() for start in analytics.month_starts(now=datetime(2025, 1, 5, tzinfo=UTC), months=3)] == [
        "2024-11-01",
        "2024-12-01",
        "2025-01-01",
    ]


# --- DORA


@pytest.fixture
def envs():
    return make_standard_environments()


def test_frequency_change_failure_rate_and_median_lead_time(envs):
    production = envs["production"]
    first = release_created(NOW - 10 * DAY)
    second = release_created(NOW - 5 * DAY)
    deployment(production, first, finished=first.created_at + timedelta(hours=1))  # lead 1h
    deployment(production, second, finished=second.created_at + timedelta(hours=2), status=DeploymentStatus.FAILED)
    deployment(production, second, finished=second.created_at + timedelta(hours=2, minutes=30))  # lead 2.5h
    deployment(production, second, finished=second.created_at + timedelta(hours=5))  # lead 5h

    figures = dora_for("production")

    assert figures["successful_deployments"] == 3
    assert figures["deployments_per_day"] == 0.1  # 3 in 30 days
    assert figures["finished_deployments"] == 4
    assert figures["failed_deployments"] == 1
    assert figures["change_failure_rate_percent"] == 25.0
    assert figures["lead_time_median_seconds"] == 2.5 * HOUR
    assert figures["restored_failures"] == 1
    assert figures["mean_time_to_restore_seconds"] == 30 * 60


def test_median_lead_time_of_an_even_count_is_the_mean_of_the_middle_two(envs):
    staging = envs["staging"]
    for hours in (10, 1, 3, 2):
        release = release_created(NOW - 3 * DAY)
        deployment(staging, release, finished=release.created_at + timedelta(hours=hours))

    assert dora_for("staging")["lead_time_median_seconds"] == 2.5 * HOUR


def test_lead_time_is_measured_from_each_deployments_own_release(envs):
    development = envs["development"]
    old = release_created(NOW - 20 * DAY)
    new = release_created(NOW - 2 * DAY)
    finished = NOW - DAY
    deployment(development, old, finished=finished)  # 19 days
    deployment(development, new, finished=finished)  # 1 day
    deployment(development, new, finished=finished + timedelta(hours=2))  # 1 day 2 hours

    assert dora_for("development")["lead_time_median_seconds"] == DAY.total_seconds() + 2 * HOUR


def test_a_rolled_back_deploy_is_a_failure_restored_by_the_rollback(envs):
    production = envs["production"]
    good = release_created(NOW - 10 * DAY)
    bad = release_created(NOW - 3 * DAY)
    deployment(production, good, finished=NOW - 9 * DAY)
    deployment(production, bad, finished=NOW - 2 * DAY, status=DeploymentStatus.ROLLED_BACK)
    deployment(production, good, finished=NOW - 2 * DAY + timedelta(minutes=10), kind=DeploymentKind.ROLLBACK)

    figures = dora_for("production")

    # The rollback is the remedy, not a change: it counts neither as a deploy nor in the failure rate.
    assert figures["successful_deployments"] == 1
    assert figures["finished_deployments"] == 2
    assert figures["change_failure_rate_percent"] == 50.0
    assert figures["mean_time_to_restore_seconds"] == 10 * 60


def test_time_to_restore_is_the_mean_over_failures_until_the_next_success(envs):
    production = envs["production"]
    release = release_created(NOW - 10 * DAY)
    start = NOW - 4 * DAY
    deployment(production, release, finished=start, status=DeploymentStatus.FAILED)
    deployment(production, release, finished=start + timedelta(minutes=10), status=DeploymentStatus.FAILED)
    deployment(production, release, finished=start + timedelta(minutes=30))  # restores both: 30 and 20 min
    deployment(production, release, finished=start + timedelta(hours=5), status=DeploymentStatus.FAILED)
    deployment(production, release, finished=start + timedelta(hours=6))  # restores: 60 min

    figures = dora_for("production")

    assert figures["restored_failures"] == 3
    assert figures["mean_time_to_restore_seconds"] == (30 + 20 + 60) * 60 / 3
    assert figures["change_failure_rate_percent"] == 60.0


def test_time_to_restore_is_null_while_nothing_restored_a_failure(envs):
    production, staging = envs["production"], envs["staging"]
    release = release_created(NOW - 10 * DAY)
    deployment(production, release, finished=NOW - 2 * DAY, status=DeploymentStatus.FAILED)
    deployment(staging, release, finished=NOW - DAY)  # a success elsewhere restores nothing here

    figures = dora_for("production")

    assert figures["failed_deployments"] == 1
    assert figures["restored_failures"] == 0
    assert figures["mean_time_to_restore_seconds"] is None
    assert figures["change_failure_rate_percent"] == 100.0
    assert figures["lead_time_median_seconds"] is None


def test_window_counts_only_deploys_that_finished_inside_it(envs):
    production = envs["production"]
    release = release_created(NOW - 60 * DAY)
    deployment(production, release, finished=NOW - 40 * DAY)
    deployment(production, release, finished=NOW - 40 * DAY + timedelta(hours=1), status=DeploymentStatus.FAILED)
    deployment(production, release, finished=NOW - 6 * DAY)
    deployment(production, release, finished=NOW - 2 * DAY)
    deployment(production, release, finished=None, status=DeploymentStatus.IN_PROGRESS)

    month = dora_for("production", days=30)
    week = dora_for("production", days=7)
    quarter = dora_for("production", days=90)

    assert (month["successful_deployments"], month["finished_deployments"]) == (2, 2)
    assert month["change_failure_rate_percent"] == 0.0
    assert (week["successful_deployments"], week["deployments_per_day"]) == (2, round(2 / 7, 3))
    assert (quarter["successful_deployments"], quarter["finished_deployments"]) == (3, 4)
    assert quarter["change_failure_rate_percent"] == 25.0


def test_every_environment_is_listed_in_promotion_order_with_empty_figures(envs):
    make_environment("qa", name="QA", order=0)

    rows = analytics.dora_metrics(now=NOW)

    assert [row["environment_id"] for row in rows] == ["qa", "development", "staging", "production"]
    assert rows[-1] == {
        "environment_id": "production",
        "environment_name": "Production",
        "tier": "production",
        "successful_deployments": 0,
        "deployments_per_day": 0.0,
        "lead_time_median_seconds": None,
        "finished_deployments": 0,
        "failed_deployments": 0,
        "change_failure_rate_percent": None,
        "restored_failures": 0,
        "mean_time_to_restore_seconds": None,
    }


def test_empty_database():
    report = analytics.release_analytics(now=NOW)

    assert report["by_status"] == dict.fromkeys(ReleaseStatus.values, 0)
    assert report["by_team"] == []
    assert [item["count"] for item in report["created_per_month"]] == [0] * 12
    assert report["dora"] == []
    assert report["window_start"] == NOW - timedelta(days=30)


@pytest.mark.parametrize("days", [0, 366, -1])
def test_window_outside_one_to_365_days_is_refused(days):
    with pytest.raises(ValueError, match="between 1 and 365"):
        analytics.release_analytics(days=days, now=NOW)
