"""Release lifecycle and deployment rules (DESIGN §6), through the services that the API and admin call."""

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from audit.services import now_ms
from environments.models import Environment
from opsportal.errors import Conflict, Forbidden, PreconditionFailed, ValidationFailed
from opsportal.testing.factories import make_environment, make_freeze, make_release, make_workflow, set_approval_policy
from releases.models import Deployment, Release
from releases.services import (
    deployment_report_status,
    release_allowed_actions,
    release_approve,
    release_create,
    release_delete,
    release_deploy,
    release_deploy_check,
    release_reject,
    release_rollback,
    release_submit,
    release_update,
)
from workflows.models import Workflow

pytestmark = pytest.mark.django_db


def events(action: str, object_id: str | None = None) -> list[AuditEvent]:
    qs = AuditEvent.objects.filter(action=action)
    if object_id is not None:
        qs = qs.filter(object_id=object_id)
    return list(qs.order_by("seq"))


def env(env_id: str) -> Environment:
    """The environment as a new request would read it."""
    return Environment.objects.get(pk=env_id)


def new_release(actor, **data) -> Release:
    return release_create(actor=actor, data={"name": "Checkout", "version": "1.0.0", **data})


def approved_release(author, reviewer, **data) -> Release:
    release = new_release(author, **data)
    release_submit(release=release, actor=author)
    return release_approve(release=release, actor=reviewer)


def codes(blockers: list[dict]) -> list[str]:
    return [blocker["code"] for blocker in blockers]


# --------------------------------------------------------------------------- create / update / delete


def test_create_makes_a_draft_with_a_string_id_and_audits_it(alice):
    release = new_release(alice, description="Faster checkout", features=[{"name": "Cart", "status": "planned"}])
    release.refresh_from_db()
    assert release.status == "draft"
    assert isinstance(release.pk, str) and release.pk
    assert release.created_by == "alice"
    assert release.revision == 1
    # schema defaults are filled in, so every feature has one shape
    assert release.features == [{"name": "Cart", "status": "planned", "description": "", "tasks": []}]
    (event,) = events("release.created", release.pk)
    assert event.actor == "alice" and event.object_type == "release"
    assert event.changes["version"] == [None, "1.0.0"]
    assert event.changes["status"] == [None, "draft"]


def test_create_refuses_a_duplicate_version(alice):
    new_release(alice)
    with pytest.raises(ValidationFailed) as exc:
        new_release(alice, name="Other")
    assert list(exc.value.extra["errors"]) == ["version"]
    assert Release.objects.count() == 1


def test_create_names_the_path_of_invalid_nested_data(alice):
    features = [{"name": "Cart", "status": "planned", "tasks": [{"title": "API", "status": "finished"}]}]
    with pytest.raises(ValidationFailed) as exc:
        new_release(alice, features=features)
    (message,) = exc.value.extra["errors"]["features"]
    assert message.startswith("features[0].tasks[0].status:")
    assert not Release.objects.exists()


def test_create_refuses_unknown_team(alice):
    with pytest.raises(ValidationFailed) as exc:
        new_release(alice, team="no-such-team")
    assert "team" in exc.value.extra["errors"]
    assert not Release.objects.exists() and not events("release.created")


def test_create_refuses_a_taken_id_and_an_unknown_workflow_leaving_nothing(alice):
    """The unit reads nothing to check these: the insert and the touch of the references find them out, and
    the unit leaves nothing behind."""
    first = new_release(alice, id="release-1")
    with pytest.raises(ValidationFailed) as exc:
        new_release(alice, id="release-1", version="2.0.0")
    assert exc.value.extra["errors"] == {"id": ["A release with id 'release-1' already exists."]}
    with pytest.raises(ValidationFailed) as exc:
        new_release(alice, version="3.0.0", workflow="no-such-workflow")
    assert exc.value.extra["errors"] == {"workflow": ["Unknown workflow 'no-such-workflow'."]}
    assert list(Release.objects.values_list("pk", flat=True)) == [first.pk]
    assert len(events("release.created")) == 1


def test_update_changes_fields_bumps_revision_and_audits_the_changes(alice):
    release = new_release(alice)
    updated = release_update(release=release, actor=alice, data={"name": "Checkout v2", "description": "New"})
    assert updated.name == "Checkout v2"
    assert updated.revision == 2
    assert Release.objects.get(pk=release.pk).revision == 2
    (event,) = events("release.updated", release.pk)
    assert event.changes["name"] == ["Checkout", "Checkout v2"]
    assert event.changes["description"] == ["", "New"]
    assert "version" not in event.changes


def test_update_ignores_lifecycle_fields(alice):
    release = new_release(alice)
    release_update(
        release=release, actor=alice, data={"status": "approved", "revision": 99, "created_by": "x", "name": "N"}
    )
    release.refresh_from_db()
    assert (release.status, release.revision, release.created_by, release.name) == ("draft", 2, "alice", "N")


def test_update_without_changes_writes_nothing(alice):
    release = new_release(alice)
    release_update(release=release, actor=alice, data={"name": "Checkout"})
    assert Release.objects.get(pk=release.pk).revision == 1
    assert events("release.updated") == []


def test_update_refused_outside_editable_states(alice, carol, envs):
    release = approved_release(alice, carol)
    with pytest.raises(Conflict) as exc:
        release_update(release=release, actor=alice, data={"name": "Changed"})
    assert exc.value.code == "invalid_transition"
    assert exc.value.extra["status"] == "approved"
    assert exc.value.extra["allowed_actions"] == ["reject", "deploy", "rollback"]
    assert Release.objects.get(pk=release.pk).name == "Checkout"


def test_update_from_a_stale_copy_is_a_conflict(alice):
    release = new_release(alice)
    stale = Release.objects.get(pk=release.pk)
    release_update(release=release, actor=alice, data={"name": "First"})
    with pytest.raises(Conflict) as exc:
        release_update(release=stale, actor=alice, data={"name": "Second"})
    assert exc.value.code == "stale_revision"
    assert Release.objects.get(pk=release.pk).name == "First"


def test_update_with_a_wrong_expected_revision_is_412(alice):
    release = new_release(alice)
    with pytest.raises(PreconditionFailed):
        release_update(release=release, actor=alice, data={"name": "X"}, expected_revision=5)
    updated = release_update(release=release, actor=alice, data={"name": "X"}, expected_revision=1)
    assert updated.revision == 2


def test_update_refuses_a_duplicate_version(alice):
    new_release(alice, version="1.0.0")
    other = new_release(alice, version="1.1.0")
    with pytest.raises(ValidationFailed) as exc:
        release_update(release=other, actor=alice, data={"version": "1.0.0"})
    assert "version" in exc.value.extra["errors"]


def test_delete_a_draft_audits_it(alice):
    release = new_release(alice)
    release_delete(release=release, actor=alice)
    assert not Release.objects.filter(pk=release.pk).exists()
    (event,) = events("release.deleted", release.pk)
    assert event.changes["version"] == ["1.0.0", None]


def test_delete_refused_once_approved(alice, carol, envs):
    release = approved_release(alice, carol)
    with pytest.raises(Conflict) as exc:
        release_delete(release=release, actor=alice)
    assert exc.value.code == "invalid_transition"
    assert Release.objects.filter(pk=release.pk).exists()


def test_delete_refused_when_deployments_reference_the_release(alice, envs):
    release = new_release(alice)
    release_deploy(release=release, environment=env("development"), actor=alice)
    release.refresh_from_db()
    with pytest.raises(Conflict) as exc:
        release_delete(release=release, actor=alice)
    assert exc.value.code == "protected"
    assert Release.objects.filter(pk=release.pk).exists()


# --------------------------------------------------------------------------- approval lifecycle


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        ("draft", ["update", "delete", "submit", "approve", "reject", "deploy", "rollback"]),
        ("pending_approval", ["update", "approve", "reject", "deploy", "rollback"]),
        ("approved", ["reject", "deploy", "rollback"]),
        ("rejected", ["update", "delete", "submit", "rollback"]),
        ("deployed", ["deploy", "rollback"]),
        ("rolled_back", ["deploy", "rollback"]),
    ],
)
def test_allowed_actions_follow_the_status(status, allowed):
    assert release_allowed_actions(Release(status=status)) == allowed


def test_submit_moves_a_draft_to_pending_approval(alice):
    release = new_release(alice)
    release_submit(release=release, actor=alice)
    release.refresh_from_db()
    assert (release.status, release.revision) == ("pending_approval", 2)
    (event,) = events("release.submitted", release.pk)
    assert event.changes["status"] == ["draft", "pending_approval"]


def test_submit_twice_is_an_invalid_transition_that_changes_nothing(alice):
    release = new_release(alice)
    release_submit(release=release, actor=alice)
    with pytest.raises(Conflict) as exc:
        release_submit(release=release, actor=alice)
    assert exc.value.code == "invalid_transition"
    assert exc.value.extra["status"] == "pending_approval"
    assert Release.objects.get(pk=release.pk).revision == 2
    assert len(events("release.submitted")) == 1


def test_approve_by_another_user_approves_and_records_the_approval(alice, carol, envs):
    release = new_release(alice)
    release_submit(release=release, actor=alice)
    release_approve(release=release, actor=carol, comment="LGTM")
    release.refresh_from_db()
    assert release.status == "approved"
    (approval,) = release.approvals
    assert approval["user"] == "carol" and approval["decision"] == "approved" and approval["comment"] == "LGTM"
    assert approval["at"].endswith("Z")
    (event,) = events("release.approved", release.pk)
    assert event.actor == "carol"
    assert event.changes["status"] == ["pending_approval", "approved"]


def test_creator_cannot_approve_their_own_release(alice, envs):
    release = new_release(alice)
    release_submit(release=release, actor=alice)
    with pytest.raises(Forbidden) as exc:
        release_approve(release=release, actor=alice)
    assert exc.value.code == "four_eyes"
    release.refresh_from_db()
    assert release.status == "pending_approval" and release.approvals == []


def test_approval_needs_the_policy_met_and_nobody_approves_twice(alice, carol, dave, envs):
    set_approval_policy("production", 2)
    release = new_release(alice)
    release_submit(release=release, actor=alice)
    release_approve(release=release, actor=carol)
    assert Release.objects.get(pk=release.pk).status == "pending_approval"
    with pytest.raises(Conflict) as exc:
        release_approve(release=release, actor=carol)
    assert exc.value.code == "already_approved"
    release_approve(release=release, actor=dave)
    release.refresh_from_db()
    assert release.status == "approved"
    assert [a["user"] for a in release.approvals] == ["carol", "dave"]


def test_approving_an_approved_release_is_an_invalid_transition(alice, carol, dave, envs):
    release = approved_release(alice, carol)
    with pytest.raises(Conflict) as exc:
        release_approve(release=release, actor=dave)
    assert exc.value.code == "invalid_transition"


def test_reject_requires_a_reason(alice, carol):
    release = new_release(alice)
    with pytest.raises(ValidationFailed) as exc:
        release_reject(release=release, actor=carol, reason="  ")
    assert list(exc.value.extra["errors"]) == ["reason"]
    assert Release.objects.get(pk=release.pk).status == "draft"


def test_reject_an_approved_release_records_the_reason(alice, carol, envs):
    release = approved_release(alice, carol)
    release_reject(release=release, actor=carol, reason="No rollback plan")
    release.refresh_from_db()
    assert release.status == "rejected"
    assert release.approvals[-1]["decision"] == "rejected"
    assert release.approvals[-1]["comment"] == "No rollback plan"
    (event,) = events("release.rejected", release.pk)
    assert event.changes == {"status": ["approved", "rejected"], "reason": "No rollback plan"}


def test_reject_refused_once_deployed(alice, carol, envs):
    release = approved_release(alice, carol)
    release_deploy(release=release, environment=env("production"), actor=carol)
    release.refresh_from_db()
    with pytest.raises(Conflict) as exc:
        release_reject(release=release, actor=carol, reason="too late")
    assert exc.value.code == "invalid_transition"
    assert exc.value.extra["status"] == "deployed"


def test_approvals_before_a_rejection_do_not_count_after_resubmission(alice, carol, dave, envs):
    release = approved_release(alice, carol)
    release_reject(release=release, actor=dave, reason="Missing docs")
    release_submit(release=release, actor=alice)
    assert Release.objects.get(pk=release.pk).status == "pending_approval"
    release_approve(release=release, actor=carol)  # carol may approve again: it is a new round
    assert Release.objects.get(pk=release.pk).status == "approved"


# --------------------------------------------------------------------------- deploy check


def test_deploy_check_requires_approval_for_production(alice, envs):
    release = new_release(alice)
    assert release_deploy_check(release=release, environment=envs["development"]) == []
    blockers = release_deploy_check(release=release, environment=envs["production"])
    assert codes(blockers) == ["approval_required"]


def test_deploy_check_rejected_release_is_always_blocked(alice, carol, envs):
    release = new_release(alice)
    release_reject(release=release, actor=carol, reason="No")
    assert codes(release_deploy_check(release=release, environment=envs["development"])) == ["invalid_status"]


def test_deploy_check_follows_the_workflow_order(alice, carol, envs, workflow):
    release = approved_release(alice, carol, workflow=workflow.pk)
    blockers = release_deploy_check(release=release, environment=envs["staging"])
    assert codes(blockers) == ["workflow_order"]
    assert blockers[0]["required_environment"] == "development"
    release_deploy(release=release, environment=env("development"), actor=carol)
    assert release_deploy_check(release=release, environment=env("staging")) == []
    assert codes(release_deploy_check(release=release, environment=env("production"))) == ["workflow_order"]


def test_deploy_check_a_failed_previous_stage_does_not_count(alice, carol, envs, workflow):
    release = approved_release(alice, carol, workflow=workflow.pk)
    deployment = release_deploy(release=release, environment=env("development"), actor=carol, status="in_progress")
    deployment_report_status(deployment=deployment, actor=carol, status="failed")
    assert codes(release_deploy_check(release=release, environment=env("staging"))) == ["workflow_order"]


def test_deploy_check_environment_outside_the_workflow_is_blocked(alice, envs):
    make_environment("qa")
    release = new_release(alice, workflow=make_workflow(["development", "staging"]).pk)
    blockers = release_deploy_check(release=release, environment=env("qa"))
    assert codes(blockers) == ["workflow_order"]
    assert "not a stage" in blockers[0]["message"]


def test_deploy_check_workflow_stage_can_require_approval(alice, envs):
    workflow = make_workflow(["development"])
    Workflow.objects.filter(pk=workflow.pk).update(stages=[{"environment": "development", "requires_approval": True}])
    release = new_release(alice, workflow=workflow.pk)
    assert codes(release_deploy_check(release=release, environment=envs["development"])) == ["approval_required"]


def test_deploy_check_freeze_window_names_its_end(alice, envs):
    now = now_ms()
    ends = now + timedelta(hours=2)
    make_freeze("development", starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=2))
    make_freeze("development", starts_at=now - timedelta(hours=1), ends_at=ends, reason="Holidays")
    release = new_release(alice)
    (blocker,) = release_deploy_check(release=release, environment=env("development"))
    assert blocker["code"] == "freeze_window"
    assert blocker["until"] == ends.isoformat().replace("+00:00", "Z")
    assert blocker["reason"] == "Holidays"


def test_deploy_check_already_deployed(alice, envs):
    release = new_release(alice)
    release_deploy(release=release, environment=env("development"), actor=alice)
    assert codes(release_deploy_check(release=release, environment=env("development"))) == ["already_deployed"]


def test_deploy_check_another_deployment_in_progress(alice, envs):
    first = new_release(alice)
    second = new_release(alice, version="1.1.0")
    release_deploy(release=first, environment=env("development"), actor=alice, status="in_progress")
    assert codes(release_deploy_check(release=second, environment=env("development"))) == ["deployment_in_progress"]


# --------------------------------------------------------------------------- deploy


def test_deploy_succeeded_makes_the_release_current(alice, envs):
    release = new_release(alice)
    deployment = release_deploy(
        release=release,
        environment=env("development"),
        actor=alice,
        notes="first",
        pipeline_url="https://ci.example.com/1",
    )
    deployment.refresh_from_db()
    assert (deployment.status, deployment.kind, deployment.sequence) == ("succeeded", "deploy", 1)
    assert deployment.deployed_by == "alice" and deployment.finished_at is not None
    development = env("development")
    assert development.current_release_id == release.pk
    assert development.current_deployment_id == deployment.pk
    assert development.deployment_seq == 1 and development.health == "healthy"
    assert Release.objects.get(pk=release.pk).status == "draft"  # not production: status unchanged
    (event,) = events("deployment.created", deployment.pk)
    assert event.object_type == "deployment"
    assert event.changes["release"] == [None, release.pk]
    assert events("release.deployed") == []


def test_deploy_to_production_makes_the_release_deployed(alice, carol, envs):
    release = approved_release(alice, carol)
    deployment = release_deploy(release=release, environment=env("production"), actor=carol)
    release.refresh_from_db()
    assert release.status == "deployed"
    assert release.revision == 4  # create 1, submit 2, approve 3, deployed 4
    (event,) = events("release.deployed", release.pk)
    assert event.changes["status"] == ["approved", "deployed"]
    assert event.changes["deployment"] == deployment.pk


def test_deploy_refused_with_exactly_the_blockers_of_the_check(alice, envs, workflow):
    release = new_release(alice, workflow=workflow.pk)
    expected = release_deploy_check(release=release, environment=env("production"))
    assert codes(expected) == ["approval_required", "workflow_order"]
    with pytest.raises(Conflict) as exc:
        release_deploy(release=release, environment=env("production"), actor=alice)
    assert exc.value.code == "deploy_blocked"
    assert exc.value.extra["blockers"] == expected
    assert not Deployment.objects.exists()
    assert env("production").deployment_seq == 0


def test_deploy_of_a_rejected_release_is_an_invalid_transition(alice, carol, envs):
    release = new_release(alice)
    release_reject(release=release, actor=carol, reason="No")
    with pytest.raises(Conflict) as exc:
        release_deploy(release=release, environment=env("development"), actor=alice)
    assert exc.value.code == "invalid_transition"
    assert codes(exc.value.extra["blockers"]) == ["invalid_status"]


def test_freeze_override_needs_a_reason_and_drops_only_the_freeze(alice, envs):
    now = now_ms()
    make_freeze("development", "production", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    release = new_release(alice)
    with pytest.raises(ValidationFailed) as exc:
        release_deploy(release=release, environment=env("development"), actor=alice, override_freeze=True)
    assert list(exc.value.extra["errors"]) == ["reason"]
    with pytest.raises(Conflict) as exc:
        release_deploy(release=release, environment=env("production"), actor=alice, override_freeze=True, reason="x")
    assert codes(exc.value.extra["blockers"]) == ["approval_required"]
    deployment = release_deploy(
        release=release, environment=env("development"), actor=alice, override_freeze=True, reason="Hotfix"
    )
    (event,) = events("deployment.created", deployment.pk)
    assert event.changes["freeze_overridden"]["reason"] == "Hotfix"


def test_a_deploy_that_loses_the_race_retries_on_the_new_state(alice, envs):
    first = new_release(alice)
    second = new_release(alice, version="1.1.0")
    # Two requests read the environment at the same sequence…
    seen_by_first, seen_by_second = env("development"), env("development")
    release_deploy(release=first, environment=seen_by_first, actor=alice)
    # …the second one's insert collides on the unique (environment, sequence), re-reads the
    # environment and takes the next sequence: nothing is lost, nothing is doubled.
    deployment = release_deploy(release=second, environment=seen_by_second, actor=alice)
    assert deployment.sequence == 2
    assert list(Deployment.objects.order_by("sequence").values_list("release_id", "sequence")) == [
        (first.pk, 1),
        (second.pk, 2),
    ]
    assert env("development").current_release_id == second.pk
    assert env("development").deployment_seq == 2
    assert len(events("deployment.created")) == 2


def test_concurrent_deploys_of_one_release_to_one_environment_let_only_one_through(alice, envs):
    release = new_release(alice)
    seen_by_first, seen_by_second = env("development"), env("development")
    release_deploy(release=release, environment=seen_by_first, actor=alice)
    # The retry sees the release already deployed there.
    with pytest.raises(Conflict) as exc:
        release_deploy(release=release, environment=seen_by_second, actor=alice)
    assert [b["code"] for b in exc.value.extra["blockers"]] == ["already_deployed"]
    assert Deployment.objects.count() == 1
    assert len(events("deployment.created")) == 1


def test_deploy_rejects_an_invalid_pipeline_url(alice, envs):
    with pytest.raises(ValidationFailed) as exc:
        release_deploy(release=new_release(alice), environment=env("development"), actor=alice, pipeline_url="nope")
    assert list(exc.value.extra["errors"]) == ["pipeline_url"]


# --------------------------------------------------------------------------- pipeline reports


def test_in_progress_deploy_becomes_current_when_reported_succeeded(alice, carol, envs):
    release = approved_release(alice, carol)
    deployment = release_deploy(release=release, environment=env("production"), actor=carol, status="in_progress")
    assert deployment.finished_at is None
    assert env("production").current_release_id is None
    assert Release.objects.get(pk=release.pk).status == "approved"
    reported = deployment_report_status(deployment=deployment, actor=carol, status="succeeded", notes="green")
    assert reported.status == "succeeded" and reported.finished_at is not None and reported.notes == "green"
    production = env("production")
    assert production.current_release_id == release.pk and production.current_deployment_id == deployment.pk
    assert Release.objects.get(pk=release.pk).status == "deployed"
    (event,) = events("deployment.status_reported", deployment.pk)
    assert event.changes["status"] == ["in_progress", "succeeded"]


def test_failed_report_on_production_degrades_the_environment(alice, carol, envs):
    release = approved_release(alice, carol)
    deployment = release_deploy(release=release, environment=env("production"), actor=carol, status="in_progress")
    deployment_report_status(deployment=deployment, actor=carol, status="failed")
    production = env("production")
    assert production.health == "degraded" and production.current_release_id is None
    assert Release.objects.get(pk=release.pk).status == "approved"


def test_only_in_progress_deployments_report(alice, envs):
    deployment = release_deploy(release=new_release(alice), environment=env("development"), actor=alice)
    with pytest.raises(Conflict) as exc:
        deployment_report_status(deployment=deployment, actor=alice, status="failed")
    assert exc.value.code == "invalid_transition"
    assert Deployment.objects.get(pk=deployment.pk).status == "succeeded"
    with pytest.raises(ValidationFailed):
        deployment_report_status(deployment=deployment, actor=alice, status="rolled_back")


# --------------------------------------------------------------------------- rollback


def deploy_two_to_production(alice, carol, dave):
    old = approved_release(alice, carol, version="1.0.0")
    old_deployment = release_deploy(release=old, environment=env("production"), actor=carol)
    new = approved_release(alice, dave, version="1.1.0")
    new_deployment = release_deploy(release=new, environment=env("production"), actor=carol)
    return old, old_deployment, new, new_deployment


def test_rollback_returns_production_to_the_previous_release(alice, carol, dave, envs):
    old, _, new, new_deployment = deploy_two_to_production(alice, carol, dave)
    rollback = release_rollback(release=new, environment=env("production"), actor=carol, reason="Errors up")
    rollback.refresh_from_db()
    assert (rollback.kind, rollback.status, rollback.release_id) == ("rollback", "succeeded", old.pk)
    assert rollback.rolled_back_from_id == new.pk and rollback.notes == "Errors up"
    production = env("production")
    assert production.current_release_id == old.pk and production.current_deployment_id == rollback.pk
    assert Deployment.objects.get(pk=new_deployment.pk).status == "rolled_back"
    assert Release.objects.get(pk=new.pk).status == "rolled_back"
    assert Release.objects.get(pk=old.pk).status == "deployed"
    (event,) = events("deployment.rolled_back", rollback.pk)
    assert event.changes["rolled_back_from"] == [None, new.pk]
    assert event.changes["replaced_deployment"]["id"] == new_deployment.pk
    (event,) = events("release.rolled_back", new.pk)
    assert event.changes["status"] == ["deployed", "rolled_back"]


def test_rollback_only_of_the_current_release(alice, carol, dave, envs):
    old, _, _, _ = deploy_two_to_production(alice, carol, dave)
    with pytest.raises(Conflict) as exc:
        release_rollback(release=old, environment=env("production"), actor=carol)
    assert exc.value.code == "not_current_release"
    assert Deployment.objects.filter(kind="rollback").count() == 0


def test_rollback_with_nothing_to_return_to(alice, envs):
    release = new_release(alice)
    release_deploy(release=release, environment=env("development"), actor=alice)
    with pytest.raises(Conflict) as exc:
        release_rollback(release=release, environment=env("development"), actor=alice)
    assert exc.value.code == "nothing_to_roll_back_to"
    assert "Nothing to roll back to" in exc.value.message
    assert env("development").current_release_id == release.pk


def test_rolled_back_deployments_are_never_a_target(alice, carol, dave, envs):
    old, _, new, _ = deploy_two_to_production(alice, carol, dave)
    release_rollback(release=new, environment=env("production"), actor=carol)
    # old is current again; the only other release's deployment was rolled back
    with pytest.raises(Conflict) as exc:
        release_rollback(release=old, environment=env("production"), actor=carol)
    assert exc.value.code == "nothing_to_roll_back_to"


def test_rollback_on_non_production_keeps_the_release_status(alice, envs):
    first = new_release(alice)
    second = new_release(alice, version="1.1.0")
    release_deploy(release=first, environment=env("development"), actor=alice)
    release_deploy(release=second, environment=env("development"), actor=alice)
    release_rollback(release=second, environment=env("development"), actor=alice)
    assert env("development").current_release_id == first.pk
    assert Release.objects.get(pk=second.pk).status == "draft"


def test_late_success_report_does_not_override_a_later_rollback(alice, carol, dave, envs):
    old, _, new, _ = deploy_two_to_production(alice, carol, dave)
    dev_release = approved_release(alice, dave, version="1.2.0")
    pending = release_deploy(release=dev_release, environment=env("production"), actor=carol, status="in_progress")
    release_rollback(release=new, environment=env("production"), actor=carol)
    deployment_report_status(deployment=pending, actor=carol, status="succeeded")
    assert env("production").current_release_id == old.pk
    assert Release.objects.get(pk=dev_release.pk).status == "approved"


def test_make_release_factory_releases_are_approvable_by_anyone(carol, envs):
    # Releases without a recorded creator (e.g. loaded fixtures) have no four-eyes restriction.
    release = make_release()
    release_approve(release=release, actor=carol)
    assert Release.objects.get(pk=release.pk).status == "approved"
