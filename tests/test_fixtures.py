"""`fixtures/sample_data.json` loads on an empty database and tells one consistent story (issue #3).

Its timestamps are fixed, recent relative to 2026-11-26 (deployments today, in the last 7
and 30 days), so the dashboard has figures to show on that day.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from environments.models import Environment, Freeze
from environments.selectors import environment_status
from releases.models import Deployment, Release
from releases.selectors import release_approval_status
from teams.models import Team
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "sample_data.json"
REFERENCE_DAY = datetime(2026, 11, 26, tzinfo=UTC)


@pytest.fixture
def sample_data():
    call_command("loaddata", str(FIXTURE), verbosity=0)


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
    for model in (Team, Workflow, Environment, Release, Deployment):
        for obj in model.objects.all():
            obj.full_clean()


def test_approvals_match_statuses(sample_data):
    for release in Release.objects.all():
        approvers = [a["user"] for a in release.approvals if a["decision"] == "approved"]
        if release.status in ("approved", "deployed"):
            assert approvers, release.pk
        else:
            assert not approvers, release.pk
        assert release.created_by not in approvers  # four eyes
        # Bound to the content as loaded (issue #12): each approval counts for the production policy.
        if approvers:
            (production,) = release_approval_status(release)
            assert production["met"], (release.pk, production)


def test_environments_teams_and_workflow(sample_data):
    envs = {e.pk: e for e in Environment.objects.all()}
    assert list(envs) == ["development", "staging", "production"]
    production = envs["production"]
    assert (production.requires_approval, production.tier) == (True, "production")
    assert [rule["approvals"] for rule in production.approval_policy["rules"]] == [1]
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
    deployments = list(Deployment.objects.all())
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
    for deployment in deployments:
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
        mine = [d for d in deployments if d.environment_id == environment.pk]
        assert [d.sequence for d in mine] == sorted(d.sequence for d in mine)


def test_history_is_recent_relative_to_the_reference_day(sample_data):
    started = list(Deployment.objects.values_list("started_at", flat=True))
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
