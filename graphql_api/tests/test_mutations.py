"""Every mutation: allowed, refused by role, refused by rule — the same services, rules, audit and unit of
work as REST, the refusals as typed errors (`extensions`: code, status, allowed_actions, blockers)."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from graphql_api.tests.conftest import graphql
from opsportal.testing.factories import make_release, set_approval_policy
from opsportal.testing.faults import fail_at_write
from releases import services
from releases.choices import DeploymentStatus
from releases.models import Deployment, Release
from tokens.services import api_token_create

pytestmark = pytest.mark.django_db

CREATE = """mutation($input: ReleaseInput!) { create_release(input: $input) {
  id status version created_by team { id } features { name tasks { title status } } allowed_actions } }"""
UPDATE = """mutation($id: ID!, $input: ReleaseInput!, $revision: Int) {
  update_release(id: $id, input: $input, revision: $revision) { id name revision } }"""
SUBMIT = "mutation($id: ID!) { submit_release(id: $id) { id status allowed_actions } }"
APPROVE = 'mutation($id: ID!) { approve_release(id: $id, comment: "ok") { id status approvals { user decision } } }'
REJECT = "mutation($id: ID!, $reason: String!) { reject_release(id: $id, reason: $reason) { id status } }"
DEPLOY = """mutation($id: ID!, $input: ReleaseDeployInput!) {
  deploy_release(id: $id, input: $input) { id environment status kind became_current } }"""
ROLLBACK = """mutation($id: ID!, $env: ID!) {
  rollback_release(id: $id, environment: $env, reason: "bad") { id kind environment rolled_back_from } }"""
REPORT = """mutation($id: ID!, $status: DeploymentStatus!) {
  report_deployment_status(id: $id, status: $status, notes: "pipeline 42") { id status notes } }"""
CHECK = """query($id: ID!, $env: ID!) { release_deploy_check(id: $id, environment: $env) {
  allowed blockers { code message status required_approvals } } }"""


def _pending(actor, **fields):
    release = make_release(created_by="someone-else", **fields)
    return services.release_submit(release=release, actor=actor)


def _approved(manager, manager2):
    release = _pending(manager)
    return services.release_approve(release=release, actor=manager2)


def _refused(answer, code: str, status: int) -> dict:
    error = answer.error
    assert (error["extensions"]["code"], error["extensions"]["status"]) == (code, status), error
    return error["extensions"]


# ---------------------------------------------------------------- create / update


def test_create_release_makes_a_draft_with_its_audit_event(manager, team):
    data = graphql(
        CREATE,
        {"input": {"name": "Shop", "version": "1.0.0", "team": team.pk,
                   "features": [{"name": "Cart", "tasks": [{"title": "API", "status": "done"}]}]}},
        user=manager,
    ).data["create_release"]  # fmt: skip
    assert (data["status"], data["created_by"], data["team"]["id"]) == ("draft", "maria", "payments")
    assert data["features"] == [{"name": "Cart", "tasks": [{"title": "API", "status": "done"}]}]
    assert AuditEvent.objects.filter(action="release.created", object_id=data["id"]).count() == 1


def test_create_release_refused_to_a_viewer(viewer):
    _refused(graphql(CREATE, {"input": {"name": "Shop", "version": "1.0.0"}}, user=viewer), "role_required", 403)
    assert not Release.objects.exists()


def test_create_release_refused_for_a_taken_version_and_bad_input(manager):
    make_release(version="1.0.0")
    taken = _refused(graphql(CREATE, {"input": {"name": "Shop", "version": "1.0.0"}}, user=manager), "invalid", 400)
    assert "version" in taken["errors"]
    missing = _refused(graphql(CREATE, {"input": {"version": "2.0.0"}}, user=manager), "invalid", 400)
    assert missing["errors"] == {"name": ["This field is required."]}
    nul = graphql(CREATE, {"input": {"name": "a\x00b", "version": "3.0.0"}}, user=manager)
    assert nul.status == 400 and "input.name contains a NUL" in nul.error["message"]
    assert Release.objects.count() == 1


def test_update_release_changes_only_the_given_fields(manager):
    release = make_release(name="Old")
    data = graphql(UPDATE, {"id": release.pk, "input": {"name": "New"}}, user=manager).data["update_release"]
    assert (data["name"], data["revision"]) == ("New", release.revision + 1)
    assert Release.objects.get(pk=release.pk).version == release.version


def test_update_release_refused_to_a_viewer_when_approved_and_when_stale(viewer, manager, manager2):
    release = make_release()
    _refused(graphql(UPDATE, {"id": release.pk, "input": {"name": "X"}}, user=viewer), "role_required", 403)
    stale = graphql(UPDATE, {"id": release.pk, "input": {"name": "X"}, "revision": 99}, user=manager)
    assert _refused(stale, "precondition_failed", 412)["revision"] == release.revision
    approved = _approved(manager, manager2)
    refused = _refused(
        graphql(UPDATE, {"id": approved.pk, "input": {"name": "X"}}, user=manager), "invalid_transition", 409
    )
    assert refused["release_status"] == "approved" and "update" not in refused["allowed_actions"]


# ---------------------------------------------------------------- submit / approve / reject


def test_submit_release(manager, engineer, team):
    release = make_release(team=team, created_by="erin")
    data = graphql(SUBMIT, {"id": release.pk}, user=engineer).data["submit_release"]
    assert data["status"] == "pending_approval" and "approve" in data["allowed_actions"]
    assert AuditEvent.objects.filter(action="release.submitted", object_id=release.pk).exists()


def test_submit_release_refused_to_a_viewer_and_when_already_pending(viewer, manager):
    release = make_release()
    _refused(graphql(SUBMIT, {"id": release.pk}, user=viewer), "role_required", 403)
    services.release_submit(release=release, actor=manager)
    refused = _refused(graphql(SUBMIT, {"id": release.pk}, user=manager), "invalid_transition", 409)
    assert refused["release_status"] == "pending_approval"
    assert set(refused["allowed_actions"]) >= {"approve", "reject"}


def test_approve_release(manager, manager2):
    release = _pending(manager)
    data = graphql(APPROVE, {"id": release.pk}, user=manager2).data["approve_release"]
    assert data["status"] == "approved" and data["approvals"] == [{"user": "mario", "decision": "approved"}]


def test_approve_release_refused_to_an_engineer_and_to_its_creator(engineer, manager):
    release = _pending(manager)
    _refused(graphql(APPROVE, {"id": release.pk}, user=engineer), "role_required", 403)
    own = services.release_submit(release=make_release(created_by="maria"), actor=manager)
    _refused(graphql(APPROVE, {"id": own.pk}, user=manager), "four_eyes", 403)
    assert Release.objects.get(pk=own.pk).approvals == []


def test_approve_release_refused_twice(manager, manager2, envs):
    set_approval_policy("production", 2)  # two Release Managers
    release = _pending(manager)
    assert graphql(APPROVE, {"id": release.pk}, user=manager2).data["approve_release"]["status"] == "pending_approval"
    refused = _refused(graphql(APPROVE, {"id": release.pk}, user=manager2), "already_approved", 409)
    assert refused["release_status"] == "pending_approval"


def test_reject_release(manager):
    release = _pending(manager)
    assert (
        graphql(REJECT, {"id": release.pk, "reason": "no"}, user=manager).data["reject_release"]["status"] == "rejected"
    )


def test_reject_release_refused_to_an_engineer_without_a_reason_and_when_deployed(engineer, manager, manager2, envs):
    release = _pending(manager)
    _refused(graphql(REJECT, {"id": release.pk, "reason": "no"}, user=engineer), "role_required", 403)
    blank = _refused(graphql(REJECT, {"id": release.pk, "reason": ""}, user=manager), "invalid", 400)
    assert "reason" in blank["errors"]
    deployed = _approved(manager, manager2)
    for env in ("development", "staging", "production"):
        services.release_deploy(release=deployed, environment=envs[env], actor=manager)
    refused = _refused(graphql(REJECT, {"id": deployed.pk, "reason": "late"}, user=manager), "invalid_transition", 409)
    assert refused["release_status"] == "deployed"


# ---------------------------------------------------------------- deploy / deploy check / rollback / report


def test_deploy_release(manager, envs):
    release = make_release()
    data = graphql(DEPLOY, {"id": release.pk, "input": {"environment": "development"}}, user=manager).data
    assert data["deploy_release"] | {"id": None} == {
        "id": None, "environment": "development", "status": "succeeded", "kind": "deploy", "became_current": True,
    }  # fmt: skip
    assert AuditEvent.objects.filter(action="deployment.created", object_id=data["deploy_release"]["id"]).exists()


def test_deploy_release_refused_to_a_viewer_and_by_the_approval_rule_with_blockers(viewer, manager, envs):
    release = _pending(manager)
    _refused(
        graphql(DEPLOY, {"id": release.pk, "input": {"environment": "development"}}, user=viewer), "role_required", 403
    )
    refused = _refused(
        graphql(DEPLOY, {"id": release.pk, "input": {"environment": "production"}}, user=manager), "deploy_blocked", 409
    )
    assert [b["code"] for b in refused["blockers"]] == ["approval_required"]
    assert refused["release_status"] == "pending_approval"
    unknown = _refused(
        graphql(DEPLOY, {"id": release.pk, "input": {"environment": "moon"}}, user=manager), "invalid", 400
    )
    assert "environment" in unknown["errors"]
    assert not Deployment.objects.exists()


def test_deploy_check_states_the_blockers_of_a_refused_deploy(manager, envs, viewer):
    release = _pending(manager)
    check = graphql(CHECK, {"id": release.pk, "env": "production"}, user=viewer).data["release_deploy_check"]
    assert check["allowed"] is False
    assert check["blockers"] == [
        {"code": "approval_required", "message": check["blockers"][0]["message"], "status": "pending_approval",
         "required_approvals": 1}
    ]  # fmt: skip
    assert graphql(CHECK, {"id": release.pk, "env": "development"}, user=viewer).data["release_deploy_check"] == {
        "allowed": True, "blockers": []
    }  # fmt: skip


def test_rollback_release(manager, envs):
    first, second = make_release(), make_release()
    services.release_deploy(release=first, environment=envs["development"], actor=manager)
    services.release_deploy(release=second, environment=envs["development"], actor=manager)
    data = graphql(ROLLBACK, {"id": second.pk, "env": "development"}, user=manager).data["rollback_release"]
    assert (data["kind"], data["rolled_back_from"]) == ("rollback", second.pk)
    envs["development"].refresh_from_db()
    assert envs["development"].current_release_id == first.pk


def test_rollback_release_refused_to_an_engineer_and_with_nothing_to_return_to(engineer, manager, envs):
    release = make_release()
    services.release_deploy(release=release, environment=envs["development"], actor=manager)
    _refused(graphql(ROLLBACK, {"id": release.pk, "env": "development"}, user=engineer), "role_required", 403)
    _refused(graphql(ROLLBACK, {"id": release.pk, "env": "development"}, user=manager), "nothing_to_roll_back_to", 409)


def test_report_deployment_status(manager, envs):
    release = make_release()
    deployment = services.release_deploy(
        release=release, environment=envs["development"], actor=manager, status=DeploymentStatus.IN_PROGRESS
    )
    data = graphql(REPORT, {"id": deployment.pk, "status": "failed"}, user=manager).data["report_deployment_status"]
    assert (data["status"], data["notes"]) == ("failed", "pipeline 42")


def test_report_deployment_status_refused_to_a_viewer_and_when_finished(viewer, manager, envs):
    deployment = services.release_deploy(release=make_release(), environment=envs["development"], actor=manager)
    _refused(graphql(REPORT, {"id": deployment.pk, "status": "failed"}, user=viewer), "role_required", 403)
    refused = _refused(
        graphql(REPORT, {"id": deployment.pk, "status": "failed"}, user=manager), "invalid_transition", 409
    )
    assert refused["allowed_actions"] == []
    reported = _refused(graphql(REPORT, {"id": deployment.pk, "status": "in_progress"}, user=manager), "invalid", 400)
    assert "status" in reported["errors"]


# ---------------------------------------------------------------- tokens, anonymous, crashes


def test_an_api_token_deploys_within_its_scope_and_nothing_else(manager, team, envs):
    _, secret = api_token_create(actor=manager, name="ci", scopes=["read", "deploy"], teams=[team.pk])
    release = make_release(team=team)
    deployed = graphql(DEPLOY, {"id": release.pk, "input": {"environment": "development"}}, bearer=secret)
    assert deployed.data["deploy_release"]["environment"] == "development"
    _refused(graphql(SUBMIT, {"id": release.pk}, bearer=secret), "token_scope", 403)
    other = make_release()
    _refused(
        graphql(DEPLOY, {"id": other.pk, "input": {"environment": "development"}}, bearer=secret), "token_scope", 403
    )
    _, reader = api_token_create(actor=manager, name="ro", scopes=["read"])
    assert graphql("{ releases { count } }", bearer=reader).data["releases"]["count"] == 2


def test_mutations_need_a_user_even_with_anonymous_reads(settings, db):
    settings.ANONYMOUS_READ = True
    release = make_release()
    _refused(graphql(SUBMIT, {"id": release.pk}), "not_authenticated", 401)
    assert Release.objects.get(pk=release.pk).status == "draft"


def test_a_crash_between_two_writes_of_a_mutation_leaves_nothing(manager, envs):
    release = make_release()
    before = (Deployment.objects.count(), AuditEvent.objects.count(), Release.objects.get(pk=release.pk).revision)
    with fail_at_write(2):
        answer = graphql(DEPLOY, {"id": release.pk, "input": {"environment": "development"}}, user=manager)
    assert answer.error["extensions"] == {"code": "internal_error", "status": 500}
    assert answer.body["data"] == {"deploy_release": None}
    assert (
        Deployment.objects.count(),
        AuditEvent.objects.count(),
        Release.objects.get(pk=release.pk).revision,
    ) == before
    assert graphql(DEPLOY, {"id": release.pk, "input": {"environment": "development"}}, user=manager).data
