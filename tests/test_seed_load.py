"""`manage.py seed_load` (issue #6): bulk, consistent, deterministic load data."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from environments.choices import Health, Tier
from environments.models import Environment
from opsportal.testing.mongo_compile import mongo_compile
from releases.choices import ApprovalDecision, DeploymentKind, DeploymentStatus, ReleaseStatus
from releases.models import Deployment, Release
from teams.models import Team
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

END = "2026-03-01T12:00:00Z"
END_AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def seed(**options) -> None:
    args = {"releases": 80, "deployments": 400, "seed": 7, "end": END, "days": 60, "verbosity": 0}
    call_command("seed_load", **{**args, **options})


def snapshot() -> dict:
    return {
        "releases": list(
            Release.objects.order_by("id").values_list(
                "id", "version", "status", "team", "workflow", "created_at", "features", "approvals"
            )
        ),
        "deployments": list(
            Deployment.objects.order_by("id").values_list(
                "id", "release", "environment", "sequence", "kind", "status", "started_at", "rolled_back_from"
            )
        ),
        "environments": list(
            Environment.objects.order_by("id").values_list(
                "id", "current_release", "current_deployment", "deployment_seq", "health"
            )
        ),
    }


def test_creates_the_requested_rows_and_reference_data():
    seed()
    assert Release.objects.count() == 80
    assert Deployment.objects.count() == 400
    assert set(Environment.objects.values_list("id", flat=True)) == {"development", "staging", "production"}
    assert Team.objects.count() == 8
    assert set(Workflow.objects.values_list("id", flat=True)) == {"standard", "hotfix", "internal"}
    statuses = set(Release.objects.values_list("status", flat=True))
    assert {ReleaseStatus.DEPLOYED, ReleaseStatus.DRAFT, ReleaseStatus.PENDING_APPROVAL} <= statuses


def test_every_generated_document_passes_model_validation():
    seed(releases=40, deployments=150)
    for release in Release.objects.all():
        release.full_clean()  # features → tasks and approvals match their JSON schemas
    for deployment in Deployment.objects.all():
        deployment.full_clean(validate_constraints=False)
    for env in Environment.objects.all():
        env.full_clean()


def test_sequences_are_unique_and_contiguous_per_environment_and_in_time_order():
    seed()
    by_env = defaultdict(list)
    for env_id, sequence, started_at in Deployment.objects.order_by("environment", "sequence").values_list(
        "environment", "sequence", "started_at"
    ):
        by_env[env_id].append((sequence, started_at))
    for env in Environment.objects.all():
        rows = by_env[env.id]
        assert [s for s, _ in rows] == list(range(1, len(rows) + 1))
        assert [t for _, t in rows] == sorted(t for _, t in rows)
        assert env.deployment_seq == len(rows)


def test_environment_points_at_its_last_successful_deployment():
    seed()
    # nothing left in progress: it would block new deploys to the environment
    assert not Deployment.objects.filter(status=DeploymentStatus.IN_PROGRESS).exists()
    assert not Deployment.objects.filter(finished_at__isnull=True).exists()
    for env in Environment.objects.all():
        last_ok = Deployment.objects.filter(environment=env, status=DeploymentStatus.SUCCEEDED).order_by("-sequence")
        last_ok = last_ok.first()
        assert last_ok is not None
        assert env.current_deployment_id == last_ok.id
        assert env.current_release_id == last_ok.release_id
        last = Deployment.objects.filter(environment=env).order_by("-sequence").first()
        expected = Health.DEGRADED if last.status == DeploymentStatus.FAILED else Health.HEALTHY
        assert env.health == expected


def test_rollbacks_return_to_the_previous_release_and_mark_the_undone_deployment():
    seed(releases=30, deployments=600)
    rollbacks = list(Deployment.objects.filter(kind=DeploymentKind.ROLLBACK).order_by("environment", "sequence"))
    assert rollbacks, "the generator should produce some rollbacks with this many deployments per release"
    for rollback in rollbacks:
        assert rollback.rolled_back_from_id and rollback.rolled_back_from_id != rollback.release_id
        earlier = Deployment.objects.filter(environment=rollback.environment, sequence__lt=rollback.sequence)
        undone = earlier.filter(status__in=[DeploymentStatus.SUCCEEDED, DeploymentStatus.ROLLED_BACK])
        undone = undone.order_by("-sequence").first()
        assert undone.release_id == rollback.rolled_back_from_id
        assert undone.status == DeploymentStatus.ROLLED_BACK
        # the release it returns to had been deployed there successfully before
        assert earlier.filter(release=rollback.release_id, sequence__lt=undone.sequence).exists()


def test_releases_follow_workflow_order_approval_rules_and_time():
    seed(releases=50, deployments=500)
    stages = {wf.id: [s["environment"] for s in wf.stages] for wf in Workflow.objects.all()}
    production = set(Environment.objects.filter(tier=Tier.PRODUCTION).values_list("id", flat=True))
    for release in Release.objects.all():
        deps = list(Deployment.objects.filter(release=release, kind=DeploymentKind.DEPLOY).order_by("started_at", "id"))
        path = stages[release.workflow_id]
        reached: set[str] = set()
        for dep in deps:
            assert dep.environment_id in path
            position = path.index(dep.environment_id)
            assert position == 0 or path[position - 1] in reached, f"{release.version} skipped a stage"
            if dep.status != DeploymentStatus.FAILED:
                reached.add(dep.environment_id)
            assert release.created_at <= dep.started_at <= END_AT
            assert dep.started_at < dep.finished_at <= END_AT
        if any(dep.environment_id in production for dep in deps):
            approvals = [a for a in release.approvals if a["decision"] == ApprovalDecision.APPROVED]
            assert approvals, f"{release.version} reached production without an approval"
            assert all(a["user"] != release.created_by for a in approvals)  # four eyes
            assert release.status in (ReleaseStatus.APPROVED, ReleaseStatus.DEPLOYED, ReleaseStatus.ROLLED_BACK)
        done_in_prod = [
            d
            for d in deps
            if d.environment_id in production and d.status in (DeploymentStatus.SUCCEEDED, DeploymentStatus.ROLLED_BACK)
        ]
        if done_in_prod:
            assert release.status in (ReleaseStatus.DEPLOYED, ReleaseStatus.ROLLED_BACK)
        if release.status == ReleaseStatus.ROLLED_BACK:
            assert Deployment.objects.filter(
                kind=DeploymentKind.ROLLBACK, rolled_back_from=release, environment__in=production
            ).exists()
        if release.status == ReleaseStatus.REJECTED:
            assert [a["decision"] for a in release.approvals] == [ApprovalDecision.REJECTED]


def test_same_seed_same_data_other_seed_other_data():
    seed()
    first = snapshot()
    seed(clear=True)
    assert snapshot() == first
    seed(clear=True, seed=8)
    assert snapshot()["releases"] != first["releases"]


def test_a_second_run_appends_after_the_existing_history():
    seed(releases=20, deployments=60)
    seqs = dict(Environment.objects.values_list("id", "deployment_seq"))
    seed(releases=20, deployments=60)  # same seed: ids and versions must still not collide
    assert Release.objects.count() == 40
    assert Release.objects.values("version").distinct().count() == 40
    assert Deployment.objects.count() == 120
    new_seqs = dict(Environment.objects.values_list("id", "deployment_seq"))
    assert sum(new_seqs.values()) - sum(seqs.values()) == 60
    for env_id, seq in new_seqs.items():
        assert Deployment.objects.filter(environment=env_id).count() == seq


def test_clear_replaces_the_data():
    seed(releases=20, deployments=60)
    seed(releases=5, deployments=10, clear=True)
    assert Release.objects.count() == 5
    assert Deployment.objects.count() == 10


def test_inserts_in_batches_not_one_row_at_a_time():
    with CaptureQueriesContext(connection) as queries:
        seed(releases=60, deployments=90, batch_size=25)
    inserts = defaultdict(int)
    for query in queries.captured_queries:
        sql = query["sql"]
        if sql.startswith("INSERT INTO"):
            inserts[sql.split('"')[1]] += 1
    assert inserts["releases_release"] == 3  # 25 + 25 + 10
    assert inserts["releases_deployment"] == 4  # 25 + 25 + 25 + 15


def test_the_same_bulk_inserts_compile_for_mongodb():
    with mongo_compile() as recorder:
        seed(releases=30, deployments=70, batch_size=25)
    assert recorder.failures == []
    inserts = [(collection, len(docs)) for collection, op, docs in recorder.operations if op == "insert_many"]
    assert [n for c, n in inserts if c == "releases_release"] == [25, 5]
    assert [n for c, n in inserts if c == "releases_deployment"] == [25, 25, 20]


class DiskFull(Exception):
    pass


def fail_midway(monkeypatch, *, after_batches: int) -> dict:
    """Deployment inserts fail after `after_batches` batches went in; returns what the load had written by then."""
    original = Deployment.objects.bulk_create
    written: dict = {}

    def bulk_create(objs, *args, **kwargs):
        if len(written) == after_batches:
            written["releases"] = Release.objects.count()
            written["deployments"] = Deployment.objects.count()
            raise DiskFull("no space left on device")
        written[len(written)] = len(objs)
        return original(objs, *args, **kwargs)

    monkeypatch.setattr(Deployment.objects, "bulk_create", bulk_create)
    return written


def test_a_failure_midway_leaves_nothing(monkeypatch):
    written = fail_midway(monkeypatch, after_batches=2)
    with pytest.raises(DiskFull):
        seed(releases=60, deployments=90, batch_size=25)
    assert written["releases"] == 60 and written["deployments"] == 50  # it did fail midway
    assert Release.objects.count() == 0
    assert Deployment.objects.count() == 0
    # the reference data the load created is gone too
    assert Environment.objects.count() == 0
    assert Team.objects.count() == 0
    assert Workflow.objects.count() == 0


def test_a_failed_load_leaves_the_existing_data_as_it_was_even_with_clear(monkeypatch):
    seed(releases=20, deployments=60)
    before = snapshot()
    teams = list(Team.objects.order_by("id").values_list("id", "members"))
    written = fail_midway(monkeypatch, after_batches=1)
    with pytest.raises(DiskFull):
        seed(releases=30, deployments=90, batch_size=25, seed=9, clear=True)
    assert written["releases"] == 30 and written["deployments"] == 25
    assert snapshot() == before  # the cleared rows are back, the new ones gone, environments untouched
    assert list(Team.objects.order_by("id").values_list("id", "members")) == teams


def test_refuses_nonsense_arguments():
    with pytest.raises(CommandError, match="need releases"):
        seed(releases=0, deployments=5)
    with pytest.raises(CommandError, match="not an ISO date"):
        seed(end="yesterday")


def test_generated_history_satisfies_every_invariant_also_when_appended():
    """Issue #9: seeded data is what the services would have written (rollback targets included)."""
    from releases.integrity import integrity_violations

    seed(releases=30, deployments=600)
    assert [str(v) for v in integrity_violations()] == []
    seed(releases=10, deployments=100, seed=8)
    assert [str(v) for v in integrity_violations()] == []


def test_clear_also_clears_what_refers_to_deployments():
    """Issue #13: incidents and release evidence refer to deployments and releases (PROTECT)."""
    from django.core.management import call_command

    from incidents.models import Incident

    call_command("loaddata", "sample_data", verbosity=0)
    assert Incident.objects.count() == 2
    seed(releases=5, deployments=10, clear=True)
    assert (Release.objects.count(), Incident.objects.count()) == (5, 0)
