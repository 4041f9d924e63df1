"""One change, one transaction (issue #9): a fault at any write step leaves all or nothing, the
invariants hold, and the same request retried succeeds; `check_integrity` finds and repairs what
earlier versions left behind."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from environments.choices import Tier
from environments.models import Environment
from environments.services import environment_delete, freeze_create
from opsportal.errors import Conflict
from opsportal.models import IdempotencyRecord
from opsportal.testing.factories import make_environment, make_team, make_workflow
from opsportal.testing.faults import InjectedFault, fail_at_write
from releases.choices import DeploymentStatus, ReleaseStatus
from releases.integrity import integrity_violations
from releases.models import Deployment, Release
from releases.services import (
    deployment_report_status,
    release_approve,
    release_create,
    release_delete,
    release_deploy,
    release_reject,
    release_rollback,
    release_submit,
    release_update,
)
from teams.models import Team
from teams.services import team_delete, team_update
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

MODELS = (Release, Deployment, Environment, AuditEvent, IdempotencyRecord, Team, Workflow)


def dump() -> dict[str, list[dict]]:
    """Every row of every collection the services write."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}


def production(**fields) -> Environment:
    return make_environment(tier=Tier.PRODUCTION, requires_approval=True, min_approvals=1, **fields)


_versions = iter(range(1, 10**6))


def approved(author, reviewer) -> Release:
    release = release_create(actor=author, data={"name": "Shop", "version": f"1.{next(_versions)}.0"})
    release_submit(release=release, actor=author)
    return release_approve(release=release, actor=reviewer)


# Each scenario sets up fresh data and returns the request to make (a call of one service).


def deploy_replacing_another(alice, carol) -> Callable[[], object]:
    env = production()
    release_deploy(release=approved(alice, carol), environment=env, actor=carol)
    candidate = approved(alice, carol)
    return lambda: release_deploy(release=candidate, environment=env, actor=carol, notes="go")


def deploy_in_progress(alice, carol) -> Callable[[], object]:
    env, candidate = production(), approved(alice, carol)
    return lambda: release_deploy(release=candidate, environment=env, actor=carol, status="in_progress")


def report(status: str) -> Callable:
    def scenario(alice, carol) -> Callable[[], object]:
        env = production()
        release_deploy(release=approved(alice, carol), environment=env, actor=carol)
        running = release_deploy(release=approved(alice, carol), environment=env, actor=carol, status="in_progress")
        return lambda: deployment_report_status(deployment=running, actor=carol, status=status)

    return scenario


def rollback_on_production(alice, carol) -> Callable[[], object]:
    env = production()
    release_deploy(release=approved(alice, carol), environment=env, actor=carol)
    current = approved(alice, carol)
    release_deploy(release=current, environment=env, actor=carol)
    return lambda: release_rollback(release=current, environment=env, actor=carol, reason="errors")


def reject(alice, carol) -> Callable[[], object]:
    production()
    release = approved(alice, carol)
    return lambda: release_reject(release=release, actor=carol, reason="not yet")


def approve(alice, carol) -> Callable[[], object]:
    production()
    release = release_create(actor=alice, data={"name": "Shop", "version": f"2.{next(_versions)}.0"})
    release_submit(release=release, actor=alice)
    return lambda: release_approve(release=release, actor=carol)


def create(alice, carol) -> Callable[[], object]:
    version = f"3.{next(_versions)}.0"
    return lambda: release_create(actor=alice, data={"name": "Shop", "version": version})


def update(alice, carol) -> Callable[[], object]:
    release = release_create(actor=alice, data={"name": "Shop", "version": f"4.{next(_versions)}.0"})
    features = [{"name": "Search", "status": "planned"}]
    return lambda: release_update(release=release, actor=alice, data={"name": "Shop 2", "features": features})


def delete(alice, carol) -> Callable[[], object]:
    release = release_create(actor=alice, data={"name": "Shop", "version": f"5.{next(_versions)}.0"})
    return lambda: release_delete(release=release, actor=alice)


def freeze_edit(alice, carol) -> Callable[[], object]:
    env = production()
    data = {"starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-02T00:00:00Z", "environments": [env.pk]}
    return lambda: freeze_create(actor=carol, data={**data, "name": f"Audit {next(_versions)}", "reason": "audit"})


def delete_environment(alice, carol) -> Callable[[], object]:
    env = make_environment()
    return lambda: environment_delete(environment=env, actor=carol)


def edit_team(alice, carol) -> Callable[[], object]:
    team = make_team()
    return lambda: team_update(team=team, actor=carol, data={"description": "Payments"})


def delete_team(alice, carol) -> Callable[[], object]:
    team = make_team()
    return lambda: team_delete(team=team, actor=carol)


SCENARIOS = {
    "deploy replacing another release on production": (deploy_replacing_another, 5),
    "deploy in progress": (deploy_in_progress, 4),
    "report succeeded": (report("succeeded"), 5),
    "report failed": (report("failed"), 3),
    "rollback on production": (rollback_on_production, 6),
    "reject": (reject, 2),
    "approve": (approve, 2),
    "create": (create, 2),
    "update": (update, 2),
    "delete": (delete, 2),
    "freeze edit": (freeze_edit, 2),
    "delete environment": (delete_environment, 2),
    "edit a team": (edit_team, 2),
    "delete a team": (delete_team, 2),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_fault_at_any_write_leaves_nothing_and_the_retry_succeeds(scenario, alice, carol):
    build, least_writes = SCENARIOS[scenario]
    faulted = 0
    for n in range(1, 50):
        request = build(alice, carol)
        before = dump()
        with fail_at_write(n) as fault:
            try:
                request()
            except InjectedFault:
                pass
        if not fault.fired:
            break  # the request needs fewer than n writes: it ran to the end, untouched
        faulted += 1
        assert dump() == before, f"a fault before write {n} left a half-written change"
        assert [str(v) for v in integrity_violations()] == []
        request()  # the same request, retried, succeeds
        assert [str(v) for v in integrity_violations()] == []
    assert faulted >= least_writes, f"only {faulted} write steps were exercised"


def test_a_fault_inside_an_idempotent_request_frees_its_key_for_the_retry(api):
    env = make_environment(tier=Tier.DEVELOPMENT)
    release = api.post("/api/v1/releases", {"name": "Shop", "version": "9.0.0"}, format="json").json()
    url = f"/api/v1/releases/{release['id']}/deploy"
    headers = {"HTTP_IDEMPOTENCY_KEY": "deploy-1"}
    before = Deployment.objects.count(), AuditEvent.objects.count()
    with fail_at_write(2), pytest.raises(InjectedFault):
        api.raise_request_exception = True
        api.post(url, {"environment": env.pk}, format="json", **headers)
    assert (Deployment.objects.count(), AuditEvent.objects.count()) == before
    api.raise_request_exception = False
    first = api.post(url, {"environment": env.pk}, format="json", **headers)
    assert first.status_code == 201, first.json()
    again = api.post(url, {"environment": env.pk}, format="json", **headers)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Deployment.objects.count() == before[0] + 1
    assert integrity_violations() == []


# --------------------------------------------------------------------------- rollback target


def test_rollback_returns_to_what_was_current_before_never_to_a_deployment_that_was_in_progress(alice, carol):
    """Issue #9: the target was the latest *finished* succeeded deployment, which could be one that
    was still in progress when a rollback ran and never became current."""
    env = make_environment(tier=Tier.PRODUCTION)
    a, b, c = (approved(alice, carol) for _ in range(3))
    release_deploy(release=a, environment=env, actor=carol)
    release_deploy(release=b, environment=env, actor=carol)
    running = release_deploy(release=c, environment=env, actor=carol, status="in_progress")
    release_rollback(release=b, environment=env, actor=carol, reason="errors")  # back to a
    late = deployment_report_status(deployment=running, actor=carol, status="succeeded")  # too late to be current
    assert late.became_current is False
    assert Environment.objects.get(pk=env.pk).current_release_id == a.pk
    release_deploy(release=b, environment=env, actor=carol)
    release_rollback(release=b, environment=env, actor=carol, reason="errors again")
    assert Environment.objects.get(pk=env.pk).current_release_id == a.pk  # never c
    # Rolling back twice goes back twice: a had replaced nothing, so there is nothing left.
    with pytest.raises(Conflict) as refused:
        release_rollback(release=a, environment=env, actor=carol)
    assert refused.value.code == "nothing_to_roll_back_to"
    assert integrity_violations() == []


# --------------------------------------------------------------------------- repairs of legacy data


def violations() -> list[tuple[str, str]]:
    return [(v.invariant, v.object_id) for v in integrity_violations()]


def test_an_orphan_deployment_blocks_deploys_until_repaired(alice, carol):
    """What a crash between the Deployment insert and the environment update left (issue #9)."""
    env = make_environment()
    release = approved(alice, carol)
    orphan = Deployment.objects.create(
        release=release, environment=env, sequence=1, status=DeploymentStatus.SUCCEEDED, started_at=env.created_at
    )
    # The crashed write never reached the release's embedded summary either (issue #18).
    assert violations() == [("sequence", env.pk), ("summary", release.pk)]
    with pytest.raises(Conflict) as refused:
        release_deploy(release=release, environment=env, actor=carol)
    assert refused.value.code == "contended"

    call_command("check_integrity", "--repair", stdout=(out := _Out()))
    assert f"repaired [sequence] environment {env.pk}" in out.text
    orphan.refresh_from_db()
    assert orphan.status == DeploymentStatus.FAILED and not orphan.became_current
    assert AuditEvent.objects.filter(action="environment.repaired", object_id=env.pk).count() == 1
    deployment = release_deploy(release=release, environment=env, actor=carol)
    assert deployment.sequence == 2
    assert violations() == []


def test_a_release_live_in_production_that_still_says_approved_is_repaired(alice, carol):
    env = production()
    release = approved(alice, carol)
    release_deploy(release=release, environment=env, actor=carol)
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.APPROVED)  # the lost write
    assert violations() == [("production_status", release.pk)]
    with pytest.raises(CommandError, match="1 integrity violation"):
        call_command("check_integrity", stdout=_Out())
    call_command("check_integrity", "--repair", stdout=_Out())
    assert Release.objects.get(pk=release.pk).status == ReleaseStatus.DEPLOYED
    assert AuditEvent.objects.filter(action="release.repaired", object_id=release.pk).count() == 1
    call_command("check_integrity", stdout=_Out())  # clean: no error


def test_a_rolled_back_deployment_that_still_says_succeeded_is_repaired(alice, carol):
    env = production()
    first, second = approved(alice, carol), approved(alice, carol)
    release_deploy(release=first, environment=env, actor=carol)
    replaced = release_deploy(release=second, environment=env, actor=carol)
    release_rollback(release=second, environment=env, actor=carol)
    Deployment.objects.filter(pk=replaced.pk).update(status=DeploymentStatus.SUCCEEDED)  # the lost write
    assert violations() == [("rolled_back", replaced.pk), ("summary", second.pk)]
    call_command("check_integrity", "--repair", stdout=_Out())
    assert Deployment.objects.get(pk=replaced.pk).status == DeploymentStatus.ROLLED_BACK
    assert violations() == []


def test_a_reported_success_that_never_became_current_is_repaired(alice, carol):
    env = make_environment()
    release = approved(alice, carol)
    running = release_deploy(release=release, environment=env, actor=carol, status="in_progress")
    # An earlier version wrote the report, then stopped before moving the environment.
    Deployment.objects.filter(pk=running.pk).update(status=DeploymentStatus.SUCCEEDED, became_current=True)
    assert violations() == [("current", env.pk), ("summary", release.pk)]
    call_command("check_integrity", "--repair", stdout=_Out())
    env.refresh_from_db()
    assert (env.current_deployment_id, env.current_release_id) == (running.pk, release.pk)
    assert violations() == []


def test_dangling_references_and_a_broken_audit_chain_are_reported_not_repaired(alice):
    # A stage naming an environment that is gone (MongoDB has no foreign keys to stop it).
    workflow = make_workflow(["ghost"])
    release_create(actor=alice, data={"name": "Shop", "version": "7.0.0"})
    AuditEvent.objects.filter(seq=1).update(actor="mallory")
    assert violations() == [("dangling", workflow.pk), ("audit_chain", "1")]
    with pytest.raises(CommandError):
        call_command("check_integrity", "--repair", stdout=(out := _Out()))
    assert f"needs a person [dangling] workflow {workflow.pk}" in out.text


class _Out:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_writing_a_reference_touches_the_document_it_names(alice, carol):
    """Issue #9: a delete is conditional on `reference_seq`, and every unit that writes a reference raises
    it, so on MongoDB a delete and a new reference to the same document cannot both commit."""
    from workflows.services import workflow_create

    team, env = make_team(), make_environment()
    release = release_create(actor=alice, data={"name": "Shop", "version": "8.0.0", "team": team.pk})
    team.refresh_from_db()
    assert (team.reference_seq, team.revision) == (1, 1)  # touched, not changed
    release_update(release=release, actor=alice, data={"description": "no new reference"})
    team.refresh_from_db()
    assert team.reference_seq == 1
    workflow_create(actor=carol, data={"name": "Fast", "stages": [{"environment": env.pk}]})
    env.refresh_from_db()
    assert (env.reference_seq, env.revision) == (1, 1)


def test_a_stale_embedded_deployment_summary_is_found_and_rebuilt(alice, carol):  # issue #18
    env = make_environment()
    release = approved(alice, carol)
    deployment = release_deploy(release=release, environment=env, actor=carol)
    release.refresh_from_db()
    assert release.environments[env.pk]["deployment"]["id"] == deployment.pk
    assert release.environments[env.pk]["is_current"] is True
    Release.objects.filter(pk=release.pk).update(environments={})  # an earlier version never wrote it
    assert violations() == [("summary", release.pk)]
    call_command("check_integrity", "--repair", stdout=_Out())
    release.refresh_from_db()
    assert release.environments[env.pk]["deployment"]["id"] == deployment.pk
    assert AuditEvent.objects.filter(action="release.repaired", object_id=release.pk).count() == 1
    assert violations() == []


def test_summaries_patched_by_each_write_match_a_rebuild_from_the_deployments(alice, carol):
    """Deploy, rollback and status reports patch the summaries they change from what they wrote (issue #9's
    write mix) instead of rebuilding them: after each step, what a rebuild would write is what is stored."""
    env, other = production(), make_environment()
    first, second = approved(alice, carol), approved(alice, carol)

    def summary(release: Release, environment: Environment) -> dict:
        release.refresh_from_db()
        assert violations() == []  # the stored summaries are what a rebuild would write
        return release.environments.get(environment.pk)

    release_deploy(release=first, environment=env, actor=carol)
    release_deploy(release=first, environment=other, actor=carol)
    assert summary(first, env)["is_current"] and summary(first, other)["is_current"]
    running = release_deploy(release=second, environment=env, actor=carol, status="in_progress")
    assert summary(second, env) == {"deployment": summary(second, env)["deployment"], "is_current": False}
    assert summary(second, env)["deployment"]["status"] == "in_progress"
    deployment_report_status(deployment=running, actor=carol, status="succeeded")
    assert summary(second, env)["is_current"] and not summary(first, env)["is_current"]
    assert summary(first, other)["is_current"]  # another environment: untouched
    failing = release_deploy(release=second, environment=other, actor=carol, status="in_progress")
    deployment_report_status(deployment=failing, actor=carol, status="failed")
    assert summary(second, other)["deployment"]["status"] == "failed"
    assert not summary(second, other)["is_current"] and summary(first, other)["is_current"]
    release_rollback(release=second, environment=env, actor=carol)  # back to the first release
    assert summary(second, env)["deployment"]["status"] == "rolled_back"
    assert not summary(second, env)["is_current"]
    assert summary(first, env)["is_current"] and summary(first, env)["deployment"]["kind"] == "rollback"
