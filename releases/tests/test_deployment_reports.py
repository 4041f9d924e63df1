"""Who may report a deployment's status (issue #10): the release's team, the deployment's deployer, an
API token scoped to that team, or a Release Manager — not an Engineer of another team."""

import pytest
from rest_framework.test import APIClient

from environments.models import Environment
from opsportal.errors import Forbidden
from opsportal.roles import ENGINEERS, RELEASE_MANAGERS
from opsportal.testing.factories import client_for, make_release, make_team, make_user
from releases.choices import DeploymentStatus, ReleaseStatus
from releases.models import Deployment
from releases.services import deployment_report_status, release_deploy
from teams.models import Team
from tokens.services import api_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing(db):
    return make_team(
        id="billing", name="Billing", members=[{"name": "Bob", "email": "bob@example.com", "username": "bob"}]
    )


@pytest.fixture
def running(envs, team):
    """An in-progress deployment of a payments release to staging, started by a Release Manager."""
    rita = make_user("rita", RELEASE_MANAGERS)
    release = make_release(team=team, status=ReleaseStatus.APPROVED)
    return release_deploy(release=release, environment=envs["staging"], actor=rita, status="in_progress")


def _report(client: APIClient, deployment: Deployment, status: str = "succeeded"):
    return client.patch(f"/api/v1/deployments/{deployment.pk}", {"status": status}, format="json")


def test_an_engineer_of_another_team_cannot_report(running, billing):
    """issue #10: any Engineer could report any team's deployment as succeeded."""
    bob = make_user("bob", ENGINEERS)
    response = _report(client_for(bob), running)
    assert response.status_code == 403
    assert response.json() == {
        "code": "team_required",
        "detail": "To report deployment status of team 'payments' you must be a member of that team or a Release "
        "Manager.",
        "required_team": "payments",
    }
    assert Deployment.objects.get(pk=running.pk).status == DeploymentStatus.IN_PROGRESS
    with pytest.raises(Forbidden):  # the rule is the service's: the admin and scripts meet it too
        deployment_report_status(deployment=running, actor=bob, status="failed")


def test_the_releases_team_and_release_managers_may_report(running, envs, team, erin):
    assert _report(client_for(erin), running).status_code == 200
    other = release_deploy(
        release=make_release(team=team, status=ReleaseStatus.APPROVED),
        environment=envs["development"],
        actor=erin,
        status="in_progress",
    )
    carol = make_user("carol", RELEASE_MANAGERS)  # in no team
    assert _report(client_for(carol), other, "failed").status_code == 200


def test_the_deployer_may_report_after_leaving_the_team(envs, team, erin):
    release = make_release(team=team, status=ReleaseStatus.APPROVED)
    running = release_deploy(release=release, environment=envs["development"], actor=erin, status="in_progress")
    Team.objects.filter(pk="payments").update(members=[])
    assert _report(client_for(erin), running).status_code == 200


def test_a_token_scoped_to_the_team_may_report_and_one_scoped_elsewhere_may_not(running, billing):
    rita = make_user("rm-owner", RELEASE_MANAGERS)
    _, elsewhere = api_token_create(actor=rita, name="billing ci", scopes=["report_deployments"], teams=["billing"])
    _, ours = api_token_create(actor=rita, name="payments ci", scopes=["report_deployments"], teams=["payments"])

    def bearer(secret: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    refused = _report(bearer(elsewhere), running)
    assert refused.status_code == 403 and refused.json()["code"] == "token_scope"
    assert _report(bearer(ours), running).status_code == 200
    assert Deployment.objects.get(pk=running.pk).status == DeploymentStatus.SUCCEEDED
    assert Environment.objects.get(pk="staging").current_deployment_id == running.pk
