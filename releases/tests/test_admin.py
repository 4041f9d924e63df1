"""The release backoffice (issue #5): list, form UI for features, lifecycle buttons and actions,
all through the services — refusals come back as admin messages, never as error pages."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import now_ms
from environments.models import Environment
from opsportal.roles import ENGINEERS, RELEASE_MANAGERS
from opsportal.testing.admin import change_form_data, change_url, messages_of
from opsportal.testing.factories import make_freeze, make_release, make_team, make_workflow
from opsportal.testing.fixtures import user_fixture
from releases.examples import SAMPLE_FEATURES
from releases.models import Deployment, Release
from releases.services import release_approve, release_create, release_deploy, release_submit

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:releases_release_changelist")


def lifecycle_url(release: Release, action: str) -> str:
    return reverse("admin:releases_release_lifecycle", args=[release.pk, action])


manager = user_fixture("rm1", RELEASE_MANAGERS, name="manager", is_staff=True)
other_manager = user_fixture("rm2", RELEASE_MANAGERS, name="other_manager", is_staff=True)
engineer = user_fixture("eng", ENGINEERS, name="engineer", is_staff=True)


def login(client, user):
    client.force_login(user)
    return client


def drafted(actor, **data) -> Release:
    features = copy.deepcopy(SAMPLE_FEATURES)
    return release_create(actor=actor, data={"name": "Checkout", "version": "1.0.0", "features": features, **data})


def form_data(release: Release, **overrides) -> dict:
    references = {
        "team": release.team_id or "",
        "workflow": release.workflow_id or "",
        "target_date": release.target_date.isoformat() if release.target_date else "",
    }
    return change_form_data(release, ["name", "version", "description"], ["features"], **{**references, **overrides})


# --------------------------------------------------------------------------- changelist


def test_list_shows_status_team_approvals_and_where_it_runs(client, manager, other_manager, envs):
    team = make_team(name="Payments")
    live = drafted(manager, team=team.pk)
    release_submit(release=live, actor=manager)
    release_approve(release=live, actor=other_manager)
    release_deploy(release=live, environment=Environment.objects.get(pk="staging"), actor=manager)
    make_release(name="Quiet", version="9.9.9")

    response = login(client, manager).get(CHANGELIST)

    assert response.status_code == 200
    html = response.content.decode()
    row = next(line for line in html.split("<tr") if "Checkout" in line)
    assert 'data-status="approved"' in row
    assert "Payments" in row
    assert ">Staging</a>" in row
    assert '<td class="field-approvals_display">1</td>' in row


def test_list_filters_by_status_team_workflow_and_environment(client, manager, envs):
    team = make_team()
    workflow = make_workflow()
    deployed = drafted(manager, team=team.pk, workflow=workflow.pk)
    release_deploy(release=deployed, environment=Environment.objects.get(pk="development"), actor=manager)
    pending = drafted(manager, version="2.0.0")
    release_submit(release=pending, actor=manager)
    login(client, manager)

    def listed(query: str) -> set[str]:
        response = client.get(CHANGELIST + query)
        assert response.status_code == 200
        return {release.pk for release in response.context["cl"].result_list}

    assert listed("?status__exact=pending_approval") == {pending.pk}
    assert listed(f"?team__id__exact={team.pk}") == {deployed.pk}
    assert listed(f"?workflow__id__exact={workflow.pk}") == {deployed.pk}
    assert listed("?deployed_to=development") == {deployed.pk}
    assert listed("?deployed_to=production") == set()


def test_list_searches_name_version_description_and_drills_by_target_date(client, manager):
    drafted(manager, name="Checkout", version="1.0.0", description="faster payments", target_date="2026-03-01")
    drafted(manager, name="Search", version="2.0.0", target_date="2027-05-01")
    login(client, manager)

    def listed(query: str) -> set[str]:
        return {release.version for release in client.get(CHANGELIST + query).context["cl"].result_list}

    assert listed("?q=payments") == {"1.0.0"}
    assert listed("?q=2.0") == {"2.0.0"}
    assert listed("?q=search") == {"2.0.0"}
    assert listed("?target_date__year=2027") == {"2.0.0"}


# --------------------------------------------------------------------------- change form


def test_change_page_draws_features_as_a_form_and_shows_history(client, manager, envs):
    release = drafted(manager)
    response = login(client, manager).get(change_url(release))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-django-jsonform-container="true"' in html  # the form UI, not a JSON textarea
    assert "django_jsonform/react-json-form.js" in html  # served locally with the admin's static files
    assert "release.created" in html  # audit history on the page
    assert "0 of 1 required approvals" in html


def save_task_status(client, user, release: Release, task: int, status: str):
    """Post the change form with the status of one task of the first feature changed."""
    features = json.loads(json.dumps(release.features))
    features[0]["tasks"][task]["status"] = status
    return login(client, user).post(change_url(release), form_data(release, features=json.dumps(features)))


def test_saving_the_form_changes_a_task_through_the_service(client, manager):
    release = drafted(manager)

    response = save_task_status(client, manager, release, 1, "done")

    assert response.status_code == 302
    release.refresh_from_db()
    assert release.features[0]["tasks"][1]["status"] == "done"
    assert release.revision == 2
    (event,) = AuditEvent.objects.filter(action="release.updated", object_id=release.pk)
    assert event.actor == "rm1"
    assert event.changes["revision"] == [1, 2]


def test_a_stale_form_is_refused_and_keeps_the_users_input(client, manager):
    release = drafted(manager)
    stale = form_data(release, description="my edit")
    login(client, manager).post(change_url(release), form_data(release, description="someone else's edit"))

    response = client.post(change_url(release), stale)

    assert response.status_code == 200  # the form again, with the reason
    assert "Someone changed this release while you were editing it" in response.content.decode()
    assert "my edit" in response.content.decode()
    release.refresh_from_db()
    assert release.description == "someone else's edit"


def test_an_invalid_task_is_shown_on_the_form_not_saved(client, manager):
    release = drafted(manager)

    response = save_task_status(client, manager, release, 0, "bogus")

    assert response.status_code == 200
    assert "features[0].tasks[0].status" in response.content.decode()
    release.refresh_from_db()
    assert release.features[0]["tasks"][0]["status"] == "done"
    assert release.revision == 1


def test_adding_a_release_goes_through_the_service(client, manager):
    team = make_team()
    data = {
        "name": "Mobile",
        "version": "3.0.0",
        "description": "",
        "team": team.pk,
        "workflow": "",
        "target_date": "2026-12-01",
        "features": json.dumps([{"name": "Push", "status": "planned", "tasks": []}]),
    }
    response = login(client, manager).post(reverse("admin:releases_release_add"), data)

    assert response.status_code == 302
    release = Release.objects.get(version="3.0.0")
    assert release.created_by == "rm1"
    assert release.status == "draft"
    assert release.team_id == team.pk
    assert release.features == [{"name": "Push", "status": "planned", "description": "", "tasks": []}]
    assert AuditEvent.objects.filter(action="release.created", object_id=release.pk, actor="rm1").exists()


def test_a_duplicate_version_is_a_form_error(client, manager):
    drafted(manager, version="1.0.0")
    data = {"name": "Dup", "version": "1.0.0", "description": "", "features": "[]", "team": "", "workflow": ""}
    response = login(client, manager).post(reverse("admin:releases_release_add"), data)
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Release.objects.count() == 1


def test_an_approved_release_is_read_only_and_never_shows_json(client, manager, other_manager, envs):
    release = drafted(manager)
    release_approve(release=release, actor=other_manager)

    response = login(client, manager).get(change_url(release))

    html = response.content.decode()
    assert response.status_code == 200
    assert "can no longer be edited" in html
    assert 'name="_save"' not in html
    assert "django-jsonform-container" not in html
    features = html.split("field-features_readable")[1].split("</fieldset>")[0]
    assert "<td>Login</td>" in features and "<td>API</td>" in features  # features and tasks as tables
    assert '"tasks"' not in html


def test_saving_a_form_opened_before_the_release_was_approved_explains_why_not(client, manager, other_manager, envs):
    release = drafted(manager)
    stale_form = form_data(release, description="late edit")
    release_approve(release=release, actor=other_manager)

    response = login(client, manager).post(change_url(release), stale_form, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == change_url(release)
    assert any("is approved now" in note and "not saved" in note for note in messages_of(response))
    release.refresh_from_db()
    assert release.description == ""


def test_the_list_costs_the_same_queries_for_3_or_30_releases(client, manager, envs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    team = make_team()
    login(client, manager)

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(CHANGELIST).status_code == 200
        return len(captured)

    for n in range(3):
        drafted(manager, version=f"1.{n}.0", team=team.pk)
    few = queries_for_list()
    for n in range(3, 30):
        release = drafted(manager, version=f"1.{n}.0", team=team.pk)
        if n % 3 == 0:
            release_deploy(release=release, environment=Environment.objects.get(pk="development"), actor=manager)
    assert queries_for_list() == few


def test_deleting_a_draft_goes_through_the_service(client, manager):
    release = drafted(manager)
    url = reverse("admin:releases_release_delete", args=[release.pk])
    response = login(client, manager).post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Release.objects.filter(pk=release.pk).exists()
    assert AuditEvent.objects.filter(action="release.deleted", object_id=release.pk, actor="rm1").exists()


# --------------------------------------------------------------------------- lifecycle buttons


def test_buttons_follow_status_and_role(client, manager, engineer, envs):
    release = drafted(manager)

    html = login(client, manager).get(change_url(release)).content.decode()
    assert {"submit", "approve", "reject", "deploy"} <= {
        action for action in ("submit", "approve", "reject", "deploy", "rollback") if f'data-action="{action}"' in html
    }
    assert 'data-action="rollback"' not in html  # not live anywhere

    html = login(client, engineer).get(change_url(release)).content.decode()
    assert 'data-action="submit"' in html and 'data-action="deploy"' in html
    assert 'data-action="approve"' not in html
    assert 'data-action="reject"' not in html


def test_approve_as_another_manager_succeeds(client, manager, other_manager, envs):
    release = drafted(manager)
    release_submit(release=release, actor=manager)

    page = login(client, other_manager).get(lifecycle_url(release, "approve"))
    assert page.status_code == 200 and "comment" in page.content.decode()
    response = client.post(lifecycle_url(release, "approve"), {"comment": "ship it"}, follow=True)

    assert response.redirect_chain[-1][0] == change_url(release)
    assert "Checkout (1.0.0) is approved." in messages_of(response)
    release.refresh_from_db()
    assert release.status == "approved"
    assert release.approvals[-1]["user"] == "rm2" and release.approvals[-1]["comment"] == "ship it"
    assert "release.approved" in response.content.decode()  # now in the audit history on the page


def test_approving_your_own_release_is_refused_with_a_message(client, manager, envs):
    release = drafted(manager)
    release_submit(release=release, actor=manager)

    response = login(client, manager).post(lifecycle_url(release, "approve"), {"comment": ""}, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == change_url(release)
    assert any("four eyes" in message for message in messages_of(response))
    release.refresh_from_db()
    assert release.status == "pending_approval"
    assert not AuditEvent.objects.filter(action="release.approved").exists()


def test_reject_asks_for_a_reason(client, manager, other_manager):
    release = drafted(manager)
    login(client, other_manager)

    response = client.post(lifecycle_url(release, "reject"), {"reason": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert Release.objects.get(pk=release.pk).status == "draft"

    response = client.post(lifecycle_url(release, "reject"), {"reason": "Missing tests"}, follow=True)
    release.refresh_from_db()
    assert release.status == "rejected"
    assert release.approvals[-1]["comment"] == "Missing tests"
    assert "Checkout (1.0.0) was rejected." in messages_of(response)


def test_deploy_asks_which_environment_and_reports_blockers(client, manager, envs):
    release = drafted(manager)
    login(client, manager)

    page = client.get(lifecycle_url(release, "deploy")).content.decode()
    assert "Production (Production) — approved releases only" in page

    response = client.post(lifecycle_url(release, "deploy"), {"environment": "development"}, follow=True)
    assert any("was deployed to Development" in message for message in messages_of(response))
    assert Environment.objects.get(pk="development").current_release_id == release.pk

    response = client.post(lifecycle_url(release, "deploy"), {"environment": "production"}, follow=True)
    assert response.status_code == 200
    assert any("Production only takes approved releases" in message for message in messages_of(response))
    assert not Deployment.objects.filter(environment="production").exists()


def test_deploy_into_a_freeze_window_is_refused_unless_a_manager_overrides_it(client, manager, envs):
    now = now_ms()
    make_freeze("staging", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1), reason="Quarter close")
    release = drafted(manager)
    login(client, manager)

    response = client.post(lifecycle_url(release, "deploy"), {"environment": "staging"}, follow=True)
    assert any("frozen until" in message for message in messages_of(response))

    response = client.post(
        lifecycle_url(release, "deploy"),
        {"environment": "staging", "override_freeze": "on", "reason": "hotfix"},
        follow=True,
    )
    assert any("was deployed to Staging" in message for message in messages_of(response))


def test_rollback_returns_the_environment_to_the_previous_release(client, manager, envs):
    development = Environment.objects.get(pk="development")
    first = drafted(manager, version="1.0.0")
    release_deploy(release=first, environment=development, actor=manager)
    second = drafted(manager, version="1.1.0")
    release_deploy(release=second, environment=Environment.objects.get(pk="development"), actor=manager)
    login(client, manager)

    html = client.get(change_url(second)).content.decode()
    assert 'data-action="rollback"' in html
    page = client.get(lifecycle_url(second, "rollback")).content.decode()
    assert "Development (Development)" in page and "Staging" not in page  # only where it is live

    response = client.post(
        lifecycle_url(second, "rollback"), {"environment": "development", "reason": "p95"}, follow=True
    )

    assert any("Checkout (1.0.0) is live there again" in message for message in messages_of(response))
    assert Environment.objects.get(pk="development").current_release_id == first.pk


def test_engineers_cannot_reach_manager_actions_by_url(client, engineer, manager):
    release = drafted(manager)
    release_submit(release=release, actor=manager)
    response = login(client, engineer).post(lifecycle_url(release, "approve"), {}, follow=True)
    assert "You may not do that here." in messages_of(response)
    assert Release.objects.get(pk=release.pk).status == "pending_approval"


# --------------------------------------------------------------------------- changelist actions


def run_action(client, action: str, releases: list[Release], **extra):
    data = {"action": action, "_selected_action": [release.pk for release in releases], **extra}
    return client.post(CHANGELIST, data, follow=True)


def test_bulk_submit_and_approve_report_each_release(client, manager, other_manager, envs):
    own = drafted(other_manager, version="1.0.0")
    mine = drafted(manager, version="2.0.0")
    login(client, manager)

    response = run_action(client, "submit_selected", [own, mine])
    assert {Release.objects.get(pk=r.pk).status for r in (own, mine)} == {"pending_approval"}
    assert len([m for m in messages_of(response) if "submitted for approval" in m]) == 2

    page = run_action(client, "approve_selected", [own, mine])
    assert "Approve: 2 releases" in page.content.decode()  # a page to confirm, with an optional comment
    response = run_action(client, "approve_selected", [own, mine], apply="1", comment="")
    notes = messages_of(response)
    assert "Checkout (1.0.0) is approved." in notes
    assert any(note.startswith("Checkout (2.0.0):") and "four eyes" in note for note in notes)
    assert Release.objects.get(pk=own.pk).status == "approved"
    assert Release.objects.get(pk=mine.pk).status == "pending_approval"


def test_bulk_reject_and_deploy_ask_first(client, manager, envs):
    one, two = drafted(manager, version="1.0.0"), drafted(manager, version="2.0.0")
    login(client, manager)

    page = run_action(client, "reject_selected", [one, two])
    assert page.status_code == 200 and "Reject: 2 releases" in page.content.decode()
    assert Release.objects.filter(status="rejected").count() == 0
    run_action(client, "reject_selected", [one], apply="1", reason="Not ready")
    assert Release.objects.get(pk=one.pk).status == "rejected"

    page = run_action(client, "deploy_selected", [two])
    assert "Development (Development)" in page.content.decode()
    response = run_action(client, "deploy_selected", [two], apply="1", environment="development")
    assert any("was deployed to Development" in message for message in messages_of(response))
    assert Environment.objects.get(pk="development").current_release_id == two.pk


def test_bulk_delete_is_not_offered(client, manager):
    drafted(manager)
    response = login(client, manager).get(CHANGELIST)
    assert "delete_selected" not in response.content.decode()


def test_engineers_do_not_get_manager_actions(client, engineer, manager):
    drafted(manager)
    html = login(client, engineer).get(CHANGELIST).content.decode()
    assert "submit_selected" in html and "deploy_selected" in html
    assert "approve_selected" not in html and "reject_selected" not in html and "rollback_selected" not in html


# --------------------------------------------------------------------------- deployments


def test_deployments_are_listed_read_only(client, manager, envs):
    release = drafted(manager, target_date=date(2026, 12, 1))
    deployment = release_deploy(release=release, environment=Environment.objects.get(pk="development"), actor=manager)
    login(client, manager)

    response = client.get(reverse("admin:releases_deployment_changelist") + "?environment__id__exact=development")
    assert response.status_code == 200
    assert [d.pk for d in response.context["cl"].result_list] == [deployment.pk]
    assert 'data-status="succeeded"' in response.content.decode()
    searched = client.get(reverse("admin:releases_deployment_changelist") + "?q=1.0.0").context["cl"].result_list
    assert [d.pk for d in searched] == [deployment.pk]

    url = reverse("admin:releases_deployment_change", args=[deployment.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"status": "failed"}).status_code == 403
    assert client.get(reverse("admin:releases_deployment_add")).status_code == 403
    assert Deployment.objects.get(pk=deployment.pk).status == "succeeded"
