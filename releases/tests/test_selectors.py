"""Reads: required approvals, per-environment summaries, metrics and history."""

from datetime import timedelta

import pytest

from audit.services import audit_record, now_ms
from environments.models import Environment
from opsportal.testing.factories import make_environment, make_release, set_approval_policy
from releases.models import Deployment, Release
from releases.selectors import (
    release_approval_policies,
    release_environment_summaries,
    release_history,
    release_metrics,
    release_required_approvals,
)

pytestmark = pytest.mark.django_db


def deployment(release, environment, sequence, *, started, seconds, status="succeeded", kind="deploy"):
    return Deployment.objects.create(
        release=release,
        environment_id=environment,
        sequence=sequence,
        kind=kind,
        status=status,
        started_at=started,
        finished_at=None if seconds is None else started + timedelta(seconds=seconds),
    )


def test_required_approvals_is_the_largest_total_of_an_approval_policy(envs):  # issue #12
    def required() -> int:
        # Read by itself, or from the policies a caller has read already (release_approve): the same answer.
        answer = release_required_approvals()
        assert release_required_approvals(policies=release_approval_policies()) == answer
        return answer

    assert required() == 1
    make_environment("audit", requires_approval=False, min_approvals=5)  # no approval needed: ignored
    assert required() == 1
    set_approval_policy("production", 3)
    assert required() == 3
    set_approval_policy("staging", [{"approvals": 2, "group": "Release Managers"}, {"approvals": 2, "team": "sec"}])
    assert required() == 4
    set_approval_policy("production", 0)
    set_approval_policy("staging", 0)
    assert required() == 1


def test_metrics_are_aggregated_from_the_deployments(envs):
    release = make_release()
    created = Release.objects.get(pk=release.pk).created_at
    t0 = now_ms()
    deployment(release, "development", 1, started=t0, seconds=60)
    deployment(release, "staging", 1, started=t0, seconds=120, status="failed")
    deployment(release, "staging", 2, started=t0 + timedelta(minutes=5), seconds=180)
    deployment(release, "production", 1, started=t0 + timedelta(hours=1), seconds=240, status="rolled_back")
    deployment(release, "production", 2, started=t0 + timedelta(hours=2), seconds=None, status="in_progress")
    other = make_release()
    deployment(other, "development", 2, started=t0, seconds=9999)  # another release: not counted

    metrics = release_metrics(release=release)
    assert metrics["deployments_total"] == 5
    assert metrics["deployments_by_status"] == {"in_progress": 1, "succeeded": 2, "failed": 1, "rolled_back": 1}
    staging = next(row for row in metrics["deployments_by_environment"] if row["environment"] == "staging")
    assert staging == {
        "environment": "staging",
        "total": 2,
        "in_progress": 0,
        "succeeded": 1,
        "failed": 1,
        "rolled_back": 0,
    }
    # finished deploys: 60, 120, 180, 240 seconds; the rolled-back one had succeeded
    assert metrics["mean_deployment_duration_seconds"] == 150.0
    assert metrics["success_rate"] == 0.75
    first_production = t0 + timedelta(hours=1, seconds=240)
    assert metrics["first_production_deployment_at"] == first_production
    assert metrics["lead_time_seconds"] == round((first_production - created).total_seconds(), 3)
    assert metrics["progress"] == {
        "features_total": 1,
        "features_done": 0,
        "tasks_total": 2,
        "tasks_done": 1,
        "percent_complete": 50.0,
    }


def test_rollbacks_do_not_count_as_deploys_in_success_rate_or_duration(envs):
    release = make_release()
    t0 = now_ms()
    deployment(release, "development", 1, started=t0, seconds=10, status="failed")
    deployment(release, "development", 2, started=t0, seconds=1000, kind="rollback")
    metrics = release_metrics(release=release)
    assert metrics["success_rate"] == 0.0
    assert metrics["mean_deployment_duration_seconds"] == 10.0
    assert metrics["lead_time_seconds"] is None


def test_environment_summaries_for_many_releases_take_two_queries(envs, django_assert_num_queries):
    first, second = make_release(), make_release()
    t0 = now_ms()
    older = deployment(first, "development", 1, started=t0, seconds=1, status="failed")
    newer = deployment(first, "development", 2, started=t0, seconds=1)
    Environment.objects.filter(pk="development").update(current_release=first, current_deployment=newer)
    with django_assert_num_queries(3):
        summaries = release_environment_summaries(release_ids=[first.pk, second.pk])
    development = summaries[first.pk][0]
    assert development["environment"] == "development" and development["is_current"] is True
    assert development["deployment"].pk == newer.pk != older.pk
    assert [row["deployment"] for row in summaries[second.pk]] == [None, None, None]
    assert summaries[second.pk][0]["current_release"] == first.pk
    assert release_environment_summaries(release_ids=[]) == {}


def test_history_covers_the_release_its_deployments_and_rollbacks_from_it(envs):
    release, other = make_release(), make_release()
    t0 = now_ms()
    own = deployment(release, "development", 1, started=t0, seconds=1)
    rollback = deployment(other, "development", 2, started=t0, seconds=1, kind="rollback")
    Deployment.objects.filter(pk=rollback.pk).update(rolled_back_from=release)
    unrelated = deployment(other, "staging", 1, started=t0, seconds=1)
    audit_record(actor="a", action="release.created", object_type="release", object_id=release.pk)
    audit_record(actor="a", action="deployment.created", object_type="deployment", object_id=own.pk)
    audit_record(actor="a", action="deployment.rolled_back", object_type="deployment", object_id=rollback.pk)
    audit_record(actor="a", action="deployment.created", object_type="deployment", object_id=unrelated.pk)
    audit_record(actor="a", action="release.created", object_type="release", object_id=other.pk)
    assert [e.action for e in release_history(release=release)] == [
        "deployment.rolled_back",
        "deployment.created",
        "release.created",
    ]
