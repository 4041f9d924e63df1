"""`fixtures/sample_data.json` loads on an empty database and tells one consistent story (issue #3).

Its timestamps are fixed, recent relative to 2026-11-26 (deployments today, in the last 7
and 30 days), so the dashboard has figures to show on that day.

Issue #12: it also shows the freeze calendar (a weekend freeze on production in Europe/Berlin, the
German public holidays imported from fixtures/holidays/de-2026-2027.ics), production's approval policy
(2 from Release Managers, 1 from the security team, 72 hours) and one scheduled deployment. Those depend
on the date, so every test here that asks "is it frozen, do the approvals count?" pins the clock.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from environments.calendar import covering
from environments.models import Environment, Freeze
from environments.selectors import environment_active_freeze, environment_status
from environments.services import freezes_import_ics
from opsportal import roles
from opsportal.sample_data import sample_data_shift_to_now
from opsportal.testing.factories import client_for, make_user
from releases.integrity import integrity_violations
from releases.models import Deployment, Release
from releases.selectors import release_approval_status
from teams.models import Team
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "sample_data.json"
REFERENCE_DAY = datetime(2026, 11, 26, tzinfo=UTC)
# What `load_sample_data_if_empty` makes "now" of the fixture: its newest deployment finished 30 min before.
REFERENCE_NOW = datetime(2026, 11, 26, 9, 21, tzinfo=UTC)
HOLIDAYS_DE = FIXTURE.parent / "holidays" / "de-2026-2027.ics"


@pytest.fixture
def sample_data():
    call_command("loaddata", str(FIXTURE), verbosity=0)


@pytest.fixture
def pinned_now(monkeypatch):
    """`timezone.now()` answers what the test pins (`pinned_now(moment)`)."""

    def pin(moment: datetime) -> datetime:
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return pin


def _run(deployments):
    """The deployments that ran (or run): a scheduled one has no sequence and no finish yet."""
    return [d for d in deployments if d.status != "scheduled"]


def test_loaddata_finds_the_fixture_by_name():
    """`manage.py loaddata sample_data`, as the README and the live-server tests run it."""
    call_command("loaddata", "sample_data", verbosity=0)
    assert Release.objects.count() == 3


def test_the_three_predecessor_releases(sample_data):
    releases = {r.pk: r for r in Release.objects.all()}
    assert {pk: (r.name, r.version) for pk, r in releases.items()} == {
        "release-1": ("Q1 2024 Major Release", "2.0.0"),
        "release-2": ("Security Patch", "1.9.1"),
        "release-3": ("Performance Improvements", "1.10.0"),
    }
    assert len({r.status for r in releases.values()}) == 3
    for release in releases.values():
        assert release.created_by
        assert release.features and all(feature["tasks"] for feature in release.features)


def test_every_object_passes_model_validation(sample_data):
    """Embedded documents match their JSON Schemas; fields their constraints."""
    for model in (Team, Workflow, Environment, Release, Deployment, Freeze):
        for obj in model.objects.all():
            obj.full_clean()


def test_check_integrity_finds_nothing(sample_data):
    """What `manage.py check_integrity` checks (summaries, approvals, sequences…) holds as loaded."""
    assert [str(v) for v in integrity_violations()] == []


def test_approvals_match_statuses(sample_data):
    for release in Release.objects.all():
        approvers = [a["user"] for a in release.approvals if a["decision"] == "approved"]
        if release.status in ("approved", "deployed"):
            assert approvers, release.pk
        else:
            assert not approvers, release.pk
        assert release.created_by not in approvers  # four eyes
        # Bound to the content as loaded and fresh (72 h) whenever they were needed (issue #12): at every
        # deployment to production (the scheduled one included), and now for a release still `approved`.
        moments = list(
            Deployment.objects.filter(release=release, environment="production").values_list("started_at", flat=True)
        )
        moments += [REFERENCE_NOW] if release.status == "approved" else []
        assert not approvers or moments, release.pk
        for moment in moments:
            (production,) = release_approval_status(release, at=moment)
            assert production["met"], (release.pk, moment, production)


def test_environments_teams_and_workflow(sample_data):
    envs = {e.pk: e for e in Environment.objects.all()}
    assert list(envs) == ["development", "staging", "production"]
    production = envs["production"]
    assert (production.requires_approval, production.tier) == (True, "production")
    assert sum(freeze.environments == ["production"] for freeze in Freeze.objects.all()) >= 2  # issue #12
    assert all(env.config for env in envs.values())

    teams = {t.pk: t for t in Team.objects.all()}
    assert {"platform-team", "security-team"} <= set(teams)
    usernames = {m["username"] for team in teams.values() for m in team.members}
    assert {"alice", "bob"} <= usernames

    standard = Workflow.objects.get(pk="standard")
    assert [s["environment"] for s in standard.stages] == ["development", "staging", "production"]
    for workflow in Workflow.objects.all():
        assert {s["environment"] for s in workflow.stages} <= set(envs)


def test_deployments_reference_existing_objects_with_unique_sequences(sample_data):
    deployments = _run(Deployment.objects.all())
    assert len(deployments) >= 12
    release_ids = set(Release.objects.values_list("pk", flat=True))
    for deployment in deployments:
        assert deployment.release_id in release_ids
        assert Environment.objects.filter(pk=deployment.environment_id).exists()
        if deployment.kind == "rollback":
            assert deployment.rolled_back_from_id in release_ids
        assert deployment.finished_at > deployment.started_at
    assert {d.status for d in deployments} >= {"succeeded", "failed", "rolled_back"}
    assert any(d.kind == "rollback" for d in deployments)
    for environment in Environment.objects.all():
        sequences = sorted(d.sequence for d in deployments if d.environment_id == environment.pk)
        assert sequences == list(range(1, environment.deployment_seq + 1)), environment.pk


def test_current_release_is_the_latest_succeeded_deployment(sample_data):
    for environment in Environment.objects.all():
        latest = Deployment.objects.filter(environment=environment, status="succeeded").order_by("-sequence").first()
        assert environment.current_release_id == latest.release_id, environment.pk
        assert environment.current_deployment_id == latest.pk, environment.pk


def test_history_follows_the_rules_of_the_lifecycle(sample_data):
    """Workflow order, production approval and sequence order hold, as the services would enforce."""
    workflow = Workflow.objects.get(pk="standard")
    order = [s["environment"] for s in workflow.stages]
    deployments = list(Deployment.objects.order_by("started_at"))
    for deployment in deployments:  # the scheduled one too: it would be refused otherwise
        release = Release.objects.get(pk=deployment.release_id)
        stage = order.index(deployment.environment_id)
        if deployment.kind == "deploy" and stage > 0:
            assert any(
                d.release_id == deployment.release_id
                and d.environment_id == order[stage - 1]
                and d.status in ("succeeded", "rolled_back")
                and d.finished_at <= deployment.started_at
                for d in deployments
            ), deployment.pk
        if deployment.environment_id == "production":
            approved_at = [datetime.fromisoformat(a["at"]) for a in release.approvals if a["decision"] == "approved"]
            assert approved_at and min(approved_at) < deployment.started_at, deployment.pk
    for environment in Environment.objects.all():
        mine = [d for d in _run(deployments) if d.environment_id == environment.pk]
        assert [d.sequence for d in mine] == sorted(d.sequence for d in mine)


def test_history_is_recent_relative_to_the_reference_day(sample_data):
    started = [d.started_at for d in _run(Deployment.objects.all())]
    assert all(REFERENCE_DAY - timedelta(days=30) <= moment < REFERENCE_DAY + timedelta(days=1) for moment in started)
    assert sum(moment >= REFERENCE_DAY for moment in started) >= 2  # "today"
    assert sum(moment >= REFERENCE_DAY - timedelta(days=7) for moment in started) >= 5


def test_environment_status_on_the_sample_data(sample_data):
    status = environment_status(Environment.objects.get(pk="production"))
    assert status["current_release"].version == "1.9.1"
    assert status["last_deployment"].status == "failed"
    assert status["health"] == "degraded"
    assert [d.sequence for d in status["recent_deployments"]] == [2, 1]


@pytest.mark.django_db
def test_run_path_moves_sample_dates_so_the_dashboard_shows_recent_activity(api):
    from django.core.management import call_command
    from django.utils import timezone

    from releases.models import Deployment

    call_command("load_sample_data_if_empty")
    latest = Deployment.objects.order_by("-finished_at").first().finished_at
    assert timezone.now() - latest < timedelta(hours=1)
    stats = api.get("/api/v1/dashboard/stats").json()
    assert stats["deployments"]["today"] >= 1
    assert stats["deployments"]["last_7_days"] >= 3


# --------------------------------------------------------------------------- issue #12: calendar, policy, schedule


def test_the_weekend_freeze_is_saturday_to_monday_berlin_time_across_the_clock_changes(api, sample_data):
    """Every weekend from Saturday 00:00 to Monday 00:00 Europe/Berlin: 47 hours when the clocks go forward
    on the Sunday, 49 when they go back, 48 otherwise (the occurrences API, as a client reads them)."""
    weekend = Freeze.objects.get(pk="production-weekend-freeze")
    assert (weekend.rrule, weekend.timezone) == ("FREQ=WEEKLY;BYDAY=SA", "Europe/Berlin")
    assert weekend.environments == ["production"]
    assert weekend.reason and weekend.created_by

    def occurrence(start: str, end: str) -> tuple[str, str]:
        query = f"from={start}T00:00:00Z&to={end}T00:00:00Z&environment=production"
        answer = api.get(f"/api/v1/freezes/occurrences?{query}")
        assert answer.status_code == 200, answer.content
        (found,) = [o for o in answer.json() if o["freeze"] == weekend.pk]
        return found["starts_at"], found["ends_at"]

    # Winter (UTC+1) → summer (UTC+2) on Sunday 2026-03-29; summer → winter on Sunday 2026-10-25.
    assert occurrence("2026-03-25", "2026-03-31") == ("2026-03-27T23:00:00Z", "2026-03-29T22:00:00Z")
    assert occurrence("2026-10-21", "2026-10-27") == ("2026-10-23T22:00:00Z", "2026-10-25T23:00:00Z")
    assert occurrence("2026-12-02", "2026-12-08") == ("2026-12-04T23:00:00Z", "2026-12-06T23:00:00Z")
    production = Environment.objects.get(pk="production")
    assert environment_active_freeze(production, datetime(2026, 12, 4, 22, 59, tzinfo=UTC)) is None  # Fri 23:59
    saturday = environment_active_freeze(production, datetime(2026, 12, 5, 12, tzinfo=UTC))
    assert (saturday.occurrence.freeze, saturday.until) == (weekend.pk, datetime(2026, 12, 6, 23, tzinfo=UTC))


def test_the_german_holidays_are_frozen_on_production_as_the_import_stores_them(sample_data, django_user_model):
    """fixtures/holidays/de-2026-2027.ics, stored exactly as `freezes_import_ics` (POST /freezes/import)
    stores it: importing the file again finds every holiday by its UID and changes nothing."""
    holidays = {f.pk: f for f in Freeze.objects.filter(source__startswith="ics:")}
    assert len(holidays) == HOLIDAYS_DE.read_text().count("BEGIN:VEVENT") == 18
    christmas = holidays["1-weihnachtstag-2026-12-25"]
    assert (christmas.timezone, christmas.reason) == ("Europe/Berlin", "1. Weihnachtstag")
    assert christmas.environments == ["production"]
    assert (christmas.starts_at, christmas.ends_at) == (
        datetime(2026, 12, 24, 23, tzinfo=UTC),
        datetime(2026, 12, 25, 23, tzinfo=UTC),
    )
    production = Environment.objects.get(pk="production")
    christmas_day = datetime(2026, 12, 25, 9, tzinfo=UTC)
    assert environment_active_freeze(production, christmas_day) is not None
    assert christmas.pk in {o.freeze for o in covering(Freeze.objects.all(), christmas_day)}
    # Whit Monday 2027 is a weekday outside every other freeze: the holiday alone blocks it.
    whit_monday = environment_active_freeze(production, datetime(2027, 5, 17, 9, tzinfo=UTC))
    assert whit_monday.occurrence.freeze == "pfingstmontag-2027-05-17"
    assert whit_monday.until == datetime(2027, 5, 17, 22, tzinfo=UTC)  # Tuesday 00:00 Berlin (summer)

    fields = ("name", "reason", "timezone", "starts_at", "ends_at", "rrule", "duration_minutes", "exdates")
    fields += ("environments", "tiers", "teams", "source", "created_by")
    before = {pk: [getattr(f, name) for name in fields] for pk, f in holidays.items()}
    bob = make_user("bob", roles.RELEASE_MANAGERS)
    answer = freezes_import_ics(
        actor=bob, content=HOLIDAYS_DE.read_bytes(), timezone="Europe/Berlin", environments=["production"]
    )
    assert (answer["created"], sorted(answer["updated"])) == ([], sorted(holidays))
    after = {f.pk: [getattr(f, name) for name in fields] for f in Freeze.objects.filter(source__startswith="ics:")}
    assert after == before


def test_production_asks_two_release_managers_and_the_security_team_for_72_hours(sample_data, pinned_now):
    """The policy as the README shows it; the security team has members who are Release Managers; a
    release approved by two Release Managers outside that team is blocked on the Security rule."""
    policy = Environment.objects.get(pk="production").approval_policy
    assert policy["rules"] == [
        {"name": "Release Managers", "approvals": 2, "group": "Release Managers"},
        {"name": "Security", "approvals": 1, "team": "security-team"},
    ]
    assert (policy["expires_after"], policy["warn_before"], policy["creator_can_approve"]) == (72 * 3600, 86400, False)
    assert {m["username"] for m in Team.objects.get(pk="security-team").members} >= {"bob", "erin"}

    pinned_now(REFERENCE_NOW)  # a Thursday, no freeze: only the approvals decide
    first, second = make_user("rm-one", roles.RELEASE_MANAGERS), make_user("rm-two", roles.RELEASE_MANAGERS)
    for user in (first, second):
        answer = client_for(user).post("/api/v1/releases/release-3/approve", {"comment": "fine"}, format="json")
        assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "pending_approval"  # Security is still missing
    check = client_for(first).get("/api/v1/releases/release-3/deploy-check?environment=production").json()
    (approval,) = [b for b in check["blockers"] if b["code"] == "approval_required"]
    assert [(r["rule"], r["needed"], r["have"]) for r in approval["unmet_rules"]] == [("Security", 1, 0)]
    # release-1's approvals (two Release Managers, one of them in the security team) count until 72 h on.
    release = Release.objects.get(pk="release-1")
    assert client_for(first).get("/api/v1/releases/release-1/deploy-check?environment=production").json() == {
        "allowed": True,
        "blockers": [],
    }
    (status,) = release_approval_status(release, at=datetime(2026, 11, 27, 16, tzinfo=UTC))  # bob's + 72 h
    assert [(r["rule"], r["have"], r["expired"]) for r in status["rules"]] == [
        ("Release Managers", 1, 1),
        ("Security", 0, 1),
    ]


def test_one_deployment_is_scheduled(api, sample_data, pinned_now):
    """release-1 to production, Friday 14:00 Berlin: after the fixture's now, before the weekend freeze,
    while its approvals count; listed by `?status=scheduled`, in no environment summary until it runs."""
    pinned_now(REFERENCE_NOW)
    answer = api.get("/api/v1/deployments?status=scheduled")
    assert answer.status_code == 200
    (scheduled,) = answer.json()["results"]
    assert (scheduled["release"], scheduled["environment"]) == ("release-1", "production")
    assert scheduled["status"] == "scheduled"
    moment = datetime.fromisoformat(scheduled["scheduled_for"])
    assert moment > REFERENCE_NOW and scheduled["sequence"] is None
    production = Environment.objects.get(pk="production")
    assert environment_active_freeze(production, moment, team="platform-team") is None
    (status,) = release_approval_status(Release.objects.get(pk="release-1"), at=moment)
    assert status["met"]
    summaries = Release.objects.get(pk="release-1").environments
    assert summaries["production"]["deployment"]["id"] == "deployment-12"  # the failed one, not the scheduled


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 12, 2, 10, tzinfo=UTC),  # a Wednesday
        datetime(2026, 12, 4, 14, tzinfo=UTC),  # a Friday afternoon: + 28 h lands in the weekend freeze
        datetime(2026, 12, 5, 10, tzinfo=UTC),  # a Saturday, frozen
        datetime(2026, 12, 24, 10, tzinfo=UTC),  # Christmas Eve: + 28 h is on 1. Weihnachtstag
        datetime(2026, 12, 25, 10, tzinfo=UTC),  # 1. Weihnachtstag, then 2., then the weekend
        datetime(2027, 3, 27, 10, tzinfo=UTC),  # the Saturday before the clocks go forward
    ],
)
def test_moved_to_now_the_scheduled_deployment_stays_ahead_and_outside_every_freeze(sample_data, pinned_now, now):
    """The data moves to any day (`load_sample_data_if_empty`); the calendar does not. The scheduled
    deployment stays in the future, in an open window, under its own schedule slot; the summaries and
    the expiry notices move with the approvals."""
    pinned_now(now)
    delta = sample_data_shift_to_now(now=now)
    deployment = Deployment.objects.get(status="scheduled")
    assert deployment.scheduled_for > now and deployment.started_at == deployment.scheduled_for
    assert deployment.scheduled_for >= datetime(2026, 11, 27, 13, tzinfo=UTC) + delta
    production = Environment.objects.get(pk="production")
    assert environment_active_freeze(production, deployment.scheduled_for, team="platform-team") is None
    assert deployment.schedule_slot == f"production|{deployment.scheduled_for:%Y-%m-%dT%H:%M}"
    release = Release.objects.get(pk="release-1")
    assert release.approval_notice_at == datetime(2026, 11, 26, 16, tzinfo=UTC) + delta
    assert release.environments["production"]["deployment"]["id"] == "deployment-12"
    (status,) = release_approval_status(release, at=now)
    assert status["met"], "the approvals of the approved release count now"
    assert [str(v) for v in integrity_violations()] == []
    # The calendar keeps its dates.
    assert Freeze.objects.get(pk="1-weihnachtstag-2026-12-25").starts_at == datetime(2026, 12, 24, 23, tzinfo=UTC)
    assert Freeze.objects.get(pk="production-weekend-freeze").starts_at == datetime(2026, 1, 2, 23, tzinfo=UTC)
