"""Who may do what to releases (issue #4): per role, allowed and refused, with 403 messages
that name the role or team needed."""

import pytest

from opsportal.roles import ENGINEERS, RELEASE_MANAGERS, VIEWERS
from opsportal.testing.factories import client_for, make_freeze, make_release, make_team, make_user
from opsportal.testing.fixtures import user_fixture
from releases.choices import ReleaseStatus
from releases.models import Deployment, Release

pytestmark = pytest.mark.django_db


frank = user_fixture("frank", ENGINEERS, doc="An Engineer in no team.")
vic = user_fixture("vic", VIEWERS)
rm = user_fixture("rita", RELEASE_MANAGERS, name="rm")


def test_viewer_reads_but_cannot_write(vic, envs):
    release = make_release()
    api = client_for(vic)
    assert api.get(f"/api/v1/releases/{release.pk}").status_code == 200
    response = api.post("/api/v1/releases", {"name": "X", "version": "7.0.0"})
    assert response.status_code == 403
    assert "Engineers" in response.json()["detail"]
    assert api.post(f"/api/v1/releases/{release.pk}/submit").status_code == 403
    assert not Release.objects.filter(version="7.0.0").exists()


def test_engineer_release_gets_their_only_team(erin, envs):
    response = client_for(erin).post("/api/v1/releases", {"name": "Checkout", "version": "7.1.0"})
    assert response.status_code == 201
    assert response.json()["team"] == "payments"


def test_engineer_cannot_create_for_another_team(erin, envs):
    make_team(id="other", name="Other")
    response = client_for(erin).post("/api/v1/releases", {"name": "X", "version": "7.2.0", "team": "other"})
    assert response.status_code == 403
    assert "'other'" in response.json()["detail"]


def test_engineer_edits_and_submits_own_team_release_only(erin, team, envs):
    own = make_release(team=team)
    foreign = make_release(team=make_team())
    api = client_for(erin)
    assert api.patch(f"/api/v1/releases/{own.pk}", {"description": "ok"}).status_code == 200
    assert api.post(f"/api/v1/releases/{own.pk}/submit").status_code == 200
    refused = api.patch(f"/api/v1/releases/{foreign.pk}", {"description": "no"})
    assert refused.status_code == 403
    assert "member of that team" in refused.json()["detail"]
    assert api.delete(f"/api/v1/releases/{foreign.pk}").status_code == 403
    assert Release.objects.get(pk=foreign.pk).description == ""


def test_release_without_team_belongs_to_its_creator(frank, erin, envs):
    response = client_for(frank).post("/api/v1/releases", {"name": "Solo", "version": "7.3.0"})
    assert response.status_code == 201 and response.json()["team"] is None
    release_id = response.json()["id"]
    assert client_for(frank).patch(f"/api/v1/releases/{release_id}", {"description": "mine"}).status_code == 200
    refused = client_for(erin).patch(f"/api/v1/releases/{release_id}", {"description": "not mine"})
    assert refused.status_code == 403
    assert "creator" in refused.json()["detail"]


def test_only_release_managers_approve_reject_and_roll_back(erin, team, rm, envs):
    release = make_release(team=team, status=ReleaseStatus.PENDING_APPROVAL, created_by="someone")
    api = client_for(erin)
    for action, body in (("approve", {}), ("reject", {"reason": "no"})):
        response = api.post(f"/api/v1/releases/{release.pk}/{action}", body)
        assert response.status_code == 403, action
        assert "Release Managers" in response.json()["detail"]
    assert Release.objects.get(pk=release.pk).status == ReleaseStatus.PENDING_APPROVAL
    assert client_for(rm).post(f"/api/v1/releases/{release.pk}/approve", {}).status_code == 200
    assert (
        client_for(erin).post(f"/api/v1/releases/{release.pk}/rollback", {"environment": "development"}).status_code
        == 403
    )


def test_engineer_deploys_only_where_no_approval_is_needed(erin, team, envs):
    release = make_release(team=team, status=ReleaseStatus.APPROVED)
    api = client_for(erin)
    assert api.post(f"/api/v1/releases/{release.pk}/deploy", {"environment": "development"}).status_code == 201
    refused = api.post(f"/api/v1/releases/{release.pk}/deploy", {"environment": "production"})
    assert refused.status_code == 403
    assert "Production" in refused.json()["detail"] and "Release Managers" in refused.json()["detail"]
    assert not Deployment.objects.filter(environment="production").exists()


def test_freeze_override_is_for_release_managers(erin, team, rm, envs):
    make_freeze("development", starts_at="2000-01-01T00:00:00Z", ends_at="2999-01-01T00:00:00Z", reason="x")
    release = make_release(team=team, status=ReleaseStatus.APPROVED)
    body = {"environment": "development", "override_freeze": True, "reason": "hotfix"}
    refused = client_for(erin).post(f"/api/v1/releases/{release.pk}/deploy", body)
    assert refused.status_code == 403
    assert client_for(rm).post(f"/api/v1/releases/{release.pk}/deploy", body).status_code == 201


def test_engineer_reports_deployment_status(erin, team, envs, rm):
    release = make_release(team=team, status=ReleaseStatus.APPROVED)
    created = client_for(rm).post(
        f"/api/v1/releases/{release.pk}/deploy", {"environment": "staging", "status": "in_progress"}
    )
    deployment_id = created.json()["id"]
    assert client_for(erin).patch(f"/api/v1/deployments/{deployment_id}", {"status": "succeeded"}).status_code == 200
    viewer = make_user("vera", VIEWERS)
    assert client_for(viewer).patch(f"/api/v1/deployments/{deployment_id}", {"status": "failed"}).status_code == 403
