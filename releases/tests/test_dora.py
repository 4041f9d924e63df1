"""DORA metrics (issue #13): every figure computed by hand on a small fixture, for both failure sources.

Production, March 2026 (times UTC; `deploy` deployments unless said; lead time = release created → finished):

    seq release (created)       started=finished  status       lead time        notes
    1   R1 (03-01 00:00)        03-02 00:00       succeeded    1 d   =  86400
    2   R2 (03-02 00:00)        03-04 00:00       failed
    3   R3 (03-03 00:00) hotfix 03-04 02:00       succeeded    26 h  =  93600   restores seq 2 after 2 h
    4   R2                      03-05 06:00       succeeded    3.25 d = 280800  30 h after seq 2's failure
    5   R4 (03-09 00:00)        03-10 00:00       rolled_back
    6   R2 rollback             03-10 01:00       succeeded                     restores seq 5 after 1 h
    7   R4                      03-10 12:00       succeeded    1.5 d = 129600  12 h after seq 5's failure

Finished deploys: 1 2 3 4 5 7 (six); succeeded: 1 3 4 7 (four).
- frequency 4; lead time median of 86400 93600 129600 280800 = (93600 + 129600) / 2 = 111600.
- source `deployments`: failures 2 and 5 → CFR 2/6; restore times 7200 and 3600 → median 5400;
  rework: 3 (hotfix) and 7 (12 h after a failure; 4 is 30 h after) → 2/6.
- source `incidents`: I1 → seq 1 (2 h), I2 and I5 → seq 4 (30 min each), I4 → seq 7 (10 min), I3 unlinked and
  open → linked deployments 1 4 7 → CFR 3/6; restore times 600 1800 1800 7200 → median 1800;
  rework: 3 (hotfix) only (no incident began within 24 h before another deployment) → 1/6.
Staging: one failed deploy of R1 on 03-01.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from environments.choices import Tier
from incidents.models import Incident
from opsportal import roles
from opsportal.testing.factories import client_for, make_environment, make_release, make_team, make_user, make_workflow
from releases.dora import dora_level
from releases.models import Deployment

pytestmark = pytest.mark.django_db

URL = "/api/v1/dora/metrics"
MARCH = {"start_date": "2026-03-01", "end_date": "2026-03-31", "interval": "all"}


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def fixture():
    make_team(id="team-a")
    make_team(id="team-b")
    hotfix = make_workflow(id="hotfix", stages=["production"])
    prod = make_environment("prod", name="Prod", tier=Tier.PRODUCTION)
    stage = make_environment("stage", name="Stage", tier=Tier.STAGING)
    r1 = make_release(team_id="team-a", created_at=at(1))
    r2 = make_release(team_id="team-a", created_at=at(2))
    r3 = make_release(team_id="team-b", created_at=at(3), workflow=hotfix)
    r4 = make_release(team_id="team-a", created_at=at(9))

    def deploy(seq, release, moment, status, kind="deploy", env=prod):
        return Deployment.objects.create(
            release=release,
            environment=env,
            kind=kind,
            status=status,
            sequence=seq,
            started_at=moment,
            finished_at=moment,
        )

    d = {
        1: deploy(1, r1, at(2), "succeeded"),
        2: deploy(2, r2, at(4), "failed"),
        3: deploy(3, r3, at(4, 2), "succeeded"),
        4: deploy(4, r2, at(5, 6), "succeeded"),
        5: deploy(5, r4, at(10), "rolled_back"),
        6: deploy(6, r2, at(10, 1), "succeeded", kind="rollback"),
        7: deploy(7, r4, at(10, 12), "succeeded"),
    }
    deploy(1, r1, at(1), "failed", env=stage)

    def incident(title, started, resolved=None, deployment=None):
        Incident.objects.create(
            title=title,
            environment=prod,
            deployment=deployment,
            release_id=deployment.release_id if deployment else None,
            started_at=started,
            resolved_at=resolved,
            status="resolved" if resolved else "open",
        )

    incident("I1", at(2, 6), at(2, 8), d[1])
    incident("I2", at(6), at(6, 0, 30), d[4])
    incident("I5", at(6, 0, 10), at(6, 0, 40), d[4])
    incident("I4", at(10, 13), at(10, 13, 10), d[7])
    incident("I3", at(20))
    return client_for(make_user("vera", roles.VIEWERS))


def series(client, metric, **params):
    response = client.get(URL, {"metric": metric, **MARCH, **params})
    assert response.status_code == 200, response.json()
    return response.json()


def one(client, metric, **params):
    points = series(client, metric, **params)
    assert len(points) == 1 and points[0]["date"] == "2026-03-01"
    return points[0]["value"], points[0]["level"]


def test_the_two_source_independent_metrics(fixture):
    for source in ("deployments", "incidents"):
        # 4 successes over 31 days: 0.129 a day, between once a month and once a week.
        assert one(fixture, "deployment_frequency", failure_source=source) == (4, "medium")
        assert one(fixture, "lead_time_for_changes", failure_source=source) == (111600.0, "high")


def test_failures_from_deployments(fixture):
    assert one(fixture, "change_failure_rate", failure_source="deployments") == (0.3333, "low")
    assert one(fixture, "time_to_restore_service", failure_source="deployments") == (5400.0, "high")
    assert one(fixture, "deployment_rework_rate", failure_source="deployments") == (0.3333, "low")


def test_failures_from_incidents(fixture):
    assert one(fixture, "change_failure_rate", failure_source="incidents") == (0.5, "low")
    assert one(fixture, "time_to_restore_service", failure_source="incidents") == (1800.0, "elite")
    assert one(fixture, "deployment_rework_rate", failure_source="incidents") == (0.1667, "low")


def test_the_failure_source_defaults_to_the_setting(fixture, settings):
    settings.OPSPORTAL_DORA_FAILURE_SOURCE = "incidents"
    assert one(fixture, "change_failure_rate")[0] == 0.5
    settings.OPSPORTAL_DORA_FAILURE_SOURCE = "deployments"
    assert one(fixture, "change_failure_rate")[0] == 0.3333


def test_the_rework_window_is_a_setting(fixture, settings):
    settings.OPSPORTAL_DORA_REWORK_WINDOW_HOURS = 36  # now seq 4 (30 h after seq 2) is rework too
    assert one(fixture, "deployment_rework_rate", failure_source="deployments")[0] == 0.5


def test_daily_and_monthly_series_are_zero_filled_oldest_first(fixture):
    daily = series(fixture, "deployment_frequency", start_date="2026-03-03", end_date="2026-03-05", interval="daily")
    assert daily == [
        {"date": "2026-03-03", "value": 0, "level": "low"},
        {"date": "2026-03-04", "value": 1, "level": "elite"},
        {"date": "2026-03-05", "value": 1, "level": "elite"},
    ]
    cfr = series(fixture, "change_failure_rate", start_date="2026-03-03", end_date="2026-03-04", interval="daily")
    assert [point["value"] for point in cfr] == [None, 0.5], "no deployments: nothing to divide"
    monthly = series(
        fixture, "deployment_frequency", start_date="2026-02-15", end_date="2026-03-31", interval="monthly"
    )
    assert [(point["date"], point["value"]) for point in monthly] == [("2026-02-01", 0), ("2026-03-01", 4)]
    ttr = series(fixture, "time_to_restore_service", start_date="2026-03-01", end_date="2026-03-10", interval="daily")
    restored = {point["date"]: point["value"] for point in ttr if point["value"] is not None}
    assert restored == {"2026-03-04": 7200.0, "2026-03-10": 3600.0}, "in the bucket where the failure began"


def test_team_and_tier_filters(fixture):
    assert one(fixture, "deployment_frequency", team="team-b")[0] == 1
    assert one(fixture, "deployment_frequency", team="team-a")[0] == 3
    assert one(fixture, "lead_time_for_changes", team="team-b")[0] == 93600.0
    assert one(fixture, "change_failure_rate", environment_tiers="staging") == (1.0, "low")
    both = fixture.get(
        URL, {"metric": "deployment_frequency", **MARCH, "environment_tiers[]": ["production", "staging"]}
    )
    assert both.json()[0]["value"] == 4
    cfr = fixture.get(URL, {"metric": "change_failure_rate", **MARCH, "environment_tiers": "production,staging"})
    assert cfr.json()[0]["value"] == 0.4286, "3 failures of 7 finished deploys"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"metric": "mttr"}, "metric"),
        ({}, "metric"),
        ({"metric": "change_failure_rate", "interval": "weekly"}, "interval"),
        ({"metric": "change_failure_rate", "start_date": "yesterday"}, "start_date"),
        ({"metric": "change_failure_rate", "start_date": "2026-03-02", "end_date": "2026-03-01"}, "start_date"),
        ({"metric": "change_failure_rate", "start_date": "2024-01-01", "end_date": "2026-03-01"}, "start_date"),
        ({"metric": "change_failure_rate", "environment_tiers": "moon"}, "environment_tiers"),
        ({"metric": "change_failure_rate", "team": "nobody"}, "team"),
        ({"metric": "change_failure_rate", "failure_source": "vibes"}, "failure_source"),
        ({"metric": "change_failure_rate", "team": "\x00"}, "team"),
    ],
)
def test_bad_queries_are_400_naming_the_parameter(fixture, params, field):
    response = fixture.get(URL, params)
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    ("metric", "value", "days", "level"),
    [
        ("deployment_frequency", 30, 30, "elite"),  # once a day
        ("deployment_frequency", 29, 30, "high"),
        ("deployment_frequency", 1, 7, "high"),  # once a week
        ("deployment_frequency", 1, 8, "medium"),
        ("deployment_frequency", 1, 30, "medium"),  # once a month
        ("deployment_frequency", 0, 30, "low"),
        ("lead_time_for_changes", 86399, 1, "elite"),
        ("lead_time_for_changes", 86400, 1, "high"),  # exactly one day is no longer "less than one day"
        ("lead_time_for_changes", 30 * 86400, 1, "low"),
        ("time_to_restore_service", 3599, 1, "elite"),
        ("time_to_restore_service", 6 * 86400, 1, "medium"),
        ("change_failure_rate", 0.05, 1, "elite"),
        ("change_failure_rate", 0.1, 1, "high"),
        ("change_failure_rate", 0.15, 1, "medium"),
        ("change_failure_rate", 0.16, 1, "low"),
        ("deployment_rework_rate", 0.0, 1, "elite"),
        ("change_failure_rate", None, 1, None),
    ],
)
def test_levels_follow_the_2023_report(metric, value, days, level):
    assert dora_level(metric, value, days=days) == level


HAND = {
    "deployments": [
        ("deployment_frequency", 4, "medium"),
        ("lead_time_for_changes", 111600.0, "high"),
        ("time_to_restore_service", 5400.0, "high"),
        ("change_failure_rate", 0.3333, "low"),
        ("deployment_rework_rate", 0.3333, "low"),
    ],
    "incidents": [
        ("deployment_frequency", 4, "medium"),
        ("lead_time_for_changes", 111600.0, "high"),
        ("time_to_restore_service", 1800.0, "elite"),
        ("change_failure_rate", 0.5, "low"),
        ("deployment_rework_rate", 0.1667, "low"),
    ],
}


@pytest.mark.parametrize("source", ["deployments", "incidents"])
def test_the_dashboard_metrics_show_the_four_keys_and_rework_with_levels(fixture, source):
    from dashboard.selectors import dashboard_metrics

    # The dashboard's 30 days up to 03-31 start on 03-02: the same deployments as the whole of March.
    dora = dashboard_metrics(now=at(31, 12), failure_source=source)["dora"]
    assert (dora["environment_tier"], dora["failure_source"], str(dora["start_date"])) == (
        "production",
        source,
        "2026-03-02",
    )
    assert [(f["metric"], f["value"], f["level"]) for f in dora["metrics"]] == HAND[source]
    staging = dashboard_metrics(now=at(31, 12), environment_tier="staging", failure_source=source)["dora"]
    assert staging["metrics"][0]["value"] == 0, "the staging deploy was on 03-01, before the window"


def test_the_dashboard_endpoint_validates_its_parameters(fixture):
    response = fixture.get("/api/v1/dashboard/metrics", {"environment_tier": "staging", "failure_source": "incidents"})
    assert response.status_code == 200, response.json()
    assert response.json()["dora"]["environment_tier"] == "staging"
    assert [f["metric"] for f in response.json()["dora"]["metrics"]] == [metric for metric, _, _ in HAND["incidents"]]
    assert fixture.get("/api/v1/dashboard/metrics", {"environment_tier": "moon"}).status_code == 400


def test_the_admin_dashboard_shows_both_failure_sources_for_the_chosen_tier(fixture, admin_client, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: at(31, 12))
    page = admin_client.get("/admin/dashboard/").content.decode()
    section = page[page.index('id="dora-levels"') : page.index('id="dora"')]
    assert "production tier" in section
    assert '<td data-source="deployments">33.33 %</td>' in section
    assert '<td data-source="incidents">50 %</td>' in section
    assert '<td data-source="incidents">30 min</td><td class="op-level op-level-elite">elite</td>' in section
    staging = admin_client.get("/admin/dashboard/?tier=staging").content.decode()
    assert "staging tier" in staging


def test_the_sample_data_shows_both_failure_sources_on_the_dashboard():
    """Two sample incidents (issue #13): one on a succeeded production deployment, one on the failed one."""
    from django.core.management import call_command

    from dashboard.selectors import dashboard_metrics
    from opsportal.sample_data import sample_data_shift_to_now

    call_command("loaddata", "sample_data", verbosity=0)
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    sample_data_shift_to_now(now=now)
    assert Incident.objects.count() == 2

    def figures(source):
        metrics = dashboard_metrics(now=now, failure_source=source)["dora"]["metrics"]
        return {figure["metric"]: (figure["value"], figure["level"]) for figure in metrics}

    deployments, incidents = figures("deployments"), figures("incidents")
    # Production: deployment-3 succeeded (incident-1, 75 min), deployment-12 failed (incident-2, 35 min).
    assert deployments["change_failure_rate"] == (0.5, "low")
    assert incidents["change_failure_rate"] == (1.0, "low")
    assert deployments["time_to_restore_service"] == (None, None), "the failed deployment is not restored yet"
    assert incidents["time_to_restore_service"] == (3300.0, "elite")
